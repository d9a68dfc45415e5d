// SPDX-License-Identifier: GPL-2.0

//! Network namespaces and per-namespace state.
//!
//! A subsystem that keeps state in every network namespace registers
//! `pernet_operations` with a `size`: the core then allocates (zeroed) and
//! frees that state for every namespace, calling `init` and `exit` around it.
//! [`Pernet`] wraps that: the state is a Rust type implementing
//! [`PernetData`], initialised in place and dropped in place.
//!
//! C header: [`include/net/net_namespace.h`](srctree/include/net/net_namespace.h)

use crate::{
    bindings,
    error::{to_result, Error, Result},
    ffi::{c_int, c_uint},
    init::PinInit,
    net::device::Rtnl,
    types::Opaque,
};
use core::{
    marker::PhantomData,
    sync::atomic::{AtomicBool, Ordering},
};

/// A network namespace (`struct net`).
///
/// # Invariants
///
/// The wrapped `struct net` is alive (not yet freed) for the lifetime of the
/// reference through which it is used.
#[repr(transparent)]
pub struct Namespace(Opaque<bindings::net>);

impl Namespace {
    /// Creates a reference to a namespace from its raw pointer.
    ///
    /// # Safety
    ///
    /// `ptr` must point to a `struct net` that stays alive for `'a`.
    pub unsafe fn from_raw<'a>(ptr: *const bindings::net) -> &'a Self {
        // SAFETY: `Namespace` is `repr(transparent)` over the C struct, and
        // the caller guarantees it lives for `'a`.
        unsafe { &*ptr.cast() }
    }

    /// Returns the raw pointer, for C calls.
    pub fn as_ptr(&self) -> *mut bindings::net {
        self.0.get()
    }

    /// Returns the namespace's inode number (what `ip netns identify` and
    /// `/proc/PID/ns/net` show), a stable name for log messages.
    pub fn inum(&self) -> u32 {
        // SAFETY: By the type invariant the namespace is alive; `ns.inum` is
        // set at creation and never changes.
        unsafe { (*self.as_ptr()).ns.inum }
    }

    /// Returns whether the namespace is alive (`check_net()`): false once its
    /// last reference is gone. Its dismantling may then still be queued, with
    /// per-namespace state intact (see [`Pernet::get_rtnl`]).
    pub fn is_alive(&self) -> bool {
        // SAFETY: The namespace's memory is valid (type invariant).
        unsafe { bindings::check_net(self.as_ptr()) }
    }
}

/// A namespace, for state that the namespace's own pernet data owns and
/// that runs without a caller handing it the namespace (a timer of the
/// instance): no reference is held (it would keep the namespace alive for
/// ever), so the owner's lifetime is what keeps it valid.
///
/// # Invariants
///
/// `net` points to a `struct net` that is alive for as long as this value
/// exists (the creator's guarantee, see [`NetOwned::new`]).
pub struct NetOwned {
    net: core::ptr::NonNull<bindings::net>,
}

// SAFETY: The namespace is alive while the value exists (type invariant),
// and a shared `&Namespace` may be used from any CPU.
unsafe impl Send for NetOwned {}
// SAFETY: As above; the value only hands out shared references.
unsafe impl Sync for NetOwned {}

impl NetOwned {
    /// Keeps `net` for state owned by its pernet data.
    ///
    /// # Safety
    ///
    /// The value must be dropped before `net` is freed: stored in the
    /// namespace's pernet data (dropped in its `exit`, before the
    /// namespace's memory goes), and never moved out of it (in particular
    /// not into anything reference-counted that could outlive it).
    pub unsafe fn new(net: &Namespace) -> Self {
        // INVARIANT: the caller keeps the value no longer than `net` lives.
        Self {
            net: core::ptr::NonNull::from(net).cast(),
        }
    }

    /// The namespace.
    pub fn get(&self) -> &Namespace {
        // SAFETY: Alive while `self` exists (type invariant).
        unsafe { Namespace::from_raw(self.net.as_ptr()) }
    }
}

impl Namespace {
    /// Returns the namespace's loopback device (`net->loopback_dev`: `lo`,
    /// interface index 1), or `None` while the namespace has none.
    ///
    /// A namespace has its loopback device from the moment its devices are
    /// set up (`loopback_net_init`, the first device-level
    /// `pernet_operations`) until it is dismantled: `lo` cannot be deleted
    /// or moved to another namespace, and is unregistered only with the
    /// namespace's other devices (`default_device_exit_batch`), after which
    /// its destructor clears the pointer (`loopback_dev_free`) before its
    /// memory is freed.
    ///
    /// `None` is therefore only seen by the `init` of a
    /// [`PernetKind::Subsys`] state of a namespace being created (subsystems
    /// are set up before devices) and by the `exit` of such a state (after
    /// the devices are gone). Wherever else safe code holds a `&Namespace`
    /// the device is alive for the reference's lifetime, which bounds the
    /// returned borrow:
    ///
    /// - the namespace is not being dismantled while the reference exists:
    ///   [`init_net`], a namespace kept alive by a socket (a netlink
    ///   request's), or by a reference;
    /// - or the reference is of a packet's receive path (a hook's
    ///   [`HookState::net`]), where the namespace's devices are alive until
    ///   the read-side critical section ends (unregistering waits for a
    ///   grace period);
    /// - or of a netdevice notifier under RTNL (`lo` is unregistered in the
    ///   same RTNL section as every other device of the namespace, and
    ///   freed only after it);
    /// - or of the callbacks of a [`PernetKind::Device`] state, which run
    ///   after `lo` is set up and before it is unregistered, and of
    ///   `pre_exit` of any state (before any device goes).
    ///
    /// Code that obtained a `&Namespace` by other means (`unsafe`
    /// [`Namespace::from_raw`]) must not call this while the namespace's
    /// devices are being dismantled: stop such work in
    /// [`PernetData::pre_exit`].
    ///
    /// [`init_net`]: crate::net::device::init_net
    /// [`HookState::net`]: crate::net::netfilter::HookState::net
    pub fn loopback(&self) -> Option<&crate::net::device::NetDevice> {
        // SAFETY: The namespace is alive (type invariant). The pointer is
        // written by the core with plain stores; read it once.
        let lo = unsafe {
            let field = core::ptr::addr_of!((*self.as_ptr()).loopback_dev);
            core::ptr::read_volatile(field)
        };
        if lo.is_null() {
            return None;
        }
        // SAFETY: A non-null `loopback_dev` is the namespace's registered
        // loopback device, alive for as long as `self` is borrowed in every
        // context a `&Namespace` is available in safe code (see above).
        Some(unsafe { crate::net::device::NetDevice::from_raw(lo) })
    }
}

/// State that a subsystem keeps in every network namespace.
///
/// The value is created by [`PernetData::init`] when a namespace is created
/// (or, for existing namespaces, when the subsystem registers), and dropped
/// when the namespace is dismantled (or the subsystem unregisters).
pub trait PernetData: Sized + Send + Sync + 'static {
    /// The registration that owns this state (a `static` of the module).
    fn pernet() -> &'static Pernet<Self>;

    /// Initialises the state of `net`.
    fn init(net: &Namespace) -> impl PinInit<Self, Error>;

    /// Called before [`Drop`], with an RCU grace period between the two:
    /// stop sources of new work here (hooks, timers) so that `drop` sees none.
    fn pre_exit(&self, _net: &Namespace) {}
}

/// Whether the state lives with the namespace's devices or beyond them.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum PernetKind {
    /// `register_pernet_subsys`: initialised before and destroyed after every
    /// device of the namespace.
    Subsys,
    /// `register_pernet_device`: initialised after the subsystems, destroyed
    /// while the devices are being dismantled.
    Device,
}

/// What the core allocates for every namespace under a [`Pernet`]: the state
/// and whether it is still there.
///
/// # Invariants
///
/// `value` is initialised while `live` is true. `live` goes from true to
/// false only under the RTNL lock (in `exit_rtnl`), before `value` is dropped
/// (in `exit`).
#[repr(C)]
struct Slot<T> {
    live: AtomicBool,
    value: T,
}

/// The `pernet_operations` of a [`PernetData`] type, meant to be a `static`.
///
/// # Invariants
///
/// While `registered` is true, `ops` is registered with the core and `id`
/// holds the id the core assigned, under which every namespace has a
/// [`Slot<T>`] whose `value` is initialised from the end of `init` until
/// `exit`. While `slots` is true, so is `registered`; it goes false under the
/// RTNL lock before the core frees the slots.
pub struct Pernet<T: PernetData> {
    ops: Opaque<bindings::pernet_operations>,
    id: Opaque<c_uint>,
    registered: AtomicBool,
    /// Whether `get_rtnl` may look at the slots.
    slots: AtomicBool,
    /// Set while unregistering: the next `exit_rtnl` clears `slots`.
    unregistering: AtomicBool,
    kind: PernetKind,
    _t: PhantomData<T>,
}

// SAFETY: `ops` and `id` are written only while registering, which
// `registered` serialises, and afterwards read-only; `T` is `Send + Sync`.
unsafe impl<T: PernetData> Sync for Pernet<T> {}
// SAFETY: As above; nothing in it is tied to a thread.
unsafe impl<T: PernetData> Send for Pernet<T> {}

impl<T: PernetData> Pernet<T> {
    /// Creates the (unregistered) operations.
    pub const fn new(kind: PernetKind) -> Self {
        // The core allocates the state with kzalloc(); more alignment than
        // kmalloc's minimum cannot be honoured.
        assert!(core::mem::align_of::<Slot<T>>() <= bindings::ARCH_KMALLOC_MINALIGN);
        Self {
            ops: Opaque::uninit(),
            id: Opaque::uninit(),
            registered: AtomicBool::new(false),
            slots: AtomicBool::new(false),
            unregistering: AtomicBool::new(false),
            kind,
            _t: PhantomData,
        }
    }

    /// Registers the operations: every existing namespace gets its state now,
    /// every new one when it is created.
    ///
    /// The returned guard unregisters them (dropping every namespace's state)
    /// when dropped.
    pub fn register(&'static self) -> Result<PernetRegistration<T>> {
        if self.registered.swap(true, Ordering::AcqRel) {
            return Err(crate::error::code::EBUSY);
        }
        // SAFETY: All-zero is a valid `pernet_operations` (null callbacks, an
        // empty list head the core initialises when registering).
        let mut ops: bindings::pernet_operations = unsafe { core::mem::zeroed() };
        ops.init = Some(Self::init_callback);
        ops.pre_exit = Some(Self::pre_exit_callback);
        ops.exit_rtnl = Some(Self::exit_rtnl_callback);
        ops.exit = Some(Self::exit_callback);
        ops.id = self.id.get();
        ops.size = core::mem::size_of::<Slot<T>>();
        // SAFETY: `registered` was false, so the core does not use `ops`, and
        // no other thread writes it (the swap above serialises registrations).
        unsafe { self.ops.get().write(ops) };
        // SAFETY: `ops` is a valid `pernet_operations` in a static (it never
        // moves) and stays unchanged until unregistered.
        let ret = unsafe {
            match self.kind {
                PernetKind::Subsys => bindings::register_pernet_subsys(self.ops.get()),
                PernetKind::Device => bindings::register_pernet_device(self.ops.get()),
            }
        };
        if let Err(e) = to_result(ret) {
            self.registered.store(false, Ordering::Release);
            return Err(e);
        }
        self.unregistering.store(false, Ordering::Relaxed);
        self.slots.store(true, Ordering::Release);
        Ok(PernetRegistration { pernet: self })
    }

    /// Returns the state of `net`.
    ///
    /// Only for callers that `net`'s state cannot go away under: its packet
    /// hooks (unregistered in [`PernetData::pre_exit`], an RCU grace period
    /// before the state is dropped) and requests from a socket in `net` (which
    /// keeps it alive). Others use [`Pernet::get_rtnl`].
    pub fn get<'a>(&'static self, net: &'a Namespace) -> &'a T {
        debug_assert!(self.registered.load(Ordering::Relaxed));
        // SAFETY: By the type invariant the slot of every namespace holds an
        // initialised `T` until `exit`, which the callers described above
        // cannot outlive.
        unsafe { &(*Self::slot(net.as_ptr())).value }
    }

    /// Returns the state of `net` if it still exists, for code that runs
    /// under the RTNL lock while the namespace may be in any stage of its
    /// dismantling (netdevice notifiers: devices of a namespace are
    /// unregistered after its state is dropped, and a device can be
    /// unregistered from another namespace, a veth peer, while the state of a
    /// dying namespace is still there and holds references to the device).
    pub fn get_rtnl<'a>(&'static self, net: &'a Namespace, _rtnl: &'a Rtnl) -> Option<&'a T> {
        // Under RTNL, `slots` cannot turn false (and the slots be freed)
        // before `'a` ends.
        if !self.slots.load(Ordering::Acquire) {
            return None;
        }
        // SAFETY: While `slots` is true the operations are registered.
        let slot = unsafe { Self::slot(net.as_ptr()) };
        // A namespace being set up has no slot before the core reaches these
        // operations (its devices, `lo` first, register before that). Once
        // allocated, a slot is zeroed (so `live` false) until `init` fills
        // it.
        if slot.is_null() {
            return None;
        }
        // SAFETY: Not null: the slot the core allocated for `net`, alive
        // while `slots` is true and the caller holds RTNL (see above).
        let slot = unsafe { &*slot };
        // The caller holds the RTNL lock, under which `exit` clears `live`
        // before dropping the value: a true `live` means the value stays
        // until the lock is released, which `'a` does not outlive.
        slot.live.load(Ordering::Acquire).then_some(&slot.value)
    }

    /// Returns the state slot of `net`.
    ///
    /// # Safety
    ///
    /// `self` must be registered (true in its `pernet_operations` callbacks
    /// and while a [`PernetRegistration`] exists) and `net` alive. The
    /// result is null for a namespace being set up before these operations'
    /// turn.
    unsafe fn slot(net: *mut bindings::net) -> *mut Slot<T> {
        let this = T::pernet();
        // SAFETY: The callers guarantee that the operations are registered,
        // so `id` is set; the core has allocated a `Slot<T>` for `net` under
        // it, or not yet (null) for a namespace whose set-up has not reached
        // these operations.
        unsafe { bindings::net_generic(net, *this.id.get()).cast() }
    }

    extern "C" fn init_callback(net: *mut bindings::net) -> c_int {
        // SAFETY: The core passes a namespace being set up, alive during the
        // call.
        let ns = unsafe { Namespace::from_raw(net) };
        // SAFETY: Called by the core as our `init`: the slot is zeroed memory
        // owned by the namespace that does not move until freed after
        // `exit`.
        let slot = unsafe { Self::slot(net) };
        // SAFETY: `value` is uninitialised memory of the slot; on success it
        // is initialised and `exit` drops it, on failure the core calls no
        // `exit` and frees the slot.
        match unsafe { T::init(ns).__pinned_init(core::ptr::addr_of_mut!((*slot).value)) } {
            Ok(()) => {
                // SAFETY: The slot is valid (above); `live` is an atomic.
                unsafe { (*slot).live.store(true, Ordering::Release) };
                0
            }
            Err(e) => e.to_errno(),
        }
    }

    extern "C" fn pre_exit_callback(net: *mut bindings::net) {
        // SAFETY: The core passes a namespace being dismantled, still alive.
        let ns = unsafe { Namespace::from_raw(net) };
        // SAFETY: Called by the core as our `pre_exit`: `init` succeeded for
        // this namespace, so the slot holds a `T`.
        let state = unsafe { &(*Self::slot(net)).value };
        state.pre_exit(ns);
    }

    extern "C" fn exit_rtnl_callback(net: *mut bindings::net, _kill: *mut bindings::list_head) {
        // SAFETY: Called by the core as our `exit_rtnl`, under RTNL, after
        // `init` succeeded for `net`: the slot is valid. `live` is an atomic.
        unsafe { (*Self::slot(net)).live.store(false, Ordering::Release) };
        let this = T::pernet();
        if this.unregistering.load(Ordering::Relaxed) {
            // All namespaces pass here in this RTNL section, before the core
            // frees their slots.
            this.slots.store(false, Ordering::Release);
        }
    }

    extern "C" fn exit_callback(net: *mut bindings::net) {
        // SAFETY: Called by the core as our `exit`, once, after `init`
        // succeeded and after `exit_rtnl` cleared `live`: the slot is valid
        // and holds a `T` that `get_rtnl` no longer hands out, and `get`
        // users are gone (hooks stopped in `pre_exit`, an RCU grace period
        // ago; sockets of the namespace are gone). Nothing uses it any more.
        unsafe { core::ptr::drop_in_place(core::ptr::addr_of_mut!((*Self::slot(net)).value)) };
    }
}

/// A registered [`Pernet`]; unregisters on drop.
pub struct PernetRegistration<T: PernetData> {
    pernet: &'static Pernet<T>,
}

impl<T: PernetData> Drop for PernetRegistration<T> {
    fn drop(&mut self) {
        self.pernet.unregistering.store(true, Ordering::Relaxed);
        let ops = self.pernet.ops.get();
        // SAFETY: `register` succeeded (this guard exists only then), so
        // `ops` is registered; unregistering runs every namespace's exit.
        unsafe {
            match self.pernet.kind {
                PernetKind::Subsys => bindings::unregister_pernet_subsys(ops),
                PernetKind::Device => bindings::unregister_pernet_device(ops),
            }
        }
        // `exit_rtnl` cleared `slots` (every namespace has one).
        debug_assert!(!self.pernet.slots.load(Ordering::Relaxed));
        self.pernet.registered.store(false, Ordering::Release);
    }
}
