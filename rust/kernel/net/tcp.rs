// SPDX-License-Identifier: GPL-2.0

//! TCP: listener lookup and handing an established connection to a listener.
//!
//! A connection whose handshake was done outside the stack (its SYN answered
//! by a module) is given to the stack the way the syncookie path of
//! `bpf_sk_assign_tcp_reqsk()` does it: a request sock, filled with the
//! negotiated state and marked `syncookie`, is attached to the first data
//! segment (`seq` = client ISN + 1, `ack_seq` = our ISN + 1) as a prefetched
//! socket. When the stack receives that segment, `cookie_v4_check()` turns the
//! request into an established child on the listener's accept queue and
//! queues the segment's data on it. Only exported symbols are used.
//!
//! Only plain TCP listeners get connections this way ([`ListenerKind`]): an
//! MPTCP socket's listener allocates larger request socks of its own, which
//! the syncookie path would expect of ours (`bpf_sk_assign_tcp_reqsk()`
//! refuses it as well).
//!
//! C headers: [`include/net/request_sock.h`](srctree/include/net/request_sock.h),
//! [`include/net/inet_hashtables.h`](srctree/include/net/inet_hashtables.h)

use crate::{
    bindings,
    error::{code, Result},
    net::namespace::Namespace,
    sync::rcu,
};
use core::{marker::PhantomData, ptr::NonNull};

/// The TCP `TCP_LISTEN` state.
const TCP_LISTEN: u8 = bindings::TCP_LISTEN as u8;
/// The TCP `TCP_TIME_WAIT` state.
const TCP_TIME_WAIT: u8 = bindings::TCP_TIME_WAIT as u8;
/// The smallest MSS the stack sends with (`TCP_MIN_SND_MSS`): a client
/// announcing less gets segments of this size, as from the stack.
pub const TCP_MIN_SND_MSS: u16 = 48;

/// Returns the inet hash table of the namespace's TCP sockets.
fn hashinfo(net: &Namespace) -> *mut bindings::inet_hashinfo {
    // SAFETY: `net` is alive; `tcp_death_row.hashinfo` is set when the
    // namespace is created and never changes afterwards.
    unsafe { (*net.as_ptr()).ipv4.tcp_death_row.hashinfo }
}

/// Returns whether the namespace answers the syncookie path at all
/// (`net.ipv4.tcp_syncookies` != 0): the injection depends on it.
pub fn syncookies_enabled(net: &Namespace) -> bool {
    // SAFETY: `net` is alive; the sysctl is an `u8` read with READ_ONCE
    // semantics, as the stack does.
    unsafe {
        core::ptr::read_volatile(core::ptr::addr_of!(
            (*net.as_ptr()).ipv4.sysctl_tcp_syncookies
        )) != 0
    }
}

/// The namespace's TCP option settings, as the stack consults them when it
/// answers a SYN.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OptionSysctls {
    /// `net.ipv4.tcp_sack`.
    pub sack: bool,
    /// `net.ipv4.tcp_timestamps`.
    pub timestamps: bool,
    /// `net.ipv4.tcp_window_scaling`.
    pub window_scaling: bool,
}

/// Returns the namespace's TCP option settings.
pub fn option_sysctls(net: &Namespace) -> OptionSysctls {
    let n = net.as_ptr();
    // SAFETY: `net` is alive; the sysctls are `u8`s read with READ_ONCE
    // semantics, as the stack does.
    unsafe {
        OptionSysctls {
            sack: core::ptr::read_volatile(core::ptr::addr_of!((*n).ipv4.sysctl_tcp_sack)) != 0,
            timestamps: core::ptr::read_volatile(core::ptr::addr_of!(
                (*n).ipv4.sysctl_tcp_timestamps
            )) != 0,
            window_scaling: core::ptr::read_volatile(core::ptr::addr_of!(
                (*n).ipv4.sysctl_tcp_window_scaling
            )) != 0,
        }
    }
}

/// Returns `net.ipv4.tcp_rmem[2]` and `net.core.rmem_max`, the buffer sizes
/// from which the stack derives the window scale it would announce.
pub fn rcv_space_limits(net: &Namespace) -> (u32, u32) {
    // SAFETY: `net` is alive; both are plain integers read with READ_ONCE
    // semantics. `sysctl_rmem_max` is a global of the core.
    unsafe {
        let rmem =
            core::ptr::read_volatile(core::ptr::addr_of!((*net.as_ptr()).ipv4.sysctl_tcp_rmem[2]));
        let max = core::ptr::read_volatile(core::ptr::addr_of!(bindings::sysctl_rmem_max));
        (rmem.max(0) as u32, max.max(0) as u32)
    }
}

/// The TCP timestamp clock in milliseconds (`tcp_clock_ms()`), truncated to
/// 32 bits as TSvals are: an injected socket's TSvals are this plus its
/// `ts_off`.
pub fn tcp_clock_ms() -> u32 {
    // SAFETY: FFI call without requirements.
    unsafe { bindings::tcp_clock_ms() as u32 }
}

/// The TCP sockets in use in `net` (`sock_prot_inuse_get(net, &tcp_prot)`,
/// sockstat's `TCP: inuse`): listeners and connections, not TIME_WAIT.
pub fn sockets_in_use(net: &Namespace) -> u32 {
    // SAFETY: `net` is alive; `tcp_prot` is the kernel's static TCP `proto`,
    // only read (summing per-CPU counters) by the call.
    let n = unsafe {
        bindings::sock_prot_inuse_get(net.as_ptr(), core::ptr::addr_of_mut!(bindings::tcp_prot))
    };
    n.max(0) as u32
}

/// The addresses and ports of a segment as received: `saddr`/`sport` of the
/// client, `daddr`/`dport` local. Addresses and ports in network byte order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Ipv4Tuple {
    /// Client address (network byte order).
    pub saddr: u32,
    /// Local address (network byte order).
    pub daddr: u32,
    /// Client port (network byte order).
    pub sport: u16,
    /// Local port (network byte order).
    pub dport: u16,
}

/// What listens on a port, as far as handing connections to it goes.
pub enum ListenerKind<'g> {
    /// A plain TCP listener: connections may be handed to it.
    Injectable(Listener<'g>),
    /// A listener that must not be given connections this way: the TCP
    /// subflow listener of an MPTCP socket (the syncookie path would treat
    /// the `tcp_request_sock` as the larger `mptcp_subflow_request_sock`
    /// such a listener uses and write past it), or any socket of the TCP
    /// listening hash that is not a `SOCK_STREAM` `IPPROTO_TCP` one. The
    /// stack handles the connections of such a listener itself.
    Other,
    /// Nothing listens (or the listener is being closed).
    None,
}

/// A plain TCP listening socket, valid while the RCU read-side critical
/// section it was found in lasts (listeners are freed after a grace period).
///
/// # Invariants
///
/// `sk` points to a full socket in `TCP_LISTEN` state (at lookup time), of
/// type `SOCK_STREAM` and protocol `IPPROTO_TCP`, not an MPTCP subflow, of
/// the namespace it was looked up in, that stays allocated for `'g`. All but
/// the state are fixed at creation (no socket is made an MPTCP subflow
/// later), so they hold for `'g`: its request socks are `tcp_request_sock`s.
pub struct Listener<'g> {
    sk: NonNull<bindings::sock>,
    _guard: PhantomData<&'g rcu::Guard>,
}

impl<'g> Listener<'g> {
    /// Finds the listener that would accept a connection for `t` arriving on
    /// the device `ifindex` of `net` (the stack's own listener lookup: exact
    /// address before wildcard, IPv6 `[::]` listeners without `IPV6_V6ONLY`
    /// included, reuseport groups by hash), if connections may be handed to
    /// it: `None` for no listener and for an MPTCP (or other) listener alike
    /// (see [`Listener::lookup_any_v4`]).
    pub fn lookup_v4(
        guard: &'g rcu::Guard,
        net: &Namespace,
        t: &Ipv4Tuple,
        ifindex: i32,
    ) -> Option<Self> {
        match Self::lookup_any_v4(guard, net, t, ifindex) {
            ListenerKind::Injectable(l) => Some(l),
            ListenerKind::Other | ListenerKind::None => None,
        }
    }

    /// Like [`Listener::lookup_v4`], but tells a listener that must not be
    /// given connections ([`ListenerKind::Other`], e.g. MPTCP) from no
    /// listener at all.
    pub fn lookup_any_v4(
        _guard: &'g rcu::Guard,
        net: &Namespace,
        t: &Ipv4Tuple,
        ifindex: i32,
    ) -> ListenerKind<'g> {
        // SAFETY: `net` is alive and we are in an RCU read-side critical
        // section (`_guard`), as the lookup requires. A null skb is allowed:
        // reuseport selection then falls back to the hash.
        let sk = unsafe {
            bindings::__inet_lookup_listener(
                net.as_ptr(),
                hashinfo(net),
                core::ptr::null_mut(),
                0,
                t.saddr,
                t.sport,
                t.daddr,
                u16::from_be(t.dport),
                ifindex,
                0,
            )
        };
        let Some(sk) = NonNull::new(sk) else {
            return ListenerKind::None;
        };
        let s = sk.as_ptr();
        // SAFETY: The lookup returned a full socket from the listening hash,
        // alive for the RCU section. The state changes under the socket
        // lock (read once, as the stack does locklessly); the namespace,
        // type and protocol are set at creation.
        let (state, net_ok, ty, proto) = unsafe {
            (
                core::ptr::read_volatile(&(*s).__sk_common.skc_state),
                core::ptr::eq(bindings::sock_net(s), net.as_ptr()),
                (*s).sk_type,
                (*s).sk_protocol,
            )
        };
        if state != TCP_LISTEN || !net_ok {
            return ListenerKind::None;
        }
        if u32::from(ty) != bindings::sock_type_SOCK_STREAM
            || u32::from(proto) != bindings::IPPROTO_TCP
        {
            return ListenerKind::Other;
        }
        // SAFETY: `s` is a full `IPPROTO_TCP` socket, so a `tcp_sock` (or a
        // `tcp6_sock`, which starts with one), as `sk_is_mptcp` reads it.
        if unsafe { bindings::sk_is_mptcp(s) } {
            return ListenerKind::Other;
        }
        // INVARIANT: a listener of `net` found under RCU, in `TCP_LISTEN`,
        // a plain TCP stream socket (checked above).
        ListenerKind::Injectable(Self {
            sk,
            _guard: PhantomData,
        })
    }

    /// Returns whether the accept queue is full: a child created now would
    /// be dropped by the stack.
    pub fn accept_queue_full(&self) -> bool {
        // SAFETY: By the type invariant `sk` is a live socket.
        unsafe { bindings::sk_acceptq_is_full(self.sk.as_ptr()) }
    }

    /// The accept queue's length and limit (`sk_ack_backlog`,
    /// `sk_max_ack_backlog`), read without the socket lock as `ss` does.
    pub fn accept_queue(&self) -> (u32, u32) {
        let s = self.sk.as_ptr();
        // SAFETY: By the type invariant `sk` is a live socket; both fields
        // are plain integers the stack updates with `WRITE_ONCE`.
        unsafe {
            (
                core::ptr::read_volatile(&(*s).sk_ack_backlog),
                core::ptr::read_volatile(&(*s).sk_max_ack_backlog),
            )
        }
    }

    /// Allocates a request sock for this listener carrying `p`, to be
    /// attached to the connection's first data segment.
    pub fn new_request(&self, p: &RequestParams) -> Result<RequestSock<'g>> {
        if p.mss < TCP_MIN_SND_MSS || p.snd_wscale > 14 || p.rcv_wscale > 14 {
            return Err(code::EINVAL);
        }
        // SAFETY: `tcp_prot` is the IPv4 TCP protocol, a static of the core;
        // `rsk_prot` is its request-sock operations (`tcp_request_sock_ops`,
        // not exported by itself). IPv4 segments use them even for an IPv6
        // listener, as the stack does for v4-mapped connections.
        let ops = unsafe { (*core::ptr::addr_of!(bindings::tcp_prot)).rsk_prot };
        // SAFETY: `ops` is valid and `sk` a live listener whose request
        // socks are `tcp_request_sock`s (type invariant: not MPTCP); no
        // listener reference is attached (`false`): the request is handed
        // to the stack within this RCU section, and `rsk_listener` is only
        // set then.
        let req = unsafe { bindings::inet_reqsk_alloc(ops, self.sk.as_ptr(), false) };
        let req = NonNull::new(req).ok_or(code::ENOMEM)?;
        // The request sock is the first member of `inet_request_sock`, which
        // is the first member of `tcp_request_sock`: the same address.
        let treq = req.as_ptr().cast::<bindings::tcp_request_sock>();
        // SAFETY: `req` was just allocated from the TCP request slab (of
        // `tcp_request_sock` size) and initialised by `inet_reqsk_alloc`;
        // nobody else knows it yet.
        unsafe {
            let r = &mut *req.as_ptr();
            r.mss = p.mss;
            r.ts_recent = p.ts_recent;
            r.set_syncookie(1);
            let ireq = &mut (*treq).req;
            ireq.set_snd_wscale(p.snd_wscale.into());
            ireq.set_rcv_wscale(p.rcv_wscale.into());
            ireq.set_wscale_ok(p.wscale_ok.into());
            ireq.set_sack_ok(p.sack_ok.into());
            ireq.set_tstamp_ok(p.tstamp_ok.into());
            ireq.set_ecn_ok(0);
            (*treq).req_usec_ts = false;
            (*treq).ts_off = p.ts_off;
        }
        // INVARIANT: a fresh, filled request sock of this listener.
        Ok(RequestSock {
            req,
            listener: self.sk,
            _guard: PhantomData,
        })
    }
}

/// The state negotiated in a handshake done outside the stack.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RequestParams {
    /// The MSS to use towards the client (the client's, capped by ours).
    pub mss: u16,
    /// Whether both sides sent the window-scale option.
    pub wscale_ok: bool,
    /// The client's window-scale shift (0 without `wscale_ok`).
    pub snd_wscale: u8,
    /// Our window-scale shift, exactly as announced in the SYN-ACK.
    pub rcv_wscale: u8,
    /// Whether SACK was negotiated.
    pub sack_ok: bool,
    /// Whether timestamps were negotiated.
    pub tstamp_ok: bool,
    /// The client's latest TSval (0 without timestamps).
    pub ts_recent: u32,
    /// Offset added to `tcp_clock_ms()` for our TSvals, chosen so that they
    /// continue from the SYN-ACK's (the client's PAWS check never sees
    /// time go back).
    pub ts_off: u32,
}

/// A filled request sock not yet handed to the stack; freed on drop.
///
/// # Invariants
///
/// `req` is a request sock allocated by `inet_reqsk_alloc` for `listener`
/// with a zero refcount and no listener reference, owned by this value.
pub struct RequestSock<'g> {
    req: NonNull<bindings::request_sock>,
    listener: NonNull<bindings::sock>,
    _guard: PhantomData<&'g rcu::Guard>,
}

impl RequestSock<'_> {
    /// Attaches the request to `skb`, the connection's first data segment
    /// (`seq` = client ISN + 1, `ack_seq` = our ISN + 1), as its prefetched
    /// socket: when the stack receives `skb` in this RCU section, it creates
    /// the established child from the request and queues the data on it.
    pub fn attach(self, skb: &mut crate::net::skb::SkBuff) {
        let sk = self.into_prefetched();
        // SAFETY: `sk` is a request sock (not a full socket, so "reference
        // counted" for `set_prefetched_sock`) of the packet's protocol and
        // namespace, owned by nobody else, marked `syncookie`. The packet
        // takes it over: the stack consumes it on reception, and otherwise
        // `sock_pfree` frees a `syncookie` request (it does not `put` it).
        unsafe { skb.set_prefetched_sock(sk.as_ptr()) };
    }

    /// Gives up ownership: returns the request as a socket pointer with
    /// `rsk_listener` set (without a reference, as the syncookie path
    /// expects), to be attached to an skb as its prefetched socket.
    ///
    /// The stack consumes it when it receives that skb in this RCU section;
    /// if the skb is freed instead, its `sock_pfree` destructor frees it.
    fn into_prefetched(self) -> NonNull<bindings::sock> {
        let req = self.req;
        // SAFETY: By the type invariant we own `req`; `listener` is alive
        // for the RCU section, within which the stack uses the request.
        // (`rsk_listener` is `__req_common.skc_listener`, in an anonymous
        // union that bindgen numbers; a renumbering fails to compile.)
        unsafe {
            (*req.as_ptr()).__req_common.__bindgen_anon_5.skc_listener = self.listener.as_ptr()
        };
        core::mem::forget(self);
        req.cast()
    }
}

impl Drop for RequestSock<'_> {
    fn drop(&mut self) {
        // SAFETY: By the type invariant we own the request, its refcount is
        // zero and it holds no listener reference, as `reqsk_free` expects.
        unsafe { bindings::reqsk_free(self.req.as_ptr()) };
    }
}

/// What [`reap_time_wait_v4`] found on the tuple.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EstablishedState {
    /// No socket of the stack holds the tuple.
    None,
    /// A TIME_WAIT socket held it and was removed: a new connection may
    /// use the tuple.
    TimeWaitReaped,
    /// A TIME_WAIT socket holds it and the new SYN is not acceptable for it
    /// (leave the SYN to the stack).
    TimeWait,
    /// An established (or closing) socket of the stack holds it.
    Socket,
}

/// Looks up the stack's socket on `t` (as received: `saddr` = client).
///
/// A TIME_WAIT socket is removed when `reap_tw` says the new SYN is
/// acceptable for it: the stack would recycle it on that SYN, but the SYN
/// never reaches the stack when a module answers it. `reap_tw` gets the
/// TIME_WAIT socket's next expected sequence number (`tw_rcv_nxt`) and its
/// last timestamp (`tw_ts_recent`, if timestamps were on).
pub fn established_v4(
    net: &Namespace,
    t: &Ipv4Tuple,
    ifindex: i32,
    reap_tw: impl FnOnce(u32, Option<u32>) -> bool,
) -> EstablishedState {
    let _guard = rcu::read_lock();
    // SAFETY: `net` is alive and we hold the RCU read lock the lookup needs.
    // A socket is returned with a reference taken.
    let sk = unsafe {
        bindings::__inet_lookup_established(
            net.as_ptr(),
            hashinfo(net),
            t.saddr,
            t.sport,
            t.daddr,
            u16::from_be(t.dport),
            ifindex,
            0,
        )
    };
    let Some(sk) = NonNull::new(sk) else {
        return EstablishedState::None;
    };
    // SAFETY: We hold a reference on `sk`.
    let state = unsafe { core::ptr::read_volatile(&(*sk.as_ptr()).__sk_common.skc_state) };
    if state != TCP_TIME_WAIT {
        // SAFETY: Drops the reference the lookup took.
        unsafe { bindings::sock_gen_put(sk.as_ptr()) };
        return EstablishedState::Socket;
    }
    let tw = sk.as_ptr().cast::<bindings::inet_timewait_sock>();
    let ttw = sk.as_ptr().cast::<bindings::tcp_timewait_sock>();
    // SAFETY: A TIME_WAIT entry of the TCP hash is a `tcp_timewait_sock`
    // (whose first member is the `inet_timewait_sock`), referenced by us.
    let (rcv_nxt, ts) = unsafe {
        let ttw = &*ttw;
        let ts = if ttw.tw_ts_recent_stamp != 0 {
            Some(ttw.tw_ts_recent)
        } else {
            None
        };
        // `tw_rcv_nxt` is `tw_sk.__tw_common.skc_tw_rcv_nxt` (anonymous union).
        (ttw.tw_sk.__tw_common.__bindgen_anon_7.skc_tw_rcv_nxt, ts)
    };
    if reap_tw(rcv_nxt, ts) {
        // SAFETY: We own a reference to the TIME_WAIT socket; this removes
        // it from the hash and its timer and drops our reference.
        unsafe { bindings::inet_twsk_deschedule_put(tw) };
        EstablishedState::TimeWaitReaped
    } else {
        // SAFETY: Drops the reference the lookup took.
        unsafe { bindings::sock_gen_put(sk.as_ptr()) };
        EstablishedState::TimeWait
    }
}
