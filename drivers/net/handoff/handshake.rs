// SPDX-License-Identifier: GPL-2.0

//! The handshake: SYNs for a service are answered with the module's own
//! SYN-ACK and remembered in the temporary table; the segments after it are
//! checked against the entry's state machine until the first request bytes
//! arrive, which hand the connection on: the selection (`select.rs`) names
//! the node, and the connection is injected locally (`inject.rs`) or
//! offered to a peer (`origin.rs`).

use crate::conntab::{ConnEntry, ConnShared, Negotiated, Timestamps};
use crate::ingress::{Decision, Pkt, REPLY_MAX};
use crate::proto::{
    conn::{Action, DropReason, Event, State},
    cookie::{self, CookieOpts, Tuple},
    packet::{self, SynAck, TcpFlags, TcpPacket},
    tcpopt::{self, SynAckOptions},
    wire,
};
use crate::stats::Counter;
use crate::{inject, origin, select};
use kernel::net::skb::SkBuff;
use kernel::net::tcp::{self, EstablishedState, Listener, ListenerKind, RequestParams};
use kernel::prelude::*;
use kernel::timer::{jiffies, msecs_to_jiffies};

/// The cookie clock ticks every 64 s (the ISN's 8 count bits then span
/// about 4.5 hours); a handshake ACK is accepted for two ticks.
const COOKIE_TICK_MS: u32 = 64_000;

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
        let n = &self.nego;
        let ts_val = tcpopt::parse_lenient(p.options).timestamp.map(|t| t.val);
        wire::NewConn {
            tuple: *key,
            tcp_opts_sack: n.sack,
            wscale: n.client_wscale.map(|c| (c, n.our_wscale)),
            ts: n.ts.map(|t| wire::NewTs {
                recent: ts_val.unwrap_or(t.recent),
                local: synack_tsval(t.off, n),
            }),
            mss: n.mss.max(wire::MIN_MSS),
            window: p.window,
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

    if !known {
        if syn_only {
            return new_connection(pkt, skb);
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
    let now = jiffies();
    let step = table.with_locked(&key, |_, e| {
        e.last_seen = now;
        if let (Some(ts), Some(val)) = (e.nego.ts.as_mut(), ts_val) {
            ts.recent = val;
        }
        let was_bound = e.conn.state() == State::Bound;
        let action = if was_bound {
            // The child was not created (queue overflow, race): the
            // retransmitted first segment is handed over again.
            if matches!(ev, Event::Data { seq, .. } if seq == e.conn.rcv_nxt()) {
                Action::Inject
            } else {
                Action::Drop(DropReason::OutOfOrder)
            }
        } else {
            e.conn.step(ev)
        };
        (
            action,
            Snapshot {
                conn: e.conn,
                nego: e.nego,
            },
        )
    });
    let Some((action, snap)) = step else {
        // Removed meanwhile (expired or flushed).
        return unknown_segment(pkt, skb);
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
        Action::Inject => {
            let (verdict, outcome) = hand_off(pkt, skb, &snap);
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

/// The first request bytes arrived, in `skb` (checked and linear): the
/// service's policy names the node that gets the connection. Returns the
/// verdict for the segment and the outcome for the state machine.
fn hand_off(pkt: &Pkt<'_>, skb: &mut SkBuff, snap: &Snapshot) -> (Decision, Event) {
    let params = {
        let Ok(p) = packet::parse(skb.network_data()) else {
            return (
                Decision::Drop(DropReason::Malformed),
                Event::InjectFailed { retryable: true },
            );
        };
        if let select::Node::Peer(peer) = select::choose(pkt, p.payload) {
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
fn event_of(p: &TcpPacket<'_>) -> Option<Event> {
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
/// socket for it, else answered as a stack without one would (RST).
pub(crate) fn unknown_segment(pkt: &Pkt<'_>, skb: &mut SkBuff) -> Decision {
    if pkt.flags.contains(TcpFlags::RST) {
        return Decision::Accept;
    }
    match tcp::established_v4(pkt.net, &pkt.tuple, pkt.ifindex, |_, _| false) {
        EstablishedState::None => {}
        _ => return Decision::Accept,
    }
    pkt.dropped(DropReason::UnknownConn);
    if skb.linearize().is_err() {
        return Decision::Drop(DropReason::Malformed);
    }
    match packet::parse(skb.network_data()) {
        Ok(p) => rst(&p),
        Err(_) => Decision::Drop(DropReason::Malformed),
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
fn our_wscale(pkt: &Pkt<'_>) -> u8 {
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
fn announced_mss(mtu: u32, may_migrate: bool) -> u16 {
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
    // Malformed options: dropped (a SYN is the cheapest thing to resend).
    let Ok(opts) = tcpopt::parse(p.options) else {
        return Decision::Drop(DropReason::Malformed);
    };
    // Data on the SYN (TFO) is not acknowledged by our SYN-ACK: the client
    // sends it again after the handshake.
    // A TIME_WAIT socket of the stack on the tuple: reaped if the SYN is
    // acceptable for it, as the stack would on this SYN; else the stack
    // decides.
    let client_isn = p.seq;
    let est = tcp::established_v4(pkt.net, &pkt.tuple, pkt.ifindex, |rcv_nxt, ts| {
        tw_syn_acceptable(rcv_nxt, ts, client_isn, opts.timestamp.map(|t| t.val))
    });
    match est {
        EstablishedState::None | EstablishedState::TimeWaitReaped => {}
        EstablishedState::TimeWait | EstablishedState::Socket => return Decision::Accept,
    }

    let our_mss = announced_mss(pkt.mtu, svc.may_migrate());
    let mss = opts.effective_mss(536).min(our_mss);
    let mss_idx = cookie::mss_index(mss);
    let now_ms = tcp::tcp_clock_ms();
    let secret = pkt.hn.secret();
    let isn = cookie::isn(secret, &key.0, client_isn, now_ms / COOKIE_TICK_MS, mss_idx);
    let client_wscale = opts.wscale;
    let our_wscale = if client_wscale.is_some() {
        our_wscale(pkt)
    } else {
        0
    };
    let ts = opts.timestamp.map(|t| Timestamps {
        // Per connection, like the stack's secure_tcp_ts_off(): a keyed hash
        // of the tuple, so TSvals reveal no clock.
        off: ts_off(secret, &key.0),
        recent: t.val,
    });
    let window = ((65535 / u32::from(mss)) * u32::from(mss)) as u16;
    let nego = Negotiated {
        our_mss,
        mss,
        client_wscale,
        our_wscale,
        sack: opts.sack_perm,
        ts,
        window,
    };
    let now = jiffies();
    let entry = ConnEntry {
        conn: crate::proto::conn::Conn::new(isn, client_isn, u32::from(window)),
        nego,
        last_seen: now,
        syn_timeout: msecs_to_jiffies(svc.syn_timeout_ms),
        idle_timeout: msecs_to_jiffies(svc.idle_timeout_ms),
    };
    // The service's share of the table (max-temporary): beyond it SYNs are
    // dropped, counted as table full, and the clients retry.
    let Some(slot) = svc.reserve_temporary() else {
        return Decision::Drop(DropReason::TableFull);
    };
    let shared = ConnShared {
        created_ms: kernel::time::Ktime::ktime_get().to_ms(),
        _slot: slot,
    };
    match pkt.hn.table().insert(*key, shared, entry, GFP_ATOMIC) {
        Ok(()) => pkt.inc(Counter::SynAnswered),
        Err(e) if e == EEXIST => {
            // Lost a race with the same SYN on another CPU: answer it too.
            pkt.inc(Counter::SynRetransmit);
        }
        Err(_) => return Decision::Drop(DropReason::TableFull),
    }
    synack(&key.0, isn, client_isn, &nego)
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
fn ts_off(secret: &cookie::CookieSecret, t: &Tuple) -> u32 {
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

/// Our SYN-ACK for the connection.
fn synack(t: &Tuple, isn: u32, client_isn: u32, n: &Negotiated) -> Decision {
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
