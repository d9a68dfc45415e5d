// SPDX-License-Identifier: GPL-2.0

//! SYN cookies: the handshake without state, for a service under a SYN
//! flood (its share of the temporary table, or the table, full) or set to
//! answer every SYN so (`syncookies always`).
//!
//! The SYN-ACK is the one a stored connection would get: its ISN is always
//! a cookie (`proto::cookie`: the tuple, the client's ISN, a 64 s clock and
//! the MSS index), and with timestamps its TSval carries the client's window
//! scale and SACK in its low bits. Nothing is stored. Until the connection
//! is handed over, every client segment acknowledges exactly that ISN, and
//! the first one carrying data starts at the client's ISN + 1, so each of
//! them can be checked on its own: the handshake ACK is checked and
//! absorbed, the first request bytes are checked and the connection is
//! rebuilt from the cookie and handed over like a stored one (to the local
//! stack or a peer). A retransmission of those bytes, if the stack made no
//! socket of the first, is checked and handed over again, as the stack does
//! with its own cookies.
//!
//! ACKs of unknown connections are taken as cookies only while the service
//! sent cookies lately (their lifetime): otherwise no guess can open a
//! connection, and unknown segments are reset as before.
//!
//! What the cookie cannot carry is lost, as with the stack's cookies: the
//! MSS is the largest of the table (536, 1300, 1440, 1460) not above the
//! client's, and without timestamps the connection has neither window
//! scaling nor SACK (the SYN-ACK then offers neither).

use crate::conntab::{Negotiated, Timestamps};
use crate::handshake::{self, Snapshot, COOKIE_TICK_MS};
use crate::ingress::{Decision, Pkt};
use crate::proto::{
    conn::{Action, Conn, DropReason, Event},
    cookie,
    packet::TcpFlags,
    tcpopt,
};
use crate::services::ServiceRt;
use crate::stats::Counter;
use kernel::net::skb::SkBuff;
use kernel::timer::{jiffies, msecs_to_jiffies};

/// A cookie is accepted in the clock count it was made in and the next
/// one (the stack's own cookies live as long).
const MAX_AGE: u32 = 1;

/// Answers a SYN of `svc` without state: the SYN-ACK of `nego`, whose ISN
/// `isn` is the cookie. `reap`: the stack's TIME_WAIT socket on the tuple
/// goes, the SYN being taken.
pub(crate) fn answer(
    pkt: &Pkt<'_>,
    svc: &ServiceRt,
    isn: u32,
    client_isn: u32,
    mut nego: Negotiated,
    reap: bool,
) -> Decision {
    // Without timestamps the cookie has no room for these: not offered.
    if nego.ts.is_none() {
        nego.client_wscale = None;
        nego.our_wscale = 0;
        nego.sack = false;
    }
    let now = jiffies();
    svc.counters.cookie_sent(now);
    pkt.inc(Counter::SyncookiesSent);
    if reap {
        handshake::reap_time_wait(pkt, client_isn, nego.ts.map(|t| t.recent));
    }
    handshake::synack(&pkt.key.0, isn, client_isn, &nego)
}

/// A segment of no known connection for a service that sent cookies
/// lately: `None` if it is not one a cookie connection would send (the
/// caller resets it as unknown), else what becomes of it.
pub(crate) fn segment(pkt: &Pkt<'_>, skb: &mut SkBuff) -> Option<Decision> {
    let svc = pkt.svc?;
    let f = pkt.flags;
    if !f.contains(TcpFlags::ACK) || f.intersects(TcpFlags::SYN | TcpFlags::RST) {
        return None;
    }
    let lifetime = msecs_to_jiffies(2 * COOKIE_TICK_MS);
    if !svc.counters.cookie_sent_within(jiffies(), lifetime) {
        return None;
    }
    let p = match handshake::parse_checked(skb) {
        Ok(p) => p,
        Err(reason) => return Some(Decision::Drop(reason)),
    };
    let client_isn = p.seq.wrapping_sub(1);
    let isn = p.ack.wrapping_sub(1);
    let secret = pkt.hn.secret();
    let Some(mss_idx) = cookie::check(
        secret,
        &pkt.key.0,
        client_isn,
        isn,
        handshake::cookie_count(),
        MAX_AGE,
    ) else {
        pkt.inc(Counter::CookiesFailed);
        return Some(Decision::Drop(DropReason::BadCookie));
    };
    // With timestamps, the options our SYN-ACK's TSval carried come back in
    // the TSecr.
    let opts = tcpopt::parse_lenient(p.options);
    let (client_wscale, sack, ts) = match opts.timestamp {
        Some(t) => {
            let Some(o) = cookie::ts_decode(t.ecr) else {
                pkt.inc(Counter::CookiesFailed);
                return Some(Decision::Drop(DropReason::BadCookie));
            };
            let ts = Timestamps {
                off: handshake::ts_off(secret, &pkt.key.0),
                recent: t.val,
            };
            (o.wscale, o.sack_ok, Some(ts))
        }
        None => (None, false, None),
    };
    pkt.inc(Counter::CookiesChecked);
    let our_mss = handshake::announced_mss(pkt.mtu, svc.may_migrate());
    let mss = cookie::mss_of(mss_idx)
        .unwrap_or(cookie::MSS_TABLE[0])
        .min(our_mss);
    let window = handshake::window_for(mss);
    let nego = Negotiated {
        our_mss,
        mss,
        client_wscale,
        our_wscale: if client_wscale.is_some() {
            handshake::our_wscale(pkt)
        } else {
            0
        },
        sack,
        ts,
        window,
    };
    // The connection as its handshake ACK left it, then this segment.
    let mut conn = Conn::new(isn, client_isn, u32::from(window));
    let _ = conn.step(Event::Ack {
        seq: p.seq,
        ack: p.ack,
    });
    let Some(ev) = handshake::event_of(&p) else {
        return Some(Decision::Drop(DropReason::Malformed));
    };
    let mut action = conn.step(ev);
    // The handshake ACK: bound at once if the service waits for no data
    // (there is no state to wait with otherwise: the client's data binds it).
    if action == Action::Absorb && svc.first_data_wait_ms == 0 && p.payload.is_empty() {
        action = conn.step(Event::NoData);
    }
    Some(match action {
        Action::Absorb => {
            pkt.inc(Counter::AcksAbsorbed);
            Decision::Absorb
        }
        Action::Inject => {
            // Handed over now; nothing is stored on this side either way
            // (a peer's connection gets its forward entry).
            let snap = Snapshot { conn, nego };
            let (verdict, _outcome) = handshake::hand_off(pkt, skb, &snap);
            verdict
        }
        Action::Drop(r) => Decision::Drop(r),
        Action::SendRst(r) => {
            pkt.dropped(r);
            handshake::rst(&p)
        }
        Action::SendSynAck | Action::Pass | Action::Remove | Action::SendAck => {
            Decision::Drop(DropReason::BadEvent)
        }
    })
}
