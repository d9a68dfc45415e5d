// SPDX-License-Identifier: GPL-2.0

//! The ingress hook: the top of the packet path.
//!
//! Runs in softirq context under the RCU read lock (netfilter
//! `NF_NETDEV_INGRESS`), before IP processing. It reads top-down:
//!
//! 1. [`hook`](Ingress::hook) classifies the packet (`headers`): IPv4 TCP
//!    and the ICMP errors that quote a TCP connection are the module's to
//!    judge; everything else passes untouched.
//! 2. [`decide`] looks the connection up: handed to a peer (the forward
//!    table, `forward.rs`), else half-open for a service (the temporary
//!    table, `handshake.rs`), which ends, on the first request bytes, in
//!    the hand-off: the selection (`select.rs`) names the node, and the
//!    connection is injected locally (`inject.rs`) or offered to a peer
//!    (`origin.rs`).
//! 3. [`act`] carries the [`Decision`] out: accept, absorb, drop, reply, or
//!    encapsulate to a peer.
//!
//! Every function on the way takes the per-packet context [`Pkt`].

use crate::conntab::ConnKey;
use crate::netns::HandoffNet;
use crate::proto::{
    conn::DropReason,
    cookie::{self, Tuple},
    packet::{self, TcpFlags},
};
use crate::services::ServiceRt;
use crate::stats::Counter;
use crate::{forward, handshake};
use kernel::net::namespace::Namespace;
use kernel::net::netfilter::{HookState, IngressHandler, Verdict};
use kernel::net::skb::{pkt_type, SkBuff, Skb};
use kernel::net::tcp::Ipv4Tuple;
use kernel::sync::rcu;

/// `ETH_P_IP`.
const ETH_P_IP: u16 = 0x0800;
/// `IPPROTO_ICMP`.
const PROTO_ICMP: u8 = 1;
/// The largest reply the hook builds: IPv4 + TCP headers with options.
pub(crate) const REPLY_MAX: usize = 20 + 60;

/// The ingress handler; its state is the instance of the packet's namespace.
pub(crate) struct Ingress;

/// What to do with the packet.
pub(crate) enum Decision {
    /// Let it continue up the stack.
    Accept,
    /// Consume it silently (counted where it was decided).
    Absorb,
    /// Drop it, counting the reason.
    Drop(DropReason),
    /// Replace it with the `len` bytes of `buf` and send them back.
    Reply([u8; REPLY_MAX], usize),
    /// Encapsulate it to the peer owning its connection.
    Forward(forward::Dest),
}

/// What the hook knows of a packet on its way down the path.
pub(crate) struct Pkt<'g> {
    /// The instance of the packet's namespace.
    pub(crate) hn: &'g HandoffNet,
    /// The RCU read-side section the packet is judged in.
    pub(crate) guard: &'g rcu::Guard,
    /// The packet's namespace.
    pub(crate) net: &'g Namespace,
    /// The receiving device's index.
    pub(crate) ifindex: i32,
    /// The receiving device's MTU.
    pub(crate) mtu: u32,
    /// The connection's addresses and ports, as the client sends them.
    pub(crate) tuple: Ipv4Tuple,
    /// The same, as the tables key them.
    pub(crate) key: ConnKey,
    /// The TCP flags (of the quoted segment's direction for ICMP: none).
    pub(crate) flags: TcpFlags,
    /// The service, once the packet is known to be for one.
    pub(crate) svc: Option<&'g ServiceRt>,
}

impl Pkt<'_> {
    /// Counts `c` for the instance and, if known, the service.
    pub(crate) fn inc(&self, c: Counter) {
        self.hn.counters.inc(c);
        if let Some(svc) = self.svc {
            svc.counters.inc(c);
        }
    }

    /// Counts a drop for `reason` for the instance and, if known, the
    /// service.
    pub(crate) fn dropped(&self, reason: DropReason) {
        self.hn.counters.dropped(reason);
        if let Some(svc) = self.svc {
            svc.counters.dropped(reason);
        }
    }

    /// The context of the connection `key` when no segment of it is at
    /// hand (a timer hands it over): its service as a segment received on
    /// `ifindex` would find it now. `None` for a tuple that is not IPv4.
    pub(crate) fn without_segment<'g>(
        hn: &'g HandoffNet,
        guard: &'g rcu::Guard,
        net: &'g Namespace,
        key: ConnKey,
        ifindex: i32,
    ) -> Option<Pkt<'g>> {
        Some(Pkt {
            hn,
            guard,
            net,
            ifindex,
            // Only a SYN's answer reads it.
            mtu: 0,
            tuple: crate::inject::ipv4_tuple(&key.0)?,
            key,
            flags: TcpFlags(0),
            svc: hn.service_for(guard, &key.0.daddr, key.0.dport, ifindex),
        })
    }
}

impl IngressHandler for Ingress {
    fn hook<'a>(&self, mut skb: Skb<'a>, state: &HookState<'a>) -> Verdict<'a> {
        // A packet that carries its socket already is one this module
        // handed to the stack: the stack's. A frame not addressed to this
        // device (another host's, seen by a promiscuous device; a tagged one
        // for a VLAN device stacked on it, maybe in another namespace) is
        // not this host's to answer: the stack drops or delivers it.
        if skb.protocol() != ETH_P_IP
            || skb.sk_is_prefetched()
            || skb.pkt_type() != pkt_type::HOST
            || skb.vlan_tag_present()
        {
            return skb.accept();
        }
        let Some(h) = headers(&mut skb) else {
            return skb.accept();
        };
        let guard = rcu::read_lock();
        let mut pkt = Pkt {
            hn: HandoffNet::of(state.net()),
            guard: &guard,
            net: state.net(),
            ifindex: skb.ifindex(),
            mtu: state.in_dev().map(|d| d.mtu()).unwrap_or(1500),
            tuple: h.tuple,
            key: ConnKey(proto_tuple(&h.tuple)),
            flags: h.flags,
            svc: None,
        };
        let decision = if h.icmp {
            forward::icmp_error(&pkt)
        } else {
            decide(&mut pkt, &mut skb)
        };
        act(&pkt, skb, decision)
    }
}

/// Where a packet goes: the peer owning its connection, or the handshake
/// of its service.
fn decide(pkt: &mut Pkt<'_>, skb: &mut SkBuff) -> Decision {
    if let Some(d) = forward::lookup(pkt, skb) {
        return d;
    }
    let hn = pkt.hn;
    let Some(svc) = hn.service_for(pkt.guard, &pkt.key.0.daddr, pkt.key.0.dport, pkt.ifindex)
    else {
        return Decision::Accept;
    };
    pkt.svc = Some(svc);
    handshake::segment(pkt, skb)
}

/// Carries `decision` out.
fn act<'a>(pkt: &Pkt<'_>, skb: Skb<'a>, decision: Decision) -> Verdict<'a> {
    match decision {
        Decision::Accept => skb.accept(),
        Decision::Absorb => skb.consume(),
        Decision::Drop(reason) => {
            pkt.dropped(reason);
            skb.drop_packet()
        }
        Decision::Reply(buf, len) => reply(pkt, skb, &buf, len),
        Decision::Forward(dest) => {
            let (owned, stolen) = skb.steal();
            forward::send(pkt, owned, &dest);
            stolen.into()
        }
    }
}

/// Sends `buf[..len]` back in place of `skb`.
fn reply<'a>(pkt: &Pkt<'_>, mut skb: Skb<'a>, buf: &[u8], len: usize) -> Verdict<'a> {
    let Some(bytes) = buf.get(..len) else {
        pkt.dropped(DropReason::Malformed);
        return skb.drop_packet();
    };
    if skb.set_network_data(bytes).is_err() {
        pkt.inc(Counter::XmitFailed);
        return skb.drop_packet();
    }
    let (owned, stolen) = skb.steal();
    if owned.xmit_reply().is_err() {
        pkt.inc(Counter::XmitFailed);
    }
    stolen.into()
}

/// The fixed header fields the hook classifies by.
struct Headers {
    /// TCP: the segment's tuple; ICMP: the tuple of the quoted segment's
    /// connection, in the client's direction.
    tuple: Ipv4Tuple,
    flags: TcpFlags,
    /// An ICMP error quoting a TCP segment.
    icmp: bool,
}

fn be16(b: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_be_bytes([*b.get(at)?, *b.get(at + 1)?]))
}

fn ne32(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_ne_bytes(b.get(at..at + 4)?.try_into().ok()?))
}

fn ne16(b: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_ne_bytes(b.get(at..at + 2)?.try_into().ok()?))
}

/// Reads the headers of an IPv4 TCP segment, or of an ICMP error quoting
/// one; `None` if the packet is not one this hook may judge (another
/// protocol, a fragment, too short: the stack decides about those).
fn headers(skb: &mut SkBuff) -> Option<Headers> {
    skb.may_pull(20).ok()?;
    let ip = skb.network_data();
    let ihl = usize::from(*ip.first()? & 0x0f) * 4;
    let frag = be16(ip, 6)?;
    let proto = *ip.get(9)?;
    if *ip.first()? >> 4 != 4 || ihl < 20 || frag & 0x3fff != 0 {
        return None;
    }
    if proto == PROTO_ICMP {
        // Type, code, checksum, 4 unused bytes, then the quoted IPv4 header
        // and at least the 8 bytes with the ports.
        skb.may_pull(ihl + 8 + 20).ok()?;
        let b = skb.network_data();
        let q = ihl + 8;
        let qihl = usize::from(*b.get(q)? & 0x0f) * 4;
        skb.may_pull(q + qihl + 8).ok()?;
        let b = skb.network_data();
        let quoted = crate::proto::icmp::quoted_v4(b.get(ihl..)?)?;
        return Some(Headers {
            tuple: Ipv4Tuple {
                saddr: u32::from_ne_bytes(quoted.client),
                daddr: u32::from_ne_bytes(quoted.server),
                sport: quoted.client_port.to_be(),
                dport: quoted.server_port.to_be(),
            },
            flags: TcpFlags(0),
            icmp: true,
        });
    }
    if proto != packet::PROTO_TCP {
        return None;
    }
    skb.may_pull(ihl + 20).ok()?;
    let b = skb.network_data();
    let doff = usize::from(*b.get(ihl + 12)? >> 4) * 4;
    if doff < 20 {
        return None;
    }
    Some(Headers {
        tuple: Ipv4Tuple {
            saddr: ne32(b, 12)?,
            daddr: ne32(b, 16)?,
            sport: ne16(b, ihl)?,
            dport: ne16(b, ihl + 2)?,
        },
        flags: TcpFlags(*b.get(ihl + 13)?),
        icmp: false,
    })
}

/// The proto tuple (v4-mapped addresses) of `t`.
pub(crate) fn proto_tuple(t: &Ipv4Tuple) -> Tuple {
    Tuple {
        saddr: cookie::v4_mapped(t.saddr.to_ne_bytes()),
        daddr: cookie::v4_mapped(t.daddr.to_ne_bytes()),
        sport: u16::from_be(t.sport),
        dport: u16::from_be(t.dport),
    }
}
