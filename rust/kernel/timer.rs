// SPDX-License-Identifier: GPL-2.0

//! Kernel timers (`struct timer_list`) and jiffies.
//!
//! A [`Timer<T>`] owns the data `T` its callback works on and runs
//! [`TimerCallback::run`] when it expires:
//!
//! ```ignore
//! use core::sync::atomic::{AtomicU32, Ordering};
//! use kernel::timer::{new_timer, Timer, TimerCallback};
//!
//! struct Sweeper {
//!     ticks: AtomicU32,
//! }
//!
//! impl TimerCallback for Sweeper {
//!     // Softirq context: must not sleep.
//!     fn run(timer: &Timer<Self>) {
//!         timer.ticks.fetch_add(1, Ordering::Relaxed);
//!         timer.schedule_after_msecs(1000);
//!     }
//! }
//!
//! let t = KBox::pin_init(new_timer!(Sweeper { ticks: AtomicU32::new(0) }), GFP_KERNEL)?;
//! t.schedule_after_msecs(1000);
//! // Dropping `t` shuts the timer down and waits for a running callback.
//! ```
//!
//! The timer embeds its data rather than the other way round so that dropping
//! it stops the timer (`timer_shutdown_sync`) *before* anything the callback
//! uses is dropped: a `Timer<T>` may be a field of a larger pinned structure
//! (e.g. per network namespace state) in any position.
//!
//! C header: [`include/linux/timer.h`](srctree/include/linux/timer.h)

use crate::{bindings, init, prelude::*, sync::LockClassKey, types::Opaque};
use core::ops::Deref;

pub use crate::time::{msecs_to_jiffies, Jiffies, Msecs};

/// Returns the current value of the `jiffies` tick counter.
#[inline]
pub fn jiffies() -> Jiffies {
    // SAFETY: `jiffies` is a valid, aligned kernel variable updated by the
    // tick; a volatile read is how C reads it (it is declared `volatile`).
    unsafe { core::ptr::read_volatile(core::ptr::addr_of!(bindings::jiffies)) }
}

/// Returns whether jiffies value `a` is after `b`, correct across wrap-around
/// (C's `time_after`).
#[inline]
pub fn time_after(a: Jiffies, b: Jiffies) -> bool {
    (b.wrapping_sub(a) as crate::ffi::c_long) < 0
}

/// Returns whether jiffies value `a` is before `b`, correct across
/// wrap-around (C's `time_before`).
#[inline]
pub fn time_before(a: Jiffies, b: Jiffies) -> bool {
    time_after(b, a)
}

/// Milliseconds of the monotonic clock (`ktime_get()`): for ages and
/// timeouts that must not jump with the wall clock.
#[inline]
pub fn monotonic_ms() -> u64 {
    crate::time::Ktime::ktime_get().to_ms().max(0) as u64
}

/// Nanoseconds of the wall clock (`ktime_get_real()`), for values that must
/// differ across reboots and module reloads (epochs), never for durations.
pub fn realtime_ns() -> u64 {
    // SAFETY: FFI call without requirements; the timekeeping core is
    // initialised long before modules load.
    let ns = unsafe { bindings::ktime_get_with_offset(bindings::tk_offsets_TK_OFFS_REAL) };
    ns.max(0) as u64
}

/// Sleeps for at least `msecs` milliseconds (`msleep`).
///
/// Process context only: it sleeps.
pub fn msleep(msecs: Msecs) {
    // SAFETY: FFI call; the caller is in process context (documented), where
    // sleeping is allowed (`might_sleep` checks it under
    // `CONFIG_DEBUG_ATOMIC_SLEEP`).
    unsafe { bindings::msleep(msecs) }
}

/// The callback of a [`Timer<Self>`].
pub trait TimerCallback: Sized + Send + Sync {
    /// Called when the timer expires.
    ///
    /// Runs in softirq context (`TIMER_SOFTIRQ`, bottom halves disabled): it
    /// must not sleep. It may re-arm `timer` (e.g. [`Timer::schedule_after`]
    /// for a periodic timer) and use spinlocks taken with `spin_lock_bh`
    /// elsewhere. It must not call [`Timer::delete_sync`] or
    /// [`Timer::shutdown_sync`] on `timer`, which would wait for itself.
    fn run(timer: &Timer<Self>);
}

/// Creates a [`Timer`](crate::timer::Timer) initialiser owning the value
/// `data`, with a lockdep class of its own for the timer (named after the call
/// site or the given name).
#[macro_export]
macro_rules! new_timer {
    ($data:expr $(, $name:literal)? $(,)?) => {
        $crate::timer::Timer::new(
            $data,
            $crate::optional_name!($($name)?),
            $crate::static_lock_class!(),
        )
    };
}
pub use new_timer;

/// Like [`new_timer!`], with data created by the pin-initialiser `init` (for
/// data that must be pinned, e.g. holding a `Mutex`).
#[macro_export]
macro_rules! new_timer_pinned {
    ($init:expr $(, $name:literal)? $(,)?) => {
        $crate::timer::Timer::new_pinned(
            $init,
            $crate::optional_name!($($name)?),
            $crate::static_lock_class!(),
        )
    };
}
pub use new_timer_pinned;

/// A kernel timer owning the data `T` its callback ([`TimerCallback::run`])
/// uses. Dereferences to `T`.
///
/// Arming and deleting the timer are allowed in any context except hard
/// interrupts with the exceptions documented on each method. Dropping the
/// timer shuts it down and waits for a running callback
/// (`timer_shutdown_sync`), so the callback never runs on freed memory; the
/// drop must therefore happen where waiting is allowed (not in the callback
/// itself, not in hard interrupt context).
///
/// # Invariants
///
/// `raw` was initialised by `init_timer_key` with [`Timer::<T>::run_raw`] as
/// its function, and the timer is pinned: it stays at its address until it is
/// dropped, and dropping it shuts the `timer_list` down first.
#[pin_data(PinnedDrop)]
pub struct Timer<T> {
    #[pin]
    raw: Opaque<bindings::timer_list>,
    #[pin]
    data: T,
}

// SAFETY: The timer can be armed and deleted from any thread (the C API
// synchronises through the timer base lock); `T: Send` lets its data be
// dropped by whichever thread drops the timer.
unsafe impl<T: Send> Send for Timer<T> {}

// SAFETY: Sharing `&Timer<T>` shares `&T` with the callback on another CPU,
// which `T: Sync` allows; the `timer_list` itself is only used through the C
// API, which is thread-safe.
unsafe impl<T: Sync> Sync for Timer<T> {}

impl<T: TimerCallback> Timer<T> {
    /// Creates an initialiser for a timer owning `data`, not armed.
    ///
    /// Prefer [`new_timer!`], which supplies the name and lockdep class.
    pub fn new(data: T, name: &'static CStr, key: &'static LockClassKey) -> impl PinInit<Self> {
        Self::new_pinned(data, name, key)
    }

    /// Creates an initialiser for a timer owning the data `data` initialises
    /// in place, not armed.
    ///
    /// Prefer [`new_timer_pinned!`], which supplies the name and lockdep
    /// class.
    pub fn new_pinned<E>(
        data: impl PinInit<T, E>,
        name: &'static CStr,
        key: &'static LockClassKey,
    ) -> impl PinInit<Self, E> {
        let name = name.as_char_ptr();
        let key = key.as_ptr();
        // SAFETY: The closure initialises every field of the pinned `slot`:
        // `raw` with `init_timer_key` (with `run_raw::<T>`, the matching
        // callback, and the `'static` name and key lockdep requires), then
        // `data` with its own initialiser. If that fails, `data` cleaned up
        // after itself and `raw` needs no cleanup: it was never armed.
        unsafe {
            init::pin_init_from_closure(move |slot: *mut Self| {
                let raw = Opaque::raw_get(core::ptr::addr_of!((*slot).raw));
                bindings::init_timer_key(raw, Some(Self::run_raw), 0, name, key);
                data.__pinned_init(core::ptr::addr_of_mut!((*slot).data))
            })
        }
    }

    /// The C callback: recovers the `Timer<T>` from its `timer_list`.
    ///
    /// # Safety
    ///
    /// `ptr` must point to the `raw` field of a live `Timer<T>`.
    unsafe extern "C" fn run_raw(ptr: *mut bindings::timer_list) {
        let raw = ptr.cast::<Opaque<bindings::timer_list>>();
        // SAFETY: `Opaque<timer_list>` is `repr(transparent)` over the C
        // struct, and by the safety requirements `raw` is the `raw` field of a
        // `Timer<T>`, so stepping back by the field's offset gives the timer.
        let timer = unsafe { &*crate::container_of!(raw, Self, raw) };
        T::run(timer);
    }
}

impl<T> Timer<T> {
    fn as_ptr(&self) -> *mut bindings::timer_list {
        self.raw.get()
    }

    /// Arms (or re-arms) the timer to expire at `expires` (in jiffies).
    ///
    /// Returns whether the timer was pending (then only its expiry changed).
    /// Any context but hard interrupts; a no-op after
    /// [`Timer::shutdown_sync`].
    pub fn mod_timer(&self, expires: Jiffies) -> bool {
        // SAFETY: By the type invariant the timer is initialised and pinned.
        unsafe { bindings::mod_timer(self.as_ptr(), expires) != 0 }
    }

    /// Arms (or re-arms) the timer to expire `delay` jiffies from now.
    ///
    /// Returns whether it was pending; see [`Timer::mod_timer`].
    pub fn schedule_after(&self, delay: Jiffies) -> bool {
        self.mod_timer(jiffies().wrapping_add(delay))
    }

    /// Arms (or re-arms) the timer to expire `msecs` milliseconds from now.
    ///
    /// Returns whether it was pending; see [`Timer::mod_timer`].
    pub fn schedule_after_msecs(&self, msecs: Msecs) -> bool {
        self.schedule_after(msecs_to_jiffies(msecs))
    }

    /// Returns whether the timer is armed and has not expired yet.
    pub fn is_pending(&self) -> bool {
        // SAFETY: By the type invariant the timer is initialised.
        unsafe { bindings::timer_pending(self.as_ptr()) != 0 }
    }

    /// Disarms the timer; a callback already running goes on.
    ///
    /// Returns whether the timer was pending. Any context but hard
    /// interrupts, including the timer's own callback.
    pub fn delete(&self) -> bool {
        // SAFETY: By the type invariant the timer is initialised and pinned.
        unsafe { bindings::timer_delete(self.as_ptr()) != 0 }
    }

    /// Disarms the timer and waits until a running callback has returned.
    ///
    /// Returns whether the timer was pending. A callback that re-arms its own
    /// timer is handled (the re-armed timer is disarmed); arming it from
    /// elsewhere at the same time is not, use [`Timer::shutdown_sync`] for a
    /// final stop. Must not be called from the timer's callback, with a lock
    /// held that the callback takes, or in hard interrupt context.
    pub fn delete_sync(&self) -> bool {
        // SAFETY: By the type invariant the timer is initialised and pinned.
        unsafe { bindings::timer_delete_sync(self.as_ptr()) != 0 }
    }

    /// Disarms the timer for good and waits for a running callback.
    ///
    /// Arming it afterwards does nothing. Same context rules as
    /// [`Timer::delete_sync`].
    pub fn shutdown_sync(&self) {
        // SAFETY: By the type invariant the timer is initialised and pinned.
        unsafe { bindings::timer_shutdown_sync(self.as_ptr()) };
    }
}

impl<T> Deref for Timer<T> {
    type Target = T;

    fn deref(&self) -> &T {
        &self.data
    }
}

#[pinned_drop]
impl<T> PinnedDrop for Timer<T> {
    fn drop(self: Pin<&mut Self>) {
        // Before `data` is dropped (fields drop after this): no callback is
        // running or can start once this returns.
        self.shutdown_sync();
    }
}
