// SPDX-License-Identifier: GPL-2.0

//! KUnit tests of the networking abstractions the module builds on: socket
//! buffers, devices and their notifier, the ingress hook (on `lo` of
//! `init_net`).

use core::sync::atomic::{AtomicU32, AtomicU8, Ordering};
use kernel::alloc::flags::GFP_KERNEL;
use kernel::c_str;
use kernel::error::code::{EINVAL, ENODEV};
use kernel::net::device::{
    init_net, rtnl_lock, NetDevice, NetdevEvent, Notifier, NotifierHandler, Rtnl,
};
use kernel::net::namespace::Namespace;
use kernel::net::netfilter::{HookState, IngressHandler, Priority, Registration, Verdict};
use kernel::net::skb::{pkt_type, DropReason, SkBuffOwned, Skb, ETH_HLEN};
use kernel::net::udp_tunnel::{SockAddrV4, UdpTunnel, UdpTunnelHandler};
use kernel::sync::Arc;
use kernel::time::msecs_to_jiffies;
use kernel::timer::msleep;
use kernel::{kunit_expect, kunit_expect_eq, new_condvar, new_mutex, stack_pin_init};

const ETH_P_IP: u16 = 0x0800;
const LOCALHOST: [u8; 4] = [127, 0, 0, 1];
// Ports no test of the VM uses: the hook handler below only takes these.
const CLIENT_PORT: u16 = 40123;
const SERVICE_PORT: u16 = 4242;
const DROP_PORT: u16 = 4243;
const CONSUME_PORT: u16 = 4244;
// The tunnel tests' port, and the source port of a packet sent to it.
const TUNNEL_PORT: u16 = 47999;
const UDP_CLIENT_PORT: u16 = 40125;

/// An IPv4 + TCP header (20 + 20 bytes, no options), SYN, checksums left 0.
fn ipv4_tcp(src: [u8; 4], dst: [u8; 4], sport: u16, dport: u16) -> [u8; 40] {
    let mut p = [0u8; 40];
    p[0] = 0x45;
    p[2..4].copy_from_slice(&40u16.to_be_bytes());
    p[8] = 64;
    p[9] = 6;
    p[12..16].copy_from_slice(&src);
    p[16..20].copy_from_slice(&dst);
    p[20..22].copy_from_slice(&sport.to_be_bytes());
    p[22..24].copy_from_slice(&dport.to_be_bytes());
    p[32] = 5 << 4;
    p[33] = 0x02;
    p
}

/// The TCP ports of an IPv4 packet without options, if it is one.
fn tcp_ports(ip: &[u8]) -> Option<(u16, u16)> {
    if ip.len() < 24 || ip[0] != 0x45 || ip[9] != 6 {
        return None;
    }
    Some((
        u16::from_be_bytes([ip[20], ip[21]]),
        u16::from_be_bytes([ip[22], ip[23]]),
    ))
}

/// Counts what the test hook saw and did.
#[derive(Default)]
struct Seen {
    requests: AtomicU32,
    context_ok: AtomicU32,
    replied: AtomicU32,
    replies: AtomicU32,
    replies_from_lo: AtomicU32,
    dropped: AtomicU32,
    consumed: AtomicU32,
}

struct TestHook {
    seen: Arc<Seen>,
}

impl TestHook {
    /// Answers a request in place: addresses and ports swapped, back out of
    /// `lo` (which loops it back to the hook as a reply).
    fn answer<'a>(&self, skb: Skb<'a>) -> Verdict<'a> {
        let mut reply = [0u8; 40];
        match skb.network_data().get(..40) {
            Some(req) => {
                for (d, s) in reply.iter_mut().zip(req) {
                    *d = *s;
                }
            }
            None => return skb.drop_packet(),
        }
        reply[12..16].copy_from_slice(&LOCALHOST);
        reply[16..20].copy_from_slice(&LOCALHOST);
        reply[20..22].copy_from_slice(&SERVICE_PORT.to_be_bytes());
        reply[22..24].copy_from_slice(&CLIENT_PORT.to_be_bytes());
        reply[33] = 0x12;
        let (mut owned, stolen) = skb.steal();
        if owned.set_network_data(&reply).is_ok() && owned.xmit_reply().is_ok() {
            self.seen.replied.fetch_add(1, Ordering::Relaxed);
        }
        stolen.into()
    }
}

impl IngressHandler for TestHook {
    fn hook<'a>(&self, skb: Skb<'a>, state: &HookState<'a>) -> Verdict<'a> {
        match tcp_ports(skb.network_data()) {
            Some((CLIENT_PORT, SERVICE_PORT)) => {
                self.seen.requests.fetch_add(1, Ordering::Relaxed);
                let ok = core::ptr::eq(state.net(), init_net())
                    && state.in_dev().map(NetDevice::ifindex) == Some(1)
                    && skb.ifindex() == 1
                    && skb.protocol() == ETH_P_IP
                    && skb.pkt_type() == pkt_type::HOST
                    && skb.eth_source() == Some([0; 6])
                    && skb.network_offset() == 0;
                if ok {
                    self.seen.context_ok.fetch_add(1, Ordering::Relaxed);
                }
                self.answer(skb)
            }
            Some((SERVICE_PORT, CLIENT_PORT)) => {
                self.seen.replies.fetch_add(1, Ordering::Relaxed);
                if skb.eth_source() == Some([0; 6]) && !skb.sk_is_prefetched() {
                    self.seen.replies_from_lo.fetch_add(1, Ordering::Relaxed);
                }
                skb.drop_with_reason(DropReason::NOT_SPECIFIED)
            }
            Some((CLIENT_PORT, DROP_PORT)) => {
                self.seen.dropped.fetch_add(1, Ordering::Relaxed);
                skb.drop_packet()
            }
            Some((CLIENT_PORT, CONSUME_PORT)) => {
                self.seen.consumed.fetch_add(1, Ordering::Relaxed);
                skb.consume()
            }
            _ => skb.accept(),
        }
    }
}

/// Passes a TCP packet 127.0.0.1:`sport` -> 127.0.0.1:`dport` to the stack
/// as if `lo` had received it; returns whether it could be built and passed.
fn receive_on(lo: &NetDevice, sport: u16, dport: u16) -> bool {
    let Ok(mut frame) = SkBuffOwned::alloc(ETH_HLEN + 40, 32, GFP_KERNEL) else {
        return false;
    };
    // `lo`'s Ethernet header: zero addresses.
    let mut eth = [0u8; ETH_HLEN];
    eth[12..].copy_from_slice(&ETH_P_IP.to_be_bytes());
    frame.put_data(&eth).is_ok()
        && frame
            .put_data(&ipv4_tcp(LOCALHOST, LOCALHOST, sport, dport))
            .is_ok()
        && frame.receive(lo).is_ok()
}

/// Waits until `counter` reaches `n`: packets sent on `lo` come back
/// through its backlog, normally as soon as BHs are re-enabled; a slow VM
/// gets two seconds.
fn wait_for(counter: &AtomicU32, n: u32) -> bool {
    stack_pin_init!(let lock = new_mutex!(()));
    stack_pin_init!(let cv = new_condvar!());
    for _ in 0..200 {
        if counter.load(Ordering::Relaxed) >= n {
            break;
        }
        let mut guard = lock.lock();
        // Nobody notifies: a sleep of one tick (at least 1 ms).
        let _ = cv.wait_interruptible_timeout(&mut guard, msecs_to_jiffies(10));
    }
    counter.load(Ordering::Relaxed) == n
}

/// Counts the events of `lo` (ifindex 1) a notifier saw.
#[derive(Default)]
struct LoEvents {
    register: AtomicU32,
    up: AtomicU32,
    unregister: AtomicU32,
    rtnl_net_ok: AtomicU32,
}

struct LoWatch {
    events: Arc<LoEvents>,
}

impl NotifierHandler for LoWatch {
    fn event(&self, rtnl: &Rtnl, event: NetdevEvent, dev: &NetDevice) {
        if dev.ifindex() != 1 || !dev.net_eq(init_net()) {
            return;
        }
        if core::ptr::eq(dev.net(rtnl), init_net()) {
            self.events.rtnl_net_ok.fetch_add(1, Ordering::Relaxed);
        }
        let counter = match event {
            NetdevEvent::Register => &self.events.register,
            NetdevEvent::Up => &self.events.up,
            NetdevEvent::Unregister => &self.events.unregister,
            _ => return,
        };
        counter.fetch_add(1, Ordering::Relaxed);
    }
}

/// The Internet checksum of `data`, added to `sum` (a partial sum).
fn inet_csum(data: &[u8], mut sum: u32) -> u16 {
    for pair in data.chunks(2) {
        sum += match *pair {
            [a, b] => u32::from(u16::from_be_bytes([a, b])),
            [a] => u32::from(a) << 8,
            _ => 0,
        };
    }
    while sum >> 16 != 0 {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    !(sum as u16)
}

/// An IPv4 + UDP datagram `src` -> `dst` carrying `payload` (at most 64
/// bytes), with both checksums; returns it and its length.
fn ipv4_udp(src: SockAddrV4, dst: SockAddrV4, payload: &[u8]) -> ([u8; 92], usize) {
    let mut p = [0u8; 92];
    let n = payload.len().min(64);
    let udp_len = 8 + n;
    let total = 20 + udp_len;
    p[0] = 0x45;
    p[2..4].copy_from_slice(&(total as u16).to_be_bytes());
    p[6] = 0x40;
    p[8] = 64;
    p[9] = 17;
    p[12..16].copy_from_slice(&src.addr);
    p[16..20].copy_from_slice(&dst.addr);
    let ip_csum = inet_csum(&p[..20], 0);
    p[10..12].copy_from_slice(&ip_csum.to_be_bytes());
    p[20..22].copy_from_slice(&src.port.to_be_bytes());
    p[22..24].copy_from_slice(&dst.port.to_be_bytes());
    p[24..26].copy_from_slice(&(udp_len as u16).to_be_bytes());
    for (d, s) in p[28..].iter_mut().zip(payload) {
        *d = *s;
    }
    // The pseudo header: addresses, protocol, UDP length.
    let mut pseudo = [0u8; 12];
    pseudo[..4].copy_from_slice(&src.addr);
    pseudo[4..8].copy_from_slice(&dst.addr);
    pseudo[9] = 17;
    pseudo[10..12].copy_from_slice(&(udp_len as u16).to_be_bytes());
    let partial = u32::from(!inet_csum(&pseudo, 0));
    let udp_csum = match inet_csum(&p[20..20 + udp_len], partial) {
        0 => 0xffff,
        c => c,
    };
    p[26..28].copy_from_slice(&udp_csum.to_be_bytes());
    (p, total)
}

/// What a tunnel's handler received: how many datagrams, and the last one.
#[derive(Default)]
struct TunnelSeen {
    count: AtomicU32,
    len: AtomicU32,
    payload: [AtomicU8; 32],
    from_addr: AtomicU32,
    from_port: AtomicU32,
    /// Datagrams received in `init_net` with the data at the payload and
    /// the outer IPv4 header as the network header.
    context_ok: AtomicU32,
}

impl TunnelSeen {
    /// The first `len` bytes of the last payload (at most 32).
    fn payload(&self) -> ([u8; 32], usize) {
        let mut out = [0u8; 32];
        for (d, s) in out.iter_mut().zip(&self.payload) {
            *d = s.load(Ordering::Relaxed);
        }
        let len = (self.len.load(Ordering::Relaxed) as usize).min(32);
        (out, len)
    }

    fn from(&self) -> SockAddrV4 {
        SockAddrV4 {
            addr: self.from_addr.load(Ordering::Relaxed).to_be_bytes(),
            port: self.from_port.load(Ordering::Relaxed) as u16,
        }
    }
}

impl UdpTunnelHandler for TunnelSeen {
    fn recv(&self, net: &Namespace, skb: SkBuffOwned, from: SockAddrV4) {
        for (d, s) in self.payload.iter().zip(skb.data()) {
            d.store(*s, Ordering::Relaxed);
        }
        self.len.store(skb.len(), Ordering::Relaxed);
        self.from_addr
            .store(u32::from_be_bytes(from.addr), Ordering::Relaxed);
        self.from_port
            .store(u32::from(from.port), Ordering::Relaxed);
        let nh = skb.network_data();
        let ip_ok = nh.first().is_some_and(|&b| b >> 4 == 4) && nh.get(9) == Some(&17);
        if core::ptr::eq(net, init_net()) && ip_ok && skb.network_offset() < 0 {
            self.context_ok.fetch_add(1, Ordering::Relaxed);
        }
        skb.consume();
        self.count.fetch_add(1, Ordering::Release);
    }
}

/// Waits (up to a second) until `counter` reaches at least `n`.
fn wait_at_least(counter: &AtomicU32, n: u32) -> bool {
    for _ in 0..100 {
        if counter.load(Ordering::Acquire) >= n {
            return true;
        }
        msleep(10);
    }
    counter.load(Ordering::Acquire) >= n
}

kernel::kunit_tests! {
    suite "handoff_net";

    fn skb_build_and_read() {
        let Ok(mut skb) = SkBuffOwned::alloc(128, 64, GFP_KERNEL) else {
            kunit_expect!(false);
            return;
        };
        kunit_expect_eq!(skb.len(), 0);
        kunit_expect_eq!(skb.headroom(), 64);
        kunit_expect!(skb.tailroom() >= 128);
        kunit_expect!(skb.dev().is_none());
        let pkt = ipv4_tcp([10, 0, 1, 1], [10, 0, 0, 100], 40000, 80);
        kunit_expect!(skb.put_data(&pkt).is_ok());
        kunit_expect_eq!(skb.len(), 40);
        kunit_expect_eq!(skb.network_data(), &pkt[..]);
        kunit_expect_eq!(tcp_ports(skb.network_data()), Some((40000, 80)));

        // An Ethernet header in front, then off again: the network header
        // stays where it was.
        match skb.push(ETH_HLEN) {
            Ok(eth) => {
                kunit_expect_eq!(eth.len(), ETH_HLEN);
                kunit_expect!(eth.iter().all(|&b| b == 0));
                eth[12..14].copy_from_slice(&ETH_P_IP.to_be_bytes());
            }
            Err(_) => {
                kunit_expect!(false);
            }
        }
        kunit_expect_eq!(skb.len(), 54);
        kunit_expect_eq!(skb.headroom(), 50);
        kunit_expect_eq!(skb.network_offset(), ETH_HLEN as i32);
        kunit_expect!(skb.pull(ETH_HLEN).is_ok());
        kunit_expect_eq!(skb.network_offset(), 0);
        kunit_expect_eq!(skb.network_data(), &pkt[..]);

        // Reserving is for empty packets only.
        kunit_expect_eq!(skb.reserve(8), Err(EINVAL));
        kunit_expect!(skb.trim(20).is_ok());
        kunit_expect_eq!(skb.len(), 20);
        kunit_expect_eq!(skb.network_data(), &pkt[..20]);
        kunit_expect_eq!(skb.trim(21), Err(EINVAL));
        skb.set_mark(0x4242);
        kunit_expect_eq!(skb.mark(), 0x4242);
        kunit_expect!(!skb.is_nonlinear());
        kunit_expect!(skb.mac_header().is_none());
        kunit_expect!(skb.eth_source().is_none());
        kunit_expect!(!skb.sk_is_prefetched());
        skb.consume();
    }

    fn skb_reserve_then_put() {
        let Ok(mut skb) = SkBuffOwned::alloc(64, 0, GFP_KERNEL) else {
            kunit_expect!(false);
            return;
        };
        kunit_expect!(skb.reserve(16).is_ok());
        kunit_expect_eq!(skb.headroom(), 16);
        match skb.put(4) {
            Ok(b) => {
                kunit_expect_eq!(b, &[0u8; 4][..]);
                for (d, s) in b.iter_mut().zip([1, 2, 3, 4]) {
                    *d = s;
                }
            }
            Err(_) => {
                kunit_expect!(false);
            }
        }
        kunit_expect_eq!(skb.network_data(), &[1u8, 2, 3, 4][..]);
        // More than the tailroom: the buffer is reallocated.
        let big = [7u8; 300];
        kunit_expect!(skb.put_data(&big).is_ok());
        kunit_expect_eq!(skb.len(), 304);
        kunit_expect_eq!(skb.network_data().get(..4), Some(&[1u8, 2, 3, 4][..]));
        kunit_expect!(skb
            .network_data()
            .get(4..)
            .is_some_and(|rest| rest.iter().all(|&b| b == 7)));
    }

    fn skb_may_pull_beyond_len_fails() {
        let Ok(mut skb) = SkBuffOwned::alloc(64, 16, GFP_KERNEL) else {
            kunit_expect!(false);
            return;
        };
        kunit_expect!(skb.put_data(&[0u8; 40]).is_ok());
        kunit_expect!(skb.may_pull(40).is_ok());
        kunit_expect_eq!(skb.may_pull(41), Err(EINVAL));
        kunit_expect_eq!(skb.may_pull(usize::MAX), Err(EINVAL));
        kunit_expect_eq!(skb.make_writable(41).err(), Some(EINVAL));
        kunit_expect!(skb.pull(41).is_err());
        kunit_expect!(skb.linearize().is_ok());
        kunit_expect_eq!(skb.len(), 40);
    }

    fn skb_make_writable_unshares_clone() {
        let Ok(mut orig) = SkBuffOwned::alloc(64, 16, GFP_KERNEL) else {
            kunit_expect!(false);
            return;
        };
        let pkt = ipv4_tcp([10, 0, 1, 1], [10, 0, 0, 100], 40000, 80);
        kunit_expect!(orig.put_data(&pkt).is_ok());
        let Ok(mut clone) = orig.clone_skb(GFP_KERNEL) else {
            kunit_expect!(false);
            return;
        };
        kunit_expect!(orig.is_cloned() && clone.is_cloned());
        kunit_expect_eq!(clone.network_data(), &pkt[..]);
        match clone.make_writable(20) {
            Ok(ip) => {
                kunit_expect_eq!(ip.len(), 20);
                ip[8] = 1;
            }
            Err(_) => {
                kunit_expect!(false);
            }
        }
        kunit_expect!(!clone.is_cloned());
        kunit_expect_eq!(clone.network_data().get(8), Some(&1));
        kunit_expect_eq!(orig.network_data(), &pkt[..]);
    }

    fn skb_set_network_data_resizes() {
        let Ok(mut skb) = SkBuffOwned::alloc(40, 16, GFP_KERNEL) else {
            kunit_expect!(false);
            return;
        };
        let pkt = ipv4_tcp([10, 0, 1, 1], [10, 0, 0, 100], 40000, 80);
        kunit_expect!(skb.put_data(&pkt).is_ok());
        let Ok(clone) = skb.clone_skb(GFP_KERNEL) else {
            kunit_expect!(false);
            return;
        };
        let longer = [9u8; 400];
        kunit_expect!(skb.set_network_data(&longer).is_ok());
        kunit_expect_eq!(skb.len(), 400);
        kunit_expect_eq!(skb.network_data(), &longer[..]);
        kunit_expect_eq!(clone.network_data(), &pkt[..]);
        kunit_expect!(skb.set_network_data(&pkt[..20]).is_ok());
        kunit_expect_eq!(skb.len(), 20);
        kunit_expect_eq!(skb.network_data(), &pkt[..20]);
    }

    fn loopback_lookup() {
        let net = init_net();
        let Ok(lo) = NetDevice::get_by_name(net, c_str!("lo")) else {
            kunit_expect!(false);
            return;
        };
        kunit_expect_eq!(lo.ifindex(), 1);
        kunit_expect_eq!(lo.name().as_bytes(), b"lo");
        kunit_expect!(lo.mtu() > 0);
        kunit_expect!(lo.is_registered());
        kunit_expect!(lo.net_eq(net));
        kunit_expect_eq!(lo.dev_addr(), Some([0u8; 6]));
        match NetDevice::get_by_index(net, 1) {
            Ok(by_index) => {
                kunit_expect!(*by_index == *lo);
            }
            Err(_) => {
                kunit_expect!(false);
            }
        }
        let again = lo.clone();
        kunit_expect!(*again == *lo);
        drop(again);
        let rtnl = rtnl_lock();
        kunit_expect!(core::ptr::eq(lo.net(&rtnl), net));
        drop(rtnl);
    }

    fn missing_device_is_enodev() {
        let net = init_net();
        kunit_expect_eq!(
            NetDevice::get_by_name(net, c_str!("handoff-none")).err(),
            Some(ENODEV)
        );
        kunit_expect_eq!(NetDevice::get_by_index(net, 0x7fff_fff0).err(), Some(ENODEV));
        kunit_expect_eq!(NetDevice::get_by_index(net, 0).err(), Some(ENODEV));
    }

    fn notifier_replays_events() {
        let lo_up = NetDevice::get_by_name(init_net(), c_str!("lo")).is_ok_and(|lo| lo.is_up());
        let events = match Arc::new(LoEvents::default(), GFP_KERNEL) {
            Ok(e) => e,
            Err(_) => {
                kunit_expect!(false);
                return;
            }
        };
        let notifier = Notifier::new(init_net(), LoWatch { events: events.clone() });
        kunit_expect!(notifier.is_ok());
        kunit_expect_eq!(events.register.load(Ordering::Relaxed), 1);
        kunit_expect_eq!(events.up.load(Ordering::Relaxed), u32::from(lo_up));
        kunit_expect_eq!(events.unregister.load(Ordering::Relaxed), 0);
        drop(notifier);
        kunit_expect_eq!(events.unregister.load(Ordering::Relaxed), 1);

        let global = Notifier::new_global(LoWatch { events: events.clone() });
        kunit_expect!(global.is_ok());
        kunit_expect_eq!(events.register.load(Ordering::Relaxed), 2);
        drop(global);
        kunit_expect_eq!(events.unregister.load(Ordering::Relaxed), 2);
        // Every event came with RTNL and the right namespace.
        kunit_expect!(events.rtnl_net_ok.load(Ordering::Relaxed) >= 4);
    }

    fn ingress_hook_registers_on_lo() {
        let Ok(seen) = Arc::new(Seen::default(), GFP_KERNEL) else {
            kunit_expect!(false);
            return;
        };
        let Ok(handler) = Arc::new(TestHook { seen }, GFP_KERNEL) else {
            kunit_expect!(false);
            return;
        };
        let net = init_net();
        let rtnl = rtnl_lock();
        let Ok(lo) = NetDevice::get_by_name(net, c_str!("lo")) else {
            kunit_expect!(false);
            return;
        };
        let first = Registration::new(&rtnl, net, &lo, Priority::FIRST, handler.clone());
        let last = Registration::new(&rtnl, net, &lo, Priority::LAST, handler);
        drop(rtnl);
        kunit_expect!(first.is_ok() && last.is_ok());
        if let Ok(reg) = &first {
            kunit_expect!(*reg.dev() == *lo);
        }
        drop(first);
        drop(last);
    }

    fn ingress_hook_answers_on_lo() {
        let Ok(seen) = Arc::new(Seen::default(), GFP_KERNEL) else {
            kunit_expect!(false);
            return;
        };
        let Ok(handler) = Arc::new(TestHook { seen: seen.clone() }, GFP_KERNEL) else {
            kunit_expect!(false);
            return;
        };
        let net = init_net();
        let Ok(lo) = NetDevice::get_by_name(net, c_str!("lo")) else {
            kunit_expect!(false);
            return;
        };
        let rtnl = rtnl_lock();
        let reg = Registration::new(&rtnl, net, &lo, Priority::FIRST, handler);
        drop(rtnl);
        kunit_expect!(reg.is_ok());

        // The hook answers the request; the answer loops back through `lo`.
        kunit_expect!(receive_on(&lo, CLIENT_PORT, SERVICE_PORT));
        kunit_expect_eq!(seen.requests.load(Ordering::Relaxed), 1);
        kunit_expect_eq!(seen.context_ok.load(Ordering::Relaxed), 1);
        kunit_expect_eq!(seen.replied.load(Ordering::Relaxed), 1);
        kunit_expect!(wait_for(&seen.replies, 1));

        // A new packet sent on `lo` reaches the hook the same way.
        let sent = SkBuffOwned::alloc(40, ETH_HLEN, GFP_KERNEL).and_then(|mut skb| {
            skb.put_data(&ipv4_tcp(LOCALHOST, LOCALHOST, SERVICE_PORT, CLIENT_PORT))?;
            skb.xmit_ether(&lo, [0; 6], ETH_P_IP)
        });
        kunit_expect!(sent.is_ok());
        kunit_expect!(wait_for(&seen.replies, 2));
        kunit_expect_eq!(seen.replies_from_lo.load(Ordering::Relaxed), 2);

        // The other verdicts.
        kunit_expect!(receive_on(&lo, CLIENT_PORT, DROP_PORT));
        kunit_expect_eq!(seen.dropped.load(Ordering::Relaxed), 1);
        kunit_expect!(receive_on(&lo, CLIENT_PORT, CONSUME_PORT));
        kunit_expect_eq!(seen.consumed.load(Ordering::Relaxed), 1);
        kunit_expect_eq!(seen.requests.load(Ordering::Relaxed), 1);

        drop(reg);
        // Unhooked: the handler is not called any more.
        kunit_expect!(receive_on(&lo, CLIENT_PORT, DROP_PORT));
        kunit_expect_eq!(seen.dropped.load(Ordering::Relaxed), 1);
    }

    fn skb_data_and_segments() {
        let Ok(mut skb) = SkBuffOwned::alloc(64, 16, GFP_KERNEL) else {
            kunit_expect!(false);
            return;
        };
        let pkt = ipv4_tcp([10, 0, 1, 1], [10, 0, 0, 100], 40000, 80);
        kunit_expect!(skb.put_data(&pkt).is_ok());
        kunit_expect_eq!(skb.data(), &pkt[..]);
        kunit_expect!(skb.may_pull_data(40).is_ok());
        kunit_expect_eq!(skb.may_pull_data(41), Err(EINVAL));
        // Past the network header: `data` moves, `network_data` does not.
        kunit_expect!(skb.pull_rcsum(20).is_ok());
        kunit_expect_eq!(skb.data(), &pkt[20..]);
        kunit_expect_eq!(skb.network_data(), &pkt[..]);
        kunit_expect_eq!(skb.pull_rcsum(21), Err(EINVAL));
        match skb.push(20) {
            Ok(h) => {
                for (d, s) in h.iter_mut().zip(&pkt) {
                    *d = *s;
                }
            }
            Err(_) => {
                kunit_expect!(false);
            }
        }
        kunit_expect_eq!(skb.data(), &pkt[..]);
        kunit_expect!(skb.ensure_headroom(128).is_ok());
        kunit_expect!(skb.headroom() >= 128);
        kunit_expect_eq!(skb.len(), 40);
        // Checksums are complete: nothing to do.
        kunit_expect!(!skb.is_checksum_partial());
        kunit_expect!(skb.checksum_help().is_ok());
        // Not GSO: the packet itself is the only segment.
        kunit_expect!(!skb.is_gso());
        match skb.gso_segment() {
            Ok(mut segs) => {
                kunit_expect!(!segs.is_empty());
                match segs.next() {
                    Some(seg) => {
                        kunit_expect_eq!(seg.len(), 40);
                        kunit_expect_eq!(seg.network_data().get(..20), Some(&pkt[..20]));
                    }
                    None => {
                        kunit_expect!(false);
                    }
                }
                kunit_expect!(segs.next().is_none());
                kunit_expect!(segs.is_empty());
            }
            Err(_) => {
                kunit_expect!(false);
            }
        }
        kunit_expect!(init_net().loopback().is_some_and(|lo| lo.ifindex() == 1));
    }

    fn udp_tunnel_sends_to_itself() {
        let Ok(seen) = Arc::new(TunnelSeen::default(), GFP_KERNEL) else {
            kunit_expect!(false);
            return;
        };
        let net = init_net();
        let local = SockAddrV4 {
            addr: LOCALHOST,
            port: TUNNEL_PORT,
        };
        let tunnel = match UdpTunnel::new(net, local, seen.clone()) {
            Ok(t) => t,
            Err(_) => {
                kunit_expect!(false);
                return;
            }
        };
        kunit_expect_eq!(tunnel.local(), local);
        kunit_expect!(core::ptr::eq(tunnel.net(), net));
        // The port is taken now.
        kunit_expect_eq!(
            UdpTunnel::new(net, local, seen.clone()).err().map(|e| e.to_errno()),
            Some(-(kernel::bindings::EADDRINUSE as i32))
        );

        // No headroom at all: `send` makes room for the headers.
        let payload = b"handoff tunnel test";
        let sent = SkBuffOwned::alloc(payload.len(), 0, GFP_KERNEL).and_then(|mut skb| {
            skb.put_data(payload)?;
            tunnel.send(net, skb, local, true)
        });
        kunit_expect!(sent.is_ok());
        kunit_expect!(wait_at_least(&seen.count, 1));
        kunit_expect_eq!(seen.count.load(Ordering::Relaxed), 1);
        let (got, len) = seen.payload();
        kunit_expect_eq!(len, payload.len());
        kunit_expect_eq!(got.get(..len), Some(&payload[..]));
        kunit_expect_eq!(seen.from(), local);
        kunit_expect_eq!(seen.context_ok.load(Ordering::Relaxed), 1);

        drop(tunnel);
        // Closed: the port is free again.
        match UdpTunnel::new(net, local, seen.clone()) {
            Ok(again) => {
                kunit_expect_eq!(again.local(), local);
            }
            Err(_) => {
                kunit_expect!(false);
            }
        }
    }

    fn ip_local_out_reaches_tunnel() {
        let Ok(seen) = Arc::new(TunnelSeen::default(), GFP_KERNEL) else {
            kunit_expect!(false);
            return;
        };
        let net = init_net();
        // An ephemeral port.
        let any_port = SockAddrV4 {
            addr: LOCALHOST,
            port: 0,
        };
        let tunnel = match UdpTunnel::new(net, any_port, seen.clone()) {
            Ok(t) => t,
            Err(_) => {
                kunit_expect!(false);
                return;
            }
        };
        let local = tunnel.local();
        kunit_expect!(local.addr == LOCALHOST && local.port != 0);
        let client = SockAddrV4 {
            addr: LOCALHOST,
            port: UDP_CLIENT_PORT,
        };
        let payload = b"through ip_local_out";
        let (pkt, len) = ipv4_udp(client, local, payload);
        let sent = SkBuffOwned::alloc(len, 64, GFP_KERNEL).and_then(|mut skb| {
            skb.put_data(pkt.get(..len).unwrap_or(&[]))?;
            skb.ip_local_out(net)
        });
        kunit_expect!(sent.is_ok());
        kunit_expect!(wait_at_least(&seen.count, 1));
        let (got, n) = seen.payload();
        kunit_expect_eq!(n, payload.len());
        kunit_expect_eq!(got.get(..n), Some(&payload[..]));
        kunit_expect_eq!(seen.from(), client);
        kunit_expect_eq!(seen.context_ok.load(Ordering::Relaxed), 1);

        // A source address that is not local cannot be routed.
        let stranger = SockAddrV4 {
            addr: [192, 0, 2, 1],
            port: UDP_CLIENT_PORT,
        };
        let (pkt, len) = ipv4_udp(stranger, local, payload);
        let sent = SkBuffOwned::alloc(len, 64, GFP_KERNEL).and_then(|mut skb| {
            skb.put_data(pkt.get(..len).unwrap_or(&[]))?;
            skb.ip_local_out(net)
        });
        kunit_expect_eq!(
            sent.map_err(|e| e.to_errno()),
            Err(-(kernel::bindings::ENETUNREACH as i32))
        );
        // Not IPv4.
        let sent = SkBuffOwned::alloc(40, 64, GFP_KERNEL).and_then(|mut skb| {
            skb.put_data(&[0x60; 40])?;
            skb.ip_local_out(net)
        });
        kunit_expect_eq!(sent, Err(EINVAL));
        drop(tunnel);
        kunit_expect_eq!(seen.count.load(Ordering::Relaxed), 1);
    }

    fn receive_ip_reaches_ingress_hook() {
        let Ok(seen) = Arc::new(Seen::default(), GFP_KERNEL) else {
            kunit_expect!(false);
            return;
        };
        let Ok(handler) = Arc::new(TestHook { seen: seen.clone() }, GFP_KERNEL) else {
            kunit_expect!(false);
            return;
        };
        let net = init_net();
        let Some(lo) = net.loopback() else {
            kunit_expect!(false);
            return;
        };
        let rtnl = rtnl_lock();
        let reg = Registration::new(&rtnl, net, lo, Priority::FIRST, handler);
        drop(rtnl);
        kunit_expect!(reg.is_ok());

        // Delivered synchronously: the hook has seen it on return.
        for dport in [DROP_PORT, CONSUME_PORT] {
            let delivered = SkBuffOwned::alloc(40, 0, GFP_KERNEL).and_then(|mut skb| {
                skb.put_data(&ipv4_tcp(LOCALHOST, LOCALHOST, CLIENT_PORT, dport))?;
                skb.receive_ip(lo)
            });
            kunit_expect!(delivered.is_ok());
        }
        kunit_expect_eq!(seen.dropped.load(Ordering::Relaxed), 1);
        kunit_expect_eq!(seen.consumed.load(Ordering::Relaxed), 1);
        // Too short for an IPv4 header.
        let short = SkBuffOwned::alloc(8, 0, GFP_KERNEL).and_then(|mut skb| {
            skb.put_data(&[0x45; 8])?;
            skb.receive_ip(lo)
        });
        kunit_expect_eq!(short, Err(EINVAL));
        drop(reg);
    }
}
