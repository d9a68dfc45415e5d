// SPDX-License-Identifier: GPL-2.0

//! Per network namespace state: one handoff instance per namespace.

use crate::config::{Config, Endpoint, IpAddr};
use crate::conntab::{AdoptTable, ConnKey, FwdTable, PendTable, RelayTable, TempTable, WaitTable};
use crate::expiry::Gc;
use crate::failover::{self, AnnounceQueue};
use crate::ingress::Ingress;
use crate::peers::PeerSet;
use crate::select::HashRt;
use crate::services::{ServiceRt, ServiceSet};
use crate::stats::Counters;
use crate::sync::{SyncSock, SyncTimer};
use crate::tunnel::{Redistribution, Tunnel};
use core::ops::ControlFlow;
use core::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use kernel::net::device::{rtnl_lock, NetDevice, NetdevEvent, NotifierHandler, Rtnl};
use kernel::net::namespace::{Namespace, NetOwned, Pernet, PernetData, PernetKind};
use kernel::net::netfilter::{Priority, Registration, Unhooked};
use kernel::net::udp_tunnel::SockAddrV4;
use kernel::prelude::*;
use kernel::sync::rcu::{Guard, RcuBox};
use kernel::sync::rcu_table::IterPos;
use kernel::sync::Arc;
use kernel::timer::{jiffies, Timer, TimerCallback};
use kernel::{c_str, new_mutex, new_timer, sync::Mutex};

/// Buckets of the temporary table (2^12).
const TEMP_BUCKET_BITS: u32 = 12;
/// Entries of the temporary table at most.
const TEMP_MAX_ENTRIES: usize = 65536;
/// Buckets of the forward table (2^14).
const FWD_BUCKET_BITS: u32 = 14;
/// Entries of the forward table at most.
const FWD_MAX_ENTRIES: usize = 1 << 20;
/// Buckets of the pending table (2^8): handoffs in flight are few.
const PEND_BUCKET_BITS: u32 = 8;
/// Handoffs in flight at most.
const PEND_MAX_ENTRIES: usize = 16384;
/// Buckets of the table of connections in their first-data wait (2^8),
/// and its bound (beyond it a connection just waits for its data).
const WAIT_BUCKET_BITS: u32 = 8;
const WAIT_MAX_ENTRIES: usize = 65536;
/// Buckets of the adopted table (2^12).
const ADOPT_BUCKET_BITS: u32 = 12;
/// Adopted connections tracked at most.
const ADOPT_MAX_ENTRIES: usize = 1 << 20;

/// The registration of [`HandoffNet`] with the namespace core.
///
/// A device-level registration: the instance hooks devices of its namespace,
/// so it must be set up after and torn down with them.
pub(crate) static PERNET: Pernet<HandoffNet> = Pernet::new(PernetKind::Device);

/// The handoff instance of one network namespace.
#[pin_data]
pub(crate) struct HandoffNet {
    // The timers come first: fields drop in order, and a timer stops when
    // it drops, so no callback runs on a partly dropped instance (the
    // first-data wait reaches the services through `HandoffNet::of`).
    /// The expiry timer.
    #[pin]
    gc: Timer<Gc>,
    /// The short timer: NEW retransmissions and first-data waits, running
    /// while there are any.
    #[pin]
    retx: Timer<Retransmit>,
    /// The sync report timer, running while there is a sync socket.
    #[pin]
    sync_timer: Timer<SyncTimer>,
    /// The namespace's inode number, to name it in log messages.
    pub(crate) inum: u32,
    /// Event and drop counters of this instance (shared with the timers).
    pub(crate) counters: Arc<Counters>,
    /// Node settings, services and peers, set through the netlink family.
    #[pin]
    pub(crate) config: Mutex<Config>,
    /// The services as the packet path matches them (published on change).
    services: RcuBox<ServiceSet>,
    /// The ingress hooks, one per device a service is reached on (a slot
    /// is emptied rather than removed: unhooking never allocates).
    #[pin]
    hooks: Mutex<KVec<Option<Registration<Ingress>>>>,
    /// A service is reached on every device: devices that appear later are
    /// hooked too. Written and read under RTNL.
    every_device: AtomicBool,
    /// Hooks unregistered in `pre_exit`, freed with the instance after the
    /// grace period the namespace's dismantling waits anyway (one for all
    /// devices, not one each).
    #[pin]
    retired: Mutex<KVec<Option<Unhooked<Ingress>>>>,
    /// The key of the SYN-ACK ISNs (cookies) and TSval offsets.
    secret: [u8; 16],
    /// What the packet path and the timers share.
    pub(crate) st: Arc<Shared>,
}

/// Why the node's sockets could not follow its settings.
#[derive(Clone, Copy, Debug)]
pub(crate) enum NodeError {
    /// The redistribution socket.
    Forward(Error),
    /// The sync socket.
    Sync(Error),
    /// Anything else (memory).
    Other(Error),
}

impl NodeError {
    /// The error code.
    pub(crate) fn errno(self) -> Error {
        match self {
            NodeError::Forward(e) | NodeError::Sync(e) | NodeError::Other(e) => e,
        }
    }
}

/// The state the packet path, the redistribution socket and the timers
/// share: the tables, the socket, the peers.
pub(crate) struct Shared {
    /// Half-open and not yet dispatched connections.
    pub(crate) temp: TempTable,
    /// Connections handed to peers.
    pub(crate) fwd: FwdTable,
    /// Handoffs waiting for their MIGRATED_ACK.
    pub(crate) pending: PendTable,
    /// Connections waiting for their first data (first-data-wait).
    pub(crate) waiting: WaitTable,
    /// Connections adopted from peers.
    pub(crate) adopted: AdoptTable,
    /// Connections other fronts handed to peers, as they announced them.
    pub(crate) relay: RelayTable,
    /// This node's announcements of its forward entries, until sent.
    pub(crate) announce: Arc<AnnounceQueue>,
    /// The instance's counters.
    pub(crate) counters: Arc<Counters>,
    /// The redistribution socket, while the node has a forward endpoint.
    pub(crate) tunnel: RcuBox<Tunnel>,
    /// The sync socket, while the node has a sync endpoint.
    pub(crate) sync: RcuBox<SyncSock>,
    /// The consistent-hash table, while a service chooses by hash.
    pub(crate) hash: RcuBox<HashRt>,
    /// The peers as published.
    pub(crate) peers: RcuBox<PeerSet>,
    /// The next conn_ref to hand out (never 0).
    next_ref: AtomicU32,
    /// The next flow id to hand out (never 0).
    next_flow: AtomicU32,
}

impl Shared {
    /// A conn_ref for a new handoff (never 0).
    pub(crate) fn new_conn_ref(&self) -> u32 {
        loop {
            let r = self.next_ref.fetch_add(1, Ordering::Relaxed);
            if r != 0 {
                return r;
            }
        }
    }

    /// A flow id for an adopted connection (never 0): the node's
    /// connection counter.
    pub(crate) fn new_flow_id(&self) -> u32 {
        loop {
            let r = self.next_flow.fetch_add(1, Ordering::Relaxed);
            if r != 0 {
                return r;
            }
        }
    }

    /// The published peers.
    pub(crate) fn peers<'g>(&'g self, guard: &'g Guard) -> Option<&'g PeerSet> {
        self.peers.read(guard)
    }

    /// The redistribution socket, if there is one.
    pub(crate) fn tunnel<'g>(&'g self, guard: &'g Guard) -> Option<&'g Tunnel> {
        self.tunnel.read(guard)
    }

    /// The sync socket, if there is one.
    pub(crate) fn sync<'g>(&'g self, guard: &'g Guard) -> Option<&'g SyncSock> {
        self.sync.read(guard)
    }

    /// The consistent-hash table, if there is one.
    pub(crate) fn hash<'g>(&'g self, guard: &'g Guard) -> Option<&'g HashRt> {
        self.hash.read(guard)
    }
}

/// What the short timer works on: NEW retransmissions, and connections
/// whose first-data wait ends.
pub(crate) struct Retransmit {
    st: Arc<Shared>,
    /// The instance's namespace (the timer is the instance's, stopped when
    /// it is dropped in the namespace's exit).
    net: NetOwned,
}

impl TimerCallback for Retransmit {
    fn run(timer: &Timer<Self>) {
        crate::origin::tick(&timer.st);
        crate::firstdata::run(timer.net.get());
        if !timer.st.pending.is_empty() || !timer.st.waiting.is_empty() {
            timer.schedule_after_msecs(crate::origin::TICK_MS);
        }
    }
}

impl PernetData for HandoffNet {
    fn pernet() -> &'static Pernet<Self> {
        &PERNET
    }

    fn init(net: &Namespace) -> impl PinInit<Self, Error> {
        let counters = Arc::new(Counters::new(), GFP_KERNEL);
        let st = counters.as_ref().map_err(|_| ENOMEM).and_then(|c| {
            Ok(Arc::new(
                Shared {
                    temp: TempTable::new_inactive(
                        c_str!("handoff_temporary"),
                        TEMP_BUCKET_BITS,
                        TEMP_MAX_ENTRIES,
                    )?,
                    fwd: FwdTable::new_inactive(
                        c_str!("handoff_forward"),
                        FWD_BUCKET_BITS,
                        FWD_MAX_ENTRIES,
                    )?,
                    pending: PendTable::new_inactive(
                        c_str!("handoff_pending"),
                        PEND_BUCKET_BITS,
                        PEND_MAX_ENTRIES,
                    )?,
                    waiting: WaitTable::new_inactive(
                        c_str!("handoff_waiting"),
                        WAIT_BUCKET_BITS,
                        WAIT_MAX_ENTRIES,
                    )?,
                    adopted: AdoptTable::new_inactive(
                        c_str!("handoff_adopted"),
                        ADOPT_BUCKET_BITS,
                        ADOPT_MAX_ENTRIES,
                    )?,
                    relay: RelayTable::new_inactive(
                        c_str!("handoff_relay"),
                        failover::RELAY_BUCKET_BITS,
                        failover::RELAY_MAX_ENTRIES,
                    )?,
                    announce: AnnounceQueue::new()?,
                    counters: c.clone(),
                    tunnel: RcuBox::empty(),
                    sync: RcuBox::empty(),
                    hash: RcuBox::empty(),
                    peers: RcuBox::empty(),
                    next_ref: AtomicU32::new(kernel::random::u32()),
                    next_flow: AtomicU32::new(1),
                },
                GFP_KERNEL,
            )?)
        });
        let mut secret = [0u8; 16];
        kernel::random::fill_bytes(&mut secret);
        let st = st.map(|st| {
            let gc = Gc::new(st.clone());
            let retx = Retransmit {
                st: st.clone(),
                // SAFETY: The value lives in the timer, a field of this
                // instance, which the namespace's pernet exit drops (the
                // timer stopped) before the namespace is freed; it is never
                // moved out of it.
                net: unsafe { NetOwned::new(net) },
            };
            let sync = SyncTimer {
                st: st.clone(),
                // SAFETY: As for `retx` above: a field of this instance's
                // timer, dropped (stopped) in the namespace's exit.
                net: unsafe { NetOwned::new(net) },
            };
            (st, gc, retx, sync)
        });
        let (st, gc, retx, sync) = match st {
            Ok(v) => (Ok(v.0), Ok(v.1), Ok(v.2), Ok(v.3)),
            Err(e) => (Err(e), Err(e), Err(e), Err(e)),
        };
        try_pin_init!(HandoffNet {
            inum: net.inum(),
            counters: counters?,
            config <- new_mutex!(Config::new(), "HandoffNet::config"),
            services: RcuBox::empty(),
            hooks <- new_mutex!(KVec::new(), "HandoffNet::hooks"),
            every_device: AtomicBool::new(false),
            retired <- new_mutex!(KVec::new(), "HandoffNet::retired"),
            secret,
            st: st?,
            gc <- new_timer!(gc?, "HandoffNet::gc"),
            retx <- new_timer!(retx?, "HandoffNet::retx"),
            sync_timer <- new_timer!(sync?, "HandoffNet::sync_timer"),
        }? Error)
    }

    fn pre_exit(&self, _net: &Namespace) {
        // No new packets: unhook every device, close the redistribution
        // socket, then unpublish the services and peers.
        self.every_device.store(false, Ordering::Relaxed);
        let mut hooks = self.hooks.lock();
        let mut retired = self.retired.lock();
        for slot in hooks.as_mut_slice() {
            if let Some(reg) = slot.take() {
                // Without room it is dropped at once, waiting.
                let _ = retired.push(Some(reg.unregister()), GFP_KERNEL);
            }
        }
        drop((hooks, retired));
        self.st.tunnel.replace(None);
        self.st.sync.replace(None);
        self.st.hash.replace(None);
        self.services.replace(None);
        self.st.peers.replace(None);
    }
}

impl HandoffNet {
    /// Returns the instance of `net`.
    pub(crate) fn of(net: &Namespace) -> &HandoffNet {
        PERNET.get(net)
    }

    /// The temporary table.
    pub(crate) fn table(&self) -> &TempTable {
        &self.st.temp
    }

    /// The forward table.
    pub(crate) fn forward(&self) -> &FwdTable {
        &self.st.fwd
    }

    /// Gives the tables their buckets and starts the expiry timer, at the
    /// first configuration of the namespace (a service or the node's
    /// endpoints): a namespace that never has any costs neither memory nor
    /// wakeups. Process context, under the config lock.
    fn activate(&self) -> Result {
        let st = &self.st;
        st.temp.activate()?;
        st.fwd.activate()?;
        st.pending.activate()?;
        st.waiting.activate()?;
        st.adopted.activate()?;
        st.relay.activate()?;
        if !self.gc.is_pending() {
            self.gc.schedule_after_msecs(crate::expiry::TICK_MS);
        }
        Ok(())
    }

    /// Makes sure the NEW retransmission timer runs (a handoff started).
    pub(crate) fn retransmit_soon(&self) {
        if !self.retx.is_pending() {
            self.retx.schedule_after_msecs(crate::origin::TICK_MS);
        }
    }

    /// The published services.
    pub(crate) fn services<'g>(&'g self, guard: &'g Guard) -> Option<&'g ServiceSet> {
        self.services.read(guard)
    }

    /// Makes the redistribution and sync sockets follow the node's
    /// endpoints and the packet path's peers follow the configuration.
    /// Process context; the caller holds the config lock. On error nothing
    /// changed.
    pub(crate) fn apply_node(
        &self,
        net: &Namespace,
        cfg: &Config,
    ) -> core::result::Result<(), NodeError> {
        self.activate().map_err(NodeError::Other)?;
        let want = v4_endpoint(cfg.node.forward).map_err(NodeError::Forward)?;
        let want_sync = v4_endpoint(cfg.node.sync).map_err(NodeError::Sync)?;
        let (have, have_sync) = {
            let guard = kernel::sync::rcu::read_lock();
            (
                self.st.tunnel(&guard).map(|t| t.local()),
                self.st.sync(&guard).map(|t| t.local()),
            )
        };
        let peers = PeerSet::of(cfg)
            .and_then(|p| Ok(KBox::new(p, GFP_KERNEL)?))
            .map_err(NodeError::Other)?;
        let hash = HashRt::of(cfg).map_err(NodeError::Other)?;
        let open_tunnel = |local| -> Result<KBox<Tunnel>> {
            let handler = Arc::new(Redistribution, GFP_KERNEL)?;
            // SAFETY: The socket lives in this namespace's state: it is
            // closed in `pre_exit` and, at the latest, dropped with the
            // state in the namespace's `exit`, before the namespace is freed
            // (the timers holding the state go with it).
            let t = unsafe { Tunnel::new_unchecked(net, local, handler)? };
            Ok(KBox::new(t, GFP_KERNEL)?)
        };
        let open_sync = |local| -> Result<KBox<SyncSock>> {
            let handler = crate::sync::handler()?;
            // SAFETY: As for the redistribution socket above.
            let t = unsafe { SyncSock::new_unchecked(net, local, handler)? };
            Ok(KBox::new(t, GFP_KERNEL)?)
        };
        follow(&self.st.tunnel, have, want, open_tunnel).map_err(NodeError::Forward)?;
        if let Err(e) = follow(&self.st.sync, have_sync, want_sync, open_sync) {
            // Back to the old forward socket, as far as it can be had.
            let _ = follow(&self.st.tunnel, want, have, open_tunnel);
            return Err(NodeError::Sync(e));
        }
        let interval = cfg.node.sync_interval_ms;
        self.st.peers.replace(Some(peers));
        self.st.hash.replace(hash);
        if want_sync.is_some() && !self.sync_timer.is_pending() {
            self.sync_timer.schedule_after_msecs(interval);
        }
        Ok(())
    }

    /// The key of the ISNs and TSval offsets.
    pub(crate) fn secret(&self) -> &[u8; 16] {
        &self.secret
    }

    /// The service a segment to `addr:port` received on `ifindex` is for.
    pub(crate) fn service_for<'g>(
        &'g self,
        guard: &'g Guard,
        addr: &[u8; 16],
        port: u16,
        ifindex: i32,
    ) -> Option<&'g ServiceRt> {
        self.services.read(guard)?.find(addr, port, ifindex)
    }

    /// Makes the packet path follow `cfg` (after a change of its services):
    /// publishes the services and hooks exactly the devices they are
    /// reached on. Process context; the caller holds the config lock.
    pub(crate) fn apply(&self, net: &Namespace, cfg: &Config) -> Result {
        self.activate()?;
        let set = ServiceSet::of(cfg)?;
        let hash = HashRt::of(cfg)?;
        let mut wanted = KVec::new();
        let all = set.ifindexes(&mut wanted)?;
        {
            let rtnl = rtnl_lock();
            let mut hooks = self.hooks.lock();
            self.every_device.store(all, Ordering::Relaxed);
            if all {
                NetDevice::for_each(net, &rtnl, |d| {
                    if !d.is_loopback() && !wanted.contains(&d.ifindex()) {
                        let _ = wanted.push(d.ifindex(), GFP_KERNEL);
                    }
                });
            }
            for slot in hooks.as_mut_slice() {
                if slot
                    .as_ref()
                    .is_some_and(|r| !wanted.contains(&r.dev().ifindex()))
                {
                    *slot = None;
                }
            }
            for &i in wanted.iter() {
                if hooks.iter().flatten().any(|r| r.dev().ifindex() == i) {
                    continue;
                }
                // A service's device that was deleted since is not hooked
                // (the configuration keeps its index; the CLI shows it).
                let Ok(dev) = NetDevice::get_by_index(net, i) else {
                    continue;
                };
                hook(&rtnl, net, &dev, &mut hooks)?;
            }
        }
        self.services.replace(Some(KBox::new(set, GFP_KERNEL)?));
        self.st.hash.replace(hash);
        Ok(())
    }

    /// Hooks a device that appeared in the namespace (registered, or moved
    /// into it), if a service is reached on every device (a netdevice
    /// event, under RTNL: `apply` cannot run meanwhile).
    fn hook_new(&self, rtnl: &Rtnl, net: &Namespace, dev: &NetDevice) {
        if !self.every_device.load(Ordering::Relaxed) || dev.is_loopback() {
            return;
        }
        let mut hooks = self.hooks.lock();
        if hooks
            .iter()
            .flatten()
            .any(|r| r.dev().ifindex() == dev.ifindex())
        {
            return;
        }
        if let Err(e) = hook(rtnl, net, dev, &mut hooks) {
            pr_warn!(
                "netns {}: cannot hook {} ({:?}): its packets go to the stack\n",
                self.inum,
                dev.name(),
                e
            );
        }
    }

    /// Unhooks a device that goes away (a netdevice event, under RTNL).
    fn unhook(&self, ifindex: i32) {
        let mut hooks = self.hooks.lock();
        for slot in hooks.as_mut_slice() {
            if slot.as_ref().is_some_and(|r| r.dev().ifindex() == ifindex) {
                *slot = None;
            }
        }
        // Nor may a retired hook hold the device's unregistration up.
        for slot in self.retired.lock().as_mut_slice() {
            if slot.as_ref().is_some_and(|u| u.dev().ifindex() == ifindex) {
                *slot = None;
            }
        }
    }
}

/// Hooks the ingress of `dev` (of `net`), in a free slot of `hooks`.
fn hook(
    rtnl: &Rtnl,
    net: &Namespace,
    dev: &NetDevice,
    hooks: &mut KVec<Option<Registration<Ingress>>>,
) -> Result {
    let handler = Arc::new(Ingress, GFP_KERNEL)?;
    let reg = Registration::new(rtnl, net, dev, Priority::FIRST, handler)?;
    match hooks.as_mut_slice().iter_mut().find(|s| s.is_none()) {
        Some(slot) => *slot = Some(reg),
        None => hooks.push(Some(reg), GFP_KERNEL)?,
    }
    Ok(())
}

/// Makes the socket in `slot`, bound to `have`, be one bound to `want`.
/// The new socket is opened before the old one closes; only if that fails
/// with `EADDRINUSE` on the same port (e.g. the address changes to the
/// wildcard) the old one goes first, and comes back if the new one still
/// cannot be opened. On error the slot is as it was, but for a failure to
/// reopen the old socket.
fn follow<T>(
    slot: &RcuBox<T>,
    have: Option<SockAddrV4>,
    want: Option<SockAddrV4>,
    open: impl Fn(SockAddrV4) -> Result<KBox<T>>,
) -> Result {
    if have == want {
        return Ok(());
    }
    let Some(local) = want else {
        slot.replace(None);
        return Ok(());
    };
    match open(local) {
        Ok(s) => slot.replace(Some(s)),
        Err(e) if e == eaddrinuse() && have.is_some_and(|h| h.port == local.port) => {
            slot.replace(None);
            match open(local) {
                Ok(s) => slot.replace(Some(s)),
                Err(e) => {
                    if let Some(old) = have {
                        slot.replace(open(old).ok());
                    }
                    return Err(e);
                }
            }
        }
        Err(e) => return Err(e),
    }
    Ok(())
}

/// The IPv4 socket address of `e`; `EOPNOTSUPP` for an IPv6 one.
fn v4_endpoint(e: Option<Endpoint>) -> Result<Option<SockAddrV4>> {
    match e {
        None => Ok(None),
        Some(Endpoint {
            addr: IpAddr::V4(addr),
            port,
        }) => Ok(Some(SockAddrV4 { addr, port })),
        Some(_) => Err(eopnotsupp()),
    }
}

/// Follows devices: a hooked device that is unregistered is unhooked
/// first (netfilter does not remove netdev hooks by itself); one that
/// appears is hooked when a service is reached on every device.
pub(crate) struct DeviceEvents;

impl NotifierHandler for DeviceEvents {
    fn event(&self, rtnl: &Rtnl, event: NetdevEvent, dev: &NetDevice) {
        let net = dev.net(rtnl);
        // Also when the device's namespace is being dismantled: a veth
        // peer is unregistered from the other end's namespace, and the
        // dismantling of that one must not wait for our device reference.
        let Some(hn) = PERNET.get_rtnl(net, rtnl) else {
            return;
        };
        match event {
            NetdevEvent::Unregister => hn.unhook(dev.ifindex()),
            NetdevEvent::Register => hn.hook_new(rtnl, net, dev),
            _ => {}
        }
    }
}

/// The connection tables as the control interface sees them.
///
/// `CONN_GET` dumps and `CONN_FLUSH` go through these functions; the tables
/// do not exist yet, so they report and remove nothing. The tables fill them
/// in without changing their callers (`netlink.rs`):
///
/// - [`HandoffNet::conn_walk`] gives the entries of a table in a stable
///   order, resuming after a [`ConnCursor`] that the dump keeps between its
///   messages: an entry present during the whole dump is reported exactly
///   once, however many messages the dump takes.
/// - [`HandoffNet::conn_flush`] and the `conn_drop_*` hooks remove entries.
impl HandoffNet {
    /// Calls `put` with the entries of `table` after `cursor`, in the table's
    /// order. `put` returns whether it took the entry: if so the cursor moves
    /// past it, if not (the dump message is full) the walk stops there.
    pub(crate) fn conn_walk(
        &self,
        table: Table,
        cursor: &mut ConnCursor,
        put: &mut dyn FnMut(&ConnEntry) -> bool,
    ) {
        let mut pos = IterPos {
            bucket: cursor.pos[0] as usize,
            after: u64::from(cursor.pos[1]) | u64::from(cursor.pos[2]) << 32,
        };
        let now_ms = kernel::time::Ktime::ktime_get().to_ms();
        let age = |created_ms: i64| now_ms.saturating_sub(created_ms).max(0) as u64;
        let mut flow = |e: &ConnEntry| {
            if put(e) {
                ControlFlow::Continue(())
            } else {
                ControlFlow::Break(())
            }
        };
        match table {
            Table::Temporary => self.table().for_each_from(&mut pos, |k, s, m| {
                flow(&ConnEntry {
                    state: conn_state(m.conn.state()),
                    client_isn: m.conn.irs(),
                    local_isn: m.conn.iss(),
                    age_ms: age(s.created_ms),
                    ..ConnEntry::of_key(table, k)
                })
            }),
            Table::Forward => self.forward().for_each_from(&mut pos, |k, s, m| {
                flow(&ConnEntry {
                    state: fwd_state(m.state),
                    packets: m.packets,
                    bytes: m.bytes,
                    client_isn: s.client_isn,
                    local_isn: s.local_isn,
                    peer_id: s.peer,
                    age_ms: age(s.created_ms),
                    flow_id: m.flow_id,
                    conn_ref: s.conn_ref,
                    ..ConnEntry::of_key(table, k)
                })
            }),
        };
        cursor.pos[0] = pos.bucket as u32;
        cursor.pos[1] = pos.after as u32;
        cursor.pos[2] = (pos.after >> 32) as u32;
    }

    /// Removes every entry of `table` (both tables for `None`); the
    /// connections are broken. Returns how many entries were removed.
    pub(crate) fn conn_flush(&self, table: Option<Table>) -> u64 {
        let temporary = match table {
            None | Some(Table::Temporary) => self.table().clear() as u64,
            Some(Table::Forward) => 0,
        };
        let forward = match table {
            None | Some(Table::Forward) => {
                self.st.pending.clear();
                self.forward().clear() as u64
            }
            Some(Table::Temporary) => 0,
        };
        temporary + forward
    }

    /// Removes the entries of the service `key` from both tables (the
    /// service is being deleted).
    pub(crate) fn conn_drop_service(&self, key: &crate::config::ServiceKey) {
        let addr = key.addr.to_mapped();
        let other = |k: &ConnKey| !(k.0.daddr == addr && k.0.dport == key.port);
        self.table().retain(|k, _, _| other(k));
        self.st.pending.retain(|_, s, _| other(&s.key));
        self.forward().retain(|k, _, _| other(k));
        self.st.relay.retain(|k, _, _| other(k));
    }

    /// Removes the forward entries pointing at peer `id` (being deleted),
    /// the handoffs offered to it and the connections adopted from it.
    pub(crate) fn conn_drop_peer(&self, id: u32) {
        self.st.pending.retain(|_, s, _| s.peer != id);
        self.forward().retain(|_, s, _| s.peer != id);
        self.st.adopted.retain(|k, (), _| k.peer != id);
        self.st
            .relay
            .retain(|_, s, _| s.owner != id && s.target != id);
    }

    /// Puts up to `count` synthetic entries of the service `key`, owned by
    /// peer `peer`, into the forward table (`HANDOFF_CMD_CONN_FILL`, test
    /// builds only). Clients are 198.18.0.0/16 (RFC 2544), 50000 ports
    /// each, from the first tuple not in the table yet. Returns how many were
    /// put: fewer than `count` when the service's `max-forward` or the table
    /// is full; `None` if the service is not published.
    #[cfg(handoff_debug)]
    pub(crate) fn conn_fill(
        &self,
        key: &crate::config::ServiceKey,
        peer: u32,
        count: u32,
    ) -> Option<u32> {
        use crate::conntab::{FwdEntry, FwdShared, FwdState};
        use crate::proto::cookie::{v4_mapped, Tuple};
        /// Client addresses of 198.18.0.0/16 times ports per address.
        const TUPLES: u32 = (1 << 16) * 50_000;
        let daddr = key.addr.to_mapped();
        // What the entries need of the published service, taken out of the
        // RCU section: the loop below allocates and takes long.
        let svc = {
            let guard = kernel::sync::rcu::read_lock();
            self.services(&guard)
                .and_then(|set| set.get(&daddr, key.port))
                .map(|s| s.forward_reserver())
        }?;
        let now = jiffies();
        let now_ms = kernel::time::Ktime::ktime_get().to_ms();
        let (mut put, mut i) = (0u32, 0u32);
        while put < count && i < TUPLES {
            let host = 0xc612_0000u32 + i / 50_000;
            let k = ConnKey(Tuple {
                saddr: v4_mapped(host.to_be_bytes()),
                daddr,
                sport: 10_000 + (i % 50_000) as u16,
                dport: key.port,
            });
            i += 1;
            // A tuple already in the table gives EEXIST below, which drops
            // the slot again.
            let Some(slot) = svc.reserve() else {
                break;
            };
            let shared = FwdShared {
                created_ms: now_ms,
                peer,
                conn_ref: i,
                client_isn: i.wrapping_mul(0x9e37_79b9),
                local_isn: !i,
                slot,
            };
            let entry = FwdEntry::new(FwdState::Forwarded, i, now, svc.idle_ms());
            match self.forward().insert(k, shared, entry, GFP_KERNEL) {
                Ok(()) => put += 1,
                Err(e) if e == EEXIST => {}
                Err(_) => break,
            }
        }
        Some(put)
    }
}

impl ConnEntry {
    /// An entry of `table` for the tuple `k`, its other fields zero.
    fn of_key(table: Table, k: &ConnKey) -> Self {
        ConnEntry {
            table,
            saddr: ip_of(&k.0.saddr),
            daddr: ip_of(&k.0.daddr),
            sport: k.0.sport,
            dport: k.0.dport,
            state: 0,
            client_isn: 0,
            local_isn: 0,
            peer_id: 0,
            age_ms: 0,
            flow_id: 0,
            conn_ref: 0,
            packets: 0,
            bytes: 0,
        }
    }
}

/// The UAPI state of a forward entry.
fn fwd_state(s: crate::conntab::FwdState) -> u32 {
    use crate::conntab::FwdState;
    use crate::uapi::*;
    match s {
        FwdState::Migrating | FwdState::TimedOut => HANDOFF_CONN_STATE_MIGRATING,
        FwdState::Forwarded => HANDOFF_CONN_STATE_FORWARDED,
    }
}

/// `EOPNOTSUPP` (`kernel::error::code` has only the kernel-internal
/// `ENOTSUPP`).
pub(crate) fn eopnotsupp() -> Error {
    Error::from_errno(-(kernel::bindings::EOPNOTSUPP as i32))
}

/// `EADDRINUSE`, which the kernel crate does not name.
fn eaddrinuse() -> Error {
    Error::from_errno(-(kernel::bindings::EADDRINUSE as i32))
}

/// The UAPI address of a proto address (v4-mapped for IPv4).
fn ip_of(a: &[u8; 16]) -> IpAddr {
    match crate::proto::cookie::as_v4(a) {
        Some(v4) => IpAddr::V4(v4),
        None => IpAddr::V6(*a),
    }
}

/// The UAPI state (`enum handoff_conn_state`) of a connection state.
fn conn_state(s: crate::proto::conn::State) -> u32 {
    use crate::proto::conn::State;
    use crate::uapi::*;
    match s {
        State::SynRecv => HANDOFF_CONN_STATE_SYN_RECV,
        State::Established => HANDOFF_CONN_STATE_ESTABLISHED,
        State::Bound => HANDOFF_CONN_STATE_BOUND,
        State::Migrating => HANDOFF_CONN_STATE_MIGRATING,
        State::Forwarded => HANDOFF_CONN_STATE_FORWARDED,
        State::Closed => HANDOFF_CONN_STATE_CLOSED,
    }
}

/// A connection table (`enum handoff_table`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Table {
    /// Half-open and not yet dispatched connections.
    Temporary = 1,
    /// Connections migrated to a peer.
    Forward = 2,
}

/// Where a walk of a table resumes; owned by the tables (the control
/// interface only stores it between the parts of a dump). The default value
/// is the start of a table.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct ConnCursor {
    /// Table-defined position (e.g. a bucket and an index in it).
    #[allow(dead_code)]
    pub(crate) pos: [u32; 4],
}

/// A connection table entry as `CONN_GET` reports it (`enum
/// handoff_conn_attr`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct ConnEntry {
    /// The table holding the entry.
    pub(crate) table: Table,
    /// Client address.
    pub(crate) saddr: IpAddr,
    /// Service address (VIP).
    pub(crate) daddr: IpAddr,
    /// Client port.
    pub(crate) sport: u16,
    /// Service port.
    pub(crate) dport: u16,
    /// `enum handoff_conn_state`.
    pub(crate) state: u32,
    /// The client's initial sequence number.
    pub(crate) client_isn: u32,
    /// The ISN of our SYN-ACK.
    pub(crate) local_isn: u32,
    /// The peer owning the connection (forward table), else 0.
    pub(crate) peer_id: u32,
    /// Milliseconds since the entry was created.
    pub(crate) age_ms: u64,
    /// The peer's flow id (forward table), 0 until known.
    pub(crate) flow_id: u32,
    /// This node's reference of the connection.
    pub(crate) conn_ref: u32,
    /// Client packets forwarded (forward table).
    pub(crate) packets: u64,
    /// Their bytes (forward table).
    pub(crate) bytes: u64,
}
