// SPDX-License-Identifier: GPL-2.0

//! Netfilter hooks at a device's ingress (`NFPROTO_NETDEV`,
//! `NF_NETDEV_INGRESS`).
//!
//! A [`Registration`] puts an [`IngressHandler`] on one device's ingress
//! hook. The handler sees every packet the device receives, after the packet
//! taps (`tcpdump`) and tc ingress, before the protocol handlers (IP).
//!
//! # Context
//!
//! The handler runs in softirq (BH) context under the RCU read lock: it must
//! not sleep, and should allocate with `GFP_ATOMIC`. Packets are passed as
//! [`Skb`] handles whose verdict must come from the handle itself, so the
//! types make sure that a packet the handler took over ([`Skb::steal`]) is
//! never also handed back to the stack.
//!
//! # Device lifetime
//!
//! In 6.12 the kernel does not remove netdevice-family hooks when their
//! device is unregistered: the entries stay on the dying device (leaked with
//! it), and a later `nf_unregister_net_hook` would reach the device through
//! `nf_hook_ops::dev` after `free_netdev`. nftables
//! removes its netdev chains' hooks from a netdevice notifier on
//! `NETDEV_UNREGISTER` (`nf_tables_netdev_event` in
//! `net/netfilter/nft_chain_filter.c`). The rule here is the same: drop the
//! [`Registration`] from a [`NotifierHandler`] on
//! [`NetdevEvent::Unregister`] for its device. That event is also sent when
//! the device moves to another namespace and when the namespace is
//! dismantled. A registration holds a reference on its device, so one that is
//! kept too long makes the unregistration wait (`unregister_netdevice:
//! waiting for DEV to become free`) rather than leave a dangling hook.
//!
//! [`NotifierHandler`]: crate::net::device::NotifierHandler
//! [`NetdevEvent::Unregister`]: crate::net::device::NetdevEvent::Unregister
//!
//! C header: [`include/linux/netfilter.h`](srctree/include/linux/netfilter.h)

use crate::{
    alloc::{flags::GFP_KERNEL, KBox},
    bindings,
    error::{code::*, to_result, Result},
    ffi::{c_uint, c_ulong, c_void},
    net::{
        device::{NetDevice, Rtnl},
        namespace::Namespace,
        skb::{Invocation, SkBuffOwned, Skb},
    },
    sync::Arc,
    types::{ARef, Opaque},
};
use core::{marker::PhantomData, pin::Pin, ptr};

/// The priority of a hook among the hooks of the same device: lower runs
/// first.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Priority(pub i32);

impl Priority {
    /// Runs before every other hook (as `NF_IP_PRI_FIRST`).
    pub const FIRST: Self = Self(i32::MIN);
    /// The default priority of nftables `filter` chains.
    pub const FILTER: Self = Self(0);
    /// Runs after every other hook (as `NF_IP_PRI_LAST`).
    pub const LAST: Self = Self(i32::MAX);
}

/// What happens to a packet after a hook: the return value of
/// [`IngressHandler::hook`].
///
/// Only made by consuming the invocation's [`Skb`] (or from the [`Stolen`]
/// token of [`Skb::steal`]), so each invocation has exactly one verdict, and
/// "stolen" only for a packet the handler did take over.
pub struct Verdict<'a> {
    raw: c_uint,
    _invocation: Invocation<'a>,
}

impl<'a> Verdict<'a> {
    const fn new(raw: u32) -> Self {
        Self {
            raw,
            _invocation: PhantomData,
        }
    }

    pub(crate) const fn accept() -> Self {
        Self::new(bindings::NF_ACCEPT)
    }

    pub(crate) const fn dropped() -> Self {
        Self::new(bindings::NF_DROP)
    }

    /// Returns whether the packet goes on through the stack (`NF_ACCEPT`).
    pub fn is_accept(&self) -> bool {
        self.raw == bindings::NF_ACCEPT
    }

    /// Returns whether the packet is dropped by netfilter (`NF_DROP`).
    pub fn is_drop(&self) -> bool {
        self.raw == bindings::NF_DROP
    }

    /// Returns whether the handler took the packet over (`NF_STOLEN`).
    pub fn is_stolen(&self) -> bool {
        self.raw == bindings::NF_STOLEN
    }
}

/// Proof that a handler took its packet over (the netfilter verdict
/// `NF_STOLEN`): the stack will not touch the packet again.
///
/// Returned by [`Skb::steal`] together with the owned packet.
pub struct Stolen<'a> {
    _invocation: Invocation<'a>,
}

impl<'a> Stolen<'a> {
    pub(crate) const fn new() -> Self {
        Self {
            _invocation: PhantomData,
        }
    }
}

impl<'a> From<Stolen<'a>> for Verdict<'a> {
    fn from(_: Stolen<'a>) -> Self {
        Self::new(bindings::NF_STOLEN)
    }
}

/// The state of a hook invocation (`struct nf_hook_state`).
///
/// # Invariants
///
/// `state` points to the `nf_hook_state` of the running invocation, valid for
/// `'a`.
pub struct HookState<'a> {
    state: *const bindings::nf_hook_state,
    _invocation: Invocation<'a>,
}

impl<'a> HookState<'a> {
    /// Returns the namespace the packet is processed in.
    pub fn net(&self) -> &'a Namespace {
        // SAFETY: By the type invariant `state` is valid for `'a`; its `net`
        // is the namespace of the receiving device, which cannot be
        // dismantled while a packet is in its receive path (dismantling
        // unregisters the device, which waits for an RCU grace period, and
        // hooks run under the RCU read lock).
        unsafe { Namespace::from_raw((*self.state).net) }
    }

    /// Returns the receiving device.
    pub fn in_dev(&self) -> Option<&'a NetDevice> {
        // SAFETY: By the type invariant `state` is valid for `'a`.
        let dev = unsafe { (*self.state).in_ };
        if dev.is_null() {
            return None;
        }
        // SAFETY: The receiving device is alive during the invocation
        // (unregistering waits for an RCU grace period).
        Some(unsafe { NetDevice::from_raw(dev) })
    }

    /// Returns the hook number (`NF_NETDEV_INGRESS` for ingress hooks).
    pub fn hook(&self) -> u32 {
        // SAFETY: By the type invariant `state` is valid for `'a`.
        u32::from(unsafe { (*self.state).hook })
    }
}

/// A handler of a device's ingress packets.
pub trait IngressHandler: Send + Sync + 'static {
    /// Decides about one packet; see the [module](self) documentation for
    /// the context (softirq, RCU read lock: no sleeping).
    ///
    /// The packet's data starts at its network header (the Ethernet header
    /// has been pulled). The verdict comes from `skb`: [`Skb::accept`],
    /// [`Skb::drop_packet`], [`Skb::drop_with_reason`], [`Skb::consume`], or
    /// [`Skb::steal`] and then the [`Stolen`] token.
    fn hook<'a>(&self, skb: Skb<'a>, state: &HookState<'a>) -> Verdict<'a>;
}

/// The registered state of a [`Registration`]; does not move while
/// registered.
struct Inner<T: IngressHandler> {
    ops: Opaque<bindings::nf_hook_ops>,
    handler: Arc<T>,
    dev: ARef<NetDevice>,
}

/// An ingress hook on one device; unregistered when dropped.
///
/// Dropping may sleep (it waits for running invocations to finish); drop
/// from process context, never from a handler. See the
/// [module](self) documentation for when it must be dropped.
///
/// # Invariants
///
/// `inner.ops` is registered with netfilter on `inner.dev`, with `priv`
/// pointing to `inner`, and `inner.dev` is held (the `ARef`).
pub struct Registration<T: IngressHandler> {
    inner: Pin<KBox<Inner<T>>>,
}

// SAFETY: The registration is only unregistered (dropped) through this
// object; `T` is `Send + Sync`, the device reference may be released from
// any thread.
unsafe impl<T: IngressHandler> Send for Registration<T> {}
// SAFETY: Shared access only reads the handler (`Sync`) and the device.
unsafe impl<T: IngressHandler> Sync for Registration<T> {}

impl<T: IngressHandler> Registration<T> {
    /// Hooks `handler` on the ingress of `dev` in `net`, at `priority`.
    ///
    /// Needs RTNL (the [`Rtnl`] proof), so that the device's unregistration cannot slip
    /// between the checks and the registration: `dev` must be registered and
    /// in `net`, otherwise `ENODEV`. The [`NetdevEvent::Unregister`] event
    /// for `dev` that a notifier of `net` will see is then the moment to drop
    /// the registration.
    ///
    /// [`NetdevEvent::Unregister`]: crate::net::device::NetdevEvent::Unregister
    pub fn new(
        _rtnl: &Rtnl,
        net: &Namespace,
        dev: &NetDevice,
        priority: Priority,
        handler: Arc<T>,
    ) -> Result<Self> {
        if !dev.is_registered() || !dev.net_eq(net) {
            return Err(ENODEV);
        }
        // SAFETY: All-zero is a valid `nf_hook_ops` (no callback, no device,
        // `NF_HOOK_OP_UNDEFINED`); the fields that matter are set below.
        let mut ops: bindings::nf_hook_ops = unsafe { core::mem::zeroed() };
        ops.hook = Some(Self::hook_callback);
        ops.dev = dev.as_ptr();
        ops.pf = bindings::NFPROTO_NETDEV as u8;
        ops.hooknum = bindings::nf_dev_hooks_NF_NETDEV_INGRESS;
        ops.priority = priority.0;
        let inner = KBox::pin(
            Inner {
                ops: Opaque::new(ops),
                handler,
                dev: dev.into(),
            },
            GFP_KERNEL,
        )?;
        let ops = inner.ops.get();
        // SAFETY: `ops` is not registered yet, so nothing else accesses it;
        // `priv` is the address of the pinned `Inner`, which stays put and
        // outlives the registration.
        unsafe { (*ops).priv_ = (&*inner as *const Inner<T>).cast_mut().cast::<c_void>() };
        // SAFETY: `ops` is a valid hook for `dev`, which is in `net` (checked
        // above; RTNL keeps it there) and held by `inner.dev`. It does not
        // move and stays valid until unregistered in `drop`.
        to_result(unsafe { bindings::nf_register_net_hook(net.as_ptr(), ops) })?;
        // INVARIANT: Registered just above, `priv` set, `dev` held.
        Ok(Self { inner })
    }

    /// Returns the hooked device.
    pub fn dev(&self) -> &NetDevice {
        &self.inner.dev
    }

    /// Returns the handler.
    pub fn handler(&self) -> &Arc<T> {
        &self.inner.handler
    }

    /// The `nf_hookfn` of every registration of `T`.
    ///
    /// # Safety
    ///
    /// Only for netfilter to call, for a hook registered by
    /// [`Registration::new`]: `priv_` is the registration's `Inner<T>`,
    /// `skb` the packet it lends for the invocation, `state` its state.
    unsafe extern "C" fn hook_callback(
        priv_: *mut c_void,
        skb: *mut bindings::sk_buff,
        state: *const bindings::nf_hook_state,
    ) -> c_uint {
        // SAFETY: `priv` is the `Inner<T>` this hook was registered with
        // (type invariant of `Registration`); it is freed only after the
        // hook is unregistered and an RCU grace period has passed, and
        // invocations run under the RCU read lock.
        let inner = unsafe { &*priv_.cast::<Inner<T>>() };
        // SAFETY: Netfilter passes the packet it owns for the duration of
        // the invocation, and takes it back or not according to the
        // verdict, which only the `Skb` can produce.
        let skb = unsafe { Skb::from_raw(skb) };
        // INVARIANT: `state` is the invocation's state, valid during it.
        let state = HookState {
            state,
            _invocation: PhantomData,
        };
        inner.handler.hook(skb, &state).raw
    }
}

impl<T: IngressHandler> Registration<T> {
    /// Unregisters the hook without waiting for the invocations that may
    /// still run: the returned [`Unhooked`] keeps what they use until it is
    /// dropped, which waits for them only if no RCU grace period has passed
    /// since. Unhooking many hooks and dropping them after one grace period
    /// (a namespace's `exit` follows its `pre_exit` by one) costs one wait
    /// for all, not one each.
    pub fn unregister(self) -> Unhooked<T> {
        let this = core::mem::ManuallyDrop::new(self);
        // SAFETY: `this` is never used or dropped again: its `inner` is
        // moved out exactly once.
        let inner = unsafe { ptr::read(&this.inner) };
        Self::unhook(&inner);
        // INVARIANT: Unregistered just now; invocations still running began
        // before the state taken here.
        Unhooked {
            // SAFETY: FFI call without preconditions.
            since: unsafe { bindings::get_state_synchronize_rcu() },
            inner,
        }
    }

    /// Unregisters the hook of `inner`.
    fn unhook(inner: &Inner<T>) {
        let dev = &inner.dev;
        // SAFETY: By the type invariant of the registration `inner` came
        // from, `ops` is registered on `dev`, which is alive (held), and is
        // unregistered only here, once. `dev_net` is the namespace the hook
        // lives in, even if the device moved since (netfilter finds the
        // hooks of a netdevice hook through the device).
        unsafe {
            bindings::nf_unregister_net_hook(bindings::dev_net(dev.as_ptr()), inner.ops.get())
        };
    }
}

impl<T: IngressHandler> Drop for Registration<T> {
    fn drop(&mut self) {
        Self::unhook(&self.inner);
        // Invocations that started before the unregistration may still be
        // running with `priv` pointing to `inner`; they end within a grace
        // period. Expedited when RTNL is held (device unregistration).
        // SAFETY: FFI call; process context is documented for `drop`.
        unsafe { bindings::synchronize_net() };
    }
}

/// An unregistered hook whose last invocations may still be running
/// ([`Registration::unregister`]): its handler and device reference stay
/// until it is dropped.
///
/// Dropping may sleep (process context): it waits for an RCU grace period
/// unless one has passed since the unregistration (`cond_synchronize_rcu`).
///
/// # Invariants
///
/// `inner.ops` is no longer registered; invocations of it that may still
/// run began before the RCU state `since` was taken.
pub struct Unhooked<T: IngressHandler> {
    inner: Pin<KBox<Inner<T>>>,
    since: c_ulong,
}

// SAFETY: As for `Registration`: only dropped through this object, `T` is
// `Send + Sync`, the device reference may be released from any thread.
unsafe impl<T: IngressHandler> Send for Unhooked<T> {}
// SAFETY: Shared access reads nothing.
unsafe impl<T: IngressHandler> Sync for Unhooked<T> {}

impl<T: IngressHandler> Unhooked<T> {
    /// The device the hook was on.
    pub fn dev(&self) -> &NetDevice {
        &self.inner.dev
    }
}

impl<T: IngressHandler> Drop for Unhooked<T> {
    fn drop(&mut self) {
        // The invocations began before `since` (type invariant): they are
        // over once a grace period after it has ended; `inner` is freed
        // after this returns.
        // SAFETY: FFI call; process context is documented for `drop`.
        unsafe { bindings::cond_synchronize_rcu(self.since) };
    }
}

impl<'a> Skb<'a> {
    /// Lets the packet go on through the stack (`NF_ACCEPT`).
    pub fn accept(self) -> Verdict<'a> {
        Verdict::accept()
    }

    /// Drops the packet (`NF_DROP`, reported as dropped by netfilter).
    pub fn drop_packet(self) -> Verdict<'a> {
        Verdict::dropped()
    }

    /// Drops the packet, reporting `reason` to drop monitors.
    pub fn drop_with_reason(self, reason: crate::net::skb::DropReason) -> Verdict<'a> {
        let (skb, stolen) = self.steal();
        skb.drop_with_reason(reason);
        stolen.into()
    }

    /// Frees the packet as consumed, not dropped: the handler answered it.
    pub fn consume(self) -> Verdict<'a> {
        let (skb, stolen) = self.steal();
        skb.consume();
        stolen.into()
    }

    /// Takes the packet over: the stack forgets it (`NF_STOLEN`), the handler
    /// owns it (to transmit, queue or free). Return the [`Stolen`] token as
    /// the verdict.
    pub fn steal(self) -> (SkBuffOwned, Stolen<'a>) {
        // SAFETY: Consuming `self` proves that this invocation's verdict
        // will be the `Stolen` returned with it (no other verdict can be
        // made), so the stack will not use the packet again.
        let skb = unsafe { SkBuffOwned::from_raw(self.into_raw()) };
        (skb, Stolen::new())
    }
}
