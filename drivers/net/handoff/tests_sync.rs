// SPDX-License-Identifier: GPL-2.0

//! KUnit tests of the synchronisation abstractions the module builds on:
//! `kernel::sync::rcu_table`, `kernel::sync::rcu::RcuBox` and
//! `kernel::timer`.

use core::ops::ControlFlow;
use core::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use kernel::c_str;
use kernel::prelude::*;
use kernel::sync::rcu::{self, RcuBox};
use kernel::sync::rcu_table::{HashSeed, IterPos, RcuTable, TableKey, MAX_BUCKET_BITS};
use kernel::sync::Arc;
use kernel::timer::{self, new_timer, Timer, TimerCallback};
use kernel::workqueue;
use kernel::{kunit_expect, kunit_expect_eq};

/// A key hashed with SipHash.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Id(u32);

impl TableKey for Id {
    fn hash(&self, seed: &HashSeed) -> u32 {
        seed.siphash(&self.0.to_ne_bytes()) as u32
    }
}

/// A key whose values all hash alike: one bucket holds them all.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Same(u32);

impl TableKey for Same {
    fn hash(&self, _seed: &HashSeed) -> u32 {
        7
    }
}

/// A TCP 4-tuple hashed with jhash, as the module's connection tables do.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Tuple {
    saddr: u32,
    daddr: u32,
    sport: u16,
    dport: u16,
}

impl TableKey for Tuple {
    fn hash(&self, seed: &HashSeed) -> u32 {
        let ports = (u32::from(self.sport) << 16) | u32::from(self.dport);
        seed.jhash_words(&[self.saddr, self.daddr, ports])
    }
}

fn fixed_seed() -> HashSeed {
    HashSeed::from_words(0x0706_0504_0302_0100, 0x0f0e_0d0c_0b0a_0908, 0x1234_5678)
}

/// Creates a table or records the failure.
fn table<K: TableKey, S: Send + Sync + 'static, M: Send + 'static>(
    bits: u32,
    max: usize,
) -> Option<RcuTable<K, S, M>> {
    let t = RcuTable::with_seed(c_str!("handoff_test_table"), bits, max, fixed_seed());
    kunit_expect!(t.is_ok());
    t.ok()
}

/// Shared data whose words all derive from the id: a reader seeing a mix of
/// two entries, or an uninitialised one, notices.
struct Payload {
    id: u64,
    words: [u64; 4],
}

impl Payload {
    fn new(id: u64) -> Self {
        Self {
            id,
            words: core::array::from_fn(|i| id.wrapping_mul(0x9e37_79b9_7f4a_7c15) ^ i as u64),
        }
    }

    fn is_whole(&self, id: u64) -> bool {
        self.id == id
            && self
                .words
                .iter()
                .enumerate()
                .all(|(i, &w)| w == id.wrapping_mul(0x9e37_79b9_7f4a_7c15) ^ i as u64)
    }
}

fn xorshift(mut x: u32) -> u32 {
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    x
}

/// Polls `done` every 10 ms for at most `max_ms`; returns whether it held.
fn wait_until(max_ms: u32, done: impl Fn() -> bool) -> bool {
    let mut waited = 0;
    while !done() {
        if waited >= max_ms {
            return false;
        }
        timer::msleep(10);
        waited += 10;
    }
    true
}

// ---- concurrent readers of a table ----

const STABLE: u32 = 64;
const CHURN_BASE: u32 = 1000;
const CHURN: u32 = 256;
const READERS: usize = 4;
const CHUNK: u32 = 256;

struct TableReaders {
    table: RcuTable<Id, Payload, u64>,
    stop: AtomicBool,
    active: AtomicUsize,
    stable_lookups: AtomicUsize,
    stable_misses: AtomicUsize,
    churn_lookups: AtomicUsize,
    churn_hits: AtomicUsize,
    churn_misses: AtomicUsize,
    torn: AtomicUsize,
    locked_incs: AtomicUsize,
}

/// One work item's share of lookups; re-queues itself until told to stop, so
/// the worker goes through the scheduler (and RCU quiescent states) between
/// chunks on this non-preemptible kernel.
fn table_reader(sh: Arc<TableReaders>, mut x: u32) {
    for i in 0..CHUNK {
        x = xorshift(x);
        let guard = rcu::read_lock();
        let id = x % STABLE;
        sh.stable_lookups.fetch_add(1, Ordering::Relaxed);
        match sh.table.lookup(&guard, &Id(id)) {
            Some(e) => {
                if *e.key() != Id(id) || !e.is_whole(u64::from(id)) {
                    sh.torn.fetch_add(1, Ordering::Relaxed);
                }
            }
            None => {
                sh.stable_misses.fetch_add(1, Ordering::Relaxed);
            }
        }
        let id = CHURN_BASE + (x >> 8) % CHURN;
        sh.churn_lookups.fetch_add(1, Ordering::Relaxed);
        match sh.table.lookup(&guard, &Id(id)) {
            Some(e) => {
                sh.churn_hits.fetch_add(1, Ordering::Relaxed);
                if *e.key() != Id(id) || !e.is_whole(u64::from(id)) {
                    sh.torn.fetch_add(1, Ordering::Relaxed);
                }
            }
            None => {
                sh.churn_misses.fetch_add(1, Ordering::Relaxed);
            }
        }
        drop(guard);
        if i % 8 == 0
            && sh
                .table
                .with_locked(&Id(x % STABLE), |_, m| *m += 1)
                .is_some()
        {
            sh.locked_incs.fetch_add(1, Ordering::Relaxed);
        }
    }
    let next = sh.clone();
    if sh.stop.load(Ordering::Acquire)
        || workqueue::system()
            .try_spawn(GFP_KERNEL, move || table_reader(next, x))
            .is_err()
    {
        sh.active.fetch_sub(1, Ordering::Release);
    }
}

// ---- concurrent readers of an RcuBox ----

struct Config {
    generation: u64,
    words: [u64; 8],
}

impl Config {
    fn new(generation: u64) -> Self {
        Self {
            generation,
            words: [generation; 8],
        }
    }
}

struct BoxReaders {
    config: RcuBox<Config>,
    stop: AtomicBool,
    active: AtomicUsize,
    reads: AtomicUsize,
    torn: AtomicUsize,
    backwards: AtomicUsize,
}

fn box_reader(sh: Arc<BoxReaders>, mut last: u64) {
    for _ in 0..CHUNK {
        let guard = rcu::read_lock();
        if let Some(c) = sh.config.read(&guard) {
            sh.reads.fetch_add(1, Ordering::Relaxed);
            if c.words.iter().any(|&w| w != c.generation) {
                sh.torn.fetch_add(1, Ordering::Relaxed);
            }
            if c.generation < last {
                sh.backwards.fetch_add(1, Ordering::Relaxed);
            }
            last = c.generation;
        }
    }
    let next = sh.clone();
    if sh.stop.load(Ordering::Acquire)
        || workqueue::system()
            .try_spawn(GFP_KERNEL, move || box_reader(next, last))
            .is_err()
    {
        sh.active.fetch_sub(1, Ordering::Release);
    }
}

// ---- timers ----

struct Ticks {
    fired: AtomicUsize,
    rearm_until: usize,
}

impl Ticks {
    fn new(rearm_until: usize) -> Self {
        Self {
            fired: AtomicUsize::new(0),
            rearm_until,
        }
    }

    fn fired(&self) -> usize {
        self.fired.load(Ordering::Acquire)
    }
}

impl TimerCallback for Ticks {
    fn run(timer: &Timer<Self>) {
        let n = timer.fired.fetch_add(1, Ordering::AcqRel) + 1;
        if n < timer.rearm_until {
            timer.schedule_after(1);
        }
    }
}

/// Counts its runs outside itself, so the count outlives the timer.
struct Outside(Arc<AtomicUsize>);

impl TimerCallback for Outside {
    fn run(timer: &Timer<Self>) {
        timer.0.fetch_add(1, Ordering::AcqRel);
    }
}

/// A timer changing a table from softirq context, as the module's expiry
/// timers and packet path do, while process context changes it too.
struct TableTimer {
    table: RcuTable<Id, u64, u32>,
    runs: AtomicUsize,
    failures: AtomicUsize,
}

/// The process-context side marks entries for the timer to expire.
const EXPIRE: u32 = u32::MAX;
const TIMER_RUNS: usize = 10;

impl TimerCallback for TableTimer {
    fn run(timer: &Timer<Self>) {
        let n = timer.runs.load(Ordering::Relaxed) as u32;
        if timer
            .table
            .insert(Id(100 + n), u64::from(n), 0, GFP_ATOMIC)
            .is_err()
            || timer.table.with_locked(&Id(0), |_, m| *m += 1).is_none()
        {
            timer.failures.fetch_add(1, Ordering::Relaxed);
        }
        timer
            .table
            .retain_buckets(0..timer.table.bucket_count(), |_, _, m| *m != EXPIRE);
        if n as usize + 1 < TIMER_RUNS {
            timer.schedule_after(1);
        }
        timer.runs.fetch_add(1, Ordering::Release);
    }
}

kernel::kunit_tests! {
    suite "handoff_sync";

    fn table_insert_lookup_remove() {
        let Some(t) = table::<Tuple, u64, u32>(4, 100) else {
            return;
        };
        let a = Tuple {
            saddr: 0x0a00_0101,
            daddr: 0x0a00_0064,
            sport: 40000,
            dport: 80,
        };
        let b = Tuple { sport: 40001, ..a };
        kunit_expect!(t.is_empty());
        kunit_expect_eq!(t.insert(a, 11, 0, GFP_KERNEL), Ok(()));
        kunit_expect_eq!(t.insert(b, 22, 0, GFP_KERNEL), Ok(()));
        kunit_expect_eq!(t.len(), 2);
        {
            let g = rcu::read_lock();
            kunit_expect_eq!(
                t.lookup(&g, &a).map(|e| (*e.key(), *e.shared())),
                Some((a, 11))
            );
            kunit_expect_eq!(t.lookup(&g, &b).map(|e| *e), Some(22));
            kunit_expect!(t.lookup(&g, &Tuple { dport: 81, ..a }).is_none());
        }
        kunit_expect!(t.remove(&a));
        kunit_expect!(!t.remove(&a));
        kunit_expect!(!t.contains(&a));
        kunit_expect!(t.contains(&b));
        kunit_expect_eq!(t.len(), 1);
        kunit_expect_eq!(t.clear(), 1);
        kunit_expect!(t.is_empty());
        kunit_expect!(!t.contains(&b));
    }

    fn table_insert_existing_is_eexist() {
        let Some(t) = table::<Id, u64, u32>(2, 100) else {
            return;
        };
        kunit_expect_eq!(t.insert(Id(1), 1, 0, GFP_KERNEL), Ok(()));
        kunit_expect_eq!(t.insert(Id(1), 2, 0, GFP_KERNEL), Err(EEXIST));
        kunit_expect_eq!(t.len(), 1);
        let g = rcu::read_lock();
        // The first entry stays.
        kunit_expect_eq!(t.lookup(&g, &Id(1)).map(|e| *e), Some(1));
    }

    fn table_full_is_enospc() {
        let Some(t) = table::<Id, u64, u32>(3, 4) else {
            return;
        };
        for i in 0..4 {
            kunit_expect_eq!(t.insert(Id(i), u64::from(i), 0, GFP_KERNEL), Ok(()));
        }
        kunit_expect_eq!(t.insert(Id(4), 4, 0, GFP_KERNEL), Err(ENOSPC));
        // A present key is reported as such even when the table is full.
        kunit_expect_eq!(t.insert(Id(2), 2, 0, GFP_KERNEL), Err(EEXIST));
        kunit_expect_eq!(t.len(), 4);
        kunit_expect!(t.remove(&Id(1)));
        kunit_expect_eq!(t.insert(Id(4), 4, 0, GFP_KERNEL), Ok(()));
        kunit_expect_eq!(t.insert(Id(5), 5, 0, GFP_KERNEL), Err(ENOSPC));
        kunit_expect_eq!(t.len(), 4);
        kunit_expect_eq!(t.clear(), 4);
        kunit_expect_eq!(t.insert(Id(5), 5, 0, GFP_ATOMIC), Ok(()));
    }

    fn table_locked_mutation_is_visible() {
        let Some(t) = table::<Id, u64, u32>(4, 100) else {
            return;
        };
        kunit_expect_eq!(t.insert(Id(7), 70, 0, GFP_KERNEL), Ok(()));
        kunit_expect_eq!(
            t.with_locked(&Id(7), |s, m| {
                *m += 5;
                *s
            }),
            Some(70)
        );
        kunit_expect_eq!(
            t.with_locked(&Id(7), |_, m| {
                *m *= 2;
                *m
            }),
            Some(10)
        );
        kunit_expect_eq!(t.with_locked(&Id(8), |_, m| *m), None);
        kunit_expect!(t.contains(&Id(7)));
        // remove_if sees the mutated state.
        kunit_expect!(!t.remove_if(&Id(7), |_, m| *m == 11));
        kunit_expect!(t.remove_if(&Id(7), |_, m| *m == 10));
        kunit_expect_eq!(t.with_locked(&Id(7), |_, m| *m), None);
    }

    fn table_collisions_share_a_bucket() {
        let Some(t) = table::<Same, u32, u32>(4, 100) else {
            return;
        };
        for i in 0..50 {
            kunit_expect_eq!(t.insert(Same(i), i * 3, i, GFP_KERNEL), Ok(()));
        }
        kunit_expect_eq!(t.insert(Same(20), 0, 0, GFP_KERNEL), Err(EEXIST));
        kunit_expect!(t.remove(&Same(0)));
        kunit_expect!(t.remove(&Same(25)));
        kunit_expect!(t.remove(&Same(49)));
        let g = rcu::read_lock();
        for i in 0..50 {
            let expect = if i == 0 || i == 25 || i == 49 {
                None
            } else {
                Some(i * 3)
            };
            kunit_expect_eq!(t.lookup(&g, &Same(i)).map(|e| *e), expect);
        }
        drop(g);
        // Resuming within one bucket, one entry per call.
        let mut pos = IterPos::START;
        let mut seen = 0u64;
        let mut calls = 0;
        loop {
            let mut took = false;
            let done = t.for_each_from(&mut pos, |k, s, m| {
                if took {
                    return ControlFlow::Break(());
                }
                took = true;
                if *s == k.0 * 3 && *m == k.0 {
                    seen |= 1u64 << k.0;
                }
                ControlFlow::Continue(())
            });
            calls += 1;
            if done || calls > 100 {
                break;
            }
        }
        kunit_expect_eq!(seen, ((1u64 << 50) - 1) & !(1 | (1 << 25) | (1 << 49)));
        // One entry per call; the call taking the last one also finds the end.
        kunit_expect_eq!(calls, 47);
    }

    fn table_retain_expires_exactly() {
        let Some(t) = table::<Id, u64, u64>(4, 1000) else {
            return;
        };
        // The entry of id i expires at i * 10; "now" is 1000.
        for i in 0..200 {
            kunit_expect_eq!(
                t.insert(Id(i), u64::from(i), u64::from(i) * 10, GFP_KERNEL),
                Ok(())
            );
        }
        // A timer-style sweep: 3 buckets per tick.
        let mut removed = 0;
        let mut start = 0;
        let mut ticks = 0;
        let mut bad = 0;
        while start < t.bucket_count() {
            // Expectations are recorded after the sweep: KUnit may allocate.
            removed += t.retain_buckets(start..start + 3, |k, s, deadline| {
                bad += usize::from(u64::from(k.0) != *s);
                *deadline >= 1000
            });
            start += 3;
            ticks += 1;
        }
        kunit_expect_eq!(bad, 0);
        kunit_expect_eq!(ticks, 6);
        kunit_expect_eq!(removed, 100);
        kunit_expect_eq!(t.len(), 100);
        for i in 0..200 {
            kunit_expect_eq!(t.contains(&Id(i)), i >= 100);
        }
        // Out-of-range sweeps are empty.
        kunit_expect_eq!(t.retain_buckets(16..100, |_, _, _| false), 0);
        kunit_expect_eq!(t.retain(|_, _, d| *d >= 1500), 50);
        kunit_expect_eq!(t.len(), 50);
    }

    fn table_resumable_iteration_visits_once() {
        const N: u32 = 10_000;
        let Some(t) = table::<Id, u64, u32>(6, 20_000) else {
            return;
        };
        for i in 0..N {
            kunit_expect_eq!(
                t.insert(Id(i), u64::from(i), i ^ 0x5a5a, GFP_KERNEL),
                Ok(())
            );
        }
        let Ok(mut seen) = KVec::from_elem(0u8, N as usize, GFP_KERNEL) else {
            kunit_expect!(false);
            return;
        };
        let mut pos = IterPos::START;
        let mut calls = 0;
        let mut bad = 0;
        loop {
            // A "message" holds 7 entries.
            let mut room = 7;
            let done = t.for_each_from(&mut pos, |k, s, m| {
                if room == 0 {
                    return ControlFlow::Break(());
                }
                room -= 1;
                if u64::from(k.0) != *s || *m != k.0 ^ 0x5a5a {
                    bad += 1;
                }
                match seen.get_mut(k.0 as usize) {
                    Some(c) => *c = c.saturating_add(1),
                    None => bad += 1,
                }
                ControlFlow::Continue(())
            });
            calls += 1;
            if done || calls > 2 * N {
                break;
            }
        }
        kunit_expect_eq!(bad, 0);
        kunit_expect!(seen.iter().all(|&c| c == 1));
        kunit_expect_eq!(calls, N.div_ceil(7));
        // A finished position stays finished.
        kunit_expect!(t.for_each_from(&mut pos, |_, _, _| ControlFlow::Break(())));
    }

    fn table_iteration_under_churn_visits_survivors_once() {
        // 8 buckets, long chains: churn happens in the bucket being walked.
        const N: u32 = 2_000;
        let Some(t) = table::<Id, u64, u32>(3, 10_000) else {
            return;
        };
        // Even ids stay during the whole iteration, odd ids are removed as it
        // goes; ids from N on are inserted meanwhile.
        for i in 0..N {
            kunit_expect_eq!(t.insert(Id(i), u64::from(i), 0, GFP_KERNEL), Ok(()));
        }
        let Ok(mut seen) = KVec::from_elem(0u8, 2 * N as usize, GFP_KERNEL) else {
            kunit_expect!(false);
            return;
        };
        let mut pos = IterPos::START;
        let (mut calls, mut next_odd, mut next_new) = (0u32, 1u32, N);
        loop {
            let mut room = 5;
            let done = t.for_each_from(&mut pos, |k, _, _| {
                if room == 0 {
                    return ControlFlow::Break(());
                }
                room -= 1;
                if let Some(c) = seen.get_mut(k.0 as usize) {
                    *c = c.saturating_add(1);
                }
                ControlFlow::Continue(())
            });
            calls += 1;
            if done || calls > 10 * N {
                break;
            }
            // Between the parts: remove three odd entries (visited or not,
            // before or after the position) and insert two new ones.
            for _ in 0..3 {
                if next_odd < N {
                    kunit_expect!(t.remove(&Id(next_odd)));
                    next_odd += 2;
                }
            }
            for _ in 0..2 {
                if next_new < 2 * N {
                    kunit_expect_eq!(t.insert(Id(next_new), 0, 0, GFP_KERNEL), Ok(()));
                    next_new += 1;
                }
            }
        }
        kunit_expect!(calls <= 10 * N);
        // Survivors exactly once; nothing twice.
        kunit_expect!((0..N).step_by(2).all(|i| seen[i as usize] == 1));
        kunit_expect!(seen.iter().all(|&c| c <= 1));
    }

    fn table_bounds() {
        kunit_expect!(RcuTable::<Id, u64, u32>::new(c_str!("t"), MAX_BUCKET_BITS + 1, 1).is_err());
        // The largest table: 2^20 buckets, from vmalloc.
        let Some(t) = table::<Id, u64, ()>(MAX_BUCKET_BITS, 1 << 20) else {
            return;
        };
        kunit_expect_eq!(t.bucket_count(), 1 << 20);
        kunit_expect_eq!(t.max_entries(), 1 << 20);
        for i in 0..1000 {
            kunit_expect_eq!(t.insert(Id(i), u64::from(i), (), GFP_KERNEL), Ok(()));
        }
        let g = rcu::read_lock();
        kunit_expect!((0..1000).all(|i| t.lookup(&g, &Id(i)).map(|e| *e) == Some(u64::from(i))));
        drop(g);
        kunit_expect_eq!(t.retain(|k, _, ()| k.0 % 2 == 0), 500);
        // Dropped with entries linked and removed entries awaiting RCU.
    }

    fn table_inactive_until_activated() {
        let Ok(t) = RcuTable::<Id, u64, u32>::new_inactive(c_str!("t"), 4, 10) else {
            kunit_expect!(false);
            return;
        };
        // No buckets: empty, takes nothing, every walk is empty.
        kunit_expect!(!t.is_active());
        kunit_expect_eq!(t.insert(Id(1), 1, 0, GFP_KERNEL), Err(ENODEV));
        kunit_expect!(t.is_empty());
        kunit_expect!(!t.contains(&Id(1)));
        kunit_expect!(t.with_locked(&Id(1), |_, _| ()).is_none());
        kunit_expect!(!t.remove(&Id(1)));
        kunit_expect_eq!(t.retain(|_, _, _| false), 0);
        let mut pos = IterPos::default();
        let mut visited = 0;
        kunit_expect!(t.for_each_from(&mut pos, |_, _, _| {
            visited += 1;
            ControlFlow::Continue(())
        }));
        kunit_expect_eq!(visited, 0);
        // Activated: a table like any, and activating again changes nothing.
        kunit_expect_eq!(t.activate(), Ok(()));
        kunit_expect!(t.is_active());
        kunit_expect_eq!(t.insert(Id(1), 1, 0, GFP_KERNEL), Ok(()));
        kunit_expect_eq!(t.activate(), Ok(()));
        let g = rcu::read_lock();
        kunit_expect_eq!(t.lookup(&g, &Id(1)).map(|e| *e), Some(1));
        drop(g);
        kunit_expect_eq!(t.len(), 1);
        // A table never activated drops cleanly too.
        kunit_expect!(RcuTable::<Id, u64, u32>::new_inactive(c_str!("t"), 20, 1).is_ok());
    }

    fn hash_helpers() {
        let seed = fixed_seed();
        let msg: [u8; 15] = core::array::from_fn(|i| i as u8);
        // SipHash-2-4 paper, appendix A: key 00..0f, message 00..0e.
        kunit_expect_eq!(seed.siphash(&msg), 0xa129_ca61_49be_45e5);
        let words = [0x0a00_0101u32, 0x0a00_0064, 0x9c40_0050];
        let mut bytes = [0u8; 12];
        for (chunk, w) in bytes.chunks_mut(4).zip(words) {
            chunk.copy_from_slice(&w.to_le_bytes());
        }
        // jhash2 of words is jhash of their little-endian bytes.
        kunit_expect_eq!(seed.jhash_words(&words), seed.jhash(&bytes));
        kunit_expect!(seed.jhash(&bytes) != HashSeed::from_words(0, 0, 1).jhash(&bytes));
        kunit_expect!(seed.siphash(&bytes) != HashSeed::from_words(1, 0, 0).siphash(&bytes));
        kunit_expect_eq!(seed.clone().siphash(&bytes), seed.siphash(&bytes));
    }

    fn table_concurrent_readers() {
        let Some(t) = table::<Id, Payload, u64>(5, 1000) else {
            return;
        };
        for i in 0..STABLE {
            kunit_expect_eq!(
                t.insert(Id(i), Payload::new(u64::from(i)), 0, GFP_KERNEL),
                Ok(())
            );
        }
        let Ok(sh) = Arc::new(
            TableReaders {
                table: t,
                stop: AtomicBool::new(false),
                active: AtomicUsize::new(READERS),
                stable_lookups: AtomicUsize::new(0),
                stable_misses: AtomicUsize::new(0),
                churn_lookups: AtomicUsize::new(0),
                churn_hits: AtomicUsize::new(0),
                churn_misses: AtomicUsize::new(0),
                torn: AtomicUsize::new(0),
                locked_incs: AtomicUsize::new(0),
            },
            GFP_KERNEL,
        ) else {
            kunit_expect!(false);
            return;
        };
        for r in 0..READERS {
            let s = sh.clone();
            if workqueue::system()
                .try_spawn(GFP_KERNEL, move || {
                    table_reader(s, 0x1234_5679 * (r as u32 + 1))
                })
                .is_err()
            {
                sh.active.fetch_sub(1, Ordering::Release);
            }
        }
        // The writer: churn keys come and go under the readers' feet.
        let (mut inserted, mut removed) = (0usize, 0usize);
        for round in 0..20 {
            for i in 0..CHURN {
                let id = CHURN_BASE + i;
                if sh
                    .table
                    .insert(Id(id), Payload::new(u64::from(id)), 0, GFP_KERNEL)
                    .is_ok()
                {
                    inserted += 1;
                }
            }
            for i in 0..CHURN {
                // Every other round, leave the odd keys in for a while.
                if round % 2 == 1 || i % 2 == 0 {
                    removed += usize::from(sh.table.remove(&Id(CHURN_BASE + i)));
                }
            }
            // Let the readers look at this state (odd keys in after an even
            // round, none after an odd one) before the next round.
            let seen = sh.stable_lookups.load(Ordering::Relaxed);
            kunit_expect!(wait_until(1_000, || {
                sh.stable_lookups.load(Ordering::Relaxed) >= seen + 2 * CHUNK as usize
            }));
        }
        for i in 0..CHURN {
            removed += usize::from(sh.table.remove(&Id(CHURN_BASE + i)));
        }
        sh.stop.store(true, Ordering::Release);
        kunit_expect!(wait_until(20_000, || sh.active.load(Ordering::Acquire) == 0));
        kunit_expect_eq!(inserted, removed);
        kunit_expect_eq!(inserted, 20 * CHURN as usize - 5 * CHURN as usize);
        kunit_expect_eq!(sh.table.len(), STABLE as usize);
        kunit_expect_eq!(sh.stable_misses.load(Ordering::Relaxed), 0);
        kunit_expect_eq!(sh.torn.load(Ordering::Relaxed), 0);
        kunit_expect!(sh.stable_lookups.load(Ordering::Relaxed) >= READERS * CHUNK as usize);
        let (hits, misses) = (
            sh.churn_hits.load(Ordering::Relaxed),
            sh.churn_misses.load(Ordering::Relaxed),
        );
        kunit_expect_eq!(hits + misses, sh.churn_lookups.load(Ordering::Relaxed));
        // The readers saw churn keys both present and absent.
        kunit_expect!(hits > 0 && misses > 0);
        pr_info!(
            "handoff_sync: {} stable lookups, churn {} hits {} misses, {} locked increments\n",
            sh.stable_lookups.load(Ordering::Relaxed),
            hits,
            misses,
            sh.locked_incs.load(Ordering::Relaxed)
        );
        // Every increment made under the bucket locks is there.
        let mut total = 0u64;
        let mut pos = IterPos::START;
        kunit_expect!(sh.table.for_each_from(&mut pos, |_, _, m| {
            total += *m;
            ControlFlow::Continue(())
        }));
        kunit_expect_eq!(total, sh.locked_incs.load(Ordering::Relaxed) as u64);
    }

    fn rcu_box_replace_under_readers() {
        let Ok(first) = KBox::new(Config::new(1), GFP_KERNEL) else {
            kunit_expect!(false);
            return;
        };
        let Ok(sh) = Arc::new(
            BoxReaders {
                config: RcuBox::new(Some(first)),
                stop: AtomicBool::new(false),
                active: AtomicUsize::new(READERS),
                reads: AtomicUsize::new(0),
                torn: AtomicUsize::new(0),
                backwards: AtomicUsize::new(0),
            },
            GFP_KERNEL,
        ) else {
            kunit_expect!(false);
            return;
        };
        for _ in 0..READERS {
            let s = sh.clone();
            if workqueue::system()
                .try_spawn(GFP_KERNEL, move || box_reader(s, 0))
                .is_err()
            {
                sh.active.fetch_sub(1, Ordering::Release);
            }
        }
        for generation in 2..=30 {
            match KBox::new(Config::new(generation), GFP_KERNEL) {
                Ok(c) => sh.config.replace(Some(c)),
                Err(_) => {
                    kunit_expect!(false);
                }
            }
            // Readers read every generation for a while.
            let reads = sh.reads.load(Ordering::Relaxed);
            kunit_expect!(wait_until(1_000, || {
                sh.reads.load(Ordering::Relaxed) >= reads + CHUNK as usize
            }));
        }
        {
            let g = rcu::read_lock();
            kunit_expect_eq!(sh.config.read(&g).map(|c| c.generation), Some(30));
        }
        let old = sh.config.swap(None);
        kunit_expect_eq!(old.map(|c| c.generation), Some(30));
        {
            let g = rcu::read_lock();
            kunit_expect!(sh.config.read(&g).is_none());
        }
        sh.stop.store(true, Ordering::Release);
        kunit_expect!(wait_until(20_000, || sh.active.load(Ordering::Acquire) == 0));
        kunit_expect_eq!(sh.torn.load(Ordering::Relaxed), 0);
        kunit_expect_eq!(sh.backwards.load(Ordering::Relaxed), 0);
        pr_info!(
            "handoff_sync: {} configuration reads\n",
            sh.reads.load(Ordering::Relaxed)
        );
        // Empty and refilled, then dropped holding a value.
        match KBox::new(Config::new(31), GFP_KERNEL) {
            Ok(c) => sh.config.replace(Some(c)),
            Err(_) => {
                kunit_expect!(false);
            }
        }
    }

    fn jiffies_helpers() {
        let now = timer::jiffies();
        kunit_expect!(timer::time_after(now.wrapping_add(1), now));
        kunit_expect!(timer::time_before(now, now.wrapping_add(1)));
        kunit_expect!(!timer::time_after(now, now));
        // Across wrap-around.
        kunit_expect!(timer::time_after(5, timer::Jiffies::MAX - 5));
        kunit_expect!(timer::msecs_to_jiffies(1000) > 0);
        timer::msleep(20);
        kunit_expect!(timer::time_after(timer::jiffies(), now));
    }

    fn timer_fires() {
        let Ok(t) = KBox::pin_init(new_timer!(Ticks::new(1)), GFP_KERNEL) else {
            kunit_expect!(false);
            return;
        };
        kunit_expect!(!t.schedule_after_msecs(10));
        kunit_expect!(wait_until(5_000, || t.fired() == 1));
        timer::msleep(50);
        kunit_expect_eq!(t.fired(), 1);
        kunit_expect!(!t.is_pending());
    }

    fn timer_rearms_from_callback() {
        let Ok(t) = KBox::pin_init(new_timer!(Ticks::new(5)), GFP_KERNEL) else {
            kunit_expect!(false);
            return;
        };
        t.schedule_after(1);
        kunit_expect!(wait_until(5_000, || t.fired() == 5));
        // Stops after the fifth run.
        timer::msleep(50);
        kunit_expect_eq!(t.fired(), 5);
        kunit_expect!(!t.delete_sync());
    }

    fn timer_deleted_never_fires() {
        let Ok(deleted) = KBox::pin_init(new_timer!(Ticks::new(1)), GFP_KERNEL) else {
            kunit_expect!(false);
            return;
        };
        let Ok(shut) = KBox::pin_init(new_timer!(Ticks::new(1)), GFP_KERNEL) else {
            kunit_expect!(false);
            return;
        };
        let Ok(count) = Arc::new(AtomicUsize::new(0), GFP_KERNEL) else {
            kunit_expect!(false);
            return;
        };
        let Ok(dropped) = KBox::pin_init(new_timer!(Outside(count.clone())), GFP_KERNEL) else {
            kunit_expect!(false);
            return;
        };
        kunit_expect!(!deleted.schedule_after_msecs(100));
        // Re-arming a pending timer only moves its expiry.
        kunit_expect!(deleted.schedule_after_msecs(100));
        kunit_expect!(deleted.is_pending());
        kunit_expect!(deleted.delete_sync());
        kunit_expect!(!deleted.is_pending());
        kunit_expect!(!deleted.delete());
        shut.schedule_after_msecs(100);
        shut.shutdown_sync();
        // Arming a shut down timer does nothing.
        shut.schedule_after(1);
        kunit_expect!(!shut.is_pending());
        dropped.schedule_after_msecs(100);
        // Dropping a pending timer shuts it down.
        drop(dropped);
        timer::msleep(250);
        kunit_expect_eq!(deleted.fired(), 0);
        kunit_expect_eq!(shut.fired(), 0);
        kunit_expect_eq!(count.load(Ordering::Acquire), 0);
    }

    fn table_changed_from_timer_and_process() {
        let Some(table) = table::<Id, u64, u32>(4, 1000) else {
            return;
        };
        kunit_expect_eq!(table.insert(Id(0), 0, 0, GFP_KERNEL), Ok(()));
        let data = TableTimer {
            table,
            runs: AtomicUsize::new(0),
            failures: AtomicUsize::new(0),
        };
        let Ok(t) = KBox::pin_init(new_timer!(data), GFP_KERNEL) else {
            kunit_expect!(false);
            return;
        };
        t.schedule_after(1);
        let (mut incs, mut marked, mut id) = (0u32, 0u32, 1000u32);
        while t.runs.load(Ordering::Acquire) < TIMER_RUNS {
            if t.table.with_locked(&Id(0), |_, m| *m += 1).is_some() {
                incs += 1;
            }
            if t.table.insert(Id(id), 0, EXPIRE, GFP_KERNEL).is_ok() {
                marked += 1;
            }
            id += 1;
            if id > 1100 {
                // Bounded: the timer must be done by now.
                kunit_expect!(wait_until(5_000, || t.runs.load(Ordering::Acquire) >= TIMER_RUNS));
                break;
            }
            timer::msleep(1);
        }
        kunit_expect!(t.runs.load(Ordering::Acquire) >= TIMER_RUNS);
        kunit_expect_eq!(t.failures.load(Ordering::Relaxed), 0);
        kunit_expect!(marked > 0);
        kunit_expect_eq!(
            t.table.with_locked(&Id(0), |_, m| *m),
            Some(incs + TIMER_RUNS as u32)
        );
        for n in 0..TIMER_RUNS as u32 {
            kunit_expect!(t.table.contains(&Id(100 + n)));
        }
        // What the timer had not expired yet, process context does.
        t.table.retain(|_, _, m| *m != EXPIRE);
        kunit_expect_eq!(t.table.len(), 1 + TIMER_RUNS);
    }
}
