// SPDX-License-Identifier: GPL-2.0

//! A bounded hash table with lockless RCU lookups and per-bucket locks.
//!
//! [`RcuTable<K, S, M>`] maps keys `K` to entries made of two parts:
//!
//! - shared data `S`, immutable after insertion (or interior-mutable through
//!   atomics), which readers reach without any lock through
//!   [`RcuTable::lookup`] inside an RCU read-side critical section;
//! - mutable data `M`, reachable only while holding the entry's bucket lock
//!   ([`RcuTable::with_locked`], [`RcuTable::retain`], ...).
//!
//! The number of buckets is a power of two fixed at creation; the number of
//! entries is bounded by `max_entries`. A table made with
//! [`RcuTable::new_inactive`] has no buckets until [`RcuTable::activate`]
//! allocates them (an instance that may never be used costs no memory): until
//! then it is empty, lookups find nothing and inserts fail with `ENODEV`. Every bucket is an `hlist_head` with
//! its own `spinlock_t`, taken with `spin_lock_bh` because writers run both in
//! softirq context (packet path, timers) and in process context (netlink).
//! Removed entries are freed after an RCU grace period with `call_rcu`.
//! A bucket's entries are in insertion order, each numbered one past the
//! bucket's last (`seq`), so that an iteration can resume after the last
//! entry it visited whatever was removed meanwhile
//! ([`RcuTable::for_each_from`]).
//!
//! # Context rules
//!
//! - [`RcuTable::lookup`]: any context but NMI, under a [`Guard`].
//! - Every other method except [`RcuTable::new`] and dropping: softirq or
//!   process context, not hard interrupt context and not with interrupts
//!   disabled (`spin_unlock_bh` must be able to run softirqs).
//! - The closures passed to the locking methods run with the bucket lock held
//!   and bottom halves disabled: they must not sleep and must not call
//!   methods of the same table that lock a bucket (self-deadlock, and lockdep
//!   reports recursive locking even for another bucket of the table).
//! - [`RcuTable::new`] and [`RcuTable::activate`] allocate with
//!   `GFP_KERNEL` and dropping the table waits for RCU callbacks: all in
//!   process context only.
//! - Entries are dropped in RCU callbacks (softirq context): the `Drop` of
//!   `K`, `S` and `M` must not sleep.
//!
//! # Memory
//!
//! A bucket is an `hlist_head` and a `spinlock_t`: 16 bytes, or about 72 with
//! lockdep (the lock's `dep_map`), so 2^20 buckets take 16 MiB (72 MiB on a
//! lockdep kernel) from `kvmalloc`. An entry is a `kmalloc` allocation of the
//! list node, the RCU head, the hash and `K`, `S`, `M`.
//!
//! # Module unload
//!
//! `call_rcu` callbacks run the module's code (they drop `K`, `S` and `M`).
//! Dropping a table waits for the callbacks it queued (`rcu_barrier`), so a
//! module whose tables are all dropped in its exit path needs nothing more.
//! A module that leaks a table (e.g. `core::mem::forget`) must call
//! [`rcu_barrier`](super::rcu::rcu_barrier) itself before it is unloaded.
//!
//! C headers: [`include/linux/rculist.h`](srctree/include/linux/rculist.h),
//! [`include/linux/spinlock.h`](srctree/include/linux/spinlock.h)

use super::rcu::{rcu_barrier, Guard};
use crate::{alloc::Flags, bindings, prelude::*, types::Opaque};
use core::{
    cell::UnsafeCell,
    mem::MaybeUninit,
    ops::{ControlFlow, Deref, Range},
    ptr,
    sync::atomic::{AtomicBool, AtomicU8, AtomicUsize, Ordering},
};

/// Largest supported `bucket_bits`: 2^20 buckets.
pub const MAX_BUCKET_BITS: u32 = 20;

/// `RcuTable::state`: no buckets yet.
const INACTIVE: u8 = 0;
/// `RcuTable::state`: an `activate` is allocating them.
const ACTIVATING: u8 = 1;
/// `RcuTable::state`: the buckets are there.
const READY: u8 = 2;

/// The random seed of a table's hash function, with the kernel's keyed hashes.
///
/// Seeding per table makes bucket placement unpredictable to remote peers,
/// who choose the TCP 4-tuples that are hashed.
#[derive(Clone)]
pub struct HashSeed {
    sip: bindings::siphash_key_t,
    jhash: u32,
}

impl HashSeed {
    /// Returns a seed from the kernel's random number generator.
    pub fn random() -> Self {
        let mut words = [0u64; 3];
        // SAFETY: `words` is valid for writes of its size.
        unsafe {
            bindings::get_random_bytes(words.as_mut_ptr().cast(), core::mem::size_of_val(&words))
        };
        Self::from_words(words[0], words[1], words[2] as u32)
    }

    /// Returns a fixed seed (for tests and reproducible hashing).
    pub fn from_words(sip0: u64, sip1: u64, jhash: u32) -> Self {
        Self {
            sip: bindings::siphash_key_t { key: [sip0, sip1] },
            jhash,
        }
    }

    /// SipHash-2-4 of `data` keyed with the seed (`siphash`): the hash to use
    /// for data remote peers choose.
    pub fn siphash(&self, data: &[u8]) -> u64 {
        // SAFETY: `data` is valid for reads of `data.len()` bytes and the key
        // is a valid `siphash_key_t`.
        unsafe { bindings::siphash(data.as_ptr().cast(), data.len(), &self.sip) }
    }

    /// Bob Jenkins' hash of `data` with the seed as initial value (`jhash`):
    /// faster, weaker than [`HashSeed::siphash`].
    pub fn jhash(&self, data: &[u8]) -> u32 {
        // Table keys are small; longer inputs hash their first 4 GiB.
        let len = u32::try_from(data.len()).unwrap_or(u32::MAX);
        // SAFETY: `data` is valid for reads of at least `len` bytes.
        unsafe { bindings::jhash(data.as_ptr().cast(), len, self.jhash) }
    }

    /// [`HashSeed::jhash`] of 32-bit words (`jhash2`).
    pub fn jhash_words(&self, words: &[u32]) -> u32 {
        let len = u32::try_from(words.len()).unwrap_or(u32::MAX);
        // SAFETY: `words` is valid for reads of at least `len` words.
        unsafe { bindings::jhash2(words.as_ptr(), len, self.jhash) }
    }
}

/// A key of an [`RcuTable`].
pub trait TableKey: Eq + Send + Sync + 'static {
    /// Hashes the key with the table's seed, e.g. with
    /// [`HashSeed::siphash`]. Equal keys must have equal hashes.
    fn hash(&self, seed: &HashSeed) -> u32;
}

/// One bucket: a list of entries and the lock of its writers.
///
/// # Invariants
///
/// Once the table is built, `lock` is an initialised `spinlock_t` and `head` an
/// initialised `hlist_head` whose nodes are the `link`s of linked [`Node`]s of
/// the table. The list is changed only with `lock` held.
struct Bucket {
    head: Opaque<bindings::hlist_head>,
    lock: Opaque<bindings::spinlock_t>,
}

impl Bucket {
    /// Takes the bucket lock, returning the guard that releases it.
    fn lock(&self) -> BucketGuard<'_> {
        // SAFETY: By the type invariant the lock is initialised; the context
        // rules of the module (process or softirq context) allow `_bh`.
        unsafe { bindings::spin_lock_bh(self.lock.get()) };
        BucketGuard(self)
    }

    /// Returns the first node, read as an RCU reader (or lock holder) does.
    fn first(&self) -> *mut bindings::hlist_node {
        // SAFETY: `head` is valid; a volatile load is `rcu_dereference` on
        // the architectures Rust supports (address dependencies order the
        // later loads through the pointer).
        unsafe { ptr::read_volatile(ptr::addr_of!((*self.head.get()).first)) }
    }
}

/// A held bucket lock.
///
/// # Invariants
///
/// The bucket's lock is held by this context and released on drop.
struct BucketGuard<'a>(&'a Bucket);

impl Drop for BucketGuard<'_> {
    fn drop(&mut self) {
        // SAFETY: By the type invariant the lock is held here.
        unsafe { bindings::spin_unlock_bh(self.0.lock.get()) };
    }
}

/// Returns the node after `node`.
///
/// # Safety
///
/// `node` must be a node of a live list: the caller holds its bucket lock, or
/// is in an RCU read-side critical section that began before the node could
/// have been freed.
unsafe fn next(node: *mut bindings::hlist_node) -> *mut bindings::hlist_node {
    // SAFETY: By the safety requirements `node` is valid; see `Bucket::first`
    // for the volatile load.
    unsafe { ptr::read_volatile(ptr::addr_of!((*node).next)) }
}

/// An entry as allocated: the intrusive list node, the RCU callback head and
/// the data.
///
/// # Invariants
///
/// `locked` is accessed only by the holder of the lock of the bucket the node
/// is linked in, or by the sole owner of an unlinked node.
struct Node<K, S, M> {
    link: Opaque<bindings::hlist_node>,
    rcu: Opaque<bindings::callback_head>,
    hash: u32,
    /// Position in the bucket: larger than that of every node before it.
    seq: u64,
    key: K,
    shared: S,
    locked: UnsafeCell<M>,
}

impl<K, S, M> Node<K, S, M> {
    /// Returns the node whose `link` is `link`.
    ///
    /// # Safety
    ///
    /// `link` must point to the `link` field of a `Node<K, S, M>`.
    unsafe fn from_link(link: *mut bindings::hlist_node) -> *mut Self {
        let link = link.cast::<Opaque<bindings::hlist_node>>();
        // SAFETY: `Opaque` is `repr(transparent)`; by the safety requirements
        // `link` is the `link` field of a node.
        unsafe { crate::container_of!(link, Self, link).cast_mut() }
    }

    /// Returns the `hlist_node` of `this`.
    ///
    /// # Safety
    ///
    /// `this` must point to a node (possibly not yet initialised).
    unsafe fn link(this: *mut Self) -> *mut bindings::hlist_node {
        // SAFETY: By the safety requirements `this` is in bounds of a node.
        Opaque::raw_get(unsafe { ptr::addr_of!((*this).link) })
    }

    /// The `call_rcu` callback: frees the node after the grace period.
    ///
    /// # Safety
    ///
    /// `head` must be the `rcu` field of an unlinked node from
    /// `KBox::into_raw` that nothing else uses any more.
    unsafe extern "C" fn free_rcu(head: *mut bindings::callback_head) {
        let head = head.cast::<Opaque<bindings::callback_head>>();
        // SAFETY: By the safety requirements `head` is the `rcu` field of a
        // node, and the node is owned by this callback.
        let node = unsafe { crate::container_of!(head, Self, rcu).cast_mut() };
        // SAFETY: As above: the node came from `KBox::into_raw`.
        drop(unsafe { KBox::from_raw(node) });
    }
}

/// A resumable position of [`RcuTable::for_each_from`]: a bucket and the
/// position (`seq`) in it of the last entry visited.
///
/// Both fields are plain numbers (a netlink dump keeps them between its
/// parts); any value is allowed: a bucket past the end means the iteration
/// is done.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct IterPos {
    /// Index of the bucket to visit next.
    pub bucket: usize,
    /// Entries of that bucket up to this position were visited (0: none).
    pub after: u64,
}

impl IterPos {
    /// The start of an iteration.
    pub const START: Self = Self {
        bucket: 0,
        after: 0,
    };
}

/// A reference to an entry found by [`RcuTable::lookup`], valid while the RCU
/// guard of the lookup lives. Dereferences to the shared data `S`.
///
/// The entry may be removed from the table meanwhile: it stays readable until
/// the guard ends.
pub struct EntryRef<'a, K, S, M> {
    node: &'a Node<K, S, M>,
}

impl<'a, K, S, M> EntryRef<'a, K, S, M> {
    /// Returns the entry's key.
    pub fn key(&self) -> &'a K {
        &self.node.key
    }

    /// Returns the entry's shared data.
    pub fn shared(&self) -> &'a S {
        &self.node.shared
    }
}

impl<K, S, M> Deref for EntryRef<'_, K, S, M> {
    type Target = S;

    fn deref(&self) -> &S {
        &self.node.shared
    }
}

/// A bounded hash table with RCU readers and per-bucket locked writers.
///
/// See the [module documentation](self) for the context rules.
///
/// # Invariants
///
/// - `key` is a lockdep class key, registered while the table lives.
/// - While `state` is [`READY`], `buckets` is initialised, is not written
///   again until the table is dropped, and holds `mask + 1` initialised
///   [`Bucket`]s (a power of two) whose locks use the class `key`. Before,
///   no node is linked anywhere.
/// - Every node linked in a bucket was allocated with [`KBox`], is owned by
///   the table, and hashes (`hash & mask`) to that bucket. Unlinked nodes are
///   freed by a `call_rcu` callback queued when they were unlinked.
/// - `count` is at least the number of linked nodes and at most
///   `max_entries` plus the number of inserts in progress.
pub struct RcuTable<K, S, M> {
    buckets: UnsafeCell<MaybeUninit<KVVec<Bucket>>>,
    /// [`INACTIVE`], [`ACTIVATING`] or [`READY`].
    state: AtomicU8,
    name: &'static CStr,
    mask: usize,
    key: KBox<Opaque<bindings::lock_class_key>>,
    seed: HashSeed,
    count: AtomicUsize,
    max_entries: usize,
    queued_rcu: AtomicBool,
    _entries: core::marker::PhantomData<KBox<Node<K, S, M>>>,
}

// SAFETY: The table owns its entries: sending it sends `K`, `S` and `M`
// (all `Send`); the C objects (locks, lists, lockdep key) are not tied to a
// thread.
unsafe impl<K: Send, S: Send, M: Send> Send for RcuTable<K, S, M> {}

// SAFETY: Through `&RcuTable` other threads read `K` and `S` concurrently
// (`Sync`), mutate `M` only under the bucket lock and drop entries in RCU
// callbacks on other CPUs (`Send`), like a `Mutex<M>` needs `M: Send`. The
// bucket array is written once, by the one `activate` that moved `state`
// away from `INACTIVE`, and read only after `READY` was published (release
// and acquire).
unsafe impl<K: Send + Sync, S: Send + Sync, M: Send> Sync for RcuTable<K, S, M> {}

impl<K, S, M> RcuTable<K, S, M> {
    /// Whether the table has its buckets.
    pub fn is_active(&self) -> bool {
        self.state.load(Ordering::Acquire) == READY
    }

    /// The buckets; none before [`RcuTable::activate`].
    fn buckets(&self) -> &[Bucket] {
        if !self.is_active() {
            return &[];
        }
        // SAFETY: `READY` was read with acquire ordering after `activate`
        // published it: by the type invariant `buckets` is initialised and
        // is not written again while `&self` lives.
        unsafe { (*self.buckets.get()).assume_init_ref() }
    }
}

impl<K: TableKey, S: Send + Sync + 'static, M: Send + 'static> RcuTable<K, S, M> {
    /// Creates an empty table with `1 << bucket_bits` buckets holding at most
    /// `max_entries` entries, hashing with a random seed.
    ///
    /// `name` names the bucket locks in lockdep reports. Fails with `EINVAL`
    /// if `bucket_bits` exceeds [`MAX_BUCKET_BITS`], `ENOMEM` if the buckets
    /// cannot be allocated (with `kvmalloc`: large tables use vmalloc).
    /// Process context: it may sleep.
    pub fn new(name: &'static CStr, bucket_bits: u32, max_entries: usize) -> Result<Self> {
        Self::with_seed(name, bucket_bits, max_entries, HashSeed::random())
    }

    /// Like [`RcuTable::new`], with the given hash seed.
    pub fn with_seed(
        name: &'static CStr,
        bucket_bits: u32,
        max_entries: usize,
        seed: HashSeed,
    ) -> Result<Self> {
        let table = Self::inactive(name, bucket_bits, max_entries, seed)?;
        table.activate()?;
        Ok(table)
    }

    /// Like [`RcuTable::new`], without buckets until [`RcuTable::activate`]
    /// allocates them: until then the table is empty and takes no entry.
    pub fn new_inactive(name: &'static CStr, bucket_bits: u32, max_entries: usize) -> Result<Self> {
        Self::inactive(name, bucket_bits, max_entries, HashSeed::random())
    }

    fn inactive(
        name: &'static CStr,
        bucket_bits: u32,
        max_entries: usize,
        seed: HashSeed,
    ) -> Result<Self> {
        if bucket_bits > MAX_BUCKET_BITS {
            return Err(EINVAL);
        }
        let key = KBox::new(Opaque::<bindings::lock_class_key>::uninit(), GFP_KERNEL)?;
        // SAFETY: `key` is heap memory that stays at its address until it is
        // unregistered in `drop` (it is boxed and never moved out).
        unsafe { bindings::lockdep_register_key(key.get()) };
        // INVARIANT: `key` is registered; no buckets, no nodes.
        Ok(Self {
            buckets: UnsafeCell::new(MaybeUninit::uninit()),
            state: AtomicU8::new(INACTIVE),
            name,
            mask: (1usize << bucket_bits) - 1,
            key,
            seed,
            count: AtomicUsize::new(0),
            max_entries,
            queued_rcu: AtomicBool::new(false),
            _entries: core::marker::PhantomData,
        })
    }

    /// Allocates the buckets of a table made with
    /// [`RcuTable::new_inactive`]; nothing if it has them. Process context.
    /// Fails with `ENOMEM`, or `EBUSY` while another call is allocating them.
    pub fn activate(&self) -> Result {
        match self.state.compare_exchange(
            INACTIVE,
            ACTIVATING,
            Ordering::Acquire,
            Ordering::Acquire,
        ) {
            Ok(_) => {}
            Err(READY) => return Ok(()),
            Err(_) => return Err(EBUSY),
        }
        let n = self.mask + 1;
        let mut buckets = match KVVec::with_capacity(n, GFP_KERNEL) {
            Ok(b) => b,
            Err(e) => {
                self.state.store(INACTIVE, Ordering::Release);
                return Err(e.into());
            }
        };
        for _ in 0..n {
            // The capacity is reserved: this does not allocate. The lock is
            // initialised below, at its final address.
            let pushed = buckets.push(
                Bucket {
                    head: Opaque::new(bindings::hlist_head {
                        first: ptr::null_mut(),
                    }),
                    lock: Opaque::uninit(),
                },
                GFP_KERNEL,
            );
            if pushed.is_err() {
                self.state.store(INACTIVE, Ordering::Release);
                return Err(ENOMEM);
            }
        }
        for b in buckets.iter() {
            // SAFETY: `b.lock` is valid for writes; `name` is `'static` and
            // `key` registered and alive as long as the table, hence the lock.
            unsafe {
                bindings::__spin_lock_init(b.lock.get(), self.name.as_char_ptr(), self.key.get())
            };
        }
        // SAFETY: This call moved `state` to `ACTIVATING`: no other context
        // writes `buckets`, and none reads it before `READY` below.
        unsafe { (*self.buckets.get()).write(buckets) };
        // INVARIANT: The buckets are initialised, their locks too.
        self.state.store(READY, Ordering::Release);
        Ok(())
    }

    /// Returns the table's hash seed.
    pub fn seed(&self) -> &HashSeed {
        &self.seed
    }

    /// Returns the number of buckets (a power of two).
    pub fn bucket_count(&self) -> usize {
        self.mask + 1
    }

    /// Returns the maximum number of entries.
    pub fn max_entries(&self) -> usize {
        self.max_entries
    }

    /// Returns the number of entries (inserts in progress may count already).
    pub fn len(&self) -> usize {
        self.count.load(Ordering::Relaxed)
    }

    /// Returns whether the table has no entries.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The bucket of `hash`; none before [`RcuTable::activate`].
    fn bucket_of(&self, hash: u32) -> Option<&Bucket> {
        // Active: `mask + 1` buckets (type invariant), the index is in
        // bounds.
        self.buckets().get(hash as usize & self.mask)
    }

    /// Finds the node of `key` in `bucket`.
    ///
    /// # Safety
    ///
    /// The caller holds `bucket`'s lock or is in an RCU read-side critical
    /// section.
    unsafe fn find(&self, bucket: &Bucket, hash: u32, key: &K) -> *mut Node<K, S, M> {
        let mut pos = bucket.first();
        while !pos.is_null() {
            // SAFETY: By the type invariant linked `hlist_node`s are `link`s of
            // nodes; the lock or the RCU read-side critical section keeps
            // them alive.
            let node = unsafe { Node::from_link(pos) };
            // SAFETY: `node` is alive (as above); `hash` and `key` are never
            // written after publication.
            if unsafe { (*node).hash == hash && (*node).key == *key } {
                return node;
            }
            // SAFETY: `pos` is a live node of the list (as above).
            pos = unsafe { next(pos) };
        }
        ptr::null_mut()
    }

    /// Unlinks `node` from its bucket and queues it to be freed after a grace
    /// period.
    ///
    /// # Safety
    ///
    /// The caller holds the lock of the bucket `node` is linked in, and holds
    /// no reference to the node's `locked` data.
    unsafe fn unlink(&self, node: *mut Node<K, S, M>) {
        // SAFETY: The node is linked and the bucket lock is held.
        unsafe { bindings::hlist_del_init_rcu(Node::link(node)) };
        self.count.fetch_sub(1, Ordering::Relaxed);
        self.queued_rcu.store(true, Ordering::Relaxed);
        // SAFETY: The node is unlinked: from now on only readers that found
        // it before may use it, and the callback runs after they are done.
        // The node came from `KBox::into_raw` (type invariant).
        unsafe {
            bindings::call_rcu(
                Opaque::raw_get(ptr::addr_of!((*node).rcu)),
                Some(Node::<K, S, M>::free_rcu),
            )
        };
    }

    /// Inserts an entry for `key`.
    ///
    /// `flags` are the allocation flags of the entry: `GFP_ATOMIC` in softirq
    /// context. Fails with `EEXIST` if `key` is present, `ENOSPC` if the table
    /// holds `max_entries` entries, `ENOMEM` if the entry cannot be allocated,
    /// `ENODEV` if the table is not active. The values are dropped on failure.
    pub fn insert(&self, key: K, shared: S, locked: M, flags: Flags) -> Result {
        let hash = key.hash(&self.seed);
        let bucket = self.bucket_of(hash).ok_or(ENODEV)?;
        // Reserve a slot before allocating, so a full table costs no
        // allocation.
        let reserved = self
            .count
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| {
                (n < self.max_entries).then_some(n + 1)
            })
            .is_ok();
        if !reserved {
            // A present key is the better answer (a retransmitted SYN).
            return Err(if self.contains(&key) { EEXIST } else { ENOSPC });
        }
        let node = match KBox::new(
            Node {
                link: Opaque::uninit(),
                rcu: Opaque::uninit(),
                hash,
                seq: 0,
                key,
                shared,
                locked: UnsafeCell::new(locked),
            },
            flags,
        ) {
            Ok(node) => node,
            Err(e) => {
                self.count.fetch_sub(1, Ordering::Relaxed);
                return Err(e.into());
            }
        };
        let node = KBox::into_raw(node);
        let g = bucket.lock();
        // Walk the bucket: the key must be absent, and the node goes last.
        let mut last: *mut bindings::hlist_node = ptr::null_mut();
        let mut pos = bucket.first();
        while !pos.is_null() {
            // SAFETY: The bucket lock is held: linked `hlist_node`s are
            // `link`s of live nodes (type invariant); `node` is valid and not
            // shared yet. `hash` and `key` are never written after
            // publication.
            let dup = unsafe {
                let other = Node::<K, S, M>::from_link(pos);
                (*other).hash == hash && (*other).key == (*node).key
            };
            if dup {
                drop(g);
                self.count.fetch_sub(1, Ordering::Relaxed);
                // SAFETY: `node` came from `KBox::into_raw` and was never
                // published.
                drop(unsafe { KBox::from_raw(node) });
                return Err(EEXIST);
            }
            last = pos;
            // SAFETY: `pos` is a live node of the locked bucket.
            pos = unsafe { next(pos) };
        }
        // SAFETY: The bucket lock is held, so `last` (if any) is a live node
        // whose `seq` no one writes; `node` is not shared yet.
        unsafe {
            (*node).seq = if last.is_null() {
                1
            } else {
                (*Node::<K, S, M>::from_link(last)).seq + 1
            }
        };
        // SAFETY: The bucket lock is held, the node is initialised except for
        // `link`, which this initialises, and `hash` selects this bucket;
        // `last` is the bucket's last node. The `_rcu` adds publish the node
        // with release semantics: its contents are visible to readers that
        // see it.
        unsafe {
            if last.is_null() {
                bindings::hlist_add_head_rcu(Node::link(node), bucket.head.get());
            } else {
                bindings::hlist_add_behind_rcu(Node::link(node), last);
            }
        }
        drop(g);
        Ok(())
    }

    /// Looks `key` up without locks, for RCU readers.
    pub fn lookup<'a>(&'a self, _guard: &'a Guard, key: &K) -> Option<EntryRef<'a, K, S, M>> {
        let hash = key.hash(&self.seed);
        let bucket = self.bucket_of(hash)?;
        // SAFETY: `_guard` is an RCU read-side critical section.
        let node = unsafe { self.find(bucket, hash, key) };
        // SAFETY: The node is alive until `_guard` ends: unlinked nodes are
        // freed after a grace period. Only `key` and `shared` are read
        // through the reference (`locked` is in an `UnsafeCell`).
        unsafe { node.as_ref() }.map(|node| EntryRef { node })
    }

    /// Returns whether `key` is present.
    pub fn contains(&self, key: &K) -> bool {
        self.lookup(&Guard::new(), key).is_some()
    }

    /// Runs `f` on the entry of `key` with its bucket lock held, returning
    /// its result, or `None` if `key` is absent.
    ///
    /// `f` must not sleep nor lock buckets of this table.
    pub fn with_locked<R>(&self, key: &K, f: impl FnOnce(&S, &mut M) -> R) -> Option<R> {
        let hash = key.hash(&self.seed);
        let bucket = self.bucket_of(hash)?;
        let _g = bucket.lock();
        // SAFETY: The bucket lock is held.
        let node = unsafe { self.find(bucket, hash, key) };
        if node.is_null() {
            return None;
        }
        // SAFETY: `node` is linked in `bucket`, whose lock is held: by the
        // type invariant of `Node` this context has exclusive access to
        // `locked`, and `shared` is only ever shared.
        let (s, m) = unsafe { (&(*node).shared, &mut *(*node).locked.get()) };
        Some(f(s, m))
    }

    /// Removes the entry of `key`; returns whether it was present.
    ///
    /// Readers that found it may keep using it until their guard ends.
    pub fn remove(&self, key: &K) -> bool {
        self.remove_if(key, |_, _| true)
    }

    /// Removes the entry of `key` if `f` returns true for it (called with the
    /// bucket lock held); returns whether it was removed.
    pub fn remove_if(&self, key: &K, f: impl FnOnce(&S, &mut M) -> bool) -> bool {
        let hash = key.hash(&self.seed);
        let Some(bucket) = self.bucket_of(hash) else {
            return false;
        };
        let _g = bucket.lock();
        // SAFETY: The bucket lock is held.
        let node = unsafe { self.find(bucket, hash, key) };
        if node.is_null() {
            return false;
        }
        // SAFETY: `node` is linked in `bucket`, whose lock is held (see
        // `with_locked`); the references end before the node is unlinked.
        let (s, m) = unsafe { (&(*node).shared, &mut *(*node).locked.get()) };
        if !f(s, m) {
            return false;
        }
        // SAFETY: The node is linked in `bucket`, whose lock is held.
        unsafe { self.unlink(node) };
        true
    }

    /// Keeps only the entries for which `f` returns true, in the buckets of
    /// `range` (clamped to the bucket count); returns how many were removed.
    ///
    /// For expiry from a timer: sweep a bounded number of buckets per tick,
    /// e.g. `start..start + 64`, then continue at `start + 64` (wrapping at
    /// [`RcuTable::bucket_count`]). Each bucket's lock is held only while
    /// that bucket is swept.
    pub fn retain_buckets(
        &self,
        range: Range<usize>,
        mut f: impl FnMut(&K, &S, &mut M) -> bool,
    ) -> usize {
        let mut removed = 0;
        let end = range.end.min(self.bucket_count());
        for bucket in self.buckets().get(range.start.min(end)..end).unwrap_or(&[]) {
            if bucket.first().is_null() {
                // Nothing to sweep; a concurrent insert is seen next time.
                continue;
            }
            let _g = bucket.lock();
            let mut pos = bucket.first();
            while !pos.is_null() {
                // SAFETY: `pos` is a live node of `bucket`, whose lock is held;
                // its successor is read before it may be unlinked.
                let (node, following) = unsafe { (Node::<K, S, M>::from_link(pos), next(pos)) };
                // SAFETY: The node is linked in `bucket`, whose lock is held
                // (see `with_locked`); the references end before the unlink.
                let keep = unsafe { f(&(*node).key, &(*node).shared, &mut *(*node).locked.get()) };
                if !keep {
                    // SAFETY: As above.
                    unsafe { self.unlink(node) };
                    removed += 1;
                }
                pos = following;
            }
        }
        removed
    }

    /// Keeps only the entries for which `f` returns true; returns how many
    /// were removed. Locks one bucket at a time.
    pub fn retain(&self, f: impl FnMut(&K, &S, &mut M) -> bool) -> usize {
        self.retain_buckets(0..self.bucket_count(), f)
    }

    /// Removes every entry; returns how many were removed.
    pub fn clear(&self) -> usize {
        self.retain(|_, _, _| false)
    }

    /// Visits entries from `pos` on, with each bucket's lock held while its
    /// entries are visited, and advances `pos`.
    ///
    /// `f` returns [`ControlFlow::Continue`] once it has consumed an entry
    /// (e.g. copied it into a netlink message), or [`ControlFlow::Break`] when
    /// it cannot take this entry: the iteration stops and `pos` still points
    /// at that entry, so the next call starts with it. Returns true when the
    /// whole table has been visited.
    ///
    /// However many calls an iteration takes, and whatever is inserted or
    /// removed between them, an entry present during the whole iteration is
    /// visited exactly once (a bucket's entries keep their order and `pos`
    /// names the last one visited, not a count). Entries inserted or removed
    /// meanwhile are visited at most once.
    pub fn for_each_from(
        &self,
        pos: &mut IterPos,
        mut f: impl FnMut(&K, &S, &M) -> ControlFlow<()>,
    ) -> bool {
        while let Some(bucket) = self.buckets().get(pos.bucket) {
            if !bucket.first().is_null() {
                let _g = bucket.lock();
                let mut cur = bucket.first();
                while !cur.is_null() {
                    // SAFETY: `cur` is a live node of `bucket`, whose lock is
                    // held, which allows shared access to `locked`.
                    let node = unsafe { &*Node::<K, S, M>::from_link(cur) };
                    if node.seq > pos.after {
                        // SAFETY: As above; nothing mutates `locked` meanwhile.
                        let m = unsafe { &*node.locked.get() };
                        if f(&node.key, &node.shared, m).is_break() {
                            return false;
                        }
                        pos.after = node.seq;
                    }
                    // SAFETY: `cur` is a live node of the locked bucket.
                    cur = unsafe { next(cur) };
                }
            }
            pos.bucket += 1;
            pos.after = 0;
        }
        true
    }
}

impl<K, S, M> Drop for RcuTable<K, S, M> {
    fn drop(&mut self) {
        for bucket in self.buckets() {
            let mut pos = bucket.first();
            while !pos.is_null() {
                // SAFETY: `&mut self`: no reader or writer uses the table,
                // so the linked nodes are owned here; the successor is read
                // before the node is freed.
                let (node, following) = unsafe { (Node::<K, S, M>::from_link(pos), next(pos)) };
                // SAFETY: Linked nodes come from `KBox::into_raw` (type
                // invariant) and nothing references them any more.
                drop(unsafe { KBox::from_raw(node) });
                pos = following;
            }
        }
        if *self.queued_rcu.get_mut() {
            // Callbacks queued by `unlink` run this module's code and drop
            // `K`, `S`, `M`: wait for them.
            rcu_barrier();
        }
        if self.is_active() {
            // SAFETY: Initialised (`READY`, type invariant), dropped once:
            // the table goes.
            unsafe { self.buckets.get_mut().assume_init_drop() };
        }
        // SAFETY: The key was registered in `new`; no lock of this class is
        // held (`&mut self`) or will be used again (the buckets went).
        unsafe { bindings::lockdep_unregister_key(self.key.get()) };
    }
}
