// SPDX-License-Identifier: GPL-2.0

//! The peers as the packet path sees them: an immutable snapshot of the
//! configuration's peers, published with RCU after every change, like the
//! services (`services.rs`).

use crate::config::{Config, IpAddr, PeerState};
use crate::proto::select::Candidate;
use crate::stats::Counters;
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
    /// Its weight for the weighted policy.
    pub(crate) weight: u32,
    /// Whether it is known to be down.
    pub(crate) down: bool,
    /// Its counters (the configuration's).
    pub(crate) counters: Arc<Counters>,
}

impl PeerRt {
    /// Whether new connections may be handed to it.
    pub(crate) fn usable(&self) -> bool {
        self.endpoint.is_some() && !self.down
    }
}

/// The published peers of an instance, sorted by id.
pub(crate) struct PeerSet {
    list: KVec<PeerRt>,
    /// The candidates of the selection, in the same order.
    candidates: KVec<Candidate>,
    /// This node's own weight for the weighted policy.
    pub(crate) self_weight: u32,
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
            let rt = PeerRt {
                id: p.id,
                endpoint,
                weight: p.weight,
                down: p.state == PeerState::Down,
                counters: cfg.peer_counters_arc(i).ok_or(EINVAL)?.clone(),
            };
            candidates.push(
                Candidate {
                    id: rt.id,
                    weight: rt.weight,
                    usable: rt.usable(),
                },
                GFP_KERNEL,
            )?;
            list.push(rt, GFP_KERNEL)?;
        }
        Ok(Self {
            list,
            candidates,
            self_weight: cfg.node.weight,
        })
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

    /// The selection's view of the peers.
    pub(crate) fn candidates(&self) -> &[Candidate] {
        &self.candidates
    }
}
