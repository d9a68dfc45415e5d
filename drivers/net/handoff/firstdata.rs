// SPDX-License-Identifier: GPL-2.0

//! The first-data wait: connections whose client sent nothing (or only
//! part of a request a content policy waits for) after the handshake.
//!
//! Protocols where the server speaks first (SSH, SMTP, FTP, MySQL) would
//! never reach their application otherwise. When the service's
//! first-data wait runs out, the connection is handed over with what has
//! arrived, like at the first data: the service's policy chooses the node
//! (a content policy's fallback, as the request says too little), and the
//! connection is rebuilt in the local stack or offered to that peer.

use crate::handshake::Snapshot;
use crate::ingress::Pkt;
use crate::netns::HandoffNet;
use crate::proto::conn::{Action, DropReason, Event};
use crate::proto::wire::NewConn;
use crate::stats::Counter;
use crate::{inject, origin, select};
use kernel::net::namespace::Namespace;
use kernel::prelude::*;
use kernel::sync::rcu;
use kernel::timer::{jiffies, msecs_to_jiffies, time_after};

/// Notes a connection that completed its handshake without data: handed
/// over without any after `wait_ms` unless its first data comes first. If
/// the wait cannot be noted (memory, the table's bound), the connection
/// just waits for its data, as before this existed.
pub(crate) fn wait_for_data(pkt: &Pkt<'_>, wait_ms: u32) {
    let due = jiffies().wrapping_add(msecs_to_jiffies(wait_ms));
    if pkt
        .hn
        .st
        .waiting
        .insert(pkt.key, pkt.ifindex, due, GFP_ATOMIC)
        .is_ok()
    {
        pkt.hn.retransmit_soon();
    }
}

/// The timer's work in `net`: connections whose first-data wait ended are
/// handed over (see [`hand_over`]).
pub(crate) fn run(net: &Namespace) {
    let hn = HandoffNet::of(net);
    let st = &hn.st;
    if st.waiting.is_empty() {
        return;
    }
    let now = jiffies();
    let mut due = KVec::new();
    st.waiting.retain(|key, ifindex, at| {
        // Kept for the next tick if it cannot be taken now.
        time_after(*at, now) || due.push((*key, *ifindex), GFP_ATOMIC).is_err()
    });
    let guard = rcu::read_lock();
    for (key, ifindex) in due.iter() {
        if let Some(pkt) = Pkt::without_segment(hn, &guard, net, *key, *ifindex) {
            hand_over(&pkt);
        }
    }
}

/// Hands the waiting connection of `pkt` over, if it is still waiting
/// (its data came meanwhile, or it was closed or reset: `NoData` is then
/// no event for it), with the request bytes held so far, if any. A peer
/// gets it as at the first data (the NEW carries what arrived); the local
/// stack gets it through the path that adopts a peer's connection: its
/// handshake ACK is rebuilt and delivered on the loopback device with its
/// request sock.
fn hand_over(pkt: &Pkt<'_>) {
    let st = &pkt.hn.st;
    let key = &pkt.key;
    let Some(Some((snap, nc, held))) = st.temp.with_locked(key, |_, e| {
        // Copied: the entry keeps them until the stack or the peer has them.
        let mut held = KVec::new();
        if held
            .extend_from_slice(e.request.bytes(), GFP_ATOMIC)
            .is_err()
        {
            return None;
        }
        (e.conn.step(Event::NoData) == Action::Inject).then(|| {
            let snap = Snapshot {
                conn: e.conn,
                nego: e.nego,
            };
            let nc = snap.new_conn_with(&key.0, None, e.client_window);
            (snap, nc, held)
        })
    }) else {
        return;
    };
    if to_peer(pkt, &nc, &held) {
        // The forward table owns the connection now.
        st.temp.remove(key);
        return;
    }
    let outcome = match inject::adopt(pkt.net, pkt.guard, &nc, &held) {
        Ok(()) => {
            pkt.inc(Counter::Injected);
            Event::InjectOk
        }
        Err(inject::AdoptError::Busy) => Event::InjectFailed { retryable: true },
        Err(inject::AdoptError::Refused) => {
            pkt.inc(Counter::InjectFailed);
            Event::InjectFailed { retryable: false }
        }
    };
    let action = st.temp.with_locked(key, |_, e| {
        if outcome == Event::InjectOk {
            e.bound_at = jiffies();
            drop(e.request.take());
        }
        e.conn.step(outcome)
    });
    match action {
        // Refused for good (no listener, a full...): the client is reset,
        // as a stack without the connection would.
        Some(Action::SendRst(reason)) => {
            st.temp.remove(key);
            pkt.dropped(reason);
            if origin::reset_conn(pkt.net, &key.0, snap.conn.snd_nxt(), snap.conn.rcv_nxt())
                .is_err()
            {
                pkt.inc(Counter::XmitFailed);
            }
        }
        // The accept queue is full: tried again at the next tick.
        Some(Action::Drop(DropReason::InjectRetry)) => {
            let _ = st.waiting.insert(*key, pkt.ifindex, jiffies(), GFP_ATOMIC);
        }
        _ => {}
    }
}

/// Offers the connection `nc` with the request bytes `held` to the peer
/// the service's policy names, if it names one. Whether the peer has it
/// now (the handoff started); if not, it stays here.
fn to_peer(pkt: &Pkt<'_>, nc: &NewConn, held: &[u8]) -> bool {
    match select::choose(pkt, held) {
        select::Node::Peer(peer) => origin::start_with(pkt, nc, held, peer).is_some(),
        select::Node::Local => false,
    }
}
