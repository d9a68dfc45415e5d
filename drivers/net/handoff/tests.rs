// SPDX-License-Identifier: GPL-2.0

//! KUnit tests of the module's own code, run when the module loads.

use crate::stats::{Counter, Counters};
use kernel::{kunit_expect, kunit_expect_eq};

kernel::kunit_tests! {
    suite "handoff";

    fn counters_count_independently() {
        let c = Counters::new();
        c.inc(Counter::SynAnswered);
        c.add(Counter::Injected, 41);
        c.inc(Counter::Injected);
        kunit_expect_eq!(c.get(Counter::SynAnswered), 1);
        kunit_expect_eq!(c.get(Counter::Injected), 42);
        for &other in Counter::ALL {
            if other != Counter::SynAnswered && other != Counter::Injected {
                kunit_expect_eq!(c.get(other), 0);
            }
        }
    }

    fn counter_names_unique() {
        for (i, a) in Counter::ALL.iter().enumerate() {
            kunit_expect!(!a.name().is_empty());
            for b in &Counter::ALL[i + 1..] {
                kunit_expect!(a.name() != b.name());
            }
        }
    }

    fn counter_index_matches_table() {
        for (i, &c) in Counter::ALL.iter().enumerate() {
            kunit_expect_eq!(c as usize, i);
        }
    }
}
