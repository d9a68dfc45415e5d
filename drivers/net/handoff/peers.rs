// SPDX-License-Identifier: GPL-2.0

//! The peers as the packet path sees them: an immutable snapshot of the
//! configuration's peers, published with RCU after every change, like the
//! services (`services.rs`).

use crate::config::{Config, IpAddr};
use crate::proto::select::Candidate;
use crate::stats::Counters;
use crate::sync::PeerSync;
use kernel::net::udp_tunnel::SockAddrV4;
use kernel::prelude::*;
use kernel::sync::Arc;

/// One peer, as the packet path reaches it.
pub(crate) struct PeerRt {
    /// Its node id.
    pub(crate) id: u32,
    /// Its forward endpoint; `None` if it cannot be reached (an IPv6
    /// address, or no port known), which makes it unusable.
    pub(crate) endpoint: Option<SockAddrV4>,
    /// Its forward address and port as configured (for events).
    pub(crate) addr: IpAddr,
    pub(crate) port: Option<u16>,
    /// Its sync address.
    pub(crate) sync_addr: IpAddr,
    /// Where reports go to and come from: its sync address and this node's
    /// sync port; `None` without a sync channel (or with an IPv6 address).
    pub(crate) sync_endpoint: Option<SockAddrV4>,
    /// Its weight for the weighted and least-load policies.
    pub(crate) weight: u32,
    /// Its counters (the configuration's).
    pub(crate) counters: Arc<Counters>,
    /// What the sync channel knows of it (the configuration's).
    pub(crate) sync: Arc<PeerSync>,
}

impl PeerRt {
    /// Whether new connections may be handed to it: reachable, not DOWN.
    pub(crate) fn usable(&self) -> bool {
        self.endpoint.is_some() && crate::sync::usable(self)
    }
}

/// The published peers of an instance, sorted by id.
pub(crate) struct PeerSet {
    list: KVec<PeerRt>,
    /// The candidates of the selection, in the same order.
    candidates: KVec<Candidate>,
    /// This node's own weight for the weighted and least-load policies.
    pub(crate) self_weight: u32,
    /// This node's id (0: not set).
    pub(crate) node_id: u32,
    /// The sync channel's settings.
    pub(crate) sync_interval_ms: u32,
    pub(crate) dead_intervals: u32,
}

impl PeerSet {
    /// The snapshot of `cfg`.
    pub(crate) fn of(cfg: &Config) -> Result<Self> {
        let n = cfg.peers().len();
        let mut list = KVec::with_capacity(n, GFP_KERNEL)?;
        let mut candidates = KVec::with_capacity(n, GFP_KERNEL)?;
        for (i, p) in cfg.peers().iter().enumerate() {
            let endpoint = match (p.addr, cfg.peer_port(p)) {
                (IpAddr::V4(addr), Some(port)) => Some(SockAddrV4 { addr, port }),
                _ => None,
            };
            let sync_addr = cfg.peer_sync_addr(p);
            let sync_endpoint = match (sync_addr, cfg.node.sync) {
                (IpAddr::V4(addr), Some(local)) => Some(SockAddrV4 {
                    addr,
                    port: local.port,
                }),
                _ => None,
            };
            let shared = cfg.peer_shared(i).ok_or(EINVAL)?;
            let rt = PeerRt {
                id: p.id,
                endpoint,
                addr: p.addr,
                port: cfg.peer_port(p),
                sync_addr,
                sync_endpoint,
                weight: p.weight,
                counters: shared.counters.clone(),
                sync: shared.sync.clone(),
            };
            candidates.push(
                Candidate {
                    id: rt.id,
                    weight: rt.weight,
                    usable: rt.usable(),
                    load: 0,
                },
                GFP_KERNEL,
            )?;
            list.push(rt, GFP_KERNEL)?;
        }
        Ok(Self {
            list,
            candidates,
            self_weight: cfg.node.weight,
            node_id: cfg.node.id,
            sync_interval_ms: cfg.node.sync_interval_ms,
            dead_intervals: cfg.node.dead_intervals,
        })
    }

    /// Every peer, by id.
    pub(crate) fn iter(&self) -> impl Iterator<Item = &PeerRt> {
        self.list.iter()
    }

    /// The peer whose sync endpoint is `from` (reports are taken only from
    /// configured peers, by address and port).
    pub(crate) fn by_sync_endpoint(&self, from: &SockAddrV4) -> Option<&PeerRt> {
        self.list
            .iter()
            .find(|p| p.sync_endpoint.as_ref() == Some(from))
    }

    /// The peer `id`.
    pub(crate) fn by_id(&self, id: u32) -> Option<&PeerRt> {
        let i = self.list.binary_search_by(|p| p.id.cmp(&id)).ok()?;
        self.list.get(i)
    }

    /// The peer whose forward endpoint is `from` (datagrams are accepted
    /// only from configured peers, by address and port).
    pub(crate) fn by_endpoint(&self, from: &SockAddrV4) -> Option<&PeerRt> {
        self.list.iter().find(|p| p.endpoint.as_ref() == Some(from))
    }

    /// The selection's view of the peers, as published: usable from the
    /// configuration, no load. See [`PeerSet::fill_candidates`].
    pub(crate) fn candidates(&self) -> &[Candidate] {
        &self.candidates
    }

    /// The selection's view of the peers now: liveness and load from the
    /// sync channel, which change between publications.
    pub(crate) fn fill_candidates(&self, out: &mut [Candidate]) {
        for (c, p) in out.iter_mut().zip(self.list.iter()) {
            c.usable = p.usable();
            c.load = p.sync.estimate();
        }
    }
}
