// SPDX-License-Identifier: GPL-2.0

//! The ingress hook: SYNs for a service are answered here, the handshake is
//! completed against the temporary table, and the first data segment hands
//! the connection to the local stack.
//!
//! Runs in softirq context under the RCU read lock (netfilter
//! `NF_NETDEV_INGRESS`), before IP processing. Packets that are not TCP to a
//! service address of the receiving device pass untouched.

use crate::conntab::{ConnEntry, ConnKey, ConnShared, Negotiated, Timestamps};
use crate::netns::HandoffNet;
use crate::proto::{
    conn::{Action, DropReason, Event, State},
    cookie::{self, CookieOpts, Tuple},
    packet::{self, SynAck, TcpFlags, TcpPacket},
    tcpopt::{self, SynAckOptions},
};
use crate::services::ServiceRt;
use crate::stats::Counter;
use kernel::net::netfilter::{HookState, IngressHandler, Verdict};
use kernel::net::skb::{SkBuff, Skb};
use kernel::net::tcp::{self, EstablishedState, Ipv4Tuple, Listener, RequestParams};
use kernel::prelude::*;
use kernel::sync::rcu;
use kernel::timer::{jiffies, msecs_to_jiffies};

/// `ETH_P_IP`.
const ETH_P_IP: u16 = 0x0800;
/// The largest reply the hook builds: IPv4 + TCP headers with options.
const REPLY_MAX: usize = 20 + 60;
/// The cookie clock ticks every 64 s (the ISN's 8 count bits then span
/// about 4.5 hours); a handshake ACK is accepted for two ticks.
const COOKIE_TICK_MS: u32 = 64_000;

/// The ingress handler; its state is the instance of the packet's namespace.
pub(crate) struct Ingress;

/// What to do with the packet.
enum Decision {
    /// Let it continue up the stack.
    Accept,
    /// Consume it silently (counted by the caller of `decide`).
    Absorb,
    /// Drop it, counting the reason.
    Drop(DropReason),
    /// Replace it with the `len` bytes of `buf` and send them back.
    Reply([u8; REPLY_MAX], usize),
}

impl IngressHandler for Ingress {
    fn hook<'a>(&self, mut skb: Skb<'a>, state: &HookState<'a>) -> Verdict<'a> {
        let hn = HandoffNet::of(state.net());
        let mtu = state.in_dev().map(|d| d.mtu()).unwrap_or(1500);
        let guard = rcu::read_lock();
        let mut t = Tally { hn, svc: None };
        match decide(&mut t, &guard, state, &mut skb, mtu) {
            Decision::Accept => skb.accept(),
            Decision::Absorb => skb.consume(),
            Decision::Drop(reason) => {
                t.dropped(reason);
                skb.drop_packet()
            }
            Decision::Reply(buf, len) => {
                let Some(bytes) = buf.get(..len) else {
                    t.dropped(DropReason::Malformed);
                    return skb.drop_packet();
                };
                if skb.set_network_data(bytes).is_err() {
                    t.inc(Counter::XmitFailed);
                    return skb.drop_packet();
                }
                let (owned, stolen) = skb.steal();
                if owned.xmit_reply().is_err() {
                    t.inc(Counter::XmitFailed);
                }
                stolen.into()
            }
        }
    }
}

/// Where the hook counts: the instance, and the service once the packet is
/// known to be for one.
struct Tally<'g> {
    hn: &'g HandoffNet,
    svc: Option<&'g ServiceRt>,
}

impl Tally<'_> {
    fn inc(&self, c: Counter) {
        self.hn.counters.inc(c);
        if let Some(svc) = self.svc {
            svc.counters.inc(c);
        }
    }

    fn dropped(&self, reason: DropReason) {
        self.hn.counters.dropped(reason);
        if let Some(svc) = self.svc {
            svc.counters.dropped(reason);
        }
    }
}

/// The fixed IPv4 and TCP header fields the hook classifies by.
struct Headers {
    tuple: Ipv4Tuple,
    flags: TcpFlags,
}

fn be16(b: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_be_bytes([*b.get(at)?, *b.get(at + 1)?]))
}

/// Reads the headers of an IPv4 TCP segment; `None` if the packet is not
/// one this hook may judge (not TCP, a fragment, too short: the stack
/// decides about those).
fn headers(skb: &mut SkBuff) -> Option<Headers> {
    skb.may_pull(20).ok()?;
    let ip = skb.network_data();
    let ihl = usize::from(*ip.first()? & 0x0f) * 4;
    let frag = be16(ip, 6)?;
    if *ip.first()? >> 4 != 4 || ihl < 20 || *ip.get(9)? != packet::PROTO_TCP || frag & 0x3fff != 0
    {
        return None;
    }
    skb.may_pull(ihl + 20).ok()?;
    let b = skb.network_data();
    let doff = usize::from(*b.get(ihl + 12)? >> 4) * 4;
    if doff < 20 {
        return None;
    }
    Some(Headers {
        tuple: Ipv4Tuple {
            saddr: u32::from_ne_bytes(b.get(12..16)?.try_into().ok()?),
            daddr: u32::from_ne_bytes(b.get(16..20)?.try_into().ok()?),
            sport: u16::from_ne_bytes(b.get(ihl..ihl + 2)?.try_into().ok()?),
            dport: u16::from_ne_bytes(b.get(ihl + 2..ihl + 4)?.try_into().ok()?),
        },
        flags: TcpFlags(*b.get(ihl + 13)?),
    })
}

/// The proto tuple (v4-mapped addresses) of `t`.
fn proto_tuple(t: &Ipv4Tuple) -> Tuple {
    Tuple {
        saddr: cookie::v4_mapped(t.saddr.to_ne_bytes()),
        daddr: cookie::v4_mapped(t.daddr.to_ne_bytes()),
        sport: u16::from_be(t.sport),
        dport: u16::from_be(t.dport),
    }
}

fn decide<'g>(
    t: &mut Tally<'g>,
    guard: &'g rcu::Guard,
    state: &HookState<'_>,
    skb: &mut SkBuff,
    mtu: u32,
) -> Decision {
    if skb.protocol() != ETH_P_IP {
        return Decision::Accept;
    }
    let Some(h) = headers(skb) else {
        return Decision::Accept;
    };
    let ifindex = skb.ifindex();
    let key = ConnKey(proto_tuple(&h.tuple));
    let Some(svc) = t.hn.service_for(guard, &key.0.daddr, key.0.dport, ifindex) else {
        return Decision::Accept;
    };
    t.svc = Some(svc);
    let t = &*t;
    let table = t.hn.table();
    let known = table.lookup(guard, &key).is_some();
    let syn_only = h.flags.contains(TcpFlags::SYN)
        && !h.flags.contains(TcpFlags::ACK)
        && !h.flags.contains(TcpFlags::RST);

    if !known {
        if syn_only {
            return new_connection(t, state, skb, &key, &h, svc, mtu);
        }
        return unknown_segment(t, state, skb, &h);
    }

    // A connection the local stack took over: once its socket exists, the
    // entry is done; until then only a retransmitted first segment may
    // reach the stack (anything else would meet the listener, which resets).
    let bound = table
        .with_locked(&key, |_, e| e.conn.state() == State::Bound)
        .unwrap_or(false);
    if bound {
        let est = tcp::established_v4(state.net(), &h.tuple, ifindex, |_, _| false);
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
        (action, e.conn, e.nego)
    });
    let Some((action, conn, nego)) = step else {
        // Removed meanwhile (expired or flushed).
        return unknown_segment(t, state, skb, &h);
    };
    match action {
        Action::SendSynAck => {
            t.inc(Counter::SynRetransmit);
            synack(&key.0, conn.iss(), conn.irs(), &nego)
        }
        Action::Absorb => {
            t.inc(Counter::AcksAbsorbed);
            Decision::Absorb
        }
        Action::Pass => Decision::Accept,
        Action::Drop(r) => Decision::Drop(r),
        Action::SendRst(r) => {
            t.dropped(r);
            rst(&p)
        }
        Action::Remove => {
            table.remove(&key);
            Decision::Absorb
        }
        Action::Inject => {
            let (verdict, outcome) = inject_local(t, state, skb, &h, &nego, ts_val);
            table.with_locked(&key, |_, e| {
                if e.conn.state() != State::Bound {
                    e.conn.step(outcome);
                }
            });
            if matches!(outcome, Event::InjectFailed { retryable: false }) {
                table.remove(&key);
            }
            verdict
        }
    }
}

/// Linearizes `skb` and parses its IPv4 TCP segment in full, with both
/// checksums checked (the TCP one unless the device vouched for it).
fn parse_checked(skb: &mut SkBuff) -> Result<TcpPacket<'_>, DropReason> {
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
fn unknown_segment(
    t: &Tally<'_>,
    state: &HookState<'_>,
    skb: &mut SkBuff,
    h: &Headers,
) -> Decision {
    if h.flags.contains(TcpFlags::RST) {
        return Decision::Accept;
    }
    match tcp::established_v4(state.net(), &h.tuple, skb.ifindex(), |_, _| false) {
        EstablishedState::None => {}
        _ => return Decision::Accept,
    }
    t.dropped(DropReason::UnknownConn);
    if skb.linearize().is_err() {
        return Decision::Drop(DropReason::Malformed);
    }
    match packet::parse(skb.network_data()) {
        Ok(p) => rst(&p),
        Err(_) => Decision::Drop(DropReason::Malformed),
    }
}

/// The reset answering `p` (RFC 9293 rules).
fn rst(p: &TcpPacket<'_>) -> Decision {
    let mut buf = [0u8; REPLY_MAX];
    match packet::build_rst(&mut buf, p) {
        Ok(len) => Decision::Reply(buf, len),
        Err(_) => Decision::Drop(DropReason::Malformed),
    }
}

/// The window scale the stack would announce for the namespace's buffers.
fn our_wscale(state: &HookState<'_>) -> u8 {
    let (rmem, max) = tcp::rcv_space_limits(state.net());
    let space = rmem.max(max);
    let mut ws = 0u8;
    while ws < tcpopt::MAX_WSCALE && (65535u32 << ws) < space {
        ws += 1;
    }
    ws
}

/// A SYN for a service: answered with our SYN-ACK, remembered in the table.
fn new_connection(
    t: &Tally<'_>,
    state: &HookState<'_>,
    skb: &mut SkBuff,
    key: &ConnKey,
    h: &Headers,
    svc: &ServiceRt,
    mtu: u32,
) -> Decision {
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
    let est = tcp::established_v4(state.net(), &h.tuple, skb.ifindex(), |rcv_nxt, ts| {
        tw_syn_acceptable(rcv_nxt, ts, client_isn, opts.timestamp.map(|t| t.val))
    });
    match est {
        EstablishedState::None | EstablishedState::TimeWaitReaped => {}
        EstablishedState::TimeWait | EstablishedState::Socket => return Decision::Accept,
    }

    let our_mss = (mtu.saturating_sub(40)).clamp(536, 65535) as u16;
    let mss = opts.effective_mss(536).min(our_mss);
    let mss_idx = cookie::mss_index(mss);
    let now_ms = tcp::tcp_clock_ms();
    let secret = t.hn.secret();
    let isn = cookie::isn(secret, &key.0, client_isn, now_ms / COOKIE_TICK_MS, mss_idx);
    let client_wscale = opts.wscale;
    let our_wscale = if client_wscale.is_some() {
        our_wscale(state)
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
    match t.hn.table().insert(*key, shared, entry, GFP_ATOMIC) {
        Ok(()) => t.inc(Counter::SynAnswered),
        Err(e) if e == EEXIST => {
            // Lost a race with the same SYN on another CPU: answer it too.
            t.inc(Counter::SynRetransmit);
        }
        Err(e) if e == ENOSPC => return Decision::Drop(DropReason::TableFull),
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

/// Our SYN-ACK for the connection.
fn synack(t: &Tuple, isn: u32, client_isn: u32, n: &Negotiated) -> Decision {
    let tsval = n.ts.map(|ts| {
        cookie::ts_encode(
            tcp::tcp_clock_ms().wrapping_add(ts.off),
            CookieOpts {
                wscale: n.client_wscale,
                sack_ok: n.sack,
            },
        )
    });
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

/// Hands the connection, with this first data segment, to the local
/// listener. Returns the verdict for the segment and the outcome for the
/// state machine.
fn inject_local(
    t: &Tally<'_>,
    state: &HookState<'_>,
    skb: &mut SkBuff,
    h: &Headers,
    n: &Negotiated,
    ts_val: Option<u32>,
) -> (Decision, Event) {
    let net = state.net();
    if !tcp::syncookies_enabled(net) {
        t.inc(Counter::InjectFailed);
        return (
            Decision::Drop(DropReason::InjectFailed),
            Event::InjectFailed { retryable: false },
        );
    }
    let guard = rcu::read_lock();
    let Some(listener) = Listener::lookup_v4(&guard, net, &h.tuple, skb.ifindex()) else {
        // Nobody accepts on the port: reset, as the stack would.
        t.dropped(DropReason::NoListener);
        let d = match packet::parse(skb.network_data()) {
            Ok(p) => rst(&p),
            Err(_) => Decision::Drop(DropReason::Malformed),
        };
        return (d, Event::InjectFailed { retryable: false });
    };
    if listener.accept_queue_full() {
        // The client retransmits; the entry stays to inject it again.
        return (
            Decision::Drop(DropReason::QueueFull),
            Event::InjectFailed { retryable: true },
        );
    }
    let params = RequestParams {
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
    };
    let outcome = match listener.new_request(&params) {
        Ok(req) => {
            req.attach(skb);
            t.inc(Counter::Injected);
            (Decision::Accept, Event::InjectOk)
        }
        Err(_) => {
            t.inc(Counter::InjectFailed);
            (
                Decision::Drop(DropReason::InjectRetry),
                Event::InjectFailed { retryable: true },
            )
        }
    };
    outcome
}
