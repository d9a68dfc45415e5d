// SPDX-License-Identifier: GPL-2.0

//! The redistribution socket: a kernel UDP tunnel socket per namespace on
//! the node's forward address and port, carrying the datagrams of
//! `include/uapi/linux/handoff.h` between peers.
//!
//! Datagrams are accepted only from the address and port of a configured
//! peer, and only whole: the header and every length are checked against
//! the datagram before anything is acted on (`proto/wire.rs`). Then NEW and
//! DATA go to the target side (`target.rs`), MIGRATED_ACK to the origin
//! side (`origin.rs`).

use crate::netns::HandoffNet;
use crate::proto::wire::{self, PktType};
use crate::stats::Counter;
use crate::{origin, target};
use kernel::net::namespace::Namespace;
use kernel::net::skb::SkBuffOwned;
use kernel::net::udp_tunnel::{SockAddrV4, UdpTunnel, UdpTunnelHandler};
use kernel::prelude::*;
use kernel::sync::rcu;

/// The redistribution socket of an instance.
pub(crate) type Tunnel = UdpTunnel<Redistribution>;

/// Receives the datagrams of the redistribution socket.
pub(crate) struct Redistribution;

impl UdpTunnelHandler for Redistribution {
    fn recv(&self, net: &Namespace, mut skb: SkBuffOwned, from: SockAddrV4) {
        let hn = HandoffNet::of(net);
        let guard = rcu::read_lock();
        let Some(peer) = hn.st.peers(&guard).and_then(|p| p.by_endpoint(&from)) else {
            hn.counters.inc(Counter::DgramNotPeer);
            return;
        };
        let malformed = || {
            hn.counters.inc(Counter::DgramMalformed);
            peer.counters.inc(Counter::DgramMalformed);
        };
        if skb.linearize().is_err() {
            return malformed();
        }
        let (hdr, body_len) = match wire::parse(skb.data()) {
            Ok(d) => (d.hdr, d.body.len()),
            Err(_) => return malformed(),
        };
        match hdr.ty {
            PktType::MigratedAck => origin::on_ack(net, &hn.st, &guard, peer, &hdr),
            PktType::New => {
                let end = wire::ENCAP_HDR_LEN + body_len;
                match skb.data().get(wire::ENCAP_HDR_LEN..end) {
                    Some(body) => target::on_new(net, hn, &guard, peer, &hdr, body),
                    None => malformed(),
                }
            }
            PktType::Data => {
                // The client packet alone: header off, bytes past `len` cut.
                if skb.pull(wire::ENCAP_HDR_LEN).is_err() || skb.trim(body_len as u32).is_err() {
                    return malformed();
                }
                target::on_data(net, hn, peer, &hdr, skb);
            }
        }
    }
}

/// Sends `bytes` as one datagram to `to`; `df` forbids fragmentation.
pub(crate) fn send_bytes(t: &Tunnel, to: SockAddrV4, bytes: &[u8], df: bool) -> Result {
    let mut skb = SkBuffOwned::alloc(bytes.len(), 128, GFP_ATOMIC)?;
    skb.put_data(bytes)?;
    t.send(t.net(), skb, to, df)
}
