// SPDX-License-Identifier: GPL-2.0

//! Front failover: the connections a front handed to peers survive it.
//!
//! Behind a router's ECMP every front gets some clients. When a front dies
//! the router moves its clients to the others, which know nothing of the
//! connections it had handed to targets. So each front announces its
//! forward entries on the sync channel (`include/uapi/linux/handoff.h`,
//! "Sync channel"; the format is `proto/announce.rs`):
//!
//! - Origin side: an ADD when a peer acknowledged a handoff (the flow id is
//!   known from then on), again every third of the idle timeout while the
//!   entry lives (so a lost datagram heals and the receivers' entries do
//!   not expire under a long idle connection), a DEL when it ends. They
//!   wait in a bounded queue ([`AnnounceQueue`]) and leave with the next
//!   sync interval, batched, to every peer.
//! - Other fronts keep them in the relay table. A client packet for a
//!   connection a front does not know otherwise, and that is no SYN, is
//!   looked up there ([`relay`]) and sent to the connection's target as
//!   DATA flagged RELAYED, which the target matches by conn_ref, flow id
//!   and tuple among the connections it adopted from any peer (`target.rs`).
//!
//! Relay entries end with their announcer's DEL, the client's RST or FIN
//! (and the linger time), or the idle timeout after the last announcement
//! or packet: they live as long as the origin's entry would.

use crate::conntab::{ConnKey, FwdShared, RelayEntry, RelayShared};
use crate::ingress::{Decision, Pkt};
use crate::netns::{HandoffNet, Shared};
use crate::peers::{PeerRt, PeerSet};
use crate::proto::announce::{self, Announce, ConnOp};
use crate::proto::migrate::FlowStep;
use crate::proto::sync::SyncHdr;
use crate::stats::Counter;
use crate::sync::SyncSock;
use core::ops::Range;
use kernel::net::namespace::Namespace;
use kernel::net::skb::SkBuffOwned;
use kernel::prelude::*;
use kernel::sync::{rcu, Arc, SpinLock};
use kernel::timer::{jiffies, msecs_to_jiffies, time_after, Jiffies};
use kernel::{new_spinlock, pin_init};

/// Most announcements waiting to be sent; beyond, they are dropped and
/// counted (those connections would not survive this node's failure). The
/// sync timer sends them all every interval: at most 171 datagrams to each
/// peer.
pub(crate) const QUEUE_MAX: usize = 4096;
/// Most relay entries of an instance.
pub(crate) const RELAY_MAX_ENTRIES: usize = 65536;
/// Buckets of the relay table (2^10).
pub(crate) const RELAY_BUCKET_BITS: u32 = 10;

/// Announcements waiting for the next sync interval.
///
/// Pushed from the packet path and the timers, drained by the sync timer;
/// the lock is always taken with bottom halves off and is innermost: nothing
/// else is locked while it is held.
#[pin_data]
pub(crate) struct AnnounceQueue {
    #[pin]
    q: SpinLock<KVec<Announce>>,
}

impl AnnounceQueue {
    /// An empty queue.
    pub(crate) fn new() -> Result<Arc<Self>> {
        Arc::pin_init(
            pin_init!(AnnounceQueue {
                q <- new_spinlock!(KVec::new(), "AnnounceQueue::q"),
            }),
            GFP_KERNEL,
        )
    }

    /// Queues `a`; `false` if the queue is full or out of memory.
    pub(crate) fn push(&self, a: Announce) -> bool {
        let _bh = rcu::read_lock_bh();
        let mut q = self.q.lock();
        q.len() < QUEUE_MAX && q.push(a, GFP_ATOMIC).is_ok()
    }

    /// Takes every waiting announcement, oldest first.
    pub(crate) fn take(&self) -> KVec<Announce> {
        let _bh = rcu::read_lock_bh();
        core::mem::replace(&mut *self.q.lock(), KVec::new())
    }
}

/// Queues the announcement `op` of the forward entry `key` (forwarded to
/// `sh.peer` under `flow_id`), if this node announces (it has a sync
/// channel and an id).
pub(crate) fn announce(
    st: &Shared,
    guard: &rcu::Guard,
    op: ConnOp,
    key: &ConnKey,
    sh: &FwdShared,
    flow_id: u32,
    idle_ms: u32,
) {
    if !announcing(st, guard) || flow_id == 0 {
        return;
    }
    let a = Announce {
        op,
        tuple: key.0,
        target: sh.peer,
        conn_ref: sh.conn_ref,
        flow_id,
        idle_ms: idle_ms.clamp(1, announce::MAX_IDLE_MS),
    };
    if !st.announce.push(a) {
        st.counters.inc(Counter::AnnounceDropped);
    }
}

/// Whether this node announces its forward entries: it has a sync socket
/// and a node id.
pub(crate) fn announcing(st: &Shared, guard: &rcu::Guard) -> bool {
    st.sync(guard).is_some() && st.peers(guard).is_some_and(|p| p.node_id != 0)
}

/// Whether the forward entry last announced at `announced` is due for its
/// refresh at `now`: a third of its idle timeout passed.
pub(crate) fn refresh_due(announced: Jiffies, idle_ms: u32, now: Jiffies) -> bool {
    time_after(now, announced.wrapping_add(msecs_to_jiffies(idle_ms / 3)))
}

/// The sync timer's part: sends what the queue holds, batched, to every
/// peer with a sync address. `hdr` is this interval's report header; its
/// `seq` is set per datagram from `next_seq`.
pub(crate) fn flush(
    net: &Namespace,
    st: &Shared,
    sock: &SyncSock,
    peers: &PeerSet,
    hdr: &mut SyncHdr,
    next_seq: &dyn Fn() -> u32,
) {
    let batch = st.announce.take();
    for part in batch.chunks(announce::MAX_CONNS) {
        for p in peers.iter() {
            let Some(to) = p.sync_endpoint else {
                continue;
            };
            hdr.seq = next_seq();
            match send_conns(sock, net, to, hdr, part) {
                Ok(()) => {
                    let n = part.len() as u64;
                    st.counters.add(Counter::AnnounceSent, n);
                    p.counters.add(Counter::AnnounceSent, n);
                }
                Err(_) => st.counters.inc(Counter::XmitFailed),
            }
        }
    }
}

fn send_conns(
    sock: &SyncSock,
    net: &Namespace,
    to: kernel::net::udp_tunnel::SockAddrV4,
    hdr: &SyncHdr,
    conns: &[Announce],
) -> Result {
    let len = crate::proto::sync::SYNC_HDR_LEN + conns.len() * announce::SYNC_CONN_LEN;
    let mut skb = SkBuffOwned::alloc(len, 128, GFP_ATOMIC)?;
    let buf = skb.put(len)?;
    announce::write_conns(buf, hdr, conns).map_err(|_| EINVAL)?;
    sock.send(net, skb, to, false)
}

/// A HANDOFF_SYNC_CONNS datagram from `peer` (its sync endpoint checked):
/// applied to the relay table.
pub(crate) fn on_conns(hn: &HandoffNet, peers: &PeerSet, peer: &PeerRt, data: &[u8]) {
    let st = &hn.st;
    let Ok(conns) = announce::parse_conns(data) else {
        hn.counters.inc(Counter::SyncMalformed);
        peer.counters.inc(Counter::SyncMalformed);
        return;
    };
    if conns.hdr.node_id != peer.id {
        hn.counters.inc(Counter::SyncNotPeer);
        return;
    }
    let now = jiffies();
    for a in conns.iter() {
        let key = ConnKey(a.tuple);
        let applied = match a.op {
            ConnOp::Add if a.target == peers.node_id => {
                // Handed to this node: its stack has the socket and takes
                // the client's packets itself.
                true
            }
            ConnOp::Add => learn(st, peer.id, &key, &a, now),
            ConnOp::Del => {
                st.relay
                    .remove_if(&key, |s, _| s.owner == peer.id && s.conn_ref == a.conn_ref);
                true
            }
        };
        let c = if applied {
            Counter::AnnounceReceived
        } else {
            Counter::AnnounceDropped
        };
        hn.counters.inc(c);
        peer.counters.inc(c);
    }
}

/// Stores (or refreshes) the relay entry of an ADD from `owner`; `false`
/// if the table is full or out of memory.
fn learn(st: &Shared, owner: u32, key: &ConnKey, a: &Announce, now: Jiffies) -> bool {
    let same = |s: &RelayShared| {
        s.owner == owner
            && s.conn_ref == a.conn_ref
            && s.target == a.target
            && s.flow_id == a.flow_id
    };
    let refreshed = st.relay.with_locked(key, |s, e| {
        if same(s) {
            e.last_seen = now;
            e.idle_ms = a.idle_ms;
        }
        same(s)
    });
    match refreshed {
        Some(true) => return true,
        // Another connection on the tuple (the client reused its port, or
        // another front took it over): the newer announcement wins.
        Some(false) => {
            st.relay.remove(key);
        }
        None => {}
    }
    let shared = RelayShared {
        owner,
        target: a.target,
        conn_ref: a.conn_ref,
        flow_id: a.flow_id,
    };
    let entry = RelayEntry {
        flow: crate::proto::migrate::Flow::new(),
        last_seen: now,
        idle_ms: a.idle_ms,
    };
    match st.relay.insert(*key, shared, entry, GFP_ATOMIC) {
        Ok(()) => true,
        // Inserted by another CPU meanwhile (the same datagram cannot be
        // applied twice; a refresh of it can): there it is.
        Err(e) if e == EEXIST => true,
        Err(_) => false,
    }
}

/// The relaying of a packet that is no SYN, for a connection this node does
/// not know but a peer announced, if it is one.
pub(crate) fn relay(pkt: &Pkt<'_>) -> Option<Decision> {
    let st = &pkt.hn.st;
    if st.relay.is_empty() {
        return None;
    }
    let e = st.relay.lookup(pkt.guard, &pkt.key)?;
    let sh = e.shared();
    let now = jiffies();
    let step = st.relay.with_locked(&pkt.key, |_, m| {
        m.last_seen = now;
        m.flow.on_client_segment(pkt.flags)
    })?;
    let svc = pkt.svc?.counters.clone();
    if step == FlowStep::End {
        // The packet still goes; the entry does not wait for more.
        st.relay.remove(&pkt.key);
        st.counters.inc(Counter::FlowsEnded);
        svc.inc(Counter::FlowsEnded);
    }
    let d = crate::forward::relayed_dest(pkt, sh.target, sh.conn_ref, sh.flow_id, svc);
    if let Decision::Forward(_) = d {
        pkt.inc(Counter::Relayed);
        if let Some(p) = st.peers(pkt.guard).and_then(|ps| ps.by_id(sh.target)) {
            p.counters.inc(Counter::Relayed);
        }
    }
    Some(d)
}

/// A SYN answered on the tuple: a relay entry there is an older connection.
pub(crate) fn forget(st: &Shared, key: &ConnKey) {
    if !st.relay.is_empty() {
        st.relay.remove(key);
    }
}

/// The expiry timer's part: relay entries in `buckets` past their time go
/// (flows past their linger time after a client FIN ended; the others
/// timed out).
pub(crate) fn expire(st: &Shared, buckets: Range<usize>, now: Jiffies) {
    let mut ended = 0u64;
    let gone = st.relay.retain_buckets(buckets, |_, _, e| {
        let keep = !e.expired(now);
        if !keep {
            ended += u64::from(e.flow.fin_seen());
        }
        keep
    });
    st.counters.add(Counter::FlowsEnded, ended);
    st.counters.add(Counter::Timeouts, gone as u64 - ended);
    st.counters
        .set(Counter::RelayEntries, st.relay.len() as u64);
}
