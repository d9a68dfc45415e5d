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
    /// dismantling began, when per-namespace state may already be gone.
    pub fn is_alive(&self) -> bool {
        // SAFETY: The namespace's memory is valid (type invariant).
        unsafe { bindings::check_net(self.as_ptr()) }
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

/// The `pernet_operations` of a [`PernetData`] type, meant to be a `static`.
///
/// # Invariants
///
/// While `registered` is true, `ops` is registered with the core and `id`
/// holds the id the core assigned, under which every namespace has an
/// initialised `T`.
pub struct Pernet<T: PernetData> {
    ops: Opaque<bindings::pernet_operations>,
    id: Opaque<c_uint>,
    registered: AtomicBool,
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
        assert!(core::mem::align_of::<T>() <= bindings::ARCH_KMALLOC_MINALIGN);
        Self {
            ops: Opaque::uninit(),
            id: Opaque::uninit(),
            registered: AtomicBool::new(false),
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
        ops.exit = Some(Self::exit_callback);
        ops.id = self.id.get();
        ops.size = core::mem::size_of::<T>();
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
        Ok(PernetRegistration { pernet: self })
    }

    /// Returns the state of `net`.
    ///
    /// Only valid while registered: the callers are the subsystem's own hooks,
    /// which exist only while it is registered (checked in debug builds).
    pub fn get<'a>(&'static self, net: &'a Namespace) -> &'a T {
        debug_assert!(self.registered.load(Ordering::Relaxed));
        // SAFETY: By the type invariant `id` was assigned by the core and the
        // state of every live namespace under it is an initialised `T`, which
        // lives as long as the namespace, so at least `'a`.
        unsafe {
            let id = *self.id.get();
            &*bindings::net_generic(net.as_ptr(), id).cast::<T>()
        }
    }

    /// Returns the state slot of `net`.
    ///
    /// # Safety
    ///
    /// Must be called from the core's `pernet_operations` callbacks of `self`.
    unsafe fn slot(net: *mut bindings::net) -> *mut T {
        let this = T::pernet();
        // SAFETY: The callbacks run only while registered, so `id` is set and
        // the core has allocated `size_of::<T>()` bytes for `net` under it.
        unsafe { bindings::net_generic(net, *this.id.get()).cast() }
    }

    extern "C" fn init_callback(net: *mut bindings::net) -> c_int {
        // SAFETY: The core passes a namespace being set up, alive during the
        // call.
        let ns = unsafe { Namespace::from_raw(net) };
        // SAFETY: Called by the core as our `init`; the slot is zeroed
        // memory owned by the namespace that does not move until freed after
        // `exit`, which drops what we initialise here.
        match unsafe { T::init(ns).__pinned_init(Self::slot(net)) } {
            Ok(()) => 0,
            Err(e) => e.to_errno(),
        }
    }

    extern "C" fn pre_exit_callback(net: *mut bindings::net) {
        // SAFETY: The core passes a namespace being dismantled, still alive.
        let ns = unsafe { Namespace::from_raw(net) };
        // SAFETY: Called by the core as our `pre_exit`: `init` succeeded for
        // this namespace, so the slot holds a `T`.
        let state = unsafe { &*Self::slot(net) };
        state.pre_exit(ns);
    }

    extern "C" fn exit_callback(net: *mut bindings::net) {
        // SAFETY: Called by the core as our `exit`, once, after `init`
        // succeeded: the slot holds a `T` that nothing uses any more (hooks
        // were stopped in `pre_exit`, and an RCU grace period has passed).
        unsafe { core::ptr::drop_in_place(Self::slot(net)) };
    }
}

/// A registered [`Pernet`]; unregisters on drop.
pub struct PernetRegistration<T: PernetData> {
    pernet: &'static Pernet<T>,
}

impl<T: PernetData> Drop for PernetRegistration<T> {
    fn drop(&mut self) {
        let ops = self.pernet.ops.get();
        // SAFETY: `register` succeeded (this guard exists only then), so
        // `ops` is registered; unregistering runs every namespace's exit.
        unsafe {
            match self.pernet.kind {
                PernetKind::Subsys => bindings::unregister_pernet_subsys(ops),
                PernetKind::Device => bindings::unregister_pernet_device(ops),
            }
        }
        self.pernet.registered.store(false, Ordering::Release);
    }
}
