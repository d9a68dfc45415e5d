// SPDX-License-Identifier: GPL-2.0

//! Per network namespace state: one handoff instance per namespace.

use crate::config::{Config, IpAddr};
use crate::stats::Counters;
use kernel::net::namespace::{Namespace, Pernet, PernetData, PernetKind};
use kernel::prelude::*;
use kernel::{new_mutex, sync::Mutex};

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
    /// Event and drop counters of this instance.
    pub(crate) counters: Counters,
    /// Node settings, services and peers, set through the netlink family.
    #[pin]
    pub(crate) config: Mutex<Config>,
}

impl PernetData for HandoffNet {
    fn pernet() -> &'static Pernet<Self> {
        &PERNET
    }

    fn init(net: &Namespace) -> impl PinInit<Self, Error> {
        try_pin_init!(HandoffNet {
            inum: net.inum(),
            counters: Counters::new(),
            config <- new_mutex!(Config::new(), "HandoffNet::config"),
        })
    }
}

impl HandoffNet {
    /// Returns the instance of `net`.
    #[allow(dead_code)]
    pub(crate) fn of(net: &Namespace) -> &HandoffNet {
        PERNET.get(net)
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
        _table: Table,
        _cursor: &mut ConnCursor,
        _put: &mut dyn FnMut(&ConnEntry) -> bool,
    ) {
        // No table yet: nothing to report.
    }

    /// Removes every entry of `table` (both tables for `None`); the
    /// connections are broken. Returns how many entries were removed.
    pub(crate) fn conn_flush(&self, _table: Option<Table>) -> u64 {
        0
    }

    /// Removes the entries of the service `key` from both tables (the
    /// service is being deleted).
    pub(crate) fn conn_drop_service(&self, _key: &crate::config::ServiceKey) {}

    /// Removes the forward entries pointing at peer `id` (being deleted).
    pub(crate) fn conn_drop_peer(&self, _id: u32) {}
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
#[allow(dead_code)] // Built by the tables, which are still to come.
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
