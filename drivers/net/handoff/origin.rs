// SPDX-License-Identifier: GPL-2.0

//! Migration, origin side: offering a connection to a peer.
//!
//! On the first request bytes the connection moves from the temporary to
//! the forward table, in state migrating, and NEW goes to the peer with the
//! connection's state and the request bytes. The client's further packets
//! are forwarded at once as DATA with flow id 0 (`forward.rs`): the target
//! holds what comes before its injection, so nothing is lost. NEW is sent
//! again on the schedule of `proto/migrate.rs` until:
//!
//! - MIGRATED_ACK: the entry records the target's flow id (forwarded);
//! - MIGRATED_ACK with REFUSED: the client gets a RST, the entry goes;
//! - the service's SYN timeout: the handoff timed out. The client, whose
//!   request nobody acknowledged, retransmits it; that segment takes the
//!   fallback ([`fallback`]): it is injected into the local stack if a
//!   listener exists, else answered with a RST.

use crate::conntab::{ConnRef, FwdEntry, FwdShared, FwdState, PendEntry, PendShared};
use crate::handshake::{parse_checked, rst, Snapshot};
use crate::ingress::{Decision, Pkt};
use crate::netns::Shared;
use crate::peers::PeerRt;
use crate::proto::{
    announce::ConnOp,
    conn::{DropReason, Event},
    cookie::Tuple,
    migrate::{Handoff, Tick},
    packet::{self, Rst, TcpPacket},
    tcpopt,
    wire::{self, EncapHdr},
};
use crate::stats::{Counter, Counters};
use crate::tunnel;
use kernel::net::namespace::Namespace;
use kernel::net::skb::{SkBuff, SkBuffOwned};
use kernel::prelude::*;
use kernel::sync::rcu;
use kernel::timer::jiffies;

/// How often the retransmission timer looks at the handoffs in flight (ms).
pub(crate) const TICK_MS: u32 = 20;
/// At most this many request bytes travel in NEW; the client retransmits
/// the rest, which the target has not acknowledged, as DATA.
const NEW_MAX_REQUEST: usize = 16 * 1024;
/// How long after its deadline a timed-out handoff waits for the client's
/// retransmission to take the fallback (ms).
const FALLBACK_WINDOW_MS: u64 = 60_000;

fn now_ms() -> u64 {
    kernel::time::Ktime::ktime_get().to_ms().max(0) as u64
}

/// Counts `c` for the instance, the service and the peer.
fn count(st: &Shared, svc: &Counters, peer: Option<&PeerRt>, c: Counter) {
    st.counters.inc(c);
    svc.inc(c);
    if let Some(p) = peer {
        p.counters.inc(c);
    }
}

/// Offers the connection of `pkt`, whose first request bytes are in `p`,
/// to the peer `peer`. `None` if it cannot be offered (the service's
/// `max-forward`, no memory, the peer unreachable): the caller binds it
/// locally instead.
pub(crate) fn start(
    pkt: &Pkt<'_>,
    p: &TcpPacket<'_>,
    snap: &Snapshot,
    peer: u32,
) -> Option<(Decision, Event)> {
    let nc = snap.new_conn(&pkt.key.0, p);
    let request = p.payload.get(..p.payload.len().min(NEW_MAX_REQUEST))?;
    start_with(pkt, &nc, request, peer)
}

/// Offers the connection `nc` of `pkt` with the request bytes `request`
/// (those of its first segment, or all a content policy held) to `peer`,
/// as [`start`] does.
pub(crate) fn start_with(
    pkt: &Pkt<'_>,
    nc: &wire::NewConn,
    request: &[u8],
    peer: u32,
) -> Option<(Decision, Event)> {
    let st = &pkt.hn.st;
    let svc = pkt.svc?;
    let pr = st.peers(pkt.guard)?.by_id(peer)?;
    let to = pr.endpoint?;
    let tunnel = st.tunnel(pkt.guard)?;
    let request = request.get(..request.len().min(NEW_MAX_REQUEST))?;
    let slot = svc.reserve_forward()?;
    let total = wire::ENCAP_HDR_LEN + wire::NEW_CONN_LEN + request.len();
    let mut msg = KVec::from_elem(0u8, total, GFP_ATOMIC).ok()?;

    // The forward entry first: the client's next packets must find it.
    let now = jiffies();
    let conn_ref = st.new_conn_ref();
    let shared = FwdShared {
        created_ms: kernel::time::Ktime::ktime_get().to_ms(),
        peer,
        conn_ref,
        client_isn: nc.client_isn,
        local_isn: nc.local_isn,
        slot,
    };
    let entry = FwdEntry::new(FwdState::Migrating, 0, now, svc.idle_timeout_ms);
    st.fwd.insert(pkt.key, shared, entry, GFP_ATOMIC).ok()?;
    let pend = PendShared {
        key: pkt.key,
        peer,
        rcv_nxt: nc
            .client_isn
            .wrapping_add(1)
            .wrapping_add(request.len() as u32),
        snd_nxt: nc.local_isn.wrapping_add(1),
        svc: svc.counters.clone(),
    };
    // conn_refs come from a counter: a clash with a handoff still in flight
    // takes 2^32 handoffs within a SYN timeout (then the insert fails).
    let handoff = Handoff::new(now_ms(), u64::from(svc.syn_timeout_ms));
    if wire::new_datagram(&mut msg, conn_ref, nc, request).is_err() {
        st.fwd.remove(&pkt.key);
        return None;
    }
    let inserted = st.pending.insert(
        ConnRef(conn_ref),
        pend,
        PendEntry {
            handoff,
            msg,
            timed_out: false,
        },
        GFP_ATOMIC,
    );
    if inserted.is_err() {
        st.fwd.remove(&pkt.key);
        return None;
    }
    // A NEW that could not be sent is lost like a datagram on the wire:
    // the schedule sends it again.
    let _ = st.pending.with_locked(&ConnRef(conn_ref), |_, e| {
        tunnel::send_bytes(tunnel, to, &e.msg, false)
    });
    count(st, &svc.counters, Some(pr), Counter::NewSent);
    pkt.hn.retransmit_soon();
    Some((Decision::Absorb, Event::MigrateStart))
}

/// A MIGRATED_ACK from `peer`.
pub(crate) fn on_ack(
    net: &Namespace,
    st: &Shared,
    guard: &rcu::Guard,
    peer: &PeerRt,
    hdr: &EncapHdr,
) {
    let key = ConnRef(hdr.conn_ref);
    let found = st
        .pending
        .lookup(guard, &key)
        .map(|e| e.shared())
        .filter(|sh| sh.peer == peer.id);
    let Some(sh) = found else {
        // Unknown, or an answer to a NEW already answered: nothing to do.
        st.counters.dropped(DropReason::UnknownConn);
        peer.counters.dropped(DropReason::UnknownConn);
        return;
    };
    if !st.pending.remove(&key) {
        return;
    }
    if hdr.refused() {
        count(st, &sh.svc, Some(peer), Counter::NewRefused);
        count(st, &sh.svc, Some(peer), Counter::MigrateFailed);
        st.fwd.remove(&sh.key);
        reset_client(net, sh);
        return;
    }
    let moved = st.fwd.with_locked(&sh.key, |_, m| {
        m.flow_id = hdr.flow_id;
        m.state = FwdState::Forwarded;
        m.announced = jiffies();
        m.idle_ms
    });
    if let Some(idle_ms) = moved {
        count(st, &sh.svc, Some(peer), Counter::Migrated);
        if let Some(f) = st.fwd.lookup(guard, &sh.key) {
            let (key, flow) = (&sh.key, hdr.flow_id);
            crate::failover::announce(st, guard, ConnOp::Add, key, f.shared(), flow, idle_ms);
        }
    }
}

/// Resets the client of a handoff that failed, from the VIP.
fn reset_client(net: &Namespace, sh: &PendShared) {
    if reset_conn(net, &sh.key.0, sh.snd_nxt, sh.rcv_nxt).is_err() {
        sh.svc.inc(Counter::XmitFailed);
    }
}

/// Resets the client of the connection `t` from the service address,
/// through the stack's output path: our next sequence number `snd_nxt`,
/// acknowledging `rcv_nxt`.
pub(crate) fn reset_conn(net: &Namespace, t: &Tuple, snd_nxt: u32, rcv_nxt: u32) -> Result {
    let mut buf = [0u8; 40];
    let r = Rst {
        tuple: *t,
        seq: snd_nxt,
        ack: Some(rcv_nxt),
    };
    let len = packet::build_rst_to(&mut buf, &r).map_err(|_| EINVAL)?;
    let mut skb = SkBuffOwned::alloc(len, 128, GFP_ATOMIC)?;
    skb.put_data(buf.get(..len).ok_or(EINVAL)?)?;
    skb.ip_local_out(net)
}

/// The retransmission timer's work: NEW again where its time came, and
/// handoffs past their deadline marked as timed out.
pub(crate) fn tick(st: &Shared) {
    let now = now_ms();
    let guard = rcu::read_lock();
    let tunnel = st.tunnel(&guard);
    let peers = st.peers(&guard);
    st.pending.retain(|_, sh, e| {
        let peer = peers.and_then(|p| p.by_id(sh.peer));
        // A target that went DOWN will not answer: no need to wait for the
        // deadline, the client's next retransmission falls back at once.
        let tick = if peer.is_some_and(|p| !crate::sync::usable(p)) {
            Tick::Expired
        } else {
            e.handoff.poll(now)
        };
        match tick {
            Tick::Wait => true,
            Tick::Retransmit => {
                count(st, &sh.svc, peer, Counter::NewRetransmit);
                let to = peer.and_then(|p| p.endpoint);
                if let (Some(t), Some(to)) = (tunnel, to) {
                    let _ = tunnel::send_bytes(t, to, &e.msg, false);
                }
                true
            }
            Tick::Expired => {
                if !e.timed_out {
                    e.timed_out = true;
                    count(st, &sh.svc, peer, Counter::NewTimeout);
                    count(st, &sh.svc, peer, Counter::MigrateFailed);
                    st.fwd
                        .with_locked(&sh.key, |_, m| m.state = FwdState::TimedOut);
                }
                // Kept for the client's retransmission (the fallback needs
                // the negotiated state), then forgotten with its entry.
                let keep = now < e.handoff.deadline_ms().saturating_add(FALLBACK_WINDOW_MS)
                    && st.fwd.contains(&sh.key);
                if !keep {
                    st.fwd
                        .remove_if(&sh.key, |_, m| m.state == FwdState::TimedOut);
                }
                keep
            }
        }
    });
}

/// A client segment of a connection whose handoff timed out: injected
/// into the local stack if it is the retransmitted first segment and a
/// listener exists, else reset. The forward entry ends either way.
pub(crate) fn fallback(pkt: &Pkt<'_>, skb: &mut SkBuff, conn_ref: u32) -> Decision {
    let st = &pkt.hn.st;
    let key = ConnRef(conn_ref);
    let nc = st
        .pending
        .with_locked(&key, |_, e| {
            let d = wire::parse(&e.msg).ok()?;
            wire::parse_new(d.body).ok().map(|(nc, _)| nc)
        })
        .flatten();
    st.fwd.remove(&pkt.key);
    st.pending.remove(&key);
    let p = match parse_checked(skb) {
        Ok(p) => p,
        Err(reason) => return Decision::Drop(reason),
    };
    let first = nc.filter(|nc| p.seq == nc.client_isn.wrapping_add(1) && !p.payload.is_empty());
    let Some(nc) = first else {
        pkt.dropped(DropReason::InjectFailed);
        return rst(&p);
    };
    let ts = tcpopt::parse_lenient(p.options).timestamp.map(|t| t.val);
    let params = crate::inject::params_of(&nc, ts);
    let (d, outcome) = crate::inject::local(pkt, skb, &params);
    if outcome == Event::InjectOk {
        st.counters.inc(Counter::FallbackLocal);
    }
    d
}
