// SPDX-License-Identifier: GPL-2.0

//! Per network namespace state: one handoff instance per namespace.

use crate::config::{Config, IpAddr};
use crate::conntab::{ConnKey, FwdTable, TempTable};
use crate::ingress::Ingress;
use crate::services::{ServiceRt, ServiceSet};
use crate::stats::{Counter, Counters};
use core::ops::ControlFlow;
use kernel::net::device::{rtnl_lock, NetDevice, NetdevEvent, NotifierHandler, Rtnl};
use kernel::net::namespace::{Namespace, Pernet, PernetData, PernetKind};
use kernel::net::netfilter::{Priority, Registration};
use kernel::prelude::*;
use kernel::sync::rcu::{Guard, RcuBox};
use kernel::sync::rcu_table::IterPos;
use kernel::sync::Arc;
use kernel::timer::{jiffies, time_after, Timer, TimerCallback};
use kernel::{c_str, new_mutex, new_timer, sync::Mutex};

/// Buckets of the temporary table (2^12).
const TEMP_BUCKET_BITS: u32 = 12;
/// Entries of the temporary table at most.
const TEMP_MAX_ENTRIES: usize = 65536;
/// Buckets of the forward table (2^14).
const FWD_BUCKET_BITS: u32 = 14;
/// Entries of the forward table at most.
const FWD_MAX_ENTRIES: usize = 1 << 20;
/// How often the expiry timer runs (ms).
const GC_INTERVAL_MS: u32 = 1000;

/// The registration of [`HandoffNet`] with the namespace core.
///
/// A device-level registration: the instance hooks devices of its namespace,
/// so it must be set up after and torn down with them.
pub(crate) static PERNET: Pernet<HandoffNet> = Pernet::new(PernetKind::Device);

/// The handoff instance of one network namespace.
#[pin_data]
pub(crate) struct HandoffNet {
    /// The namespace's inode number, to name it in log messages.
    pub(crate) inum: u32,
    /// Event and drop counters of this instance (shared with the timer).
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
    /// The key of the SYN-ACK ISNs (cookies) and TSval offsets.
    secret: [u8; 16],
    /// The expiry timer, owning the temporary table it sweeps.
    #[pin]
    gc: Timer<Gc>,
}

/// What the expiry timer works on.
pub(crate) struct Gc {
    table: TempTable,
    fwd: FwdTable,
    counters: Arc<Counters>,
}

impl TimerCallback for Gc {
    fn run(timer: &Timer<Self>) {
        let now = jiffies();
        let gone = timer.table.retain(|_, _, e| {
            let limit = match e.conn.state() {
                crate::proto::conn::State::SynRecv
                | crate::proto::conn::State::Established
                | crate::proto::conn::State::Bound => e.syn_timeout,
                _ => e.idle_timeout,
            };
            !time_after(now, e.last_seen.wrapping_add(limit))
        });
        let idle = timer
            .fwd
            .retain(|_, _, e| !time_after(now, e.last_seen.wrapping_add(e.idle_timeout)));
        timer.counters.add(Counter::Timeouts, (gone + idle) as u64);
        timer
            .counters
            .set(Counter::TemporaryEntries, timer.table.len() as u64);
        timer
            .counters
            .set(Counter::ForwardEntries, timer.fwd.len() as u64);
        timer.schedule_after_msecs(GC_INTERVAL_MS);
    }
}

impl PernetData for HandoffNet {
    fn pernet() -> &'static Pernet<Self> {
        &PERNET
    }

    fn init(net: &Namespace) -> impl PinInit<Self, Error> {
        let counters = Arc::new(Counters::new(), GFP_KERNEL);
        let gc = counters.as_ref().map_err(|_| ENOMEM).and_then(|c| {
            Ok(Gc {
                table: TempTable::new(
                    c_str!("handoff_temporary"),
                    TEMP_BUCKET_BITS,
                    TEMP_MAX_ENTRIES,
                )?,
                fwd: FwdTable::new(c_str!("handoff_forward"), FWD_BUCKET_BITS, FWD_MAX_ENTRIES)?,
                counters: c.clone(),
            })
        });
        let mut secret = [0u8; 16];
        kernel::random::fill_bytes(&mut secret);
        try_pin_init!(HandoffNet {
            inum: net.inum(),
            counters: counters?,
            config <- new_mutex!(Config::new(), "HandoffNet::config"),
            services: RcuBox::empty(),
            hooks <- new_mutex!(KVec::new(), "HandoffNet::hooks"),
            secret,
            gc <- new_timer!(gc?, "HandoffNet::gc"),
        }? Error)
        .pin_chain(|this| {
            this.gc.schedule_after_msecs(GC_INTERVAL_MS);
            Ok(())
        })
    }

    fn pre_exit(&self, _net: &Namespace) {
        // No new packets: unhook every device, then unpublish the services.
        for slot in self.hooks.lock().as_mut_slice() {
            *slot = None;
        }
        self.services.replace(None);
    }
}

impl HandoffNet {
    /// Returns the instance of `net`.
    pub(crate) fn of(net: &Namespace) -> &HandoffNet {
        PERNET.get(net)
    }

    /// The temporary table.
    pub(crate) fn table(&self) -> &TempTable {
        &self.gc.table
    }

    /// The forward table.
    pub(crate) fn forward(&self) -> &FwdTable {
        &self.gc.fwd
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
        let set = ServiceSet::of(cfg)?;
        let mut wanted = KVec::new();
        let all = set.ifindexes(&mut wanted)?;
        {
            let rtnl = rtnl_lock();
            let mut hooks = self.hooks.lock();
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
                let handler = Arc::new(Ingress, GFP_KERNEL)?;
                let reg = Registration::new(&rtnl, net, &dev, Priority::FIRST, handler)?;
                match hooks.as_mut_slice().iter_mut().find(|s| s.is_none()) {
                    Some(slot) => *slot = Some(reg),
                    None => hooks.push(Some(reg), GFP_KERNEL)?,
                }
            }
        }
        self.services.replace(Some(KBox::new(set, GFP_KERNEL)?));
        Ok(())
    }

    /// Unhooks a device that goes away (a netdevice event, under RTNL).
    fn unhook(&self, ifindex: i32) {
        for slot in self.hooks.lock().as_mut_slice() {
            if slot.as_ref().is_some_and(|r| r.dev().ifindex() == ifindex) {
                *slot = None;
            }
        }
    }
}

/// Follows devices: a hooked device that is unregistered is unhooked
/// first (netfilter does not remove netdev hooks by itself).
pub(crate) struct DeviceEvents;

impl NotifierHandler for DeviceEvents {
    fn event(&self, rtnl: &Rtnl, event: NetdevEvent, dev: &NetDevice) {
        if event != NetdevEvent::Unregister {
            return;
        }
        // Also when the device's namespace is being dismantled: a veth
        // peer is unregistered from the other end's namespace, and the
        // dismantling of that one must not wait for our device reference.
        if let Some(hn) = PERNET.get_rtnl(dev.net(rtnl), rtnl) {
            hn.unhook(dev.ifindex());
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
                    state: crate::uapi::HANDOFF_CONN_STATE_FORWARDED,
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
            None | Some(Table::Forward) => self.forward().clear() as u64,
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
        self.forward().retain(|k, _, _| other(k));
    }

    /// Removes the forward entries pointing at peer `id` (being deleted).
    pub(crate) fn conn_drop_peer(&self, id: u32) {
        self.forward().retain(|_, s, _| s.peer != id);
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
        use crate::conntab::{FwdEntry, FwdShared};
        use crate::proto::cookie::{v4_mapped, Tuple};
        /// Client addresses of 198.18.0.0/16 times ports per address.
        const TUPLES: u32 = (1 << 16) * 50_000;
        let daddr = key.addr.to_mapped();
        // What the entries need of the published service, taken out of the
        // RCU section: the loop below allocates and takes long.
        let svc = {
            let guard = kernel::sync::rcu::read_lock();
            self.services
                .read(&guard)
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
                _slot: slot,
            };
            let entry = FwdEntry {
                flow_id: i,
                last_seen: now,
                idle_timeout: svc.idle_timeout(),
            };
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
        }
    }
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
}
