// SPDX-License-Identifier: GPL-2.0

//! Expiry of the connection tables: the instance's expiry timer.
//!
//! Entries past their time (the SYN timeout of a temporary entry, the idle
//! timeout or the linger after a client FIN of a forward, adopted or
//! relayed one) are removed and counted. The sweep is incremental: every
//! tick covers one part of each table's buckets, so each bucket is swept
//! once a second and no tick holds the softirq for a whole table (a
//! million-entry forward table would). The timer runs from the instance's
//! first configuration (`HandoffNet::activate`) until the namespace goes.

use crate::conntab::FwdState;
use crate::failover;
use crate::netns::Shared;
use crate::proto::announce::ConnOp;
use crate::stats::Counter;
use core::ops::Range;
use core::sync::atomic::{AtomicU32, Ordering};
use kernel::sync::rcu_table::{RcuTable, TableKey};
use kernel::sync::{rcu, Arc};
use kernel::timer::{jiffies, Timer, TimerCallback};

/// Parts of a table swept in turn, one a tick.
const PARTS: u32 = 8;
/// The timer's period (ms): every bucket once a second.
pub(crate) const TICK_MS: u32 = 1000 / PARTS;

/// What the expiry timer works on.
pub(crate) struct Gc {
    st: Arc<Shared>,
    /// The part of the tables the next tick sweeps.
    next: AtomicU32,
}

impl Gc {
    /// The expiry of the tables of `st`.
    pub(crate) fn new(st: Arc<Shared>) -> Self {
        Gc {
            st,
            next: AtomicU32::new(0),
        }
    }
}

/// The buckets of `table` in part `part` of [`PARTS`].
fn part<K, S, M>(table: &RcuTable<K, S, M>, part: u32) -> Range<usize>
where
    K: TableKey,
    S: Send + Sync + 'static,
    M: Send + 'static,
{
    let n = table.bucket_count();
    let (k, p) = (part as usize, PARTS as usize);
    n * k / p..n * (k + 1) / p
}

impl TimerCallback for Gc {
    fn run(timer: &Timer<Self>) {
        let st = &timer.st;
        // Only this callback moves it (a timer does not run concurrently
        // with itself).
        let k = timer.next.load(Ordering::Relaxed);
        timer.next.store((k + 1) % PARTS, Ordering::Relaxed);
        let now = jiffies();
        let guard = rcu::read_lock();
        let announcing = failover::announcing(st, &guard);
        let gone = st
            .temp
            .retain_buckets(part(&st.temp, k), |_, _, e| !e.expired(now));
        // Flows past their linger time after a client FIN ended; the
        // others timed out.
        let mut ended = 0u64;
        let mut early_lost = 0u64;
        let fwd = st.fwd.retain_buckets(part(&st.fwd, k), |key, s, e| {
            let keep = !e.expired(now);
            // Front failover: the peers learn of the end, or hear of the
            // entry again (a lost datagram heals, theirs do not expire).
            if announcing && e.state == FwdState::Forwarded {
                if !keep {
                    failover::announce(st, &guard, ConnOp::Del, key, s, e.flow_id, e.idle_ms);
                } else if failover::refresh_due(e.announced, e.idle_ms, now) {
                    e.announced = now;
                    failover::announce(st, &guard, ConnOp::Add, key, s, e.flow_id, e.idle_ms);
                }
            }
            if !keep {
                let fin = e.flow.fin_seen();
                ended += u64::from(fin);
                s.slot().counters().inc(if fin {
                    Counter::FlowsEnded
                } else {
                    Counter::Timeouts
                });
            }
            keep
        });
        let adopted = st.adopted.retain_buckets(part(&st.adopted, k), |_, (), e| {
            let keep = !e.expired(now);
            if !keep {
                early_lost += e.early.len() as u64;
                ended += u64::from(e.flow.fin_seen());
            }
            keep
        });
        let c = &st.counters;
        c.add(Counter::FlowsEnded, ended);
        c.add(Counter::Timeouts, (gone + fwd + adopted) as u64 - ended);
        c.add(Counter::DataDropped, early_lost);
        c.set(Counter::TemporaryEntries, st.temp.len() as u64);
        c.set(Counter::ForwardEntries, st.fwd.len() as u64);
        c.set(Counter::AdoptedEntries, st.adopted.len() as u64);
        failover::expire(st, part(&st.relay, k), now);
        timer.schedule_after_msecs(TICK_MS);
    }
}
