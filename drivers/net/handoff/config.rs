// SPDX-License-Identifier: GPL-2.0

//! The configuration of a handoff instance: this node's settings, the
//! services and the peers.
//!
//! A [`Config`] is plain data, so that it can be copied into a snapshot for
//! the packet path: services, peers and policy rules are `Copy` structs in
//! vectors sorted by their keys, and the strings of policy parameters live in
//! one byte pool that [`Str`] values index. Only the counters of each service
//! and peer are shared (`Arc`), so that a snapshot counts into the same ones.
//!
//! A change builds new vectors and swaps them in: when an allocation fails,
//! the configuration is left as it was.

use crate::stats::Counters;
use crate::sync::PeerSync;
use kernel::{alloc::flags::GFP_KERNEL, prelude::*, sync::Arc};

/// At most this many services per namespace.
pub(crate) const MAX_SERVICES: usize = 256;
/// At most this many peers per namespace.
pub(crate) const MAX_PEERS: usize = 1024;
/// At most this many interfaces per service.
pub(crate) const MAX_IFACES: usize = 16;
/// At most this many policy rules per service.
pub(crate) const MAX_RULES: usize = 16;
/// At most this many bytes of strings (cookie name, rule hosts and paths)
/// per service: with [`MAX_RULES`] and [`MAX_IFACES`] this keeps a service's
/// netlink encoding within one default-sized message.
pub(crate) const MAX_PARAM_BYTES: usize = 2048;

/// Bounds and default of `HANDOFF_A_SERVICE_MAX_TEMPORARY`.
pub(crate) const MAX_TEMPORARY: (u32, u32, u32) = (1, 1 << 20, 16384);
/// Bounds and default of `HANDOFF_A_SERVICE_MAX_FORWARD`.
pub(crate) const MAX_FORWARD: (u32, u32, u32) = (1, 1 << 20, 65536);
/// Bounds and default of `HANDOFF_A_SERVICE_SYN_TIMEOUT` (ms).
pub(crate) const SYN_TIMEOUT: (u32, u32, u32) = (1, 600_000, 10_000);
/// Bounds and default of `HANDOFF_A_SERVICE_IDLE_TIMEOUT` (ms).
pub(crate) const IDLE_TIMEOUT: (u32, u32, u32) = (1, 604_800_000, 900_000);
/// Bounds and default of `HANDOFF_A_SERVICE_FIRST_DATA_WAIT` (ms).
pub(crate) const FIRST_DATA_WAIT: (u32, u32, u32) = (0, 60_000, 200);
/// Bounds and default of `HANDOFF_A_SERVICE_REQUEST_LIMIT` (bytes): at
/// most what a connection may hold (`conntab::REQUEST_MAX`).
pub(crate) const REQUEST_LIMIT: (u32, u32, u32) = (1, 16_384, 16_384);
/// Default weight of this node and of a peer.
pub(crate) const DEFAULT_WEIGHT: u32 = 1;

/// `IPPROTO_TCP`, the only protocol of a service.
pub(crate) const IPPROTO_TCP: u8 = 6;

/// An IPv4 or IPv6 address, in network byte order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum IpAddr {
    /// IPv4.
    V4([u8; 4]),
    /// IPv6.
    V6([u8; 16]),
}

impl IpAddr {
    /// The address of a 4 or 16 byte attribute payload.
    pub(crate) fn from_bytes(b: &[u8]) -> Option<Self> {
        match b.len() {
            4 => b.try_into().ok().map(IpAddr::V4),
            16 => b.try_into().ok().map(IpAddr::V6),
            _ => None,
        }
    }

    /// The address as an attribute payload.
    pub(crate) fn as_bytes(&self) -> &[u8] {
        match self {
            IpAddr::V4(a) => a,
            IpAddr::V6(a) => a,
        }
    }

    /// The address as the packet path and the tables keep it: 16 bytes,
    /// IPv4 v4-mapped.
    pub(crate) fn to_mapped(self) -> [u8; 16] {
        match self {
            IpAddr::V4(a) => crate::proto::cookie::v4_mapped(a),
            IpAddr::V6(a) => a,
        }
    }

    /// Whether the address can name one host: neither unspecified, nor
    /// multicast, nor the IPv4 limited broadcast.
    pub(crate) fn is_unicast(&self) -> bool {
        match self {
            IpAddr::V4(a) => *a != [0; 4] && !(224..=239).contains(&a[0]) && *a != [255; 4],
            IpAddr::V6(a) => *a != [0; 16] && a[0] != 0xff,
        }
    }
}

/// An address and a UDP or TCP port.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Endpoint {
    /// The address.
    pub(crate) addr: IpAddr,
    /// The port, never 0.
    pub(crate) port: u16,
}

/// This node's settings.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Node {
    /// The node id in the farm; 0 while not set.
    pub(crate) id: u32,
    /// The redistribution channel's local endpoint.
    pub(crate) forward: Option<Endpoint>,
    /// The synchronisation channel's endpoint.
    pub(crate) sync: Option<Endpoint>,
    /// This node's weight for the weighted and least-load policies.
    pub(crate) weight: u32,
    /// Milliseconds between two sync reports.
    pub(crate) sync_interval_ms: u32,
    /// Sync intervals without a report after which an UP peer is DOWN.
    pub(crate) dead_intervals: u32,
}

impl Node {
    /// A node with nothing set.
    pub(crate) const fn new() -> Self {
        Self {
            id: 0,
            forward: None,
            sync: None,
            weight: DEFAULT_WEIGHT,
            sync_interval_ms: crate::sync::SYNC_INTERVAL.2,
            dead_intervals: crate::sync::DEAD_INTERVALS.2,
        }
    }
}

/// What identifies a service.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct ServiceKey {
    /// The service address (VIP).
    pub(crate) addr: IpAddr,
    /// The TCP port, never 0.
    pub(crate) port: u16,
    /// The IP protocol (always TCP for now).
    pub(crate) protocol: u8,
}

/// How a service picks the server of a connection (`enum handoff_policy`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Policy {
    /// Every connection stays local.
    Local = 1,
    /// The least loaded node.
    LeastLoad = 2,
    /// Weighted random choice.
    Weighted = 3,
    /// By HTTP Host and URI path.
    HostUri = 4,
    /// By an HTTP cookie naming the node.
    Cookie = 5,
    /// By TLS server name.
    TlsSni = 6,
    /// By a consistent hash of the client address.
    Hash = 7,
}

impl Policy {
    /// The policy of a `HANDOFF_POLICY_*` value.
    pub(crate) fn from_u32(v: u32) -> Option<Self> {
        Some(match v {
            1 => Policy::Local,
            2 => Policy::LeastLoad,
            3 => Policy::Weighted,
            4 => Policy::HostUri,
            5 => Policy::Cookie,
            6 => Policy::TlsSni,
            7 => Policy::Hash,
            _ => return None,
        })
    }

    /// Whether the policy falls back to another one when its parameters
    /// select no node.
    pub(crate) fn has_fallback(self) -> bool {
        matches!(self, Policy::HostUri | Policy::Cookie | Policy::TlsSni)
    }

    /// Whether the policy may serve as a fallback.
    pub(crate) fn is_fallback(self) -> bool {
        matches!(self, Policy::Local | Policy::LeastLoad | Policy::Weighted)
    }
}

/// A string in a byte pool (of a [`Config`] or a [`ServiceSpec`]).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Str {
    off: u32,
    len: u16,
}

impl Str {
    /// The string's bytes in `pool` (empty if out of it, which the pools'
    /// builders rule out).
    pub(crate) fn of<'a>(&self, pool: &'a [u8]) -> &'a [u8] {
        let start = self.off as usize;
        pool.get(start..start + usize::from(self.len))
            .unwrap_or(&[])
    }

    /// Copies the string from `src` to the end of `dst`.
    fn copy(&self, src: &[u8], dst: &mut KVec<u8>) -> Result<Str> {
        push_str(dst, self.of(src))
    }
}

/// Appends `s` to `pool`.
fn push_str(pool: &mut KVec<u8>, s: &[u8]) -> Result<Str> {
    let off = u32::try_from(pool.len()).map_err(|_| ENOMEM)?;
    let len = u16::try_from(s.len()).map_err(|_| EINVAL)?;
    pool.extend_from_slice(s, GFP_KERNEL)?;
    Ok(Str { off, len })
}

/// A policy rule: connections matching `host` and `path` go to `node`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Rule {
    /// Host name (HOST_URI) or server name (TLS_SNI); `None`: any.
    pub(crate) host: Option<Str>,
    /// URI path prefix (HOST_URI); `None`: any.
    pub(crate) path: Option<Str>,
    /// The node the matching connections go to.
    pub(crate) node: u32,
}

/// A service: a VIP:port whose connections handoff answers and dispatches.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Service {
    /// Address, port and protocol.
    pub(crate) key: ServiceKey,
    ifaces: [u32; MAX_IFACES],
    n_ifaces: u8,
    /// The dispatch policy.
    pub(crate) policy: Policy,
    /// The policy used when `policy`'s parameters select no node.
    pub(crate) fallback: Policy,
    /// The cookie name of [`Policy::Cookie`].
    pub(crate) cookie: Option<Str>,
    /// First rule in the rule pool, and how many.
    rules: (u32, u16),
    /// Maximum entries of the service in the temporary table.
    pub(crate) max_temporary: u32,
    /// Maximum entries of the service in the forward table.
    pub(crate) max_forward: u32,
    /// Lifetime of a temporary entry without request bytes (ms).
    pub(crate) syn_timeout: u32,
    /// Idle time after which a forward entry is removed (ms).
    pub(crate) idle_timeout: u32,
    /// Whether every SYN is answered without state
    /// (`HANDOFF_SYNCOOKIES_ALWAYS`), or only under pressure (`_AUTO`).
    pub(crate) syncookies_always: bool,
    /// How long a connection waits for its first data after the handshake
    /// before it is bound without any (ms; 0: at the handshake ACK).
    pub(crate) first_data_wait: u32,
    /// Content policies: the most request bytes held before choosing.
    pub(crate) request_limit: u32,
}

impl Service {
    /// A service with the defaults of the UAPI.
    pub(crate) fn new(key: ServiceKey) -> Self {
        Self {
            key,
            ifaces: [0; MAX_IFACES],
            n_ifaces: 0,
            policy: Policy::Local,
            fallback: Policy::Local,
            cookie: None,
            rules: (0, 0),
            max_temporary: MAX_TEMPORARY.2,
            max_forward: MAX_FORWARD.2,
            syn_timeout: SYN_TIMEOUT.2,
            idle_timeout: IDLE_TIMEOUT.2,
            syncookies_always: false,
            first_data_wait: FIRST_DATA_WAIT.2,
            request_limit: REQUEST_LIMIT.2,
        }
    }

    /// The hooked interfaces; empty: every interface.
    pub(crate) fn ifaces(&self) -> &[u32] {
        &self.ifaces[..usize::from(self.n_ifaces).min(MAX_IFACES)]
    }

    /// Adds an interface; `false` if there are [`MAX_IFACES`] already.
    pub(crate) fn add_iface(&mut self, ifindex: u32) -> bool {
        match self.ifaces.get_mut(usize::from(self.n_ifaces)) {
            Some(slot) => {
                *slot = ifindex;
                self.n_ifaces += 1;
                true
            }
            None => false,
        }
    }

    /// The service's rules in `pool`.
    pub(crate) fn rules_in<'a>(&self, pool: &'a [Rule]) -> &'a [Rule] {
        let first = self.rules.0 as usize;
        pool.get(first..first + usize::from(self.rules.1))
            .unwrap_or(&[])
    }
}

/// A service being added, with its own rule and string pools.
pub(crate) struct ServiceSpec {
    /// The service; its rules and strings index the pools below.
    pub(crate) service: Service,
    rules: KVec<Rule>,
    strings: KVec<u8>,
}

impl ServiceSpec {
    /// A service with the defaults.
    pub(crate) fn new(key: ServiceKey) -> Self {
        Self {
            service: Service::new(key),
            rules: KVec::new(),
            strings: KVec::new(),
        }
    }

    /// Adds a string to the spec's pool.
    pub(crate) fn add_str(&mut self, s: &[u8]) -> Result<Str> {
        push_str(&mut self.strings, s)
    }

    /// Appends a rule.
    pub(crate) fn add_rule(&mut self, rule: Rule) -> Result {
        self.rules.push(rule, GFP_KERNEL)?;
        self.service.rules = (0, u16::try_from(self.rules.len()).map_err(|_| EINVAL)?);
        Ok(())
    }

    /// How many rules were added.
    pub(crate) fn rule_count(&self) -> usize {
        self.rules.len()
    }

    /// How many bytes of strings were added.
    pub(crate) fn string_bytes(&self) -> usize {
        self.strings.len()
    }

    /// The view of the service's strings and rules.
    pub(crate) fn view(&self) -> ServiceView<'_> {
        ServiceView {
            service: &self.service,
            rules: self.service.rules_in(&self.rules),
            strings: &self.strings,
        }
    }
}

/// A service with the pools its strings and rules live in.
#[derive(Clone, Copy)]
pub(crate) struct ServiceView<'a> {
    /// The service.
    pub(crate) service: &'a Service,
    /// Its rules.
    pub(crate) rules: &'a [Rule],
    /// The pool its strings index.
    pub(crate) strings: &'a [u8],
}

impl ServiceView<'_> {
    /// The bytes of `s`.
    pub(crate) fn str(&self, s: Str) -> &[u8] {
        s.of(self.strings)
    }
}

/// Reachability of a peer (`enum handoff_peer_state`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum PeerState {
    /// Nothing heard yet.
    Unknown = 1,
    /// Reporting on the sync channel.
    Up = 2,
    /// Stopped reporting.
    Down = 3,
}

/// Another node of the farm.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Peer {
    /// Its node id, never 0.
    pub(crate) id: u32,
    /// Its forward address.
    pub(crate) addr: IpAddr,
    /// Its forward port; 0: the same as this node's.
    pub(crate) port: u16,
    /// Its weight for the weighted and least-load policies.
    pub(crate) weight: u32,
    /// Its sync address; `None`: its forward address.
    pub(crate) sync_addr: Option<IpAddr>,
}

/// What the configuration shares of a peer with the packet path: its
/// counters and its sync state, which outlive a change of its settings.
#[derive(Clone)]
pub(crate) struct PeerShared {
    /// Its counters.
    pub(crate) counters: Arc<Counters>,
    /// What the sync channel knows of it.
    pub(crate) sync: Arc<PeerSync>,
}

/// New vectors of services being built from a [`Config`].
struct Rebuild {
    services: KVec<Service>,
    counters: KVec<Arc<Counters>>,
    rules: KVec<Rule>,
    strings: KVec<u8>,
}

impl Rebuild {
    fn with_capacity(n: usize) -> Result<Self> {
        Ok(Self {
            services: KVec::with_capacity(n, GFP_KERNEL)?,
            counters: KVec::with_capacity(n, GFP_KERNEL)?,
            rules: KVec::new(),
            strings: KVec::new(),
        })
    }

    /// Appends a copy of `v`, moving its strings and rules to the new pools.
    fn push(&mut self, v: ServiceView<'_>, counters: Arc<Counters>) -> Result {
        let copy_opt = |s: Option<Str>, dst: &mut KVec<u8>| -> Result<Option<Str>> {
            s.map(|s| s.copy(v.strings, dst)).transpose()
        };
        let mut svc = *v.service;
        svc.cookie = copy_opt(svc.cookie, &mut self.strings)?;
        let first = u32::try_from(self.rules.len()).map_err(|_| ENOMEM)?;
        for r in v.rules {
            let rule = Rule {
                host: copy_opt(r.host, &mut self.strings)?,
                path: copy_opt(r.path, &mut self.strings)?,
                node: r.node,
            };
            self.rules.push(rule, GFP_KERNEL)?;
        }
        svc.rules = (first, svc.rules.1);
        self.services.push(svc, GFP_KERNEL)?;
        self.counters.push(counters, GFP_KERNEL)?;
        Ok(())
    }
}

/// The configuration of one handoff instance.
pub(crate) struct Config {
    /// This node's settings.
    pub(crate) node: Node,
    services: KVec<Service>,
    service_counters: KVec<Arc<Counters>>,
    peers: KVec<Peer>,
    peer_shared: KVec<PeerShared>,
    rules: KVec<Rule>,
    strings: KVec<u8>,
    generation: u32,
}

impl Config {
    /// An empty configuration.
    pub(crate) const fn new() -> Self {
        Self {
            node: Node::new(),
            services: KVec::new(),
            service_counters: KVec::new(),
            peers: KVec::new(),
            peer_shared: KVec::new(),
            rules: KVec::new(),
            strings: KVec::new(),
            generation: 1,
        }
    }

    /// A number that changes whenever the services or peers change (never
    /// 0), for dumps to detect changes between their parts.
    pub(crate) fn generation(&self) -> u32 {
        self.generation
    }

    fn changed(&mut self) {
        self.generation = self.generation.wrapping_add(1).max(1);
    }

    /// The services, sorted by key.
    pub(crate) fn services(&self) -> &[Service] {
        &self.services
    }

    /// Service `i` with its strings and rules.
    pub(crate) fn service_view(&self, i: usize) -> Option<ServiceView<'_>> {
        let service = self.services.get(i)?;
        Some(ServiceView {
            service,
            rules: service.rules_in(&self.rules),
            strings: &self.strings,
        })
    }

    /// The counters of service `i`.
    pub(crate) fn service_counters(&self, i: usize) -> Option<&Counters> {
        self.service_counters.get(i).map(|c| &**c)
    }

    /// The shared counters of service `i` (the packet path's view).
    pub(crate) fn service_counters_arc(&self, i: usize) -> Option<&Arc<Counters>> {
        self.service_counters.get(i)
    }

    /// The index of the service `key`, or where it would be inserted.
    pub(crate) fn find_service(&self, key: &ServiceKey) -> core::result::Result<usize, usize> {
        self.services.binary_search_by(|s| s.key.cmp(key))
    }

    /// The index of the first service after `key` (all of them for `None`).
    pub(crate) fn services_after(&self, key: Option<&ServiceKey>) -> usize {
        match key {
            None => 0,
            Some(k) => match self.find_service(k) {
                Ok(i) => i + 1,
                Err(i) => i,
            },
        }
    }

    /// Adds a service; `EEXIST` if its key is taken, `ENOSPC` beyond
    /// [`MAX_SERVICES`].
    pub(crate) fn add_service(&mut self, spec: &ServiceSpec) -> Result<usize> {
        let at = match self.find_service(&spec.service.key) {
            Ok(_) => return Err(EEXIST),
            Err(at) => at,
        };
        if self.services.len() >= MAX_SERVICES {
            return Err(ENOSPC);
        }
        let counters = Arc::new(Counters::new(), GFP_KERNEL)?;
        let mut new = Rebuild::with_capacity(self.services.len() + 1)?;
        for i in 0..=self.services.len() {
            if i == at {
                new.push(spec.view(), counters.clone())?;
            }
            if let (Some(v), Some(c)) = (self.service_view(i), self.service_counters.get(i)) {
                new.push(v, c.clone())?;
            }
        }
        self.install(new);
        Ok(at)
    }

    /// Removes service `i`.
    pub(crate) fn remove_service(&mut self, i: usize) -> Result {
        if i >= self.services.len() {
            return Err(ENOENT);
        }
        let mut new = Rebuild::with_capacity(self.services.len() - 1)?;
        for j in (0..self.services.len()).filter(|&j| j != i) {
            if let (Some(v), Some(c)) = (self.service_view(j), self.service_counters.get(j)) {
                new.push(v, c.clone())?;
            }
        }
        self.install(new);
        Ok(())
    }

    fn install(&mut self, new: Rebuild) {
        self.services = new.services;
        self.service_counters = new.counters;
        self.rules = new.rules;
        self.strings = new.strings;
        self.changed();
    }

    /// The peers, sorted by id.
    pub(crate) fn peers(&self) -> &[Peer] {
        &self.peers
    }

    /// The counters of peer `i`.
    pub(crate) fn peer_counters(&self, i: usize) -> Option<&Counters> {
        self.peer_shared.get(i).map(|c| &*c.counters)
    }

    /// The shared state of peer `i` (the packet path's view).
    pub(crate) fn peer_shared(&self, i: usize) -> Option<&PeerShared> {
        self.peer_shared.get(i)
    }

    /// The sync address of peer `p`: its own, else its forward address.
    pub(crate) fn peer_sync_addr(&self, p: &Peer) -> IpAddr {
        p.sync_addr.unwrap_or(p.addr)
    }

    /// The index of peer `id`, or where it would be inserted.
    pub(crate) fn find_peer(&self, id: u32) -> core::result::Result<usize, usize> {
        self.peers.binary_search_by(|p| p.id.cmp(&id))
    }

    /// The index of the first peer with an id above `id`.
    pub(crate) fn peers_after(&self, id: u32) -> usize {
        match self.find_peer(id) {
            Ok(i) => i + 1,
            Err(i) => i,
        }
    }

    /// The port peer `p` listens on: its own, else this node's forward port.
    pub(crate) fn peer_port(&self, p: &Peer) -> Option<u16> {
        match p.port {
            0 => self.node.forward.map(|f| f.port),
            port => Some(port),
        }
    }

    /// Adds a peer; `EEXIST` if the id is taken, `EINVAL` if it is this
    /// node's, `ENOSPC` beyond [`MAX_PEERS`].
    pub(crate) fn add_peer(&mut self, peer: Peer) -> Result<usize> {
        if peer.id == 0 || peer.id == self.node.id {
            return Err(EINVAL);
        }
        let at = match self.find_peer(peer.id) {
            Ok(_) => return Err(EEXIST),
            Err(at) => at,
        };
        if self.peers.len() >= MAX_PEERS {
            return Err(ENOSPC);
        }
        let counters = PeerShared {
            counters: Arc::new(Counters::new(), GFP_KERNEL)?,
            sync: PeerSync::new()?,
        };
        let n = self.peers.len() + 1;
        let mut peers = KVec::with_capacity(n, GFP_KERNEL)?;
        let mut all_counters = KVec::with_capacity(n, GFP_KERNEL)?;
        for i in 0..n {
            let (p, c) = match i.cmp(&at) {
                core::cmp::Ordering::Less => (self.peers.get(i), self.peer_shared.get(i)),
                core::cmp::Ordering::Equal => (Some(&peer), Some(&counters)),
                core::cmp::Ordering::Greater => {
                    (self.peers.get(i - 1), self.peer_shared.get(i - 1))
                }
            };
            if let (Some(p), Some(c)) = (p, c) {
                peers.push(*p, GFP_KERNEL)?;
                all_counters.push(c.clone(), GFP_KERNEL)?;
            }
        }
        self.peers = peers;
        self.peer_shared = all_counters;
        self.changed();
        Ok(at)
    }

    /// Removes peer `i`, returning it.
    pub(crate) fn remove_peer(&mut self, i: usize) -> Result<Peer> {
        let removed = *self.peers.get(i).ok_or(ENOENT)?;
        let n = self.peers.len() - 1;
        let mut peers = KVec::with_capacity(n, GFP_KERNEL)?;
        let mut counters = KVec::with_capacity(n, GFP_KERNEL)?;
        for (j, (p, c)) in self.peers.iter().zip(self.peer_shared.iter()).enumerate() {
            if j != i {
                peers.push(*p, GFP_KERNEL)?;
                counters.push(c.clone(), GFP_KERNEL)?;
            }
        }
        self.peers = peers;
        self.peer_shared = counters;
        self.changed();
        Ok(removed)
    }
}
