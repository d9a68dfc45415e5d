// SPDX-License-Identifier: GPL-2.0

//! The services as the packet path sees them: an immutable snapshot of the
//! configuration, published with RCU after every change.

use crate::config::{Config, IpAddr, MAX_IFACES};
use crate::proto::cookie;
use crate::stats::{Counter, Counters};
use kernel::prelude::*;
use kernel::sync::Arc;

/// One service, as the ingress hook matches it.
pub(crate) struct ServiceRt {
    /// The VIP, IPv4 v4-mapped.
    pub(crate) addr: [u8; 16],
    /// The TCP port.
    pub(crate) port: u16,
    ifaces: [u32; MAX_IFACES],
    n_ifaces: usize,
    /// Lifetime of a temporary entry without request bytes (ms).
    pub(crate) syn_timeout_ms: u32,
    /// Idle timeout (ms).
    pub(crate) idle_timeout_ms: u32,
    /// At most this many of its connections in the temporary table.
    max_temporary: u32,
    /// The service's counters (the configuration's: they outlive a change
    /// of the service's settings).
    pub(crate) counters: Arc<Counters>,
}

/// A service's temporary-table entry, counted against the service's limit
/// for as long as it exists (it lives in the entry).
pub(crate) struct TemporarySlot(Arc<Counters>);

impl Drop for TemporarySlot {
    fn drop(&mut self) {
        self.0.gauge_dec(Counter::TemporaryEntries);
    }
}

impl ServiceRt {
    /// Whether the service is reached on the device `ifindex`.
    fn on(&self, ifindex: i32) -> bool {
        let ifaces = self.ifaces.get(..self.n_ifaces).unwrap_or(&[]);
        ifaces.is_empty() || ifaces.iter().any(|&i| i as i32 == ifindex)
    }

    /// Counts a new temporary entry of the service; `None` if the service
    /// has its maximum already.
    pub(crate) fn reserve_temporary(&self) -> Option<TemporarySlot> {
        self.counters
            .gauge_inc_below(Counter::TemporaryEntries, u64::from(self.max_temporary))
            .then(|| TemporarySlot(self.counters.clone()))
    }
}

/// The published services of an instance.
pub(crate) struct ServiceSet {
    list: KVec<ServiceRt>,
}

impl ServiceSet {
    /// The snapshot of `cfg`.
    pub(crate) fn of(cfg: &Config) -> Result<Self> {
        let mut list = KVec::with_capacity(cfg.services().len(), GFP_KERNEL)?;
        for (i, s) in cfg.services().iter().enumerate() {
            let addr = match s.key.addr {
                IpAddr::V4(a) => cookie::v4_mapped(a),
                IpAddr::V6(a) => a,
            };
            let mut ifaces = [0u32; MAX_IFACES];
            let n = s.ifaces().len().min(MAX_IFACES);
            ifaces[..n].copy_from_slice(&s.ifaces()[..n]);
            list.push(
                ServiceRt {
                    addr,
                    port: s.key.port,
                    ifaces,
                    n_ifaces: n,
                    syn_timeout_ms: s.syn_timeout,
                    idle_timeout_ms: s.idle_timeout,
                    max_temporary: s.max_temporary,
                    counters: cfg.service_counters_arc(i).ok_or(EINVAL)?.clone(),
                },
                GFP_KERNEL,
            )?;
        }
        Ok(Self { list })
    }

    /// The service for a segment to `addr:port` received on `ifindex`.
    pub(crate) fn find(&self, addr: &[u8; 16], port: u16, ifindex: i32) -> Option<&ServiceRt> {
        self.list
            .iter()
            .find(|s| s.port == port && s.addr == *addr && s.on(ifindex))
    }

    /// The devices the services are hooked on; `None` in the list's place
    /// means "every device" (a service without interfaces).
    pub(crate) fn ifindexes(&self, out: &mut KVec<i32>) -> Result<bool> {
        let mut all = false;
        for s in self.list.iter() {
            let ifaces = s.ifaces.get(..s.n_ifaces).unwrap_or(&[]);
            all |= ifaces.is_empty();
            for &i in ifaces {
                if !out.contains(&(i as i32)) {
                    out.push(i as i32, GFP_KERNEL)?;
                }
            }
        }
        Ok(all)
    }
}
