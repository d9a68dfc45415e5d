// SPDX-License-Identifier: GPL-2.0

//! Which node gets a connection: the module's side of the selection.
//!
//! The choice itself is protocol logic (`proto/select.rs`, host-tested);
//! this file gives it what the instance knows: the service's policy, this
//! node's weight and load, and the peers as they are now (liveness and
//! load change with every sync report, between two publications of the
//! peers). Content policies plug in there and read the same inputs, the
//! request bytes included.

use crate::ingress::Pkt;
use crate::peers::PeerSet;
use crate::proto::select::{self, Candidate, Choice, Policy, Request, SelfNode};
use kernel::prelude::*;

/// Peers whose candidates are built on the stack; beyond, in an allocation.
const STACK_CANDIDATES: usize = 32;

/// The node chosen for a connection.
pub(crate) enum Node {
    /// This node: inject into the local stack.
    Local,
    /// The peer with this id: hand the connection over.
    Peer(u32),
}

/// The node for the connection of `pkt`, whose first request bytes are
/// `request`. Without a redistribution socket no peer can be reached, and
/// the connection stays local.
pub(crate) fn choose(pkt: &Pkt<'_>, request: &[u8]) -> Node {
    let Some(svc) = pkt.svc else {
        return Node::Local;
    };
    if svc.policy == Policy::Local {
        return Node::Local;
    }
    let st = &pkt.hn.st;
    let (Some(_), Some(peers)) = (st.tunnel(pkt.guard), st.peers(pkt.guard)) else {
        return Node::Local;
    };
    let sync = st.sync(pkt.guard).map(|s| s.handler());
    let me = SelfNode {
        weight: peers.self_weight,
        load: sync.map_or(0, |s| s.own_load()),
    };
    let req = Request { bytes: request };
    let rnd = kernel::random::u32();
    let choice = with_candidates(peers, |c| select::select(svc.policy, &me, c, &req, rnd));
    match choice {
        Choice::Local => {
            if let Some(s) = sync {
                s.note_kept();
            }
            Node::Local
        }
        Choice::Peer(id) => {
            if let Some(p) = peers.by_id(id) {
                p.sync.note_handed();
            }
            Node::Peer(id)
        }
    }
}

/// Calls `f` with the peers' candidates as they are now. Few peers: built
/// on the stack; many: in an allocation, or, if that fails, as published
/// (liveness as of the last change, no load), which still never picks a
/// peer without a forward endpoint.
fn with_candidates<R>(peers: &PeerSet, f: impl FnOnce(&[Candidate]) -> R) -> R {
    let published = peers.candidates();
    let n = published.len();
    if n <= STACK_CANDIDATES {
        let mut buf = [Candidate {
            id: 0,
            weight: 0,
            usable: false,
            load: 0,
        }; STACK_CANDIDATES];
        let c = &mut buf[..n];
        c.copy_from_slice(published);
        peers.fill_candidates(c);
        return f(c);
    }
    let mut v = KVec::new();
    if v.extend_from_slice(published, GFP_ATOMIC).is_err() {
        return f(published);
    }
    peers.fill_candidates(&mut v);
    f(&v)
}
