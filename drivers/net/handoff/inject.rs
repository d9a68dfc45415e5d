// SPDX-License-Identifier: GPL-2.0

//! Injection: handing an established connection to this node's TCP stack.
//!
//! Both ways go through the stack's syncookie path with a filled request
//! sock attached to the connection's first segment (`kernel::net::tcp`):
//!
//! - [`local`]: the client's own first data segment, at the ingress hook
//!   (local bind, and the origin's fallback after a handoff timed out);
//! - [`adopt`]: a segment rebuilt from a peer's NEW message (the target of
//!   a handoff), delivered to the stack on the loopback device.

use crate::ingress::{Decision, Pkt};
use crate::proto::{
    conn::{DropReason, Event},
    packet::{self, Segment, TcpFlags},
    wire::NewConn,
};
use crate::stats::Counter;
use kernel::net::namespace::Namespace;
use kernel::net::skb::{SkBuff, SkBuffOwned};
use kernel::net::tcp::{self, EstablishedState, Ipv4Tuple, Listener, RequestParams};
use kernel::prelude::*;
use kernel::sync::rcu;

/// Headroom of the packets built here (link-layer headers of any device).
const HEADROOM: usize = 128;

/// Hands the connection, with this first data segment, to the local
/// listener. Returns the verdict for the segment and the outcome for the
/// state machine.
pub(crate) fn local(pkt: &Pkt<'_>, skb: &mut SkBuff, params: &RequestParams) -> (Decision, Event) {
    let net = pkt.net;
    if !tcp::syncookies_enabled(net) {
        pkt.inc(Counter::InjectFailed);
        return (
            Decision::Drop(DropReason::InjectFailed),
            Event::InjectFailed { retryable: false },
        );
    }
    let Some(listener) = Listener::lookup_v4(pkt.guard, net, &pkt.tuple, pkt.ifindex) else {
        // Nobody accepts on the port, or a listener that must not get the
        // connection does (an MPTCP one, started since the SYN): reset, as
        // the stack would for a handshake it knows nothing of.
        pkt.dropped(DropReason::NoListener);
        let d = match packet::parse(skb.network_data()) {
            Ok(p) => crate::handshake::rst(&p),
            Err(_) => Decision::Drop(DropReason::Malformed),
        };
        return (d, Event::InjectFailed { retryable: false });
    };
    if listener.accept_queue_full() {
        // The client retransmits; the entry stays to inject it again.
        return (
            Decision::Drop(DropReason::QueueFull),
            Event::InjectFailed { retryable: true },
        );
    }
    match listener.new_request(params) {
        Ok(req) => {
            req.attach(skb);
            pkt.inc(Counter::Injected);
            (Decision::Accept, Event::InjectOk)
        }
        Err(e) => {
            pkt.inc(Counter::InjectFailed);
            // Out of memory may pass; parameters the stack refuses will not.
            let retryable = e == ENOMEM;
            (
                Decision::Drop(DropReason::InjectRetry),
                Event::InjectFailed { retryable },
            )
        }
    }
}

/// Why a connection could not be adopted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum AdoptError {
    /// For good: no listener (or an MPTCP one, which never gets injected
    /// connections), syncookies off, the tuple is taken, the stack refused
    /// the socket.
    Refused,
    /// For now: the listener's accept queue is full (the origin retries).
    Busy,
}

/// The IPv4 tuple of a proto tuple (addresses and ports in network order).
pub(crate) fn ipv4_tuple(t: &crate::proto::cookie::Tuple) -> Option<Ipv4Tuple> {
    let s = crate::proto::cookie::as_v4(&t.saddr)?;
    let d = crate::proto::cookie::as_v4(&t.daddr)?;
    Some(Ipv4Tuple {
        saddr: u32::from_ne_bytes(s),
        daddr: u32::from_ne_bytes(d),
        sport: t.sport.to_be(),
        dport: t.dport.to_be(),
    })
}

/// What the stack needs to create the socket of the connection `nc`
/// describes. Our TSvals continue from the origin's (`ts.local`): the
/// client's PAWS check never sees time go back; `ts_recent` is the
/// client's latest TSval (`client_ts`, else the one in `nc`).
pub(crate) fn params_of(nc: &NewConn, client_ts: Option<u32>) -> RequestParams {
    RequestParams {
        mss: nc.mss,
        wscale_ok: nc.wscale.is_some(),
        snd_wscale: nc.wscale.map_or(0, |w| w.0),
        rcv_wscale: nc.wscale.map_or(0, |w| w.1),
        sack_ok: nc.tcp_opts_sack,
        tstamp_ok: nc.ts.is_some(),
        ts_recent: client_ts.or(nc.ts.map(|t| t.recent)).unwrap_or(0),
        ts_off: nc.ts.map_or(0, |t| {
            t.local.wrapping_sub(tcp::tcp_clock_ms()).wrapping_add(1)
        }),
    }
}

/// Injects the connection a peer's NEW describes, with its `request`
/// bytes, into the stack of `net`: the client's first segment is rebuilt
/// and delivered on the loopback device with its request sock attached.
/// A TIME_WAIT socket of an earlier connection on the tuple is reaped (the
/// origin accepted the new SYN for it).
pub(crate) fn adopt(
    net: &Namespace,
    guard: &rcu::Guard,
    nc: &NewConn,
    request: &[u8],
) -> core::result::Result<(), AdoptError> {
    let t = ipv4_tuple(&nc.tuple).ok_or(AdoptError::Refused)?;
    if !tcp::syncookies_enabled(net) {
        return Err(AdoptError::Refused);
    }
    match tcp::established_v4(net, &t, 0, |_, _| true) {
        EstablishedState::None | EstablishedState::TimeWaitReaped => {}
        EstablishedState::TimeWait | EstablishedState::Socket => return Err(AdoptError::Refused),
    }
    let lo = net.loopback().ok_or(AdoptError::Refused)?;
    // Only a plain TCP listener: an MPTCP one refuses (the origin resets).
    let listener = Listener::lookup_v4(guard, net, &t, lo.ifindex()).ok_or(AdoptError::Refused)?;
    if listener.accept_queue_full() {
        return Err(AdoptError::Busy);
    }
    let req = listener
        .new_request(&params_of(nc, None))
        .map_err(|_| AdoptError::Refused)?;
    // The client's first segment: ACK of our SYN-ACK, with the request.
    let mut opts = [0u8; 12];
    let options: &[u8] = match nc.ts {
        Some(ts) => {
            opts[..4].copy_from_slice(&[1, 1, 8, 10]);
            opts[4..8].copy_from_slice(&ts.recent.to_be_bytes());
            opts[8..].copy_from_slice(&ts.local.to_be_bytes());
            &opts
        }
        None => &[],
    };
    let seg = Segment {
        src: nc.tuple.saddr,
        dst: nc.tuple.daddr,
        sport: nc.tuple.sport,
        dport: nc.tuple.dport,
        seq: nc.client_isn.wrapping_add(1),
        ack: nc.local_isn.wrapping_add(1),
        flags: if request.is_empty() {
            TcpFlags::ACK
        } else {
            TcpFlags::ACK | TcpFlags::PSH
        },
        window: nc.window,
        options,
        payload: request,
    };
    let len = 20 + 20 + options.len() + request.len();
    let mut skb = SkBuffOwned::alloc(len, HEADROOM, GFP_ATOMIC).map_err(|_| AdoptError::Busy)?;
    let buf = skb.put(len).map_err(|_| AdoptError::Busy)?;
    packet::build_segment(buf, &seg).map_err(|_| AdoptError::Refused)?;
    req.attach(&mut skb);
    skb.receive_ip(lo).map_err(|_| AdoptError::Refused)?;
    // The stack creates the socket while receiving: it exists now, or the
    // stack refused it (memory, a security module, a full queue).
    match tcp::established_v4(net, &t, 0, |_, _| false) {
        EstablishedState::Socket => Ok(()),
        _ => Err(AdoptError::Refused),
    }
}

/// Delivers a client packet (an IPv4 packet at `skb->data`) forwarded by a
/// peer to the stack of `net`, as received on the loopback device: the
/// hooks of the real devices never see it twice.
pub(crate) fn deliver(net: &Namespace, mut skb: SkBuffOwned) -> Result {
    // The checksum state the packet arrived with was the datagram's: the
    // stack checks the client packet's own checksums.
    skb.set_checksum_none();
    skb.receive_ip(net.loopback().ok_or(ENODEV)?)
}

/// Delivers the bytes of a client packet held while its connection was not
/// injected yet.
pub(crate) fn deliver_copy(net: &Namespace, bytes: &[u8]) -> Result {
    let mut skb = SkBuffOwned::alloc(bytes.len(), HEADROOM, GFP_ATOMIC)?;
    skb.put_data(bytes)?;
    deliver(net, skb)
}
