// SPDX-License-Identifier: GPL-2.0

//! Which node gets a connection: the module's side of the selection.
//!
//! The choice itself is protocol logic (`proto/select.rs`, host-tested);
//! this file gives it what the instance knows: the service's policy, this
//! node's weight and load, and the peers as they are now (liveness and
//! load change with every sync report, between two publications of the
//! peers). Content policies (host-uri, cookie, tls-sni) read the request
//! bytes first; when the request names no usable node, the service's
//! fallback policy chooses.

use crate::config::{Config, Policy as CfgPolicy};
use crate::ingress::Pkt;
use crate::netns::Shared;
use crate::peers::PeerSet;
use crate::proto::http::{self, Progress};
use crate::proto::select::{self, Candidate, Choice, HashTable, Policy, Request, SelfNode};
use crate::proto::siphash::SipKey;
use crate::proto::{content, maglev, tls};
use crate::services::{ContentKind, ContentRt};
use kernel::alloc::KVVec;
use kernel::prelude::*;
use kernel::sync::rcu::Guard;

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
    let (st, guard) = (&pkt.hn.st, pkt.guard);
    let client = pkt.tuple.saddr.to_ne_bytes();
    let rnd = kernel::random::u32();
    let by_content = svc
        .content
        .as_deref()
        .and_then(|c| by_content(st, guard, c, request, rnd));
    let choice = by_content.unwrap_or_else(|| decide(st, guard, svc.policy, request, &client, rnd));
    match choice {
        Choice::Local => {
            if let Some(s) = pkt.hn.st.sync(pkt.guard) {
                s.handler().note_kept();
            }
            Node::Local
        }
        Choice::Peer(id) => {
            if let Some(p) = pkt.hn.st.peers(pkt.guard).and_then(|p| p.by_id(id)) {
                p.sync.note_handed();
            }
            Node::Peer(id)
        }
    }
}

/// The choice of `policy` for a connection of `client` with the request
/// bytes `request`, as the instance `st` stands now (`rnd` drawn by the
/// caller). Without a redistribution socket: local.
pub(crate) fn decide(
    st: &Shared,
    guard: &Guard,
    policy: Policy,
    request: &[u8],
    client: &[u8],
    rnd: u32,
) -> Choice {
    if policy == Policy::Local {
        return Choice::Local;
    }
    let (Some(_), Some(peers)) = (st.tunnel(guard), st.peers(guard)) else {
        return Choice::Local;
    };
    let me = SelfNode {
        weight: peers.self_weight,
        load: st.sync(guard).map_or(0, |s| s.handler().own_load()),
    };
    let req = Request {
        bytes: request,
        client,
        hash: st.hash(guard).map(HashRt::table),
    };
    with_candidates(peers, |c| select::select(policy, &me, c, &req, rnd))
}

/// Whether `request` says enough for the content policy `kind` to choose:
/// the end of the HTTP request head, or the whole TLS ClientHello (or bytes
/// that can never be one: the fallback chooses at once).
pub(crate) fn request_complete(kind: ContentKind, request: &[u8]) -> bool {
    match kind {
        ContentKind::HostUri | ContentKind::Cookie => {
            !matches!(http::parse_request(request), Progress::Incomplete)
        }
        ContentKind::TlsSni => !matches!(tls::parse_client_hello(request), Progress::Incomplete),
    }
}

/// Fixed key of the TLS resumption hash: every front must send a session
/// to the same node (like Maglev's keys, not a secret: a client choosing
/// its session id or ticket could as well choose its server name).
const RESUMPTION_KEY: SipKey = *b"handoff-tls-sess";

/// The node a content policy names for `request`, if the request says
/// enough (`proto/http.rs`, `proto/tls.rs`) and the node is usable: this
/// node, or a peer that may be chosen (UP or not heard of yet, with a
/// forward endpoint). `None`: the fallback policy chooses.
fn by_content(
    st: &Shared,
    guard: &Guard,
    c: &ContentRt,
    request: &[u8],
    rnd: u32,
) -> Option<Choice> {
    let node = match c.kind {
        ContentKind::HostUri => match http::parse_request(request) {
            Progress::Done(r) => content::first_match(c.rules(), r.host, r.path),
            _ => None,
        },
        ContentKind::Cookie => match http::parse_request(request) {
            Progress::Done(r) => http::cookie(&r, c.cookie_name()).and_then(content::cookie_node),
            _ => None,
        },
        ContentKind::TlsSni => match tls::parse_client_hello(request) {
            Progress::Done(hello) => match content::first_match(c.rules(), hello.sni(), None) {
                Some(n) => Some(n),
                // No rule for the name: a resumption goes where its
                // session's hash says, from every front alike.
                None => {
                    let key = content::resumption_key(&hello, &RESUMPTION_KEY)?;
                    return match decide(st, guard, Policy::Hash, request, &key.to_be_bytes(), rnd) {
                        Choice::Local if st.hash(guard).is_none() => None,
                        c => Some(c),
                    };
                }
            },
            _ => None,
        },
    }?;
    let peers = st.peers(guard);
    if peers.is_some_and(|p| p.node_id == node) {
        return Some(Choice::Local);
    }
    // A peer is reachable only with the redistribution socket.
    st.tunnel(guard)?;
    let p = peers?.by_id(node)?;
    (p.endpoint.is_some() && crate::sync::usable(p)).then_some(Choice::Peer(node))
}

/// The consistent-hash table of an instance, over this node and its peers.
pub(crate) struct HashRt {
    slots: KVVec<u16>,
    nodes: KVec<u32>,
    self_id: u32,
}

impl HashRt {
    /// The table for `cfg` (its node id, peers and services), if a service
    /// of it chooses by hash and the node has an id (peers know it by it):
    /// built, for the caller to publish once nothing can fail. Process
    /// context: the table takes 128 KiB and a few milliseconds to build.
    pub(crate) fn of(cfg: &Config) -> Result<Option<KBox<Self>>> {
        let me = cfg.node.id;
        // Hash services, and tls-sni ones (resumptions go by hash).
        let hashed = |s: &crate::config::Service| {
            s.policy == CfgPolicy::Hash || s.policy == CfgPolicy::TlsSni
        };
        if me == 0 || !cfg.services().iter().any(hashed) {
            return Ok(None);
        }
        // This node's id among its peers', ascending (the peers are kept
        // sorted by id): the table must not depend on the order they were
        // added in.
        let n = cfg.peers().len() + 1;
        let mut nodes = KVec::with_capacity(n, GFP_KERNEL)?;
        let mut mine = false;
        for p in cfg.peers() {
            if !mine && me < p.id {
                nodes.push(me, GFP_KERNEL)?;
                mine = true;
            }
            nodes.push(p.id, GFP_KERNEL)?;
        }
        if !mine {
            nodes.push(me, GFP_KERNEL)?;
        }
        let mut slots = KVVec::from_elem(0u16, maglev::TABLE_SIZE, GFP_KERNEL)?;
        let mut next = KVec::from_elem(0u32, n, GFP_KERNEL)?;
        maglev::build(&nodes, &mut slots, &mut next).map_err(|_| EINVAL)?;
        Ok(Some(KBox::new(
            Self {
                slots,
                nodes,
                self_id: me,
            },
            GFP_KERNEL,
        )?))
    }

    fn table(&self) -> HashTable<'_> {
        HashTable {
            slots: &self.slots,
            nodes: &self.nodes,
            self_id: self.self_id,
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
