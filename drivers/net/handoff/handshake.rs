// SPDX-License-Identifier: GPL-2.0

//! The handshake: SYNs for a service are answered with the module's own
//! SYN-ACK and remembered in the temporary table; the segments after it are
//! checked against the entry's state machine until the first request bytes
//! arrive, which hand the connection on: the selection (`select.rs`) names
//! the node, and the connection is injected locally (`inject.rs`) or
//! offered to a peer (`origin.rs`).

use crate::conntab::{ConnEntry, ConnShared, Held, Negotiated, Timestamps};
use crate::ingress::{Decision, Pkt, REPLY_MAX};
use crate::proto::{
    conn::{Action, DropReason, Event, State},
    cookie::{self, CookieOpts, Tuple},
    packet::{self, SynAck, TcpFlags, TcpPacket},
    tcpopt::{self, SynAckOptions},
    wire,
};
use crate::services::{ContentRt, ServiceRt};
use crate::stats::{Counter, Counters};
use crate::{firstdata, inject, origin, select, syncookie};
use kernel::net::skb::SkBuff;
use kernel::net::tcp::{self, EstablishedState, Listener, ListenerKind, RequestParams};
use kernel::prelude::*;
use kernel::sync::Arc;
use kernel::timer::{jiffies, msecs_to_jiffies};

/// The cookie clock ticks every 64 s (the ISN's 8 count bits then span
/// about 4.5 hours); a handshake ACK is accepted for two ticks.
pub(crate) const COOKIE_TICK_MS: u32 = 64_000;
/// How long after a hand-over to the local stack a retransmission of the
/// first segment is handed over again (its child was not created): the
/// client's first retransmissions (initial RTO 1 s, then 2 s) fall in it.
const REINJECT_MS: u32 = 3_000;

/// What a step of an entry's state machine left behind, for the caller to
/// act on outside the entry's lock.
#[derive(Clone, Copy)]
pub(crate) struct Snapshot {
    /// The state machine after the step.
    pub(crate) conn: crate::proto::conn::Conn,
    /// The negotiated options.
    pub(crate) nego: Negotiated,
}

impl Snapshot {
    /// What the local stack needs to create the connection's socket from
    /// the segment `p` (its first request bytes).
    pub(crate) fn request_params(&self, p: &TcpPacket<'_>) -> RequestParams {
        let n = &self.nego;
        let ts_val = tcpopt::parse_lenient(p.options).timestamp.map(|t| t.val);
        RequestParams {
            mss: n.mss,
            wscale_ok: n.client_wscale.is_some(),
            snd_wscale: n.client_wscale.unwrap_or(0),
            rcv_wscale: if n.client_wscale.is_some() {
                n.our_wscale
            } else {
                0
            },
            sack_ok: n.sack,
            tstamp_ok: n.ts.is_some(),
            ts_recent: ts_val.or(n.ts.map(|t| t.recent)).unwrap_or(0),
            ts_off: n.ts.map(|t| t.off).unwrap_or(0),
        }
    }

    /// The connection as a NEW message describes it, `p` being the segment
    /// with the first request bytes.
    pub(crate) fn new_conn(&self, key: &Tuple, p: &TcpPacket<'_>) -> wire::NewConn {
        let ts_val = tcpopt::parse_lenient(p.options).timestamp.map(|t| t.val);
        self.new_conn_with(key, ts_val, p.window)
    }

    /// The connection as a NEW message describes it, with the client's
    /// latest TSval `ts_val` (else the one recorded) and window field.
    pub(crate) fn new_conn_with(
        &self,
        key: &Tuple,
        ts_val: Option<u32>,
        window: u16,
    ) -> wire::NewConn {
        let n = &self.nego;
        wire::NewConn {
            tuple: *key,
            tcp_opts_sack: n.sack,
            wscale: n.client_wscale.map(|c| (c, n.our_wscale)),
            ts: n.ts.map(|t| wire::NewTs {
                recent: ts_val.unwrap_or(t.recent),
                local: synack_tsval(t.off, n),
            }),
            mss: n.mss.max(wire::MIN_MSS),
            window,
            client_isn: self.conn.irs(),
            local_isn: self.conn.iss(),
        }
    }
}

/// A segment of a service's connection that is not handed to a peer.
pub(crate) fn segment(pkt: &Pkt<'_>, skb: &mut SkBuff) -> Decision {
    let table = pkt.hn.table();
    let key = pkt.key;
    let known = table.lookup(pkt.guard, &key).is_some();
    let syn_only = pkt.flags.contains(TcpFlags::SYN)
        && !pkt.flags.contains(TcpFlags::ACK)
        && !pkt.flags.contains(TcpFlags::RST);

    // SYN+FIN is discarded by the stack (RFC 9293 leaves it undefined):
    // never answered, never a connection.
    if pkt.flags.contains(TcpFlags::SYN) && pkt.flags.contains(TcpFlags::FIN) {
        return Decision::Drop(DropReason::Malformed);
    }
    if !known {
        if syn_only {
            crate::failover::forget(&pkt.hn.st, &key);
            return new_connection(pkt, skb);
        }
        // Another front's connection, whose client came here (front
        // failover)?
        if let Some(d) = crate::failover::relay(pkt) {
            return d;
        }
        return unknown_segment(pkt, skb);
    }

    // A connection the local stack took over: once its socket exists, the
    // entry is done; until then only a retransmitted first segment may
    // reach the stack (anything else would meet the listener, which resets).
    let bound = table
        .with_locked(&key, |_, e| e.conn.state() == State::Bound)
        .unwrap_or(false);
    if bound {
        let est = tcp::established_v4(pkt.net, &pkt.tuple, pkt.ifindex, |_, _| false);
        if est == EstablishedState::Socket {
            table.remove(&key);
            return Decision::Accept;
        }
    }

    // Handshake phase: small segments, parsed in full.
    let p = match parse_checked(skb) {
        Ok(p) => p,
        Err(reason) => return Decision::Drop(reason),
    };
    let ev = match event_of(&p) {
        Some(ev) => ev,
        // No ACK, SYN or RST: dropped by any stack (RFC 9293).
        None => return Decision::Drop(DropReason::Malformed),
    };
    let ts_val = tcpopt::parse_lenient(p.options).timestamp.map(|t| t.val);
    let first_data_wait = pkt.svc.map_or(0, |s| s.first_data_wait_ms);
    let content = pkt.svc.and_then(|s| s.content.as_deref());
    let now = jiffies();
    let mut request = None;
    let step = table.with_locked(&key, |_, e| {
        // Past its time, only not swept yet: gone, as if it had been.
        if e.expired(now) {
            return None;
        }
        e.last_seen = now;
        e.client_window = p.window;
        if let (Some(ts), Some(val)) = (e.nego.ts.as_mut(), ts_val) {
            ts.recent = val;
        }
        let handshake = e.conn.state() == State::SynRecv;
        let was_bound = e.conn.state() == State::Bound;
        let mut action = if was_bound {
            // No socket of the stack holds the tuple: its child was not
            // created (accept queue overflow, a race), or was, and is gone
            // already (the application aborted it). A retransmission of the
            // first segment (same sequence and acknowledgment numbers) is
            // handed over again only within a few retransmission timeouts
            // of the last hand-over; later it is an old duplicate, which the
            // application must not get a second time.
            let first_again = matches!(ev, Event::Data { seq, ack, .. }
                if seq == e.conn.rcv_nxt() && ack == e.conn.iss().wrapping_add(1));
            let recent = now.wrapping_sub(e.bound_at) <= msecs_to_jiffies(REINJECT_MS);
            if first_again && recent {
                Action::Inject
            } else {
                Action::Drop(DropReason::OutOfOrder)
            }
        } else {
            e.conn.step(ev)
        };
        // A content policy chooses by the whole request: bytes of one that
        // is not complete yet are held and acknowledged.
        if let (Some(c), false) = (content, was_bound) {
            (action, request) = gather(e, action, c, ev, p.payload, &pkt.hn.counters);
        }
        // The handshake ACK: the connection waits for its first data, or
        // is bound at once (first-data-wait 0).
        let mut wait = false;
        if handshake && e.conn.state() == State::Established && action == Action::Absorb {
            match first_data_wait {
                0 => action = e.conn.step(Event::NoData),
                _ => wait = true,
            }
        }
        Some((
            action,
            Snapshot {
                conn: e.conn,
                nego: e.nego,
            },
            wait,
        ))
    });
    let (action, snap) = match step {
        Some(Some((action, snap, wait))) => {
            if wait {
                firstdata::wait_for_data(pkt, first_data_wait);
            }
            (action, snap)
        }
        // Removed meanwhile (expired or flushed).
        None => return unknown_segment(pkt, skb),
        Some(None) => {
            table.remove(&key);
            return if syn_only {
                new_connection(pkt, skb)
            } else {
                stale_segment(pkt, skb, DropReason::Expired)
            };
        }
    };
    match action {
        Action::SendSynAck => {
            pkt.inc(Counter::SynRetransmit);
            synack(&key.0, snap.conn.iss(), snap.conn.irs(), &snap.nego)
        }
        Action::Absorb => {
            pkt.inc(Counter::AcksAbsorbed);
            Decision::Absorb
        }
        Action::Pass => Decision::Accept,
        Action::Drop(r) => Decision::Drop(r),
        Action::SendRst(r) => {
            pkt.dropped(r);
            rst(&p)
        }
        Action::Remove => {
            table.remove(&key);
            Decision::Absorb
        }
        Action::SendAck => {
            pkt.inc(Counter::RequestHeld);
            ack(&key.0, &snap)
        }
        Action::Inject => {
            let (verdict, outcome) = match request {
                Some(req) => hand_off_held(pkt, &snap, &req, ts_val, p.window),
                None => hand_off(pkt, skb, &snap),
            };
            match outcome {
                Event::MigrateStart => {
                    // The forward table owns the connection now.
                    table.remove(&key);
                }
                Event::InjectFailed { retryable: false } => {
                    table.remove(&key);
                }
                _ => {
                    table.with_locked(&key, |_, e| {
                        if outcome == Event::InjectOk {
                            e.bound_at = jiffies();
                            // The stack has them now.
                            drop(e.request.take());
                        }
                        if e.conn.state() != State::Bound {
                            e.conn.step(outcome);
                        }
                    });
                }
            }
            verdict
        }
    }
}

/// The content policy's step on a segment of a connection not handed over
/// yet (`action` is what its state machine said): the request bytes it
/// brings are held and acknowledged until the request is complete, reaches
/// the service's request limit, or fills the window; then the hand-off
/// takes them all.
/// A request complete in its first segment goes on as any (no copy).
/// Returns the action, and the request bytes when the hand-off is to take
/// the held ones (a copy: the entry keeps them until the stack has them).
fn gather(
    e: &mut ConnEntry,
    action: Action,
    content: &ContentRt,
    ev: Event,
    payload: &[u8],
    counters: &Arc<Counters>,
) -> (Action, Option<KVec<u8>>) {
    let (kind, limit) = (content.kind, content.request_limit);
    let complete = |e: &mut ConnEntry| -> (Action, Option<KVec<u8>>) {
        let mut copy = KVec::new();
        if copy
            .extend_from_slice(e.request.bytes(), GFP_ATOMIC)
            .is_err()
        {
            return (Action::Drop(DropReason::QueueFull), None);
        }
        // The hand-off of this segment is pending already unless its bytes
        // were held; then it starts without a segment.
        if e.conn.handoff_pending() {
            return (Action::Inject, Some(copy));
        }
        match e.conn.step(Event::NoData) {
            Action::Inject => (Action::Inject, Some(copy)),
            other => (other, None),
        }
    };
    match (action, ev) {
        (Action::Inject, Event::Data { seq, .. }) => {
            // A retransmission that joined held and new bytes: the new ones.
            let skip = e.conn.rcv_nxt().wrapping_sub(seq) as usize;
            let new = payload.get(skip..).unwrap_or(&[]);
            if e.request.bytes().is_empty() && skip == 0 && select::request_complete(kind, new) {
                return (action, None);
            }
            // Within the request limit and the window: what is beyond goes
            // to the chosen node when the client sends it again.
            let room = limit
                .saturating_sub(e.request.bytes().len())
                .min(e.conn.window() as usize);
            let new = new.get(..new.len().min(room)).unwrap_or(&[]);
            if !e.request.push(new, counters) {
                // Out of the budget (or memory): not taken, the client
                // sends it again.
                let _ = e.conn.step(Event::InjectFailed { retryable: true });
                return (Action::Drop(DropReason::QueueFull), None);
            }
            if !e.conn.hold(new.len() as u32) {
                return complete(e);
            }
            let full = e.request.bytes().len() >= limit || e.conn.window() == 0;
            if full || select::request_complete(kind, e.request.bytes()) {
                return complete(e);
            }
            (Action::SendAck, None)
        }
        // The client ends its side with part of a request held: the
        // connection goes with what it sent (the FIN follows to the new
        // owner when the client sends it again).
        (Action::Inject, Event::Fin { .. }) if !e.request.bytes().is_empty() => complete(e),
        // Held bytes again, of a request that is complete: its hand-off
        // failed for a moment (the accept queue was full); again.
        (Action::SendAck, _) if select::request_complete(kind, e.request.bytes()) => complete(e),
        _ => (action, None),
    }
}

/// The hand-off of a connection whose request bytes `req` were held: the
/// policy chooses by all of them, and the connection is offered to the
/// peer it names, or rebuilt in the local stack with them (the segment at
/// hand is absorbed: its bytes are among them).
fn hand_off_held(
    pkt: &Pkt<'_>,
    snap: &Snapshot,
    req: &[u8],
    ts_val: Option<u32>,
    window: u16,
) -> (Decision, Event) {
    let nc = snap.new_conn_with(&pkt.key.0, ts_val, window);
    if let select::Node::Peer(peer) = select::choose(pkt, req) {
        if let Some(done) = origin::start_with(pkt, &nc, req, peer) {
            return done;
        }
    }
    match inject::adopt(pkt.net, pkt.guard, &nc, req) {
        Ok(()) => {
            pkt.inc(Counter::Injected);
            (Decision::Absorb, Event::InjectOk)
        }
        Err(inject::AdoptError::Busy) => (
            Decision::Drop(DropReason::InjectRetry),
            Event::InjectFailed { retryable: true },
        ),
        Err(inject::AdoptError::Refused) => {
            // Refused for good: the client is reset, as by a stack without
            // the connection.
            pkt.inc(Counter::InjectFailed);
            let rcv_nxt = nc.client_isn.wrapping_add(1).wrapping_add(req.len() as u32);
            if origin::reset_conn(pkt.net, &pkt.key.0, snap.conn.snd_nxt(), rcv_nxt).is_err() {
                pkt.inc(Counter::XmitFailed);
            }
            (Decision::Absorb, Event::InjectFailed { retryable: false })
        }
    }
}

/// The first request bytes arrived, in `skb` (checked and linear): the
/// service's policy names the node that gets the connection. Returns the
/// verdict for the segment and the outcome for the state machine.
pub(crate) fn hand_off(pkt: &Pkt<'_>, skb: &mut SkBuff, snap: &Snapshot) -> (Decision, Event) {
    let params = {
        let Ok(p) = packet::parse(skb.network_data()) else {
            return (
                Decision::Drop(DropReason::Malformed),
                Event::InjectFailed { retryable: true },
            );
        };
        // Without request bytes (bound at the handshake ACK) there is
        // nothing to choose by: the connection stays here.
        let node = if p.payload.is_empty() {
            select::Node::Local
        } else {
            select::choose(pkt, p.payload)
        };
        if let select::Node::Peer(peer) = node {
            if let Some(done) = origin::start(pkt, &p, snap, peer) {
                return done;
            }
            // Not offered (max-forward, memory, the peer unreachable):
            // bound locally instead.
        }
        snap.request_params(&p)
    };
    inject::local(pkt, skb, &params)
}

/// Linearizes `skb` and parses its IPv4 TCP segment in full, with both
/// checksums checked (the TCP one unless the device vouched for it).
pub(crate) fn parse_checked(skb: &mut SkBuff) -> Result<TcpPacket<'_>, DropReason> {
    skb.linearize().map_err(|_| DropReason::Malformed)?;
    let csum_ok = skb.csum_unnecessary();
    let p = packet::parse(skb.network_data()).map_err(|_| DropReason::Malformed)?;
    if !p.ip_checksum_ok() || (!csum_ok && !p.tcp_checksum_ok()) {
        return Err(DropReason::BadChecksum);
    }
    Ok(p)
}

/// The state-machine event of a parsed segment.
pub(crate) fn event_of(p: &TcpPacket<'_>) -> Option<Event> {
    let f = p.flags;
    if f.contains(TcpFlags::RST) {
        return Some(Event::Rst { seq: p.seq });
    }
    if f.contains(TcpFlags::SYN) {
        return if f.contains(TcpFlags::ACK) {
            None
        } else {
            Some(Event::Syn { seq: p.seq })
        };
    }
    if !f.contains(TcpFlags::ACK) {
        return None;
    }
    let len = p.payload.len() as u32;
    Some(if len > 0 {
        Event::Data {
            seq: p.seq,
            ack: p.ack,
            len,
        }
    } else if f.contains(TcpFlags::FIN) {
        Event::Fin {
            seq: p.seq,
            ack: p.ack,
        }
    } else {
        Event::Ack {
            seq: p.seq,
            ack: p.ack,
        }
    })
}

/// A segment of a tuple the table does not know: the stack's if it has a
/// socket for it, else answered as a stack without one would (RST), once
/// both checksums are verified (a corrupted tuple is nobody's to reset).
pub(crate) fn unknown_segment(pkt: &Pkt<'_>, skb: &mut SkBuff) -> Decision {
    stale_segment(pkt, skb, DropReason::UnknownConn)
}

/// A segment of a connection the table does not know (any more), answered
/// as [`unknown_segment`] says; a reset is counted as `reason`.
fn stale_segment(pkt: &Pkt<'_>, skb: &mut SkBuff, reason: DropReason) -> Decision {
    if pkt.flags.contains(TcpFlags::RST) {
        return Decision::Accept;
    }
    match tcp::established_v4(pkt.net, &pkt.tuple, pkt.ifindex, |_, _| false) {
        EstablishedState::None => {}
        _ => return Decision::Accept,
    }
    // A connection whose SYN was answered without state?
    if let Some(d) = syncookie::segment(pkt, skb) {
        return d;
    }
    match parse_checked(skb) {
        Ok(p) => {
            pkt.dropped(reason);
            rst(&p)
        }
        Err(reason) => Decision::Drop(reason),
    }
}

/// The reset answering `p` (RFC 9293 rules).
pub(crate) fn rst(p: &TcpPacket<'_>) -> Decision {
    let mut buf = [0u8; REPLY_MAX];
    match packet::build_rst(&mut buf, p) {
        Ok(len) => Decision::Reply(buf, len),
        Err(_) => Decision::Drop(DropReason::Malformed),
    }
}

/// The window scale the stack would announce for the namespace's buffers.
pub(crate) fn our_wscale(pkt: &Pkt<'_>) -> u8 {
    let (rmem, max) = tcp::rcv_space_limits(pkt.net);
    let space = rmem.max(max);
    let mut ws = 0u8;
    while ws < tcpopt::MAX_WSCALE && (65535u32 << ws) < space {
        ws += 1;
    }
    ws
}

/// The MSS our SYN-ACK announces on a device of MTU `mtu`. A connection
/// that may be handed to a peer travels there encapsulated, 40 bytes
/// more: a full-sized client segment must still fit the MTU (equal MTUs
/// between servers assumed), so no IP fragmentation happens between them.
pub(crate) fn announced_mss(mtu: u32, may_migrate: bool) -> u16 {
    let overhead = if may_migrate {
        wire::ENCAP_OVERHEAD_V4 as u32
    } else {
        0
    };
    mtu.saturating_sub(40 + overhead).clamp(536, 65535) as u16
}

/// A SYN for a service: answered with our SYN-ACK, remembered in the table.
///
/// Unless the port's listener is one connections must not be handed to (an
/// MPTCP listener): then the SYN is the stack's, which does the handshake
/// (MPTCP's included) and everything after it; the segments that follow
/// find the stack's request or socket and pass too. Not counted. A port
/// nobody listens on is still answered (its first data gets the RST).
fn new_connection(pkt: &Pkt<'_>, skb: &mut SkBuff) -> Decision {
    let Some(svc) = pkt.svc else {
        return Decision::Accept;
    };
    if let ListenerKind::Other =
        Listener::lookup_any_v4(pkt.guard, pkt.net, &pkt.tuple, pkt.ifindex)
    {
        return Decision::Accept;
    }
    let key = &pkt.key;
    let p = match parse_checked(skb) {
        Ok(p) => p,
        Err(reason) => return Decision::Drop(reason),
    };
    // Without syncookies the stack takes no connection from the module:
    // the SYN is the stack's, which does the handshake itself (like an
    // MPTCP listener's, not counted).
    if !tcp::syncookies_enabled(pkt.net) {
        return Decision::Accept;
    }
    // Malformed options: dropped (a SYN is the cheapest thing to resend).
    let Ok(mut opts) = tcpopt::parse(p.options) else {
        return Decision::Drop(DropReason::Malformed);
    };
    // Options the namespace turned off are not negotiated, as by the stack.
    let sysctls = tcp::option_sysctls(pkt.net);
    opts.sack_perm &= sysctls.sack;
    if !sysctls.timestamps {
        opts.timestamp = None;
    }
    if !sysctls.window_scaling {
        opts.wscale = None;
    }
    // Data on the SYN (TFO) is not acknowledged by our SYN-ACK: the client
    // sends it again after the handshake.
    // A TIME_WAIT socket of the stack on the tuple: the stack decides,
    // unless the SYN is acceptable for it, as the stack would recycle it on
    // this SYN; then it is reaped, but only once the SYN is really taken
    // (below).
    let client_isn = p.seq;
    let tsval = opts.timestamp.map(|t| t.val);
    let mut reusable = false;
    let est = tcp::established_v4(pkt.net, &pkt.tuple, pkt.ifindex, |rcv_nxt, ts| {
        reusable = tw_syn_acceptable(rcv_nxt, ts, client_isn, tsval);
        false
    });
    let reap = match est {
        EstablishedState::None | EstablishedState::TimeWaitReaped => false,
        EstablishedState::TimeWait if reusable => true,
        EstablishedState::TimeWait | EstablishedState::Socket => return Decision::Accept,
    };

    let our_mss = announced_mss(pkt.mtu, svc.may_migrate());
    // The client's MSS, however small, as the stack keeps it (it sends no
    // less than TCP_MIN_SND_MSS whatever the client says).
    let mss = opts
        .effective_mss(536)
        .max(tcp::TCP_MIN_SND_MSS)
        .min(our_mss);
    let secret = pkt.hn.secret();
    let isn = cookie::isn(
        secret,
        &key.0,
        client_isn,
        cookie_count(),
        cookie::mss_index(mss),
    );
    let client_wscale = opts.wscale;
    let nego = Negotiated {
        our_mss,
        mss,
        client_wscale,
        our_wscale: if client_wscale.is_some() {
            our_wscale(pkt)
        } else {
            0
        },
        sack: opts.sack_perm,
        ts: opts.timestamp.map(|t| Timestamps {
            // Per connection, like the stack's secure_tcp_ts_off(): a keyed
            // hash of the tuple, so TSvals reveal no clock.
            off: ts_off(secret, &key.0),
            recent: t.val,
        }),
        window: window_for(mss),
    };
    let answer = if svc.syncookies_always {
        Answered::Stateless
    } else {
        remember(pkt, svc, (isn, client_isn, p.window), &nego)
    };
    match answer {
        Answered::Stateful => pkt.inc(Counter::SynAnswered),
        Answered::Again => pkt.inc(Counter::SynRetransmit),
        Answered::Stateless => return syncookie::answer(pkt, svc, isn, client_isn, nego, reap),
    }
    if reap {
        reap_time_wait(pkt, client_isn, tsval);
    }
    synack(&key.0, isn, client_isn, &nego)
}

/// How a SYN was answered.
enum Answered {
    /// With a new entry in the temporary table.
    Stateful,
    /// With the entry another CPU made for the same SYN.
    Again,
    /// Without state: the service's share or the table is full.
    Stateless,
}

/// Stores the half-open connection, within the service's share of the
/// table (max-temporary) and the table's room.
fn remember(
    pkt: &Pkt<'_>,
    svc: &ServiceRt,
    (isn, client_isn, client_window): (u32, u32, u16),
    nego: &Negotiated,
) -> Answered {
    let Some(slot) = svc.reserve_temporary() else {
        return Answered::Stateless;
    };
    let now = jiffies();
    let entry = ConnEntry {
        conn: crate::proto::conn::Conn::new(isn, client_isn, u32::from(nego.window)),
        nego: *nego,
        last_seen: now,
        client_window,
        bound_at: now,
        syn_timeout: msecs_to_jiffies(svc.syn_timeout_ms),
        idle_timeout: msecs_to_jiffies(svc.idle_timeout_ms),
        request: Held::new(),
    };
    let shared = ConnShared {
        created_ms: kernel::time::Ktime::ktime_get().to_ms(),
        _slot: slot,
    };
    match pkt.hn.table().insert(pkt.key, shared, entry, GFP_ATOMIC) {
        Ok(()) => Answered::Stateful,
        // Lost a race with the same SYN on another CPU: answered too.
        Err(e) if e == EEXIST => Answered::Again,
        Err(_) => Answered::Stateless,
    }
}

/// Removes the stack's TIME_WAIT socket on the tuple, the SYN being taken,
/// if the SYN is still acceptable for it (looked up again: it may have
/// gone or changed meanwhile).
pub(crate) fn reap_time_wait(pkt: &Pkt<'_>, client_isn: u32, tsval: Option<u32>) {
    tcp::established_v4(pkt.net, &pkt.tuple, pkt.ifindex, |rcv_nxt, ts| {
        tw_syn_acceptable(rcv_nxt, ts, client_isn, tsval)
    });
}

/// The clock count cookies are made and checked at.
pub(crate) fn cookie_count() -> u32 {
    tcp::tcp_clock_ms() / COOKIE_TICK_MS
}

/// The window a SYN-ACK announces for `mss`: the largest multiple of it
/// that fits the unscaled field.
pub(crate) fn window_for(mss: u16) -> u16 {
    let mss = u32::from(mss.max(1));
    ((65535 / mss) * mss) as u16
}

/// Whether a SYN may reuse the tuple of a TIME_WAIT socket whose next
/// expected sequence number is `rcv_nxt` and last timestamp `tw_ts`: a
/// higher sequence number, or a newer timestamp, and no PAWS rejection
/// (as the stack's TIME_WAIT processing decides).
fn tw_syn_acceptable(rcv_nxt: u32, tw_ts: Option<u32>, seq: u32, tsval: Option<u32>) -> bool {
    use crate::proto::seq::{after, before};
    match (tw_ts, tsval) {
        (Some(old), Some(new)) => !before(new, old) && (after(seq, rcv_nxt) || after(new, old)),
        _ => after(seq, rcv_nxt),
    }
}

/// The per-connection TSval offset: a keyed hash of the tuple.
pub(crate) fn ts_off(secret: &cookie::CookieSecret, t: &Tuple) -> u32 {
    crate::proto::siphash::siphash24(secret, &t.to_bytes()) as u32
}

/// The TSval of a SYN-ACK sent now for a connection with TSval offset `off`.
fn synack_tsval(off: u32, n: &Negotiated) -> u32 {
    cookie::ts_encode(
        tcp::tcp_clock_ms().wrapping_add(off),
        CookieOpts {
            wscale: n.client_wscale,
            sack_ok: n.sack,
        },
    )
}

/// Our ACK of what the front holds of the connection's request: the
/// window left, and with timestamps the client's last TSval echoed.
pub(crate) fn ack(t: &Tuple, snap: &Snapshot) -> Decision {
    let n = &snap.nego;
    let mut opts = [0u8; 12];
    let olen = match n.ts {
        Some(ts) => {
            let val = tcp::tcp_clock_ms().wrapping_add(ts.off);
            opts[..4].copy_from_slice(&[
                tcpopt::KIND_NOP,
                tcpopt::KIND_NOP,
                tcpopt::KIND_TIMESTAMP,
                tcpopt::LEN_TIMESTAMP,
            ]);
            opts[4..8].copy_from_slice(&val.to_be_bytes());
            opts[8..12].copy_from_slice(&ts.recent.to_be_bytes());
            12
        }
        None => 0,
    };
    let shift = if n.client_wscale.is_some() {
        n.our_wscale
    } else {
        0
    };
    let window = (snap.conn.window() >> shift).min(65535) as u16;
    let mut buf = [0u8; REPLY_MAX];
    let seg = packet::Segment {
        src: t.daddr,
        dst: t.saddr,
        sport: t.dport,
        dport: t.sport,
        seq: snap.conn.snd_nxt(),
        ack: snap.conn.rcv_nxt(),
        flags: TcpFlags::ACK,
        window,
        options: opts.get(..olen).unwrap_or(&[]),
        payload: &[],
    };
    match packet::build_segment(&mut buf, &seg) {
        Ok(len) => Decision::Reply(buf, len),
        Err(_) => Decision::Drop(DropReason::Malformed),
    }
}

/// Our SYN-ACK for the connection.
pub(crate) fn synack(t: &Tuple, isn: u32, client_isn: u32, n: &Negotiated) -> Decision {
    let tsval = n.ts.map(|ts| synack_tsval(ts.off, n));
    let syn_opts = tcpopt::TcpOptions {
        mss: Some(n.mss),
        wscale: n.client_wscale,
        sack_perm: n.sack,
        timestamp: n.ts.map(|ts| tcpopt::Timestamp {
            val: ts.recent,
            ecr: 0,
        }),
        ..Default::default()
    };
    let reply = SynAckOptions::reply_to(&syn_opts, n.our_mss, n.our_wscale, tsval.unwrap_or(0));
    let mut opts = [0u8; tcpopt::MAX_OPTIONS_LEN];
    let olen = tcpopt::write_synack(&reply, &mut opts);
    let mut buf = [0u8; REPLY_MAX];
    let Some(options) = opts.get(..olen) else {
        return Decision::Drop(DropReason::Malformed);
    };
    match packet::build_synack(
        &mut buf,
        &SynAck {
            tuple: *t,
            isn,
            client_isn,
            window: n.window,
            options,
        },
    ) {
        Ok(len) => Decision::Reply(buf, len),
        Err(_) => Decision::Drop(DropReason::Malformed),
    }
}
