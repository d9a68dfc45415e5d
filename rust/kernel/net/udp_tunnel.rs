// SPDX-License-Identifier: GPL-2.0

//! UDP tunnels over IPv4: a kernel UDP socket whose datagrams go to a Rust
//! handler, and which sends packets as UDP datagrams.
//!
//! A [`UdpTunnel`] is a kernel socket (`udp_sock_create4`) bound to a local
//! address and port and set up as an encapsulation socket
//! (`setup_udp_tunnel_sock`), as VXLAN, Geneve and fou do: the UDP layer
//! hands every datagram for it to the socket's `encap_rcv` callback instead
//! of queueing it, and this module's callback passes it to the
//! [`UdpTunnelHandler`], which owns it from there. [`UdpTunnel::send`] puts a
//! payload in a UDP datagram from the socket's address and port
//! (`udp_tunnel_xmit_skb`).
//!
//! # Namespace lifetime
//!
//! A kernel socket holds no reference on its network namespace (one would
//! keep the namespace from ever being dismantled), so a tunnel must be
//! dropped before its namespace is: [`UdpTunnel::new`] takes the namespace
//! that lives forever (`init_net`), [`UdpTunnel::new_unchecked`] any other,
//! for example from the namespace's [`Pernet`] state, which is dropped
//! before the namespace is freed.
//!
//! [`Pernet`]: crate::net::namespace::Pernet
//!
//! C header: [`include/net/udp_tunnel.h`](srctree/include/net/udp_tunnel.h)

use crate::{
    alloc::{flags::GFP_KERNEL, KBox},
    bindings,
    error::{code::*, to_result, Result},
    ffi::c_int,
    net::{
        namespace::Namespace,
        route::{Flow4, RouteV4, IPPROTO_UDP},
        skb::{DropReason, SkBuffOwned},
    },
    sync::Arc,
};
use core::ptr::NonNull;

/// The `encap_type` of the socket. Any value but 0 sends datagrams to
/// `encap_rcv`; VXLAN and Geneve use 1 as well (the value only has a meaning
/// to the IPsec NAT-traversal code, which is not involved: the socket's
/// `encap_rcv` is ours).
const ENCAP_TYPE: u8 = 1;

/// The "don't fragment" flag of the IPv4 header's fragment field.
const IP_DF: u16 = 0x4000;

/// Length of a UDP header.
const UDP_HLEN: usize = 8;

/// Length of the IPv4 header of a tunnel packet (no options).
const IPV4_HLEN: u32 = 20;

/// An IPv4 socket address.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SockAddrV4 {
    /// The address, in network byte order (`[127, 0, 0, 1]`).
    pub addr: [u8; 4],
    /// The port, in host byte order.
    pub port: u16,
}

/// The receiver of a tunnel's datagrams.
pub trait UdpTunnelHandler: Send + Sync + 'static {
    /// Called for every datagram the tunnel's socket receives, from the
    /// socket's `encap_rcv`: in softirq context (or with BHs disabled),
    /// with the RCU read lock held by the receive path. It must not sleep.
    ///
    /// `skb`'s data is the UDP payload: the UDP header has been pulled (with
    /// its bytes taken out of a `CHECKSUM_COMPLETE` value), the outer IPv4
    /// header is still the network header. The UDP checksum, if the sender
    /// set one, has been verified. `from` is the datagram's source; `net`
    /// the tunnel's namespace.
    ///
    /// The handler owns the packet: it is freed when dropped, or handed on
    /// (for example with [`SkBuffOwned::receive_ip`] after stripping the
    /// handler's own header with [`SkBuffOwned::pull_rcsum`]).
    fn recv(&self, net: &Namespace, skb: SkBuffOwned, from: SockAddrV4);
}

/// What the socket's `sk_user_data` points to.
///
/// Aligned to 8: the core uses the three low bits of `sk_user_data` as
/// flags (`SK_USER_DATA_PTRMASK`).
#[repr(C, align(8))]
struct UserData<T> {
    handler: Arc<T>,
}

/// A kernel UDP socket over IPv4 whose datagrams go to a handler `T`;
/// closed when dropped.
///
/// Dropping may sleep (it waits for running receive callbacks): drop in
/// process context, not from the handler.
///
/// # Invariants
///
/// - `sock` is a kernel UDP socket of the namespace `net` created by
///   `udp_sock_create4`, owned by this object, set up as an encapsulation
///   socket whose `encap_rcv` is [`UdpTunnel::encap_rcv`] and whose
///   `sk_user_data` is `user` (until `drop`); `sk` is its `sock`.
/// - `user` comes from [`KBox::into_raw`] and is owned by this object; it is
///   only used through shared references until `drop`.
/// - `net` stays alive until this object is dropped.
/// - `local` is the address and port `sock` is bound to.
pub struct UdpTunnel<T: UdpTunnelHandler> {
    sock: NonNull<bindings::socket>,
    sk: NonNull<bindings::sock>,
    user: NonNull<UserData<T>>,
    net: NonNull<bindings::net>,
    local: SockAddrV4,
}

// SAFETY: The socket may be used and released from any thread (the kernel
// does); the handler is `Send + Sync`.
unsafe impl<T: UdpTunnelHandler> Send for UdpTunnel<T> {}
// SAFETY: Shared access only sends on the socket, which the kernel allows
// concurrently, and reads fields that do not change.
unsafe impl<T: UdpTunnelHandler> Sync for UdpTunnel<T> {}

/// BHs disabled (and the RCU read lock held) until dropped.
struct BhGuard(());

impl BhGuard {
    fn new() -> Self {
        // SAFETY: FFI call; balanced by `drop`.
        unsafe { bindings::rcu_read_lock_bh() };
        Self(())
    }
}

impl Drop for BhGuard {
    fn drop(&mut self) {
        // SAFETY: `new` took the lock in this context.
        unsafe { bindings::rcu_read_unlock_bh() };
    }
}

impl<T: UdpTunnelHandler> UdpTunnel<T> {
    /// Opens a tunnel socket in `net`, a namespace that is never dismantled
    /// ([`init_net`]), bound to `local`, delivering to `handler`.
    ///
    /// See [`UdpTunnel::new_unchecked`].
    ///
    /// [`init_net`]: crate::net::device::init_net
    pub fn new(net: &'static Namespace, local: SockAddrV4, handler: Arc<T>) -> Result<Self> {
        // SAFETY: `net` lives forever.
        unsafe { Self::new_unchecked(net, local, handler) }
    }

    /// Opens a tunnel socket in `net` bound to `local`, delivering to
    /// `handler`. Process context: may sleep.
    ///
    /// An address of 0.0.0.0 receives on every local address (and lets
    /// routing choose the source of sent datagrams); a port of 0 binds an
    /// ephemeral port ([`UdpTunnel::local`] tells which). Fails as `bind`
    /// does: `EADDRINUSE`, `EADDRNOTAVAIL` for an address that is not local.
    ///
    /// # Safety
    ///
    /// `net` must stay alive until the returned tunnel is dropped (the
    /// socket does not hold it). State of a namespace kept in its [`Pernet`]
    /// data satisfies this: it is dropped in the namespace's `exit`, before
    /// the namespace is freed.
    ///
    /// [`Pernet`]: crate::net::namespace::Pernet
    pub unsafe fn new_unchecked(
        net: &Namespace,
        local: SockAddrV4,
        handler: Arc<T>,
    ) -> Result<Self> {
        let user = KBox::new(UserData { handler }, GFP_KERNEL)?;
        let mut sock: *mut bindings::socket = core::ptr::null_mut();
        // SAFETY: `net` is alive; `sock` is a valid location for the result.
        to_result(unsafe {
            bindings::handoff_udp_sock_create4(
                net.as_ptr(),
                u32::from_ne_bytes(local.addr),
                local.port.to_be(),
                &mut sock,
            )
        })?;
        let sock = NonNull::new(sock).ok_or(EINVAL)?;
        // SAFETY: `udp_sock_create4` succeeded: `sock` is a socket with its
        // `sock`.
        let sk = unsafe { bindings::handoff_socket_sk(sock.as_ptr()) };
        let Some(sk) = NonNull::new(sk) else {
            // SAFETY: The socket is ours and not set up as a tunnel.
            unsafe { bindings::udp_tunnel_sock_release(sock.as_ptr()) };
            return Err(EINVAL);
        };
        let (mut addr, mut port) = (0u32, 0u16);
        // SAFETY: `sk` is a bound IPv4 socket; both locations are valid.
        unsafe { bindings::handoff_sock_local_v4(sk.as_ptr(), &mut addr, &mut port) };
        let user = KBox::into_raw(user);
        // SAFETY: `sock` is a UDP socket of `net`, not yet a tunnel socket.
        // `user` is 8-byte aligned (so none of the flag bits of
        // `sk_user_data` is set) and stays valid until `drop` has closed
        // the socket and waited for the callbacks that may still see it.
        // `encap_rcv` matches `udp_tunnel_encap_rcv_t` and finds `user`
        // there.
        unsafe {
            bindings::handoff_setup_udp_tunnel_sock(
                net.as_ptr(),
                sock.as_ptr(),
                user.cast(),
                ENCAP_TYPE,
                Some(Self::encap_rcv),
            )
        };
        // INVARIANT: The socket was created in `net`, bound to
        // `addr:port` and set up with `encap_rcv` and `user` just above;
        // the caller keeps `net` alive.
        Ok(Self {
            sock,
            sk,
            // SAFETY: `KBox::into_raw` never returns null.
            user: unsafe { NonNull::new_unchecked(user) },
            net: NonNull::from(net).cast(),
            local: SockAddrV4 {
                addr: addr.to_ne_bytes(),
                port: u16::from_be(port),
            },
        })
    }

    /// Returns the namespace of the socket.
    pub fn net(&self) -> &Namespace {
        // SAFETY: `net` stays alive until `self` is dropped (type
        // invariant), so for the borrow of `self`.
        unsafe { Namespace::from_raw(self.net.as_ptr()) }
    }

    /// Returns the address and port the socket is bound to.
    pub fn local(&self) -> SockAddrV4 {
        self.local
    }

    /// Returns the handler.
    pub fn handler(&self) -> &Arc<T> {
        // SAFETY: `user` is valid until `drop` and only shared (type
        // invariant).
        unsafe { &(*self.user.as_ptr()).handler }
    }

    /// Sends `skb`, whose data is the payload, to `dst` in a UDP datagram
    /// from the socket's address and port, with a UDP checksum, and `DF`
    /// set in the IPv4 header if `df`. Softirq or process context.
    ///
    /// The route is looked up as the socket's (`ip_route_output_ports`);
    /// the TTL is the route's (`ip4_dst_hoplimit`). A checksum the payload
    /// left to the device (`CHECKSUM_PARTIAL`) is completed first
    /// ([`crate::net::skb::SkBuff::checksum_help`]): the device only
    /// computes the outer one. The packet goes through the IP output path
    /// (netfilter `OUTPUT` and `POSTROUTING`) as a packet of the socket; it
    /// loses its device, route, conntrack state and a prefetched socket.
    ///
    /// Consumes the packet in every case. `EINVAL` if `net` is not the
    /// tunnel's namespace or the packet is GSO (segment it first with
    /// [`SkBuffOwned::gso_segment`]), routing errors (`ENETUNREACH`,
    /// `EHOSTUNREACH`, ...), `ENOMEM`. Failures after routing (a full
    /// queue, a netfilter drop) are not reported.
    pub fn send(&self, net: &Namespace, mut skb: SkBuffOwned, dst: SockAddrV4, df: bool) -> Result {
        if net.as_ptr() != self.net.as_ptr() || skb.is_gso() {
            return Err(EINVAL);
        }
        skb.checksum_help()?;
        let flow = Flow4 {
            daddr: dst.addr,
            saddr: self.local.addr,
            proto: IPPROTO_UDP,
            sport: self.local.port,
            dport: dst.port,
            ..Flow4::default()
        };
        // SAFETY: `sk` is the socket of `self`, an IPv4 socket of `net`
        // (checked above), valid while `self` is.
        let rt = unsafe { RouteV4::output_for_sock(net, self.sk.as_ptr(), &flow)? };
        // The tunnel transmission path runs with BHs disabled (it uses a
        // per-CPU recursion counter), as it does in a device's `xmit`.
        let _bh = BhGuard::new();
        let headroom = rt
            .ll_reserved_space()
            .saturating_add(IPV4_HLEN + UDP_HLEN as u32);
        skb.ensure_headroom(headroom)?;
        let p = skb.as_ptr();
        if skb.sk_is_prefetched() {
            // SAFETY: The packet is ours; a prefetched socket belongs to a
            // receive path, not to this packet's way out.
            unsafe { bindings::skb_orphan(p) };
        }
        // SAFETY: The packet is ours. Without a device it is accounted as
        // the socket's (the tunnel path would count it on `skb->dev`'s
        // statistics). It is not GSO and its checksum is complete
        // (`checksum_help` above), so this only resets the checksum state
        // for the outer UDP checksum.
        to_result(unsafe {
            bindings::handoff_skb_set_dev(p, core::ptr::null_mut());
            bindings::udp_tunnel_handle_offloads(p, true)
        })?;
        let ttl = rt.hoplimit();
        let saddr = rt.saddr();
        let df = if df { IP_DF.to_be() } else { 0 };
        // SAFETY: The route and the packet references go to
        // `udp_tunnel_xmit_skb`, which consumes both; the packet has the
        // headroom for the link-layer, IPv4 and UDP headers, and the socket
        // is ours and valid. BHs are disabled (above).
        unsafe {
            bindings::udp_tunnel_xmit_skb(
                rt.into_raw(),
                self.sk.as_ptr(),
                skb.into_raw(),
                u32::from_ne_bytes(saddr),
                u32::from_ne_bytes(dst.addr),
                0,
                ttl,
                df,
                self.local.port.to_be(),
                dst.port.to_be(),
                false,
                false,
            )
        };
        Ok(())
    }

    /// The socket's `encap_rcv`: hands the datagram to the handler.
    ///
    /// `udp_queue_rcv_one_skb()` (`net/ipv4/udp.c` of 6.12) verifies the
    /// UDP checksum (`udp_lib_checksum_complete`) before calling
    /// `encap_rcv`, and drops the datagram if it is wrong: the handler only
    /// sees datagrams with a good (or no) checksum. The return value 0
    /// tells the UDP layer that the datagram was consumed.
    ///
    /// # Safety
    ///
    /// Only for the UDP layer to call, for a socket set up by
    /// [`UdpTunnel::new_unchecked`], in its receive path (RCU read lock
    /// held, BHs disabled), with a datagram it gives away whose data starts
    /// at the UDP header.
    unsafe extern "C" fn encap_rcv(sk: *mut bindings::sock, skb: *mut bindings::sk_buff) -> c_int {
        // SAFETY: The UDP layer gives the packet away (we return 0); its
        // device is alive during the receive path, where the packet stays.
        let mut skb = unsafe { SkBuffOwned::from_raw(skb) };
        // SAFETY: `sk` is our socket, valid during the call (UDP sockets are
        // freed after a grace period, and we are in a read-side section).
        let user = unsafe { bindings::rcu_dereference_sk_user_data(sk) };
        let user = user.cast::<UserData<T>>();
        if user.is_null() {
            // The tunnel is closing.
            skb.drop_with_reason(DropReason::NO_SOCKET);
            return 0;
        }
        // The UDP layer made the UDP header linear; the IPv4 header is the
        // network header.
        let sport: Option<[u8; 2]> = skb.data().get(..2).and_then(|p| p.try_into().ok());
        let saddr: Option<[u8; 4]> = skb
            .network_data()
            .get(12..16)
            .and_then(|a| a.try_into().ok());
        let (Some(sport), Some(addr)) = (sport, saddr) else {
            skb.drop_with_reason(DropReason::PKT_TOO_SMALL);
            return 0;
        };
        if skb.pull_rcsum(UDP_HLEN).is_err() {
            skb.drop_with_reason(DropReason::PKT_TOO_SMALL);
            return 0;
        }
        // SAFETY: A non-null `sk_user_data` is the `UserData<T>` the tunnel
        // set (this function is only `encap_rcv` of sockets of
        // `UdpTunnel<T>`). `drop` clears it and waits for a grace period
        // before freeing it; we are in a read-side section that began
        // before that, or saw the pointer still set.
        let handler = unsafe { &(*user).handler };
        // SAFETY: The socket's namespace is alive while the tunnel exists
        // (type invariant of `UdpTunnel`), which it does while its user data
        // is reachable (above).
        let net = unsafe { Namespace::from_raw(bindings::sock_net(sk)) };
        let port = u16::from_be_bytes(sport);
        handler.recv(net, skb, SockAddrV4 { addr, port });
        0
    }
}

impl<T: UdpTunnelHandler> Drop for UdpTunnel<T> {
    fn drop(&mut self) {
        // SAFETY: By the type invariant the socket is ours. Process context
        // is documented for `drop`. `udp_tunnel_sock_release` clears
        // `sk_user_data`, waits for a grace period (`synchronize_rcu`: every
        // `encap_rcv` that could still see `user` has returned, later ones
        // see null and drop their packet) and then shuts the socket down
        // and releases it.
        unsafe { bindings::udp_tunnel_sock_release(self.sock.as_ptr()) };
        // SAFETY: `user` came from `KBox::into_raw` (type invariant) and no
        // callback can reach it any more (above). The module's code of
        // `encap_rcv` may still be entered for an instant by a receiver that
        // found the socket before it was unhashed; it only reads the null
        // `sk_user_data`, and module unloading waits for a grace period
        // after the module's exit before freeing the code.
        drop(unsafe { KBox::from_raw(self.user.as_ptr()) });
    }
}
