// SPDX-License-Identifier: GPL-2.0

//! The services as the packet path sees them: an immutable snapshot of the
//! configuration, published with RCU after every change.

use crate::config::{Config, IpAddr, MAX_IFACES};
use crate::proto::cookie;
use kernel::prelude::*;

/// One service, as the ingress hook matches it.
#[derive(Clone, Copy)]
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
}

impl ServiceRt {
    /// Whether the service is reached on the device `ifindex`.
    fn on(&self, ifindex: i32) -> bool {
        let ifaces = self.ifaces.get(..self.n_ifaces).unwrap_or(&[]);
        ifaces.is_empty() || ifaces.iter().any(|&i| i as i32 == ifindex)
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
        for s in cfg.services() {
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
