// SPDX-License-Identifier: GPL-2.0

//! The connection tables. The temporary table: connections whose SYN the
//! module answered, until the local stack or a peer owns them. The forward
//! table: connections a peer owns, whose client packets go to it.
//!
//! Lookups are lockless (RCU); an entry's state machine and negotiated
//! options change only under its bucket lock. Entries expire on the
//! instance's timer: half-open ones after the service's SYN timeout, the
//! others after its idle timeout.

use crate::proto::{conn::Conn, cookie::Tuple};
use crate::services::ServiceSlot;
use kernel::sync::rcu_table::{HashSeed, RcuTable, TableKey};
use kernel::timer::Jiffies;

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
    /// The SYN timeout of the entry's service.
    pub(crate) syn_timeout: Jiffies,
    /// The idle timeout of the entry's service.
    pub(crate) idle_timeout: Jiffies,
}

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
    pub(crate) _slot: ServiceSlot,
}

/// A forward entry's mutable part.
pub(crate) struct FwdEntry {
    /// The peer's flow id of the connection (0 until it acknowledged).
    pub(crate) flow_id: u32,
    /// The last packet forwarded (for the idle timeout).
    pub(crate) last_seen: Jiffies,
    /// The idle timeout of the entry's service.
    pub(crate) idle_timeout: Jiffies,
}

/// The forward table of an instance.
pub(crate) type FwdTable = RcuTable<ConnKey, FwdShared, FwdEntry>;
