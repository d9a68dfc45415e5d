// SPDX-License-Identifier: GPL-2.0

//! RCU read-side critical sections.
//!
//! C header: [`include/linux/rcupdate.h`](srctree/include/linux/rcupdate.h)

use crate::bindings;
use core::marker::PhantomData;

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
