// SPDX-License-Identifier: GPL-2.0

//! Per network namespace state: one handoff instance per namespace.

use crate::stats::Counters;
use kernel::net::namespace::{Namespace, Pernet, PernetData, PernetKind};
use kernel::prelude::*;

/// The registration of [`HandoffNet`] with the namespace core.
///
/// A device-level registration: the instance hooks devices of its namespace,
/// so it must be set up after and torn down with them.
pub(crate) static PERNET: Pernet<HandoffNet> = Pernet::new(PernetKind::Device);

/// The handoff instance of one network namespace.
pub(crate) struct HandoffNet {
    /// The namespace's inode number, to name it in log messages.
    pub(crate) inum: u32,
    /// Event and drop counters of this instance.
    pub(crate) counters: Counters,
}

impl PernetData for HandoffNet {
    fn pernet() -> &'static Pernet<Self> {
        &PERNET
    }

    fn init(net: &Namespace) -> impl PinInit<Self, Error> {
        try_init!(HandoffNet {
            inum: net.inum(),
            counters: Counters::new(),
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
