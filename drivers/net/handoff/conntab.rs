// SPDX-License-Identifier: GPL-2.0

//! The connection tables. The temporary table: connections whose SYN the
//! module answered, until the local stack or a peer owns them. The forward
//! table: connections a peer owns, whose client packets go to it.
//!
//! The pending table: handoffs offered to a peer and not yet acknowledged.
//! The adopted table: connections peers handed to this node. The relay
//! table: connections other fronts handed to peers, as they announced them
//! (front failover, `failover.rs`).
//!
//! Lookups are lockless (RCU); an entry's state machine and negotiated
//! options change only under its bucket lock. Entries expire on the
//! instance's timer: half-open ones after the service's SYN timeout, the
//! others after its idle timeout.

use crate::proto::{
    conn::{Conn, State},
    cookie::Tuple,
    migrate::{Flow, Handoff},
};
use crate::services::ServiceSlot;
use crate::stats::{Counter, Counters};
use kernel::prelude::*;
use kernel::sync::rcu_table::{HashSeed, RcuTable, TableKey};
use kernel::sync::Arc;
use kernel::timer::{msecs_to_jiffies, time_after, Jiffies};

/// A connection's tuple as the client sends it (`saddr` = client).
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) struct ConnKey(pub(crate) Tuple);

impl TableKey for ConnKey {
    fn hash(&self, seed: &HashSeed) -> u32 {
        // A keyed hash: clients choose tuples, and must not choose buckets.
        seed.siphash(&self.0.to_bytes()) as u32
    }
}

/// What lockless readers see of an entry: fixed at creation.
pub(crate) struct ConnShared {
    /// When the SYN was answered (`ktime_get()`, in ms).
    pub(crate) created_ms: i64,
    /// The entry's place in its service's limit, freed with the entry.
    pub(crate) _slot: ServiceSlot,
}

/// Timestamps negotiated with the client.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Timestamps {
    /// Offset from `tcp_clock_ms()` to our TSvals (per connection).
    pub(crate) off: u32,
    /// The client's latest TSval.
    pub(crate) recent: u32,
}

/// What the handshake negotiated: what the SYN-ACK announced and what the
/// local socket must be created with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Negotiated {
    /// The MSS the SYN-ACK announced (from the device MTU).
    pub(crate) our_mss: u16,
    /// The MSS to use towards the client (its MSS, capped by ours).
    pub(crate) mss: u16,
    /// The client's window-scale shift, if it sent the option.
    pub(crate) client_wscale: Option<u8>,
    /// The window-scale shift the SYN-ACK announced (meaningful with
    /// `client_wscale`).
    pub(crate) our_wscale: u8,
    /// Whether SACK is on.
    pub(crate) sack: bool,
    /// Timestamps, if on.
    pub(crate) ts: Option<Timestamps>,
    /// The (unscaled) window the SYN-ACK announced.
    pub(crate) window: u16,
}

/// An entry's mutable part.
pub(crate) struct ConnEntry {
    /// The connection's state machine.
    pub(crate) conn: Conn,
    /// The negotiated options.
    pub(crate) nego: Negotiated,
    /// The last segment seen (for the idle timeout).
    pub(crate) last_seen: Jiffies,
    /// The client's latest window field (unscaled).
    pub(crate) client_window: u16,
    /// When the connection was last handed to the local stack (state
    /// `Bound`): a retransmitted first segment is handed over again only
    /// shortly after (see `handshake::REINJECT_MS`).
    pub(crate) bound_at: Jiffies,
    /// The SYN timeout of the entry's service.
    pub(crate) syn_timeout: Jiffies,
    /// The idle timeout of the entry's service.
    pub(crate) idle_timeout: Jiffies,
    /// The request bytes held until the content policy can choose.
    pub(crate) request: Held,
}

/// Most request bytes held for one connection: then the policy chooses
/// with what it has (the largest request a NEW carries).
pub(crate) const REQUEST_MAX: usize = 16 * 1024;
/// Most request bytes an instance holds (`request_bytes`).
pub(crate) const REQUEST_BUDGET: u64 = 16 << 20;

/// Request bytes a front holds for a connection (content policies),
/// counted in its instance's `request_bytes` gauge while they live.
pub(crate) struct Held {
    bytes: KVec<u8>,
    counters: Option<Arc<Counters>>,
}

impl Held {
    /// Nothing held.
    pub(crate) const fn new() -> Self {
        Self {
            bytes: KVec::new(),
            counters: None,
        }
    }

    /// The bytes held, in order.
    pub(crate) fn bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// Appends `b`, counted in `counters`: `false`, and nothing held, past
    /// [`REQUEST_MAX`], the instance's [`REQUEST_BUDGET`] or out of memory.
    pub(crate) fn push(&mut self, b: &[u8], counters: &Arc<Counters>) -> bool {
        let n = b.len() as u64;
        if self.bytes.len() + b.len() > REQUEST_MAX
            || !counters.gauge_add_within(Counter::RequestBytes, n, REQUEST_BUDGET)
        {
            return false;
        }
        if self.bytes.extend_from_slice(b, GFP_ATOMIC).is_err() {
            counters.gauge_sub(Counter::RequestBytes, n);
            return false;
        }
        if self.counters.is_none() {
            self.counters = Some(counters.clone());
        }
        true
    }

    /// Takes the bytes out (no longer counted).
    pub(crate) fn take(&mut self) -> KVec<u8> {
        self.uncount();
        core::mem::replace(&mut self.bytes, KVec::new())
    }

    fn uncount(&mut self) {
        if let Some(c) = self.counters.take() {
            c.gauge_sub(Counter::RequestBytes, self.bytes.len() as u64);
        }
    }
}

impl Drop for Held {
    fn drop(&mut self) {
        self.uncount();
    }
}

impl ConnEntry {
    /// Whether the entry outlived its time at `now`: the SYN timeout until
    /// the connection is handed over, the idle timeout after.
    pub(crate) fn expired(&self, now: Jiffies) -> bool {
        let limit = match self.conn.state() {
            State::SynRecv | State::Established | State::Bound => self.syn_timeout,
            _ => self.idle_timeout,
        };
        time_after(now, self.last_seen.wrapping_add(limit))
    }
}

/// Connections waiting for their first data after the handshake, with the
/// device their handshake came in on and the time they are handed over
/// without any (`firstdata::run`).
pub(crate) type WaitTable = RcuTable<ConnKey, i32, Jiffies>;

/// The temporary table of an instance.
pub(crate) type TempTable = RcuTable<ConnKey, ConnShared, ConnEntry>;

/// What lockless readers of a forward entry see: fixed when the connection
/// was handed to its peer.
pub(crate) struct FwdShared {
    /// When the entry was created (`ktime_get()`, in ms).
    pub(crate) created_ms: i64,
    /// The peer owning the connection.
    pub(crate) peer: u32,
    /// This node's reference of the connection (in the encapsulation).
    pub(crate) conn_ref: u32,
    /// The client's initial sequence number.
    pub(crate) client_isn: u32,
    /// The ISN of our SYN-ACK.
    pub(crate) local_isn: u32,
    /// The entry's place in its service's `max-forward`.
    pub(crate) slot: ServiceSlot,
}

impl FwdShared {
    /// The entry's place in its service's limit (and its counters).
    pub(crate) fn slot(&self) -> &ServiceSlot {
        &self.slot
    }
}

/// Where a forward entry's handoff is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum FwdState {
    /// NEW sent, no MIGRATED_ACK yet: packets go as DATA with flow id 0.
    Migrating,
    /// The peer owns the connection.
    Forwarded,
    /// No answer by the deadline: the client's next segment takes the
    /// fallback (local injection, or a reset without a listener).
    TimedOut,
}

/// A forward entry's mutable part.
pub(crate) struct FwdEntry {
    /// The peer's flow id of the connection (0 until it acknowledged).
    pub(crate) flow_id: u32,
    /// Where the handoff is.
    pub(crate) state: FwdState,
    /// What the client's packets say about the connection's end.
    pub(crate) flow: Flow,
    /// Client packets forwarded, and their bytes.
    pub(crate) packets: u64,
    /// Bytes of the forwarded packets (IP headers included).
    pub(crate) bytes: u64,
    /// The last packet forwarded (for the idle timeout).
    pub(crate) last_seen: Jiffies,
    /// The idle timeout of the entry's service (ms).
    pub(crate) idle_ms: u32,
    /// When the entry was last announced to the peers (front failover).
    pub(crate) announced: Jiffies,
}

impl FwdEntry {
    /// A new entry, in `state`.
    pub(crate) fn new(state: FwdState, flow_id: u32, now: Jiffies, idle_ms: u32) -> Self {
        Self {
            flow_id,
            state,
            flow: Flow::new(),
            packets: 0,
            bytes: 0,
            last_seen: now,
            idle_ms,
            announced: now,
        }
    }

    /// Whether the entry outlived its time at `now`: the idle timeout, or
    /// the linger time after a client FIN.
    pub(crate) fn expired(&self, now: Jiffies) -> bool {
        flow_expired(&self.flow, self.last_seen, self.idle_ms, now)
    }
}

/// Whether a flow last seen at `last_seen` with an idle timeout of
/// `idle_ms` is over at `now`.
fn flow_expired(flow: &Flow, last_seen: Jiffies, idle_ms: u32, now: Jiffies) -> bool {
    let ms = flow.expiry_ms(u64::from(idle_ms)).min(u64::from(u32::MAX)) as u32;
    time_after(now, last_seen.wrapping_add(msecs_to_jiffies(ms)))
}

/// The forward table of an instance.
pub(crate) type FwdTable = RcuTable<ConnKey, FwdShared, FwdEntry>;

/// The origin's reference of a connection being handed over (its key in the
/// pending table, `handoff_encap_hdr.conn_ref`).
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) struct ConnRef(pub(crate) u32);

impl TableKey for ConnRef {
    fn hash(&self, seed: &HashSeed) -> u32 {
        seed.jhash_words(&[self.0])
    }
}

/// What readers of a pending handoff see: fixed when NEW was first sent.
pub(crate) struct PendShared {
    /// The connection (its forward entry's key).
    pub(crate) key: ConnKey,
    /// The peer offered the connection.
    pub(crate) peer: u32,
    /// The client's next sequence number after the request bytes sent in
    /// NEW, and our next one: what a reset to the client carries.
    pub(crate) rcv_nxt: u32,
    /// Our next sequence number (our ISN + 1).
    pub(crate) snd_nxt: u32,
    /// The service's counters.
    pub(crate) svc: Arc<Counters>,
}

/// A pending handoff's mutable part.
pub(crate) struct PendEntry {
    /// Retransmission schedule and deadline.
    pub(crate) handoff: Handoff,
    /// The whole NEW datagram, for retransmissions.
    pub(crate) msg: KVec<u8>,
    /// The deadline passed (counted once; the entry waits for the client's
    /// retransmission to take the fallback).
    pub(crate) timed_out: bool,
}

/// Handoffs waiting for their MIGRATED_ACK, by conn_ref.
pub(crate) type PendTable = RcuTable<ConnRef, PendShared, PendEntry>;

/// A connection a peer handed to this node: the peer and its conn_ref.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) struct AdoptKey {
    /// The origin's node id.
    pub(crate) peer: u32,
    /// The origin's reference of the connection.
    pub(crate) conn_ref: u32,
}

impl TableKey for AdoptKey {
    fn hash(&self, seed: &HashSeed) -> u32 {
        seed.jhash_words(&[self.peer, self.conn_ref])
    }
}

/// An adopted connection (target side), or DATA waiting for its NEW.
pub(crate) struct AdoptEntry {
    /// Our flow id; 0 while the connection is not injected yet.
    pub(crate) flow_id: u32,
    /// The connection's tuple (valid once injected).
    pub(crate) key: ConnKey,
    /// What the client's packets say about the connection's end.
    pub(crate) flow: Flow,
    /// Client packets that came before the connection was injected, in
    /// order of arrival (copies: no packet is held across the wait).
    pub(crate) early: KVec<KVec<u8>>,
    /// Their bytes.
    pub(crate) early_bytes: usize,
    /// A NEW is being injected on some CPU (another copy waits).
    pub(crate) busy: bool,
    /// The last datagram (for the timeouts).
    pub(crate) last_seen: Jiffies,
    /// How long the entry lives without datagrams (ms).
    pub(crate) idle_ms: u32,
}

impl AdoptEntry {
    /// Whether the entry outlived its time at `now`.
    pub(crate) fn expired(&self, now: Jiffies) -> bool {
        flow_expired(&self.flow, self.last_seen, self.idle_ms, now)
    }
}

/// Connections adopted from peers, by origin and conn_ref.
pub(crate) type AdoptTable = RcuTable<AdoptKey, (), AdoptEntry>;

/// What lockless readers of a relay entry see: fixed by the announcement
/// that made it.
pub(crate) struct RelayShared {
    /// The front that announced the connection (its origin).
    pub(crate) owner: u32,
    /// The peer the connection was handed to.
    pub(crate) target: u32,
    /// The origin's reference of the connection.
    pub(crate) conn_ref: u32,
    /// The target's flow id of the connection.
    pub(crate) flow_id: u32,
}

/// A relay entry's mutable part.
pub(crate) struct RelayEntry {
    /// What the client's packets relayed say about the connection's end.
    pub(crate) flow: Flow,
    /// The last announcement or packet relayed (for the idle timeout).
    pub(crate) last_seen: Jiffies,
    /// The connection's idle timeout, as announced (ms).
    pub(crate) idle_ms: u32,
}

impl RelayEntry {
    /// Whether the entry outlived its time at `now`.
    pub(crate) fn expired(&self, now: Jiffies) -> bool {
        flow_expired(&self.flow, self.last_seen, self.idle_ms, now)
    }
}

/// Connections other fronts announced, by tuple.
pub(crate) type RelayTable = RcuTable<ConnKey, RelayShared, RelayEntry>;
