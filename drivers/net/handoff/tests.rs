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

// The protocol logic as compiled into the module (kernel rustc, kernel
// flags): the same properties the host tests check, on the real build.
kernel::kunit_tests! {
    suite "handoff_proto";

    fn siphash_reference_vector() {
        use crate::proto::siphash::siphash24;
        let key: [u8; 16] = core::array::from_fn(|i| i as u8);
        let msg: [u8; 15] = core::array::from_fn(|i| i as u8);
        // SipHash-2-4 paper, appendix A: key 00..0f, message 00..0e.
        kunit_expect_eq!(siphash24(&key, &msg), 0xa129_ca61_49be_45e5);
        kunit_expect_eq!(siphash24(&key, &[]), 0x726f_db47_dd0e_0e31);
    }

    fn seq_wraps() {
        use crate::proto::seq::{after, before};
        kunit_expect!(before(0xffff_fff0, 0x10));
        kunit_expect!(after(0x10, 0xffff_fff0));
        kunit_expect!(!before(5, 5));
    }

    fn cookie_round_trip() {
        use crate::proto::cookie::{check, isn, mss_index, v4_mapped, Tuple};
        let secret = [7u8; 16];
        let t = Tuple {
            saddr: v4_mapped([10, 0, 1, 1]),
            daddr: v4_mapped([10, 0, 0, 100]),
            sport: 40000,
            dport: 80,
        };
        let idx = mss_index(1460);
        let our = isn(&secret, &t, 1000, 42, idx);
        kunit_expect_eq!(check(&secret, &t, 1000, our, 42, 2), Some(idx));
        kunit_expect_eq!(check(&secret, &t, 1001, our, 42, 2), None);
        kunit_expect_eq!(check(&secret, &t, 1000, our, 45, 2), None);
        let other = Tuple { sport: 40001, ..t };
        kunit_expect_eq!(check(&secret, &other, 1000, our, 42, 2), None);
    }

    fn synack_builds_and_parses() {
        use crate::proto::cookie::{v4_mapped, Tuple};
        use crate::proto::packet::{build_synack, parse, SynAck};
        use crate::proto::tcpopt::{self, SynAckOptions, TcpOptions};
        let t = Tuple {
            saddr: v4_mapped([10, 0, 1, 1]),
            daddr: v4_mapped([10, 0, 0, 100]),
            sport: 40000,
            dport: 80,
        };
        let syn = TcpOptions {
            mss: Some(1460),
            wscale: Some(7),
            sack_perm: true,
            timestamp: Some(tcpopt::Timestamp { val: 123, ecr: 0 }),
            ..TcpOptions::default()
        };
        let mut opts = [0u8; 40];
        let n = tcpopt::write_synack(&SynAckOptions::reply_to(&syn, 1460, 7, 999), &mut opts);
        let mut buf = [0u8; 128];
        let synack = SynAck {
            tuple: t,
            isn: 0x1234_5678,
            client_isn: 1000,
            window: 64240,
            options: &opts[..n],
        };
        let len = build_synack(&mut buf, &synack);
        kunit_expect!(len.is_ok());
        match buf.get(..len.unwrap_or(0)).map(parse) {
            Some(Ok(p)) => {
                kunit_expect!(p.tcp_checksum_ok() && p.ip_checksum_ok());
                kunit_expect_eq!(p.seq, 0x1234_5678);
                kunit_expect_eq!(p.ack, 1001);
                kunit_expect_eq!(p.sport, 80);
                kunit_expect_eq!(p.dport, 40000);
                let o = tcpopt::parse(p.options);
                kunit_expect!(o.is_ok());
                if let Ok(o) = o {
                    kunit_expect_eq!(o.mss, Some(1460));
                    kunit_expect_eq!(o.wscale, Some(7));
                    kunit_expect!(o.sack_perm);
                    kunit_expect_eq!(o.timestamp.map(|ts| (ts.val, ts.ecr)), Some((999, 123)));
                }
            }
            _ => {
                kunit_expect!(false);
            }
        }
    }
}
