// SPDX-License-Identifier: GPL-2.0

//! IPv4 output routes (`struct rtable`).
//!
//! [`RouteV4::output`] looks up the route a locally generated packet of a
//! [`Flow4`] takes, as `ip_route_output_key()` does; the result holds a
//! reference on the route (and so on its device) until dropped or handed to
//! a packet. [`crate::net::skb::SkBuffOwned::ip_local_out`] and
//! [`crate::net::udp_tunnel::UdpTunnel::send`] use it.
//!
//! C header: [`include/net/route.h`](srctree/include/net/route.h)

use crate::{
    bindings,
    error::{from_err_ptr, Result},
    net::namespace::Namespace,
};
use core::ptr::NonNull;

/// IP protocol number of TCP.
pub const IPPROTO_TCP: u8 = bindings::IPPROTO_TCP as u8;
/// IP protocol number of UDP.
pub const IPPROTO_UDP: u8 = bindings::IPPROTO_UDP as u8;
/// IP protocol number of ICMP.
pub const IPPROTO_ICMP: u8 = bindings::IPPROTO_ICMP as u8;

/// What an IPv4 output route is looked up for (the fields of a `flowi4`).
///
/// Addresses are network byte order bytes, ports host order.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Flow4 {
    /// Destination address.
    pub daddr: [u8; 4],
    /// Source address; all zero to let the route choose one. A given source
    /// must be an address of the host (of any device of the namespace),
    /// otherwise the lookup fails with `ENETUNREACH` (`EINVAL` for a
    /// multicast, broadcast or 0.x.x.x source).
    pub saddr: [u8; 4],
    /// IP protocol (for policy routing and `xfrm`), 0 for any.
    pub proto: u8,
    /// Type of service byte of the packet (its DSCP bits select routes).
    pub tos: u8,
    /// Source port, 0 if none.
    pub sport: u16,
    /// Destination port, 0 if none.
    pub dport: u16,
    /// Packet mark for policy routing.
    pub mark: u32,
    /// Output interface to force, 0 for any.
    pub oif: i32,
}

/// A referenced IPv4 output route.
///
/// # Invariants
///
/// `rt` is a valid route on which this object owns one reference; `saddr`
/// is the source address the lookup chose (network byte order bytes).
pub struct RouteV4 {
    rt: NonNull<bindings::rtable>,
    saddr: [u8; 4],
}

impl RouteV4 {
    /// Looks up the output route of `flow` in `net` (`ip_route_output_key`).
    ///
    /// Fails as the stack does: `ENETUNREACH` or `EHOSTUNREACH` without a
    /// route or for a source address that is not local, `EINVAL` for a
    /// source that cannot be one, for example. Any context.
    pub fn output(net: &Namespace, flow: &Flow4) -> Result<Self> {
        // SAFETY: A null socket is allowed.
        unsafe { Self::output_for_sock(net, core::ptr::null(), flow) }
    }

    /// Looks up the output route of `flow` as the socket `sk` sends it
    /// (`ip_route_output_ports`: the socket's mark, bound device, uid and
    /// security label apply; `flow.mark` does not), or without a socket if
    /// `sk` is null.
    ///
    /// # Safety
    ///
    /// `sk` must be null or a valid IPv4 socket of `net`.
    pub(crate) unsafe fn output_for_sock(
        net: &Namespace,
        sk: *const bindings::sock,
        flow: &Flow4,
    ) -> Result<Self> {
        let mut saddr = u32::from_ne_bytes(flow.saddr);
        // SAFETY: `net` is alive (type invariant of `Namespace`), `sk` is null
        // or a socket of `net` (the caller's guarantee), `saddr` a valid
        // location for the chosen source address. The helper returns a
        // referenced route or an `ERR_PTR`.
        let rt = unsafe {
            bindings::handoff_ip_route_output(
                net.as_ptr(),
                sk,
                u32::from_ne_bytes(flow.daddr),
                &mut saddr,
                flow.dport.to_be(),
                flow.sport.to_be(),
                flow.proto,
                flow.tos,
                flow.oif,
                flow.mark,
            )
        };
        let rt = from_err_ptr(rt)?;
        // A successful lookup never returns null; be defensive all the same.
        let rt = NonNull::new(rt).ok_or(crate::error::code::EINVAL)?;
        // INVARIANT: The lookup returned a route with a reference for us.
        Ok(Self {
            rt,
            saddr: saddr.to_ne_bytes(),
        })
    }

    /// Returns the source address the lookup chose (the flow's, if it had
    /// one).
    pub fn saddr(&self) -> [u8; 4] {
        self.saddr
    }

    /// Returns the TTL of packets on this route (`ip4_dst_hoplimit`: the
    /// route's hop limit metric, else `net.ipv4.ip_default_ttl`).
    pub fn hoplimit(&self) -> u8 {
        let dst = self.rt.as_ptr().cast::<bindings::dst_entry>();
        // SAFETY: The route is valid; `dst` is its first member.
        let ttl = unsafe { bindings::ip4_dst_hoplimit(dst) };
        u8::try_from(ttl).unwrap_or(u8::MAX)
    }

    /// Returns the headroom the output device needs in front of the network
    /// header (`LL_RESERVED_SPACE`).
    pub fn ll_reserved_space(&self) -> u32 {
        // SAFETY: The route is valid (type invariant). Its `dst.dev` is set
        // for every output route, and is held by the route (`dst_init` takes
        // a reference; a device that goes away is replaced by the blackhole
        // device, with its own reference); the helper reads two fields of it
        // at once, as the stack's output path does.
        unsafe { bindings::handoff_rt_ll_reserved_space(self.rt.as_ptr()) }
    }

    /// Gives the reference up to C, for a packet (`skb_dst_set`) or a
    /// function that consumes it.
    pub(crate) fn into_raw(self) -> *mut bindings::rtable {
        core::mem::ManuallyDrop::new(self).rt.as_ptr()
    }
}

impl Drop for RouteV4 {
    fn drop(&mut self) {
        // SAFETY: By the type invariant we own one reference on the route.
        unsafe { bindings::ip_rt_put(self.rt.as_ptr()) };
    }
}
