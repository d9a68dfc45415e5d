// SPDX-License-Identifier: GPL-2.0

//! RCU read-side critical sections and an RCU-protected pointer slot.
//!
//! C header: [`include/linux/rcupdate.h`](srctree/include/linux/rcupdate.h)

use crate::{alloc::KBox, bindings};
use core::{
    marker::PhantomData,
    ptr,
    sync::atomic::{AtomicPtr, Ordering},
};

/// An RCU read-side critical section: readers of RCU-protected data hold one.
///
/// Data reached through RCU-protected pointers may be used while the guard
/// lives; writers free such data only after a grace period, which waits for
/// every guard that existed when the data was unpublished.
///
/// # Invariants
///
/// `rcu_read_lock()` was called when the guard was created and
/// `rcu_read_unlock()` is called when it is dropped, on the same CPU context
/// (the guard is neither `Send` nor `Sync`).
pub struct Guard {
    _not_send: PhantomData<*mut ()>,
}

impl Guard {
    /// Enters an RCU read-side critical section.
    #[inline]
    pub fn new() -> Self {
        // SAFETY: FFI call without requirements; balanced by `drop`.
        unsafe { bindings::rcu_read_lock() };
        Self {
            _not_send: PhantomData,
        }
    }
}

impl Default for Guard {
    fn default() -> Self {
        Self::new()
    }
}

impl Drop for Guard {
    #[inline]
    fn drop(&mut self) {
        // SAFETY: By the type invariant the lock was taken by `new` in this
        // context.
        unsafe { bindings::rcu_read_unlock() };
    }
}

/// Enters an RCU read-side critical section; see [`Guard`].
#[inline]
pub fn read_lock() -> Guard {
    Guard::new()
}

/// Bottom halves disabled, in an RCU-bh read-side critical section
/// (`rcu_read_lock_bh()`): what a lock also taken in softirq context needs
/// around it in process context.
///
/// # Invariants
///
/// `rcu_read_lock_bh()` was called when the guard was created and
/// `rcu_read_unlock_bh()` is called when it is dropped, in the same context
/// (the guard is neither `Send` nor `Sync`).
pub struct BhGuard {
    _not_send: PhantomData<*mut ()>,
}

impl Drop for BhGuard {
    #[inline]
    fn drop(&mut self) {
        // SAFETY: By the type invariant `read_lock_bh` took it in this
        // context.
        unsafe { bindings::rcu_read_unlock_bh() };
    }
}

/// Disables bottom halves and enters an RCU-bh read-side critical section
/// until the guard is dropped; see [`BhGuard`]. Any context.
#[inline]
pub fn read_lock_bh() -> BhGuard {
    // SAFETY: FFI call without requirements; balanced by `BhGuard::drop`.
    unsafe { bindings::rcu_read_lock_bh() };
    // INVARIANT: the lock was just taken.
    BhGuard {
        _not_send: PhantomData,
    }
}

/// Waits for a full RCU grace period: every read-side critical section
/// that began before the call has ended when it returns. May sleep.
pub fn synchronize_rcu() {
    // SAFETY: FFI call; callers are in process context (documented).
    unsafe { bindings::synchronize_rcu() };
}

/// Waits until every callback queued with `call_rcu` has run. May sleep.
pub fn rcu_barrier() {
    // SAFETY: FFI call; callers are in process context (documented).
    unsafe { bindings::rcu_barrier() };
}

/// An RCU-protected slot holding an optional boxed value.
///
/// Readers get a reference valid for their read-side critical section
/// ([`RcuBox::read`]), without locks or reference counts. Writers publish a
/// new value with [`RcuBox::replace`] or [`RcuBox::swap`], which wait for a
/// grace period before the old value is released, so no reader can still use
/// it: the classic read-copy-update of a configuration read on the packet path.
///
/// Writers may sleep (they call [`synchronize_rcu`]); they run in process
/// context. Concurrent writers are memory-safe (the exchange is atomic, each
/// old value goes to exactly one writer), but the order in which their values
/// win is theirs to decide, typically under a `Mutex` that also protects the
/// data the value is built from.
///
/// # Invariants
///
/// `ptr` is null or comes from [`KBox::into_raw`] and is owned by the slot.
/// A pointer removed from `ptr` may be in use by readers that started before
/// the removal, until a grace period has elapsed.
pub struct RcuBox<T> {
    ptr: AtomicPtr<T>,
    _owns: PhantomData<KBox<T>>,
}

// SAFETY: The slot owns a `KBox<T>`, which may be dropped by whichever thread
// replaces or drops the slot: `T: Send` suffices to send the slot.
unsafe impl<T: Send> Send for RcuBox<T> {}

// SAFETY: Through `&RcuBox<T>` readers on any thread get `&T` (needs `T: Sync`)
// and writers on any thread take ownership of the old value and drop it (needs
// `T: Send`).
unsafe impl<T: Send + Sync> Sync for RcuBox<T> {}

impl<T> RcuBox<T> {
    /// Creates a slot holding `value`.
    pub fn new(value: Option<KBox<T>>) -> Self {
        Self {
            ptr: AtomicPtr::new(value.map_or(ptr::null_mut(), KBox::into_raw)),
            _owns: PhantomData,
        }
    }

    /// Creates an empty slot (usable in `static`s).
    pub const fn empty() -> Self {
        Self {
            ptr: AtomicPtr::new(ptr::null_mut()),
            _owns: PhantomData,
        }
    }

    /// Returns the current value, valid until `guard` ends.
    ///
    /// Any context (RCU readers may run in hard or soft interrupts).
    #[inline]
    pub fn read<'g>(&'g self, _guard: &'g Guard) -> Option<&'g T> {
        // Acquire pairs with the release of `swap`: the value's contents are
        // visible before the pointer (what `rcu_dereference` guarantees).
        let p = self.ptr.load(Ordering::Acquire);
        // SAFETY: By the type invariant `p` is null or a valid `KBox` value.
        // One removed from the slot after this load is freed only after a
        // grace period, which waits for `_guard`; the borrow of `self` keeps
        // the slot (and so the current value) alive for `'g`.
        unsafe { p.as_ref() }
    }

    /// Publishes `new` and returns the old value once no reader can use it.
    ///
    /// Waits for an RCU grace period when there was an old value: may sleep,
    /// process context only, and not inside an RCU read-side critical section.
    pub fn swap(&self, new: Option<KBox<T>>) -> Option<KBox<T>> {
        let new = new.map_or(ptr::null_mut(), KBox::into_raw);
        // Release publishes the initialised contents of `new` to readers
        // (what `rcu_assign_pointer` guarantees).
        let old = self.ptr.swap(new, Ordering::AcqRel);
        if old.is_null() {
            return None;
        }
        // Readers that loaded `old` are in read-side critical sections that
        // began before the swap: wait for all of them to end.
        synchronize_rcu();
        // SAFETY: `old` came from `KBox::into_raw` (type invariant); the swap
        // removed it from the slot, so this call owns it, and after the grace
        // period no reader holds a reference to it.
        Some(unsafe { KBox::from_raw(old) })
    }

    /// Publishes `new` and frees the old value after a grace period.
    ///
    /// May sleep, like [`RcuBox::swap`].
    pub fn replace(&self, new: Option<KBox<T>>) {
        drop(self.swap(new));
    }
}

impl<T> Default for RcuBox<T> {
    fn default() -> Self {
        Self::empty()
    }
}

impl<T> Drop for RcuBox<T> {
    fn drop(&mut self) {
        let p = *self.ptr.get_mut();
        if !p.is_null() {
            // SAFETY: `p` came from `KBox::into_raw` and is owned by the slot
            // (type invariant). `&mut self` means no reference obtained through
            // `read` is alive, so no grace period is needed.
            drop(unsafe { KBox::from_raw(p) });
        }
    }
}
