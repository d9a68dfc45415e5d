// SPDX-License-Identifier: GPL-2.0

//! Which node gets a connection: the module's side of the selection.
//!
//! The choice itself is protocol logic (`proto/select.rs`, host-tested);
//! this file gives it what the instance knows: the service's policy, this
//! node's weight and the peers that can take connections now. Later
//! policies (load, hash, content) plug in there and read the same inputs,
//! the request bytes included.

use crate::ingress::Pkt;
use crate::proto::select::{self, Choice, Policy, Request};

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
    let choice = select::select(
        svc.policy,
        peers.self_weight,
        peers.candidates(),
        &Request { bytes: request },
        kernel::random::u32(),
    );
    match choice {
        Choice::Local => Node::Local,
        Choice::Peer(id) => Node::Peer(id),
    }
}
