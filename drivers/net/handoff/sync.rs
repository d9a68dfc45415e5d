// SPDX-License-Identifier: GPL-2.0

//! The sync channel: load reports between nodes and the liveness of peers.
//!
//! Every node with a sync address has a kernel UDP socket on it (the same
//! wrapper as the redistribution socket) and a timer that, every sync
//! interval, sends each peer a report (`include/uapi/linux/handoff.h`, "Sync
//! channel"; the format and the replay rules are `proto/sync.rs`) and
//! marks DOWN the peers whose reports stopped. Reports received make their
//! peer UP and give its load, which the least-load policy reads
//! (`select.rs`). State changes are announced on the events group at once,
//! from softirq context: the message is built from the published peers.
//!
//! The same datagrams carry the announcements of front failover
//! (`failover.rs`), sent after the reports.
//!
//! Nothing here takes the configuration lock: a peer's liveness lives in its
//! [`PeerSync`], shared between the configuration (for dumps) and the
//! published peers (for the packet path), like its counters.

use crate::config::PeerState;
use crate::netns::{HandoffNet, Shared};
use crate::peers::{PeerRt, PeerSet};
use crate::proto::announce;
use crate::proto::select::load_of;
use crate::proto::sync::{self, Liveness, Load, PeerLive, SyncHdr, Verdict};
use crate::stats::Counter;
use core::sync::atomic::{AtomicU32, AtomicU64, AtomicU8, Ordering};
use kernel::net::namespace::{Namespace, NetOwned};
use kernel::net::skb::SkBuffOwned;
use kernel::net::tcp::{self, Ipv4Tuple, Listener};
use kernel::net::udp_tunnel::{SockAddrV4, UdpTunnel, UdpTunnelHandler};
use kernel::prelude::*;
use kernel::sync::{rcu, Arc, SpinLock};
use kernel::timer::{monotonic_ms, realtime_ns, Timer, TimerCallback};
use kernel::{new_spinlock, pin_init};

/// Bounds and default of `HANDOFF_A_NODE_SYNC_INTERVAL` (ms).
pub(crate) const SYNC_INTERVAL: (u32, u32, u32) = (10, 60_000, 100);
/// Bounds and default of `HANDOFF_A_NODE_DEAD_INTERVALS`.
pub(crate) const DEAD_INTERVALS: (u32, u32, u32) = (1, 100, 3);

/// The sync socket of an instance.
pub(crate) type SyncSock = UdpTunnel<SyncChannel>;

/// What this node knows of a peer from the sync channel.
///
/// The state machine is changed under the lock, which the socket's receive
/// path and the timer take in softirq context (and tests in process
/// context: the lock is always taken with bottom halves disabled); readers
/// elsewhere (dumps, the selection) read the atomic copies.
#[pin_data]
pub(crate) struct PeerSync {
    #[pin]
    live: SpinLock<Liveness>,
    /// `PeerState` as a number, mirrored from `live`.
    state: AtomicU8,
    /// Monotonic ms of the last report taken; 0 before the first.
    last_ms: AtomicU64,
    /// The load its last report stood for.
    load: AtomicU32,
    /// Connections this node handed it since that report.
    handed: AtomicU32,
}

impl PeerSync {
    /// The sync state of a peer just added: UNKNOWN, nothing heard.
    pub(crate) fn new() -> Result<Arc<Self>> {
        Arc::pin_init(
            pin_init!(PeerSync {
                live <- new_spinlock!(Liveness::new(), "PeerSync::live"),
                state: AtomicU8::new(PeerState::Unknown as u8),
                last_ms: AtomicU64::new(0),
                load: AtomicU32::new(0),
                handed: AtomicU32::new(0),
            }),
            GFP_KERNEL,
        )
    }

    /// Its state.
    pub(crate) fn state(&self) -> PeerState {
        match self.state.load(Ordering::Relaxed) {
            2 => PeerState::Up,
            3 => PeerState::Down,
            _ => PeerState::Unknown,
        }
    }

    /// Milliseconds since its last report, if it sent one.
    pub(crate) fn report_age_ms(&self) -> Option<u32> {
        match self.last_ms.load(Ordering::Relaxed) {
            0 => None,
            t => Some(u32::try_from(monotonic_ms().saturating_sub(t)).unwrap_or(u32::MAX)),
        }
    }

    /// Its load as this node estimates it: its last report's figure plus
    /// what this node handed it since; `None` before its first report.
    pub(crate) fn load(&self) -> Option<u32> {
        self.report_age_ms()?;
        Some(self.estimate())
    }

    /// [`PeerSync::load`], 0 before the first report (for the selection).
    pub(crate) fn estimate(&self) -> u32 {
        self.load
            .load(Ordering::Relaxed)
            .saturating_add(self.handed.load(Ordering::Relaxed))
    }

    /// Notes a connection handed to the peer (until its next report).
    pub(crate) fn note_handed(&self) {
        self.handed.fetch_add(1, Ordering::Relaxed);
    }

    fn publish(&self, live: &Liveness) {
        let s = match live.state() {
            PeerLive::Unknown => PeerState::Unknown,
            PeerLive::Up => PeerState::Up,
            PeerLive::Down => PeerState::Down,
        };
        self.state.store(s as u8, Ordering::Relaxed);
    }

    /// A well-formed report `hdr` from the peer: whether it was taken, and
    /// whether that made the peer UP.
    pub(crate) fn on_report(&self, hdr: &SyncHdr, queued: u32, now: u64) -> Verdict {
        let _bh = rcu::read_lock_bh();
        let mut live = self.live.lock();
        let v = live.on_report(hdr.epoch, hdr.seq, now);
        if let Verdict::Accepted { .. } = v {
            self.load
                .store(load_of(hdr.conns, queued), Ordering::Relaxed);
            self.handed.store(0, Ordering::Relaxed);
            self.last_ms.store(now.max(1), Ordering::Relaxed);
            self.publish(&live);
        }
        v
    }

    /// The timer's check: whether the peer just became DOWN.
    pub(crate) fn on_tick(&self, now: u64, interval_ms: u32, dead_intervals: u32) -> bool {
        let _bh = rcu::read_lock_bh();
        let mut live = self.live.lock();
        let down = live.on_tick(now, interval_ms, dead_intervals);
        if down {
            self.publish(&live);
        }
        down
    }
}

/// This node's side of the channel: its epoch and sequence numbers, and its
/// own load (for the least-load policy, which weighs this node too).
pub(crate) struct SyncChannel {
    epoch: u32,
    seq: AtomicU32,
    /// This node's load at the last report.
    own_load: AtomicU32,
    /// Connections it kept since.
    own_handed: AtomicU32,
}

impl SyncChannel {
    fn new() -> Self {
        Self {
            // In 16 ms units: a reload takes longer, and serial arithmetic
            // over 32 bits orders epochs up to a year apart.
            epoch: (realtime_ns() / 16_000_000) as u32,
            seq: AtomicU32::new(1),
            own_load: AtomicU32::new(0),
            own_handed: AtomicU32::new(0),
        }
    }

    /// This node's load as the least-load policy weighs it.
    pub(crate) fn own_load(&self) -> u32 {
        self.own_load
            .load(Ordering::Relaxed)
            .saturating_add(self.own_handed.load(Ordering::Relaxed))
    }

    /// Notes a connection kept on this node (until the next report).
    pub(crate) fn note_kept(&self) {
        self.own_handed.fetch_add(1, Ordering::Relaxed);
    }
}

impl UdpTunnelHandler for SyncChannel {
    fn recv(&self, net: &Namespace, mut skb: SkBuffOwned, from: SockAddrV4) {
        let hn = HandoffNet::of(net);
        let guard = rcu::read_lock();
        let found = hn
            .st
            .peers(&guard)
            .and_then(|s| Some((s, s.by_sync_endpoint(&from)?)));
        let Some((peers, peer)) = found else {
            hn.counters.inc(Counter::SyncNotPeer);
            return;
        };
        let malformed = || {
            hn.counters.inc(Counter::SyncMalformed);
            peer.counters.inc(Counter::SyncMalformed);
        };
        if skb.linearize().is_err() {
            return malformed();
        }
        if announce::sync_type(skb.data()) == Some(announce::SYNC_CONNS) {
            crate::failover::on_conns(hn, peers, peer, skb.data());
            return;
        }
        let Ok(report) = sync::parse_report(skb.data()) else {
            return malformed();
        };
        if report.hdr.node_id != peer.id {
            hn.counters.inc(Counter::SyncNotPeer);
            return;
        }
        let queued = report
            .loads()
            .fold(0u32, |acc, l| acc.saturating_add(l.queue_len));
        match peer.sync.on_report(&report.hdr, queued, monotonic_ms()) {
            Verdict::Replay => {
                hn.counters.inc(Counter::SyncReplay);
                peer.counters.inc(Counter::SyncReplay);
            }
            Verdict::Accepted { became_up } => {
                hn.counters.inc(Counter::SyncReceived);
                peer.counters.inc(Counter::SyncReceived);
                if became_up {
                    crate::netlink::peer_changed(net, peer);
                }
            }
        }
    }
}

/// The handler of a new sync socket: a new epoch, sequence numbers from 1.
pub(crate) fn handler() -> Result<Arc<SyncChannel>> {
    Ok(Arc::new(SyncChannel::new(), GFP_KERNEL)?)
}

/// The report timer: runs while the instance has a sync socket.
pub(crate) struct SyncTimer {
    pub(crate) st: Arc<Shared>,
    /// The instance's namespace (the timer is the instance's, stopped when
    /// it is dropped in the namespace's exit).
    pub(crate) net: NetOwned,
}

impl TimerCallback for SyncTimer {
    fn run(timer: &Timer<Self>) {
        let net = timer.net.get();
        let guard = rcu::read_lock();
        let (Some(sock), Some(peers)) = (timer.st.sync(&guard), timer.st.peers(&guard)) else {
            return;
        };
        tick(net, &guard, &timer.st, sock, peers);
        timer.schedule_after_msecs(peers.sync_interval_ms);
    }
}

/// One interval: marks the silent peers DOWN, then reports to every peer.
fn tick(net: &Namespace, guard: &rcu::Guard, st: &Shared, sock: &SyncSock, peers: &PeerSet) {
    let now = monotonic_ms();
    for p in peers.iter() {
        if p.sync
            .on_tick(now, peers.sync_interval_ms, peers.dead_intervals)
        {
            crate::netlink::peer_changed(net, p);
        }
    }
    if peers.node_id == 0 {
        // Peers know this node by its id: nothing to report under none.
        return;
    }
    let mut loads: KVec<Load> = KVec::new();
    let mut queued = 0u32;
    if let Some(services) = HandoffNet::of(net).services(guard) {
        for s in services.iter() {
            let Some(load) = service_load(net, guard, s) else {
                continue;
            };
            queued = queued.saturating_add(load.queue_len);
            if loads.push(load, GFP_ATOMIC).is_err() {
                break;
            }
        }
    }
    let conns = tcp::sockets_in_use(net);
    let own = sock.handler();
    own.own_load
        .store(load_of(conns, queued), Ordering::Relaxed);
    own.own_handed.store(0, Ordering::Relaxed);
    let mut hdr = SyncHdr {
        node_id: peers.node_id,
        epoch: own.epoch,
        seq: 0,
        interval_ms: peers.sync_interval_ms,
        conns,
        weight: peers.self_weight,
    };
    let send_part = |hdr: &mut SyncHdr, part: &[Load]| {
        for p in peers.iter() {
            let Some(to) = p.sync_endpoint else {
                continue;
            };
            hdr.seq = own.seq.fetch_add(1, Ordering::Relaxed);
            match send_report(sock, net, to, hdr, part) {
                Ok(()) => {
                    st.counters.inc(Counter::SyncSent);
                    p.counters.inc(Counter::SyncSent);
                }
                Err(_) => st.counters.inc(Counter::XmitFailed),
            }
        }
    };
    if loads.is_empty() {
        // A node without services still reports: it lives.
        send_part(&mut hdr, &[]);
    }
    for part in loads.chunks(sync::MAX_LOADS) {
        send_part(&mut hdr, part);
    }
    let next_seq = || own.seq.fetch_add(1, Ordering::Relaxed);
    crate::failover::flush(net, st, sock, peers, &mut hdr, &next_seq);
}

/// The load entry of service `s` (IPv4 services only: the channel carries
/// both families, the packet path serves IPv4).
fn service_load(
    net: &Namespace,
    guard: &rcu::Guard,
    s: &crate::services::ServiceRt,
) -> Option<Load> {
    let v4: [u8; 4] = s.addr.get(12..16)?.try_into().ok()?;
    let t = Ipv4Tuple {
        saddr: 0,
        sport: 0,
        daddr: u32::from_ne_bytes(v4),
        dport: s.port.to_be(),
    };
    let (queue_len, queue_max) = Listener::lookup_v4(guard, net, &t, 0)
        .map(|l| l.accept_queue())
        .unwrap_or((0, 0));
    let mut addr = [0u8; 16];
    addr[..4].copy_from_slice(&v4);
    Some(Load {
        family: crate::proto::wire::AF_INET,
        addr,
        port: s.port,
        handed: s.take_handed(),
        queue_len,
        queue_max,
    })
}

fn send_report(
    sock: &SyncSock,
    net: &Namespace,
    to: SockAddrV4,
    hdr: &SyncHdr,
    loads: &[Load],
) -> Result {
    let len = sync::SYNC_HDR_LEN + loads.len() * sync::SYNC_LOAD_LEN;
    let mut skb = SkBuffOwned::alloc(len, 128, GFP_ATOMIC)?;
    let buf = skb.put(len)?;
    sync::write_report(buf, hdr, loads).map_err(|_| EINVAL)?;
    sock.send(net, skb, to, false)
}

/// Whether peer `p` may be chosen for new connections.
pub(crate) fn usable(p: &PeerRt) -> bool {
    p.sync.state() != PeerState::Down
}
