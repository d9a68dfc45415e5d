// SPDX-License-Identifier: GPL-2.0

//! Counters of a handoff instance.
//!
//! Every packet the module consumes, answers or drops is counted here under a
//! stable name; the names are the keys the control interface reports.

use core::sync::atomic::{AtomicU64, Ordering};

macro_rules! counters {
    ($($(#[$doc:meta])* $var:ident = $name:literal,)+) => {
        /// A counter of a handoff instance.
        #[derive(Clone, Copy, Debug, PartialEq, Eq)]
        #[allow(dead_code)]
        pub(crate) enum Counter {
            $($(#[$doc])* $var,)+
        }

        impl Counter {
            /// Every counter, in reporting order.
            pub(crate) const ALL: &'static [Counter] = &[$(Counter::$var,)+];

            /// The counter's stable name.
            pub(crate) const fn name(self) -> &'static str {
                match self {
                    $(Counter::$var => $name,)+
                }
            }
        }
    };
}

counters! {
    /// SYNs answered with the module's own SYN-ACK.
    SynAnswered = "syn_answered",
    /// Retransmitted SYNs answered again.
    SynRetransmit = "syn_retransmit",
    /// Handshake ACKs validated against the module's ISN.
    CookiesChecked = "cookies_checked",
    /// Handshake ACKs whose ISN check failed.
    CookiesFailed = "cookies_failed",
    /// Connections injected into the local stack.
    Injected = "injected",
    /// Injections the local stack refused.
    InjectFailed = "inject_failed",
    /// Packets dropped because they could not be parsed.
    DropMalformed = "drop_malformed",
}

/// The counters of one instance, updated locklessly from the packet path.
pub(crate) struct Counters {
    values: [AtomicU64; Counter::ALL.len()],
}

impl Counters {
    /// All counters at zero.
    pub(crate) const fn new() -> Self {
        Self {
            values: [const { AtomicU64::new(0) }; Counter::ALL.len()],
        }
    }

    /// Adds `n` to `c`.
    #[allow(dead_code)]
    pub(crate) fn add(&self, c: Counter, n: u64) {
        self.values[c as usize].fetch_add(n, Ordering::Relaxed);
    }

    /// Adds one to `c`.
    #[allow(dead_code)]
    pub(crate) fn inc(&self, c: Counter) {
        self.add(c, 1);
    }

    /// Returns the current value of `c`.
    #[allow(dead_code)]
    pub(crate) fn get(&self, c: Counter) -> u64 {
        self.values[c as usize].load(Ordering::Relaxed)
    }
}
