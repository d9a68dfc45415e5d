// SPDX-License-Identifier: GPL-2.0

//! handoff: every server of a farm its own TCP load balancer.
//!
//! The module answers SYNs for a service address at the NIC ingress hook,
//! keeps half-open connections in its own tables and, once the first request
//! bytes arrive, hands each connection to the local stack or to a peer server.
//! See `Documentation/handoff/design.rst`.
//!
//! Every network namespace is an independent handoff instance: its state is
//! [`netns::HandoffNet`], created and destroyed with the namespace.

use kernel::net::device::Notifier;
use kernel::net::genetlink::Registered;
use kernel::net::namespace::PernetRegistration;
use kernel::prelude::*;

mod config;
mod conntab;
mod expiry;
mod failover;
mod firstdata;
mod forward;
mod handshake;
mod ingress;
mod inject;
mod netlink;
mod netns;
mod origin;
mod peers;
pub mod proto;
mod select;
mod services;
mod stats;
mod sync;
mod syncookie;
mod target;
#[cfg(CONFIG_KUNIT)]
mod tests;
// Hooks devices of the initial namespace and sends packets: only in the
// test build (`HANDOFF_DEBUG=1`), never in a production module.
#[cfg(all(CONFIG_KUNIT, handoff_debug))]
mod tests_net;
#[cfg(CONFIG_KUNIT)]
mod tests_sync;
mod tunnel;
mod uapi;

module! {
    type: Handoff,
    name: "handoff",
    author: "handoff developers",
    description: "TCP connection handoff: every server its own load balancer",
    license: "GPL",
}

struct Handoff {
    // Fields drop in order: the family goes before the state it serves; the
    // device events go last, so that a hooked device can be unregistered
    // (its reference released) until the state's `pre_exit` unhooked all.
    _genl: Registered<netlink::Netlink>,
    _pernet: PernetRegistration<netns::HandoffNet>,
    _devices: Notifier<netns::DeviceEvents>,
}

impl kernel::Module for Handoff {
    fn init(module: &'static ThisModule) -> Result<Self> {
        let pernet = netns::PERNET.register()?;
        let genl = netlink::FAMILY.register(module)?;
        let devices = Notifier::new_global(netns::DeviceEvents)?;
        pr_info!("loaded\n");
        Ok(Handoff {
            _genl: genl,
            _pernet: pernet,
            _devices: devices,
        })
    }
}

impl Drop for Handoff {
    fn drop(&mut self) {
        // `_pernet` is dropped after this: every namespace's state goes with it.
        pr_info!("unloading\n");
    }
}
