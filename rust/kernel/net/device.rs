// SPDX-License-Identifier: GPL-2.0

//! Network devices, the RTNL lock and device event notifiers.
//!
//! [`NetDevice`] is a `struct net_device`; [`ARef<NetDevice>`] holds a
//! reference (`dev_hold`), which keeps the structure alive but not the device
//! registered: a device being unregistered waits, in `netdev_run_todo`, until
//! every reference is released. Whoever holds one must therefore release it
//! when the device goes away, which [`Notifier`] reports as
//! [`NetdevEvent::Unregister`].
//!
//! The RTNL lock serialises device configuration: registration,
//! unregistration, moves between namespaces, renames. [`Rtnl`] is the proof
//! that it is held; notifier callbacks run under it and receive one.
//!
//! C header: [`include/linux/netdevice.h`](srctree/include/linux/netdevice.h)

use crate::{
    alloc::{flags::GFP_KERNEL, KBox},
    bindings,
    error::{code::*, to_result, Result},
    ffi::{c_int, c_ulong, c_void},
    net::namespace::Namespace,
    str::CStr,
    types::{ARef, AlwaysRefCounted, Opaque},
};
use core::{marker::PhantomData, ops::Deref, pin::Pin, ptr::NonNull};

/// Length of an Ethernet address.
pub const ETH_ALEN: usize = bindings::ETH_ALEN as usize;

/// Length of a device name buffer, including the terminating NUL.
pub const IFNAMSIZ: usize = bindings::IFNAMSIZ as usize;

/// Proof that the current thread holds the RTNL lock.
///
/// Obtained from [`rtnl_lock`] (through [`RtnlGuard`]) or passed to
/// [`NotifierHandler::event`], whose callers hold the lock. Under it devices
/// are neither registered, unregistered, renamed nor moved to another
/// namespace.
///
/// # Invariants
///
/// A reference to an `Rtnl` exists only while the RTNL lock is held by the
/// current thread.
pub struct Rtnl {
    // Tied to the thread that holds the lock.
    _not_send: PhantomData<*mut ()>,
}

impl Rtnl {
    /// Returns the proof that the RTNL lock is held.
    ///
    /// # Safety
    ///
    /// The current thread must hold the RTNL lock for `'a`.
    unsafe fn assume_held<'a>() -> &'a Rtnl {
        &Rtnl {
            _not_send: PhantomData,
        }
    }
}

/// The RTNL lock, held until dropped.
///
/// # Invariants
///
/// The current thread holds the RTNL lock, taken by [`rtnl_lock`].
pub struct RtnlGuard {
    rtnl: Rtnl,
}

/// Takes the RTNL lock. May sleep.
///
/// Not from a [`NotifierHandler`] (which already runs under it), and not
/// while holding a lock that RTNL holders may take.
pub fn rtnl_lock() -> RtnlGuard {
    // SAFETY: FFI call; process context is the caller's documented duty.
    unsafe { bindings::rtnl_lock() };
    // INVARIANT: The lock was just taken.
    RtnlGuard {
        rtnl: Rtnl {
            _not_send: PhantomData,
        },
    }
}

impl Deref for RtnlGuard {
    type Target = Rtnl;

    fn deref(&self) -> &Rtnl {
        &self.rtnl
    }
}

impl Drop for RtnlGuard {
    fn drop(&mut self) {
        // SAFETY: By the type invariant this thread holds the lock.
        unsafe { bindings::rtnl_unlock() };
    }
}

/// Returns the initial network namespace (`init_net`), which is never
/// dismantled.
pub fn init_net() -> &'static Namespace {
    // SAFETY: `init_net` is a static that lives as long as the kernel.
    unsafe { Namespace::from_raw(core::ptr::addr_of!(bindings::init_net)) }
}

/// A network device (`struct net_device`).
///
/// # Invariants
///
/// The wrapped `struct net_device` is alive (allocated, not yet freed) for the
/// lifetime of the reference through which it is used. It may be in any
/// registration state.
#[repr(transparent)]
pub struct NetDevice(Opaque<bindings::net_device>);

// SAFETY: `struct net_device` is designed to be used from any thread; the
// fields read here are either constant after registration or read the way C
// reads them (`READ_ONCE`), and changes go through the kernel's own locking.
unsafe impl Send for NetDevice {}
// SAFETY: As for `Send`: shared references only read, or call functions that
// are safe to call concurrently.
unsafe impl Sync for NetDevice {}

// SAFETY: `dev_hold`/`dev_put` maintain the device's reference count; the
// structure is freed only once it reaches zero (after unregistration).
unsafe impl AlwaysRefCounted for NetDevice {
    fn inc_ref(&self) {
        // SAFETY: By the type invariant the device is alive.
        unsafe { bindings::dev_hold(self.as_ptr()) };
    }

    unsafe fn dec_ref(obj: NonNull<Self>) {
        // SAFETY: The caller owns a reference, which this releases.
        unsafe { bindings::dev_put(obj.as_ptr().cast()) };
    }
}

impl NetDevice {
    /// Creates a reference to a device from its raw pointer.
    ///
    /// # Safety
    ///
    /// `ptr` must point to a `struct net_device` that stays alive for `'a`.
    pub unsafe fn from_raw<'a>(ptr: *const bindings::net_device) -> &'a Self {
        // SAFETY: `NetDevice` is `repr(transparent)` over the C struct, and
        // the caller guarantees that it lives for `'a`.
        unsafe { &*ptr.cast() }
    }

    /// Returns the raw pointer, for C calls.
    pub fn as_ptr(&self) -> *mut bindings::net_device {
        self.0.get()
    }

    /// Looks a device up by name in `net` and takes a reference to it.
    ///
    /// Returns `ENODEV` if `net` has no device of that name.
    pub fn get_by_name(net: &Namespace, name: &CStr) -> Result<ARef<Self>> {
        // SAFETY: `net` is alive (type invariant of `Namespace`) and `name` is
        // NUL-terminated. The function takes a reference for the caller.
        let dev = unsafe { bindings::dev_get_by_name(net.as_ptr(), name.as_char_ptr()) };
        NonNull::new(dev.cast::<Self>())
            // SAFETY: A non-null result is a live device with a reference
            // that now belongs to the returned `ARef`.
            .map(|p| unsafe { ARef::from_raw(p) })
            .ok_or(ENODEV)
    }

    /// Looks a device up by interface index in `net` and takes a reference
    /// to it.
    ///
    /// Returns `ENODEV` if `net` has no device with that index.
    pub fn get_by_index(net: &Namespace, ifindex: i32) -> Result<ARef<Self>> {
        // SAFETY: `net` is alive (type invariant of `Namespace`). The function
        // takes a reference for the caller.
        let dev = unsafe { bindings::dev_get_by_index(net.as_ptr(), ifindex) };
        NonNull::new(dev.cast::<Self>())
            // SAFETY: A non-null result is a live device with a reference
            // that now belongs to the returned `ARef`.
            .map(|p| unsafe { ARef::from_raw(p) })
            .ok_or(ENODEV)
    }

    /// Calls `f` with every device of `net` (`for_each_netdev`), in
    /// registration order. RTNL keeps the list stable during the walk.
    pub fn for_each(net: &Namespace, _rtnl: &Rtnl, mut f: impl FnMut(&NetDevice)) {
        let head = {
            // SAFETY: `net` is alive; only the address of its list head is
            // taken.
            unsafe { core::ptr::addr_of_mut!((*net.as_ptr()).dev_base_head) }
        };
        let off = core::mem::offset_of!(bindings::net_device, dev_list);
        // SAFETY: Under RTNL (`_rtnl`) the device list of `net` does not
        // change; `head` is its valid head.
        let mut pos = unsafe { (*head).next };
        while !core::ptr::eq(pos, head) {
            // SAFETY: Every node of the list is the `dev_list` member of a
            // registered device of `net`, alive under RTNL.
            let dev = unsafe { &*pos.cast::<u8>().sub(off).cast::<NetDevice>() };
            f(dev);
            // SAFETY: As above: `pos` is a node of the stable list.
            pos = unsafe { (*pos).next };
        }
    }

    /// Returns the interface index, unique within the device's namespace.
    pub fn ifindex(&self) -> i32 {
        // SAFETY: The device is alive; `ifindex` is set when the device is
        // registered (or moved, under RTNL) and read with `READ_ONCE` in C.
        unsafe { core::ptr::addr_of!((*self.as_ptr()).ifindex).read_volatile() }
    }

    /// Returns a copy of the device's name.
    ///
    /// A rename (under RTNL) may run concurrently; hold [`Rtnl`] for a name
    /// that cannot change under the copy.
    pub fn name(&self) -> IfName {
        let mut out = [0u8; IFNAMSIZ];
        // SAFETY: The device is alive; `name` is an array of `IFNAMSIZ` bytes.
        let src = unsafe { core::ptr::addr_of!((*self.as_ptr()).name) }.cast::<u8>();
        for (i, b) in out.iter_mut().enumerate().take(IFNAMSIZ - 1) {
            // SAFETY: `i < IFNAMSIZ`, inside the array. Volatile: a rename
            // may write the array concurrently (C readers do the same).
            *b = unsafe { src.add(i).read_volatile() };
        }
        IfName(out)
    }

    /// Returns the device's MTU.
    pub fn mtu(&self) -> u32 {
        // SAFETY: The device is alive; C reads `mtu` with `READ_ONCE`.
        unsafe { core::ptr::addr_of!((*self.as_ptr()).mtu).read_volatile() }
    }

    /// Returns the device's `IFF_*` flags.
    pub fn flags(&self) -> u32 {
        // SAFETY: The device is alive; C reads `flags` with `READ_ONCE`.
        unsafe { core::ptr::addr_of!((*self.as_ptr()).flags).read_volatile() }
    }

    /// Returns whether the device is administratively up (`IFF_UP`).
    pub fn is_up(&self) -> bool {
        self.flags() & bindings::net_device_flags_IFF_UP != 0
    }

    /// Returns whether the device is a loopback device (`IFF_LOOPBACK`).
    pub fn is_loopback(&self) -> bool {
        self.flags() & bindings::net_device_flags_IFF_LOOPBACK != 0
    }

    /// Returns the hardware type (`ARPHRD_*`).
    pub fn hw_type(&self) -> u16 {
        // SAFETY: The device is alive; `type` is set before registration.
        unsafe { (*self.as_ptr()).type_ }
    }

    /// Returns the device's hardware address if it is an Ethernet (6-byte)
    /// address, `None` for other link layers.
    pub fn dev_addr(&self) -> Option<[u8; ETH_ALEN]> {
        let dev = self.as_ptr();
        // SAFETY: The device is alive; `addr_len` is set before registration.
        if unsafe { (*dev).addr_len } as usize != ETH_ALEN {
            return None;
        }
        // SAFETY: `dev_addr` points to `MAX_ADDR_LEN` bytes owned by the
        // device (set up by `alloc_netdev`), of which `addr_len` are the
        // address. A concurrent change (under RTNL) may tear the copy, as it
        // may for every C reader.
        let addr = unsafe { (*dev).dev_addr };
        if addr.is_null() {
            return None;
        }
        let mut out = [0u8; ETH_ALEN];
        // SAFETY: See above: `addr` is valid for `ETH_ALEN` bytes.
        unsafe { core::ptr::copy_nonoverlapping(addr, out.as_mut_ptr(), ETH_ALEN) };
        Some(out)
    }

    /// Returns whether the device is registered: false once its
    /// unregistration has begun (before [`NetdevEvent::Unregister`] is sent).
    pub fn is_registered(&self) -> bool {
        // SAFETY: The device is alive; C reads `reg_state` with `READ_ONCE`.
        let state = unsafe { core::ptr::addr_of!((*self.as_ptr()).reg_state).read_volatile() };
        u32::from(state) == bindings::netdev_reg_state_NETREG_REGISTERED
    }

    /// Returns whether the device belongs to `net`.
    pub fn net_eq(&self, net: &Namespace) -> bool {
        // SAFETY: The device is alive; `dev_net` reads its namespace pointer,
        // which is only compared here.
        core::ptr::eq(unsafe { bindings::dev_net(self.as_ptr()) }, net.as_ptr())
    }

    /// Returns the device's namespace.
    ///
    /// Needs [`Rtnl`]: a device moves between namespaces under it, and its
    /// namespace cannot be dismantled while the device is in it. Inside a
    /// netfilter hook use the hook state's namespace instead.
    pub fn net<'a>(&'a self, _rtnl: &'a Rtnl) -> &'a Namespace {
        // SAFETY: Under RTNL (the `Rtnl` proof, borrowed for `'a`) the device
        // stays in this namespace, and a namespace is dismantled only after
        // its devices have left it, which also needs RTNL.
        unsafe { Namespace::from_raw(bindings::dev_net(self.as_ptr())) }
    }
}

impl PartialEq for NetDevice {
    fn eq(&self, other: &Self) -> bool {
        core::ptr::eq(self.as_ptr(), other.as_ptr())
    }
}

impl Eq for NetDevice {}

/// A copy of a device name: NUL-terminated, at most `IFNAMSIZ - 1` bytes.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct IfName([u8; IFNAMSIZ]);

impl IfName {
    /// Returns the name without the terminating NUL.
    pub fn as_bytes(&self) -> &[u8] {
        let len = self.0.iter().position(|&b| b == 0).unwrap_or(IFNAMSIZ);
        self.0.get(..len).unwrap_or(&[])
    }

    /// Returns the name as a C string.
    pub fn as_cstr(&self) -> &CStr {
        let len = self.as_bytes().len();
        let bytes = self.0.get(..=len).unwrap_or(&[0]);
        // SAFETY: `bytes` ends at the first NUL (`as_bytes` stops there; the
        // last byte of the array is always NUL) and has no other.
        unsafe { CStr::from_bytes_with_nul_unchecked(bytes) }
    }
}

impl core::fmt::Display for IfName {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        core::fmt::Display::fmt(self.as_cstr(), f)
    }
}

impl core::fmt::Debug for IfName {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        core::fmt::Debug::fmt(self.as_cstr(), f)
    }
}

/// A device event (`enum netdev_cmd`), as delivered to a [`NotifierHandler`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NetdevEvent {
    /// The device was registered (also replayed for every existing device
    /// when a notifier is registered).
    Register,
    /// The device is being unregistered, or moved to another namespace: drop
    /// every reference and hook on it now (also replayed for every device
    /// when a notifier is unregistered).
    Unregister,
    /// The device came up (also replayed when a notifier is registered).
    Up,
    /// The device is about to go down.
    GoingDown,
    /// The device went down.
    Down,
    /// The MTU changed.
    ChangeMtu,
    /// The hardware address changed.
    ChangeAddr,
    /// The device was renamed.
    ChangeName,
    /// Any other `NETDEV_*` event, by number.
    Other(c_ulong),
}

impl NetdevEvent {
    fn from_raw(event: c_ulong) -> Self {
        let Ok(e) = u32::try_from(event) else {
            return Self::Other(event);
        };
        match e {
            bindings::netdev_cmd_NETDEV_REGISTER => Self::Register,
            bindings::netdev_cmd_NETDEV_UNREGISTER => Self::Unregister,
            bindings::netdev_cmd_NETDEV_UP => Self::Up,
            bindings::netdev_cmd_NETDEV_GOING_DOWN => Self::GoingDown,
            bindings::netdev_cmd_NETDEV_DOWN => Self::Down,
            bindings::netdev_cmd_NETDEV_CHANGEMTU => Self::ChangeMtu,
            bindings::netdev_cmd_NETDEV_CHANGEADDR => Self::ChangeAddr,
            bindings::netdev_cmd_NETDEV_CHANGENAME => Self::ChangeName,
            _ => Self::Other(event),
        }
    }
}

/// Receives the device events of a [`Notifier`].
pub trait NotifierHandler: Send + Sync {
    /// Called for every event of every device of the namespace, in process
    /// context under RTNL (`rtnl`). May sleep; must not take RTNL.
    ///
    /// On [`NetdevEvent::Unregister`], release everything that refers to
    /// `dev`: device references (unregistration waits for them) and its
    /// netdevice-family netfilter hooks (the kernel does not remove those;
    /// see [`crate::net::netfilter`]).
    fn event(&self, rtnl: &Rtnl, event: NetdevEvent, dev: &NetDevice);
}

/// The registered state of a [`Notifier`]; does not move while registered.
#[repr(C)]
struct NotifierInner<T: NotifierHandler> {
    // First field: the callback converts the `notifier_block` pointer back.
    nb: Opaque<bindings::notifier_block>,
    // Null for the global chain.
    net: *mut bindings::net,
    handler: T,
}

/// A registered device notifier (`register_netdevice_notifier_net`, or the
/// global chain); unregisters on drop.
///
/// Registering replays [`NetdevEvent::Register`] and [`NetdevEvent::Up`] for
/// the devices that already exist; unregistering (drop) replays
/// [`NetdevEvent::Down`] and [`NetdevEvent::Unregister`] for the devices that
/// remain, so a handler's cleanup code handles both. Both take RTNL: never
/// create or drop a `Notifier` under RTNL, in particular not from a handler.
///
/// # Invariants
///
/// `inner.nb` is registered on the chain of `inner.net` (the global chain if
/// null) with `notifier_call` set to `Self::callback`, and that namespace
/// lives until the registration is dropped.
pub struct Notifier<T: NotifierHandler> {
    inner: Pin<KBox<NotifierInner<T>>>,
}

// SAFETY: The registration is only dropped (unregistered) through it; the
// handler is `Send + Sync`, and the namespace pointer is only passed to C.
unsafe impl<T: NotifierHandler> Send for Notifier<T> {}
// SAFETY: A shared `Notifier` only gives shared access to the handler, which
// is `Sync`.
unsafe impl<T: NotifierHandler> Sync for Notifier<T> {}

impl<T: NotifierHandler> Notifier<T> {
    fn alloc(net: *mut bindings::net, handler: T) -> Result<Pin<KBox<NotifierInner<T>>>> {
        // SAFETY: All-zero is a valid, unlinked `notifier_block`.
        let mut nb: bindings::notifier_block = unsafe { core::mem::zeroed() };
        nb.notifier_call = Some(Self::callback);
        Ok(KBox::pin(
            NotifierInner {
                nb: Opaque::new(nb),
                net,
                handler,
            },
            GFP_KERNEL,
        )?)
    }

    /// Registers `handler` for the device events of `net`, a namespace that
    /// is never dismantled ([`init_net`]). May sleep; takes RTNL.
    pub fn new(net: &'static Namespace, handler: T) -> Result<Self> {
        // SAFETY: `net` lives forever.
        unsafe { Self::new_unchecked(net, handler) }
    }

    /// Registers `handler` for the device events of `net`. May sleep; takes
    /// RTNL.
    ///
    /// # Safety
    ///
    /// `net` must stay alive until the returned registration is dropped.
    /// State of a namespace kept in its [`Pernet`] data satisfies this (it
    /// is dropped in the namespace's `exit`, before the namespace is freed).
    ///
    /// [`Pernet`]: crate::net::namespace::Pernet
    pub unsafe fn new_unchecked(net: &Namespace, handler: T) -> Result<Self> {
        let inner = Self::alloc(net.as_ptr(), handler)?;
        // SAFETY: `inner.nb` is a valid notifier block that does not move
        // (pinned) and outlives its registration (dropping `self`
        // unregisters it first); `net` is alive now and, by the caller's
        // guarantee, until then.
        to_result(unsafe {
            bindings::register_netdevice_notifier_net(net.as_ptr(), inner.nb.get())
        })?;
        // INVARIANT: Registered on `net`'s chain just above.
        Ok(Self { inner })
    }

    /// Registers `handler` for the device events of every namespace. May
    /// sleep; takes RTNL and the namespace list lock, so not from
    /// `pernet_operations` callbacks (use [`Notifier::new_unchecked`] there).
    ///
    /// A handler keeping per-namespace state finds it through the device:
    /// [`NetDevice::net`] with the [`Rtnl`] it is given.
    pub fn new_global(handler: T) -> Result<Self> {
        let inner = Self::alloc(core::ptr::null_mut(), handler)?;
        // SAFETY: As in `new`; the global chain always exists.
        to_result(unsafe { bindings::register_netdevice_notifier(inner.nb.get()) })?;
        // INVARIANT: Registered on the global chain just above.
        Ok(Self { inner })
    }

    /// Returns the handler.
    pub fn handler(&self) -> &T {
        &self.inner.handler
    }

    /// The `notifier_call` of every notifier of `T`.
    ///
    /// # Safety
    ///
    /// Only for the netdevice notifier chain to call, under RTNL: `nb` is the
    /// block of a registered `Notifier<T>`, `ptr` a `netdev_notifier_info`.
    unsafe extern "C" fn callback(
        nb: *mut bindings::notifier_block,
        event: c_ulong,
        ptr: *mut c_void,
    ) -> c_int {
        // SAFETY: `nb` is the first field of a `repr(C)` `NotifierInner<T>`
        // (only `Self::callback` is installed there), alive while registered.
        let inner = unsafe { &*nb.cast::<NotifierInner<T>>() };
        // SAFETY: For netdevice notifiers `ptr` is a `netdev_notifier_info`
        // (or a structure starting with one) naming a live device.
        let dev = unsafe { bindings::netdev_notifier_info_to_dev(ptr.cast()) };
        if dev.is_null() {
            return bindings::NOTIFY_DONE as c_int;
        }
        // SAFETY: The device is alive during the call.
        let dev = unsafe { NetDevice::from_raw(dev) };
        // SAFETY: Netdevice notifier chains are called under RTNL
        // (`call_netdevice_notifiers_info` asserts it), including the
        // replays of (un)registration.
        let rtnl = unsafe { Rtnl::assume_held() };
        inner.handler.event(rtnl, NetdevEvent::from_raw(event), dev);
        bindings::NOTIFY_DONE as c_int
    }
}

impl<T: NotifierHandler> Drop for Notifier<T> {
    fn drop(&mut self) {
        let nb = self.inner.nb.get();
        // SAFETY: By the type invariant `nb` is registered on the chain of
        // `net` (alive) or on the global chain. Unregistering takes RTNL,
        // which waits for a running callback; none runs afterwards, so the
        // box may be freed.
        let ret = unsafe {
            if self.inner.net.is_null() {
                bindings::unregister_netdevice_notifier(nb)
            } else {
                bindings::unregister_netdevice_notifier_net(self.inner.net, nb)
            }
        };
        // Cannot fail for a registered block; nothing to recover if it did.
        let _ = ret;
    }
}
