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

    fn peer_sync_states_and_load() {
        use crate::config::PeerState;
        use crate::proto::sync::{SyncHdr, Verdict};
        use crate::sync::PeerSync;

        let Ok(p) = PeerSync::new() else {
            kunit_expect!(false);
            return;
        };
        let hdr = |epoch, seq, conns| SyncHdr {
            node_id: 2,
            epoch,
            seq,
            interval_ms: 100,
            conns,
            weight: 1,
        };
        kunit_expect_eq!(p.state(), PeerState::Unknown);
        kunit_expect_eq!(p.load(), None);
        kunit_expect_eq!(
            p.on_report(&hdr(7, 1, 40), 2, 1000),
            Verdict::Accepted { became_up: true }
        );
        kunit_expect_eq!(p.state(), PeerState::Up);
        kunit_expect_eq!(p.estimate(), 42);
        p.note_handed();
        kunit_expect_eq!(p.estimate(), 43);
        // A replay changes nothing; the next report restarts the count of
        // connections handed since.
        kunit_expect_eq!(p.on_report(&hdr(7, 1, 0), 0, 1050), Verdict::Replay);
        kunit_expect_eq!(p.estimate(), 43);
        kunit_expect_eq!(
            p.on_report(&hdr(7, 2, 10), 0, 1100),
            Verdict::Accepted { became_up: false }
        );
        kunit_expect_eq!(p.estimate(), 10);
        // Three silent intervals of 100 ms: DOWN once, at 400 ms.
        kunit_expect!(!p.on_tick(1399, 100, 3));
        kunit_expect!(p.on_tick(1400, 100, 3));
        kunit_expect!(!p.on_tick(1500, 100, 3));
        kunit_expect_eq!(p.state(), PeerState::Down);
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

// The generic netlink abstraction and the configuration, as built into the
// module (the family is registered when KUnit runs: after module init).
kernel::kunit_tests! {
    suite "handoff_netlink";

    fn message_round_trip() {
        use crate::netlink::FAMILY;
        use crate::uapi::HANDOFF_CMD_SERVICE_CHANGE;
        use kernel::net::genetlink::{Message, Put};
        use kernel::prelude::*;

        fn fill(m: &mut Message) -> Result {
            m.put_u8(1, 0xab)?;
            m.put_u16(2, 0xbeef)?;
            m.put_u32(3, 0xdead_beef)?;
            m.put_u64(4, u64::MAX - 1, 9)?;
            m.put_binary(5, &[1, 2, 3, 4, 5])?;
            m.put_string(6, b"abc")?;
            let mut n = m.nest(7)?;
            n.put_u32(1, 10)?;
            let mut inner = n.nest(2)?;
            inner.put_u16(1, 80)?;
            inner.end();
            n.put_u32(1, 11)?;
            n.end();
            // A nest dropped without `end` leaves nothing behind.
            let mut gone = m.nest(8)?;
            gone.put_u32(1, 1)?;
            drop(gone);
            Ok(())
        }

        let Ok(mut m) = FAMILY.event(HANDOFF_CMD_SERVICE_CHANGE, GFP_KERNEL) else {
            kunit_expect!(false);
            return;
        };
        kunit_expect!(fill(&mut m).is_ok());
        let mut seen = 0;
        for a in m.attrs().filter(|a| a.kind() != 9) {
            seen += 1;
            match a.kind() {
                1 => {
                    kunit_expect_eq!(a.u8().ok(), Some(0xab));
                }
                2 => {
                    kunit_expect_eq!(a.u16().ok(), Some(0xbeef));
                }
                3 => {
                    kunit_expect_eq!(a.u32().ok(), Some(0xdead_beef));
                }
                4 => {
                    kunit_expect_eq!(a.u64().ok(), Some(u64::MAX - 1));
                }
                5 => {
                    kunit_expect_eq!(a.payload(), &[1u8, 2, 3, 4, 5][..]);
                }
                6 => {
                    kunit_expect!(a.string() == b"abc" && a.payload() == b"abc\0");
                }
                7 => {
                    let kinds = a.nested().fold(0u32, |acc, x| acc * 10 + u32::from(x.kind()));
                    kunit_expect_eq!(kinds, 121);
                    let t = a.nested_table::<3>();
                    kunit_expect_eq!(t.get(1).and_then(|x| x.u32().ok()), Some(11));
                    let port = t.get(2).and_then(|x| x.nested().next()).and_then(|x| x.u16().ok());
                    kunit_expect_eq!(port, Some(80));
                    // A u32 is not a u16: typed reads check the length.
                    kunit_expect!(t.get(1).is_some_and(|x| x.u16().is_err()));
                }
                _ => {
                    kunit_expect!(false);
                }
            }
        }
        kunit_expect_eq!(seen, 7);
    }

    fn config_services_keep_their_rules() {
        use crate::config::{Config, IpAddr, Policy, Rule, ServiceKey, ServiceSpec};
        use kernel::error::code::{EEXIST, ENOENT};

        let key = |last: u8| ServiceKey {
            addr: IpAddr::V4([10, 0, 0, last]),
            port: 80,
            protocol: 6,
        };
        let spec = |last: u8| {
            let mut spec = ServiceSpec::new(key(last));
            spec.service.policy = Policy::HostUri;
            let host = spec.add_str(&[b'h', b'0' + last]).ok();
            kunit_expect!(spec.add_rule(Rule { host, path: None, node: u32::from(last) }).is_ok());
            spec
        };
        let mut cfg = Config::new();
        for last in [3u8, 1, 2] {
            kunit_expect!(cfg.add_service(&spec(last)).is_ok());
        }
        kunit_expect_eq!(cfg.add_service(&spec(2)).err(), Some(EEXIST));
        let order: u32 = cfg.services().iter().fold(0, |acc, s| {
            acc * 10 + u32::from(s.key.addr.as_bytes()[3])
        });
        kunit_expect_eq!(order, 123);
        let gen = cfg.generation();
        kunit_expect!(cfg.remove_service(1).is_ok());
        kunit_expect!(cfg.generation() != gen);
        kunit_expect_eq!(cfg.remove_service(5).err(), Some(ENOENT));
        // The pools were rebuilt: the others keep their own strings.
        for (i, last) in [(0usize, 1u8), (1, 3)] {
            let Some(v) = cfg.service_view(i) else {
                kunit_expect!(false);
                continue;
            };
            kunit_expect_eq!(v.service.key, key(last));
            kunit_expect_eq!(v.rules.len(), 1);
            if let Some(r) = v.rules.first() {
                kunit_expect_eq!(r.node, u32::from(last));
                kunit_expect!(r.host.map(|h| v.str(h)) == Some(&[b'h', b'0' + last][..]));
            }
        }
        kunit_expect_eq!(cfg.services_after(Some(&key(1))), 1);
        kunit_expect_eq!(cfg.services_after(Some(&key(2))), 1);
        kunit_expect_eq!(cfg.services_after(None), 0);
    }

    fn config_peers() {
        use crate::config::{Config, IpAddr, Peer, PeerState};
        use crate::sync::PeerSync;
        use kernel::error::code::{EEXIST, EINVAL};

        let peer = |id| Peer {
            id,
            addr: IpAddr::V4([10, 0, 2, 9]),
            port: 0,
            weight: 1,
            sync_addr: None,
        };
        let mut cfg = Config::new();
        cfg.node.id = 7;
        kunit_expect!(cfg.add_peer(peer(5)).is_ok());
        kunit_expect!(cfg.add_peer(peer(2)).is_ok());
        kunit_expect_eq!(cfg.add_peer(peer(5)).err(), Some(EEXIST));
        kunit_expect_eq!(cfg.add_peer(peer(7)).err(), Some(EINVAL));
        kunit_expect_eq!(cfg.peers().iter().map(|p| p.id).sum::<u32>(), 7);
        kunit_expect_eq!(cfg.peers().first().map(|p| p.id), Some(2));
        kunit_expect_eq!(cfg.peer_port(&peer(2)), None);
        // A peer is UNKNOWN until its first report; its sync address is its
        // forward address unless set.
        kunit_expect_eq!(
            cfg.peer_shared(1).map(|s| s.sync.state()),
            Some(PeerState::Unknown)
        );
        kunit_expect_eq!(cfg.peer_sync_addr(&peer(2)), IpAddr::V4([10, 0, 2, 9]));
        let fresh = PeerSync::new();
        kunit_expect!(fresh.as_ref().is_ok_and(|s| s.load().is_none()));
        kunit_expect_eq!(cfg.peers_after(2), 1);
        kunit_expect_eq!(cfg.remove_peer(0).ok().map(|p| p.id), Some(2));
        kunit_expect_eq!(cfg.peers().len(), 1);
    }

    fn ip_addresses() {
        use crate::config::IpAddr;
        kunit_expect!(IpAddr::from_bytes(&[1, 2, 3]).is_none());
        kunit_expect_eq!(IpAddr::from_bytes(&[10, 0, 0, 1]), Some(IpAddr::V4([10, 0, 0, 1])));
        kunit_expect!(IpAddr::V4([10, 0, 0, 1]).is_unicast());
        kunit_expect!(!IpAddr::V4([0; 4]).is_unicast());
        kunit_expect!(!IpAddr::V4([239, 1, 1, 1]).is_unicast());
        kunit_expect!(!IpAddr::V4([255; 4]).is_unicast());
        let mut v6 = [0u8; 16];
        kunit_expect!(!IpAddr::V6(v6).is_unicast());
        v6[0] = 0xff;
        kunit_expect!(!IpAddr::V6(v6).is_unicast());
        v6[0] = 0x20;
        kunit_expect!(IpAddr::V6(v6).is_unicast());
    }

    fn counters_follow_the_uapi() {
        use crate::proto::conn::DropReason;
        use crate::uapi::{HANDOFF_A_STATS_DROP_MALFORMED, HANDOFF_A_STATS_MAX, HANDOFF_A_STATS_SYN_ANSWERED};
        kunit_expect_eq!(Counter::ALL.len(), usize::from(HANDOFF_A_STATS_MAX - HANDOFF_A_STATS_SYN_ANSWERED + 1));
        for (i, &c) in Counter::ALL.iter().enumerate() {
            kunit_expect_eq!(usize::from(c.attr()), usize::from(HANDOFF_A_STATS_SYN_ANSWERED) + i);
        }
        // The drop counters are the drop reasons, in order.
        for (i, r) in DropReason::ALL.iter().enumerate() {
            let attr = usize::from(HANDOFF_A_STATS_DROP_MALFORMED) + i;
            let c = Counter::ALL.iter().find(|c| usize::from(c.attr()) == attr);
            kunit_expect!(c.is_some_and(|c| c.name().strip_prefix("drop_") == Some(r.as_str())));
        }
    }

    fn announce_queue_is_bounded_and_ordered() {
        use crate::failover::{AnnounceQueue, QUEUE_MAX};
        use crate::proto::announce::{Announce, ConnOp};
        use crate::proto::cookie::{v4_mapped, Tuple};

        let Ok(q) = AnnounceQueue::new() else {
            kunit_expect!(false);
            return;
        };
        let a = |i: u32| Announce {
            op: ConnOp::Add,
            tuple: Tuple {
                saddr: v4_mapped([10, 0, 1, 1]),
                daddr: v4_mapped([10, 0, 0, 100]),
                sport: 1024 + (i % 60000) as u16,
                dport: 80,
            },
            target: 2,
            conn_ref: i + 1,
            flow_id: i + 1,
            idle_ms: 60_000,
        };
        for i in 0..QUEUE_MAX as u32 {
            kunit_expect!(q.push(a(i)));
        }
        // Full: refused (the caller counts announce_dropped).
        kunit_expect!(!q.push(a(QUEUE_MAX as u32)));
        let got = q.take();
        kunit_expect_eq!(got.len(), QUEUE_MAX);
        kunit_expect!(got.iter().enumerate().all(|(i, x)| x.conn_ref == i as u32 + 1));
        kunit_expect_eq!(q.take().len(), 0);
        kunit_expect!(q.push(a(7)));
        kunit_expect_eq!(q.take().len(), 1);
    }

    fn announce_refresh_every_third_of_idle() {
        use crate::failover::refresh_due;
        use kernel::timer::{msecs_to_jiffies, Jiffies};

        let third = msecs_to_jiffies(10_000);
        for t0 in [1000, Jiffies::MAX - 5] {
            kunit_expect!(!refresh_due(t0, 30_000, t0.wrapping_add(third)));
            kunit_expect!(refresh_due(t0, 30_000, t0.wrapping_add(third + 1)));
        }
    }
}
