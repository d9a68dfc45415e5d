// SPDX-License-Identifier: GPL-2.0

//! The forward path (origin side): client packets of a connection handed to
//! a peer are encapsulated to it as DATA, from the NEW on (flow id 0 until
//! the peer's MIGRATED_ACK names its flow id) until the connection ends:
//! the client's RST, its FIN and a linger time, or the idle timeout.
//!
//! ICMP errors quoting such a connection reach this node (the VIP routes
//! here), not the peer that sends the connection's replies: they are
//! forwarded the same way, so that path MTU discovery works for it.
//!
//! The connections another front handed over and announced take the same
//! way, flagged RELAYED, once their clients come here (`failover.rs`).

use crate::conntab::FwdState;
use crate::failover;
use crate::ingress::{Decision, Pkt};
use crate::netns::Shared;
use crate::proto::{
    announce::ConnOp,
    migrate::FlowStep,
    packet::TcpFlags,
    wire::{self, EncapHdr, PktType},
};
use crate::stats::{Counter, Counters};
use kernel::net::skb::{SkBuff, SkBuffOwned};
use kernel::net::udp_tunnel::SockAddrV4;
use kernel::prelude::*;
use kernel::sync::Arc;
use kernel::timer::jiffies;

/// Where a forwarded packet goes.
pub(crate) struct Dest {
    /// The peer's forward endpoint.
    to: SockAddrV4,
    /// The header of the DATA datagram (conn_ref, flow id).
    hdr: EncapHdr,
    /// The peer's counters.
    peer: Arc<Counters>,
    /// The service's counters.
    svc: Arc<Counters>,
}

impl Dest {
    fn count(&self, st: &Shared, c: Counter) {
        st.counters.inc(c);
        self.peer.inc(c);
        self.svc.inc(c);
    }
}

/// The forwarding of a packet of a connection handed to a peer, if it is
/// one; a timed-out handoff takes the fallback instead (`origin.rs`).
pub(crate) fn lookup(pkt: &Pkt<'_>, skb: &mut SkBuff) -> Option<Decision> {
    let st = &pkt.hn.st;
    let e = st.fwd.lookup(pkt.guard, &pkt.key)?;
    if pkt.flags.contains(TcpFlags::SYN) && !pkt.flags.intersects(TcpFlags::ACK | TcpFlags::RST) {
        // A new connection on the tuple (a client reusing its port while
        // the old one lingers): the old one is over, the SYN is answered
        // like any other.
        let (flow_id, idle_ms) = st
            .fwd
            .with_locked(&pkt.key, |_, m| (m.flow_id, m.idle_ms))?;
        if st.fwd.remove(&pkt.key) {
            st.counters.inc(Counter::FlowsEnded);
            let sh = e.shared();
            failover::announce(st, pkt.guard, ConnOp::Del, &pkt.key, sh, flow_id, idle_ms);
        }
        return None;
    }
    let sh = e.shared();
    let len = u64::from(skb.len());
    let now = jiffies();
    let step = st.fwd.with_locked(&pkt.key, |_, m| {
        if m.state == FwdState::TimedOut {
            return None;
        }
        m.last_seen = now;
        m.packets += 1;
        m.bytes += len;
        Some((m.flow_id, m.idle_ms, m.flow.on_client_segment(pkt.flags)))
    })?;
    let Some((flow_id, idle_ms, step)) = step else {
        return Some(crate::origin::fallback(pkt, skb, sh.conn_ref));
    };
    let svc = sh.slot().counters().clone();
    if step == FlowStep::End {
        // The packet still goes; the entry does not wait for more.
        if st.fwd.remove(&pkt.key) {
            failover::announce(st, pkt.guard, ConnOp::Del, &pkt.key, sh, flow_id, idle_ms);
        }
        st.counters.inc(Counter::FlowsEnded);
        svc.inc(Counter::FlowsEnded);
    }
    Some(dest(pkt, sh.peer, sh.conn_ref, flow_id, 0, svc))
}

/// The forwarding of an ICMP error quoting a connection handed to a peer
/// (by this node, or by another front that announced it).
pub(crate) fn icmp_error(pkt: &Pkt<'_>) -> Decision {
    let st = &pkt.hn.st;
    let Some(e) = st.fwd.lookup(pkt.guard, &pkt.key) else {
        if let Some(r) = st.relay.lookup(pkt.guard, &pkt.key) {
            let sh = r.shared();
            let Some(svc) =
                pkt.hn
                    .service_for(pkt.guard, &pkt.key.0.daddr, pkt.key.0.dport, pkt.ifindex)
            else {
                return Decision::Accept;
            };
            return relayed_dest(
                pkt,
                sh.target,
                sh.conn_ref,
                sh.flow_id,
                svc.counters.clone(),
            );
        }
        return Decision::Accept;
    };
    let sh = e.shared();
    let Some(flow_id) = st.fwd.with_locked(&pkt.key, |_, m| m.flow_id) else {
        return Decision::Accept;
    };
    let svc = sh.slot().counters().clone();
    dest(pkt, sh.peer, sh.conn_ref, flow_id, 0, svc)
}

/// The forwarding of a packet of a connection another front handed to
/// `peer` (front failover): DATA flagged RELAYED.
pub(crate) fn relayed_dest(
    pkt: &Pkt<'_>,
    peer: u32,
    conn_ref: u32,
    flow_id: u32,
    svc: Arc<Counters>,
) -> Decision {
    dest(pkt, peer, conn_ref, flow_id, wire::F_RELAYED, svc)
}

fn dest(
    pkt: &Pkt<'_>,
    peer: u32,
    conn_ref: u32,
    flow_id: u32,
    flags: u8,
    svc: Arc<Counters>,
) -> Decision {
    let st = &pkt.hn.st;
    let Some(p) = st.peers(pkt.guard).and_then(|ps| ps.by_id(peer)) else {
        // The peer was deleted: its entries are on their way out.
        st.counters.inc(Counter::DataDropped);
        return Decision::Drop(crate::proto::conn::DropReason::UnknownConn);
    };
    let Some(to) = p.endpoint else {
        st.counters.inc(Counter::DataDropped);
        p.counters.inc(Counter::DataDropped);
        return Decision::Drop(crate::proto::conn::DropReason::UnknownConn);
    };
    Decision::Forward(Dest {
        to,
        hdr: EncapHdr {
            ty: PktType::Data,
            flags,
            conn_ref,
            flow_id,
        },
        peer: p.counters.clone(),
        svc,
    })
}

/// Sends `skb`, a client packet (stolen at the hook), to `dest` as DATA:
/// a GSO packet is segmented first, a partial checksum completed (the
/// packet travels inside another one).
pub(crate) fn send(pkt: &Pkt<'_>, skb: SkBuffOwned, dest: &Dest) {
    let st = &pkt.hn.st;
    let Some(tunnel) = st.tunnel(pkt.guard) else {
        dest.count(st, Counter::DataDropped);
        return;
    };
    let Ok(segs) = skb.gso_segment() else {
        dest.count(st, Counter::DataDropped);
        return;
    };
    for mut seg in segs {
        let sent = encapsulate(&mut seg, &dest.hdr)
            .and_then(|()| tunnel.send(tunnel.net(), seg, dest.to, true));
        let c = if sent.is_ok() {
            Counter::Forwarded
        } else {
            Counter::DataDropped
        };
        dest.count(st, c);
    }
}

/// Puts the DATA header in front of the packet `seg`.
fn encapsulate(seg: &mut SkBuffOwned, hdr: &EncapHdr) -> Result {
    seg.checksum_help()?;
    let len = seg.len() as usize;
    let h = seg.push(wire::ENCAP_HDR_LEN)?;
    wire::write_hdr(h, hdr, len).map_err(|_| EINVAL)?;
    Ok(())
}
