// SPDX-License-Identifier: GPL-2.0

//! Migration, target side: adopting the connections peers hand over.
//!
//! NEW: the service must exist here and a listener accept the connection;
//! it is injected through the same path as a local bind (`inject.rs`) and
//! answered with MIGRATED_ACK and a flow id from this node's connection
//! counter, REFUSED otherwise. A NEW for a connection already adopted (a
//! retransmission: the ACK was lost) gets the same answer again and is not
//! injected twice.
//!
//! DATA: the client packet inside is delivered to the local stack as if it
//! had been received. DATA that arrives before its connection is injected
//! (reordering, a lost NEW) is copied into the entry's small early queue
//! and delivered right after the injection; beyond the queue's bounds it is
//! dropped and counted.
//!
//! DATA flagged RELAYED comes from a front that took over the client route
//! of another (front failover, `failover.rs`): it is matched by conn_ref,
//! flow id and tuple among the connections adopted from any peer.
//!
//! Entries end like the origin's forward entries: the client's RST, its
//! FIN and a linger time, the idle timeout (early-only entries live for
//! [`EARLY_MS`]).

use crate::conntab::{AdoptEntry, AdoptKey, ConnKey};
use crate::inject::{self, AdoptError};
use crate::netns::HandoffNet;
use crate::peers::PeerRt;
use crate::proto::{
    conn::DropReason,
    cookie::{self, Tuple},
    icmp,
    migrate::{self, Flow, FlowStep},
    packet::{self, TcpFlags},
    wire::{self, EncapHdr},
};
use crate::stats::{Counter, Counters};
use crate::tunnel;
use kernel::net::namespace::Namespace;
use kernel::net::skb::SkBuffOwned;
use kernel::prelude::*;
use kernel::sync::rcu;
use kernel::timer::jiffies;

/// How long DATA waits for its NEW (ms): the origin gives up on NEW after
/// the service's SYN timeout (10 s by default).
pub(crate) const EARLY_MS: u32 = 10_000;

/// Counts `c` for the instance and the peer.
fn count(hn: &HandoffNet, peer: &PeerRt, c: Counter) {
    hn.counters.inc(c);
    peer.counters.inc(c);
}

/// A NEW from `peer`.
pub(crate) fn on_new(
    net: &Namespace,
    hn: &HandoffNet,
    guard: &rcu::Guard,
    peer: &PeerRt,
    hdr: &EncapHdr,
    body: &[u8],
) {
    let st = &hn.st;
    let (nc, request) = match wire::parse_new(body) {
        Ok(v) => v,
        Err(_) => {
            count(hn, peer, Counter::DgramMalformed);
            return;
        }
    };
    let key = AdoptKey {
        peer: peer.id,
        conn_ref: hdr.conn_ref,
    };
    let ack = |flow_id: u32, refused: bool| {
        let mut buf = [0u8; wire::ENCAP_HDR_LEN];
        let n = wire::ack_datagram(&mut buf, hdr.conn_ref, flow_id, refused);
        let sent = match (st.tunnel(guard), peer.endpoint, buf.get(..n)) {
            (Some(t), Some(to), Some(b)) => tunnel::send_bytes(t, to, b, false),
            _ => Err(ENODEV),
        };
        if sent.is_err() {
            hn.counters.inc(Counter::XmitFailed);
        }
    };
    // Claim the connection: a new entry, or the one early DATA made. A
    // retransmitted NEW finds it adopted (answered again) or being adopted
    // on another CPU (that one answers).
    let now = jiffies();
    let fresh = AdoptEntry {
        flow_id: 0,
        key: ConnKey(nc.tuple),
        flow: Flow::new(),
        early: KVec::new(),
        early_bytes: 0,
        busy: true,
        last_seen: now,
        idle_ms: EARLY_MS,
    };
    let claimed = match st.adopted.insert(key, (), fresh, GFP_ATOMIC) {
        Ok(()) => Claim::Ours,
        Err(e) if e == EEXIST => st
            .adopted
            .with_locked(&key, |(), e| {
                if e.flow_id != 0 {
                    Claim::Adopted(e.flow_id)
                } else if e.busy {
                    Claim::Busy
                } else {
                    e.busy = true;
                    Claim::Ours
                }
            })
            .unwrap_or(Claim::Busy),
        Err(_) => {
            // No memory: the origin retransmits NEW.
            hn.counters.dropped(DropReason::TableFull);
            return;
        }
    };
    match claimed {
        Claim::Adopted(flow_id) => return ack(flow_id, false),
        Claim::Busy => return,
        Claim::Ours => {}
    }
    let svc = hn
        .services(guard)
        .and_then(|s| s.get(&nc.tuple.daddr, nc.tuple.dport));
    let result = match svc {
        None => Err(AdoptError::Refused),
        Some(_) => inject::adopt(net, guard, &nc, request),
    };
    let svc_counters = svc.map(|s| &s.counters);
    match result {
        Ok(()) => {
            let flow_id = st.new_flow_id();
            let idle_ms = svc.map_or(EARLY_MS, |s| s.idle_timeout_ms);
            let early = st
                .adopted
                .with_locked(&key, |(), e| {
                    e.flow_id = flow_id;
                    e.key = ConnKey(nc.tuple);
                    e.busy = false;
                    e.idle_ms = idle_ms;
                    e.last_seen = jiffies();
                    e.early_bytes = 0;
                    core::mem::replace(&mut e.early, KVec::new())
                })
                .unwrap_or_else(KVec::new);
            count(hn, peer, Counter::Adopted);
            count_svc(svc_counters, Counter::Adopted);
            ack(flow_id, false);
            // What came before the injection, in order of arrival.
            for bytes in early.iter() {
                let delivered = inner_of(bytes).is_some_and(|(t, _)| t == nc.tuple)
                    && inject::deliver_copy(net, bytes).is_ok();
                count(
                    hn,
                    peer,
                    if delivered {
                        Counter::Received
                    } else {
                        Counter::DataDropped
                    },
                );
            }
        }
        Err(AdoptError::Busy) => {
            // The accept queue is full: the origin retransmits NEW.
            st.adopted.with_locked(&key, |(), e| e.busy = false);
            hn.counters.dropped(DropReason::QueueFull);
            count_svc(svc_counters, Counter::DropQueueFull);
        }
        Err(AdoptError::Refused) => {
            // What early DATA the entry held goes with it.
            let held = st
                .adopted
                .with_locked(&key, |(), e| e.early.len())
                .unwrap_or(0);
            st.adopted.remove(&key);
            hn.counters.add(Counter::DataDropped, held as u64);
            count(hn, peer, Counter::Refused);
            count_svc(svc_counters, Counter::Refused);
            ack(0, true);
        }
    }
}

fn count_svc(svc: Option<&kernel::sync::Arc<Counters>>, c: Counter) {
    if let Some(s) = svc {
        s.inc(c);
    }
}

/// Who adopts a connection a NEW offers.
enum Claim {
    /// This NEW: inject it.
    Ours,
    /// Adopted already, under this flow id.
    Adopted(u32),
    /// Another CPU is adopting it.
    Busy,
}

/// What DATA means for its entry.
enum DataFate {
    /// Deliver now; the flow ends with it.
    Deliver(FlowStep),
    /// Held in the early queue.
    Held,
    /// Early queue full.
    Overflow,
    /// The flow id or the tuple does not match the connection.
    Mismatch,
}

/// A DATA from `peer`; `skb` holds the client packet at `skb->data`.
pub(crate) fn on_data(
    net: &Namespace,
    hn: &HandoffNet,
    peer: &PeerRt,
    hdr: &EncapHdr,
    skb: SkBuffOwned,
) {
    let st = &hn.st;
    let Some((tuple, flags)) = inner_of(skb.data()) else {
        count(hn, peer, Counter::DgramMalformed);
        return;
    };
    let key = if hdr.relayed() {
        match relayed_key(hn, hdr, &tuple) {
            Some(k) => k,
            None => {
                count(hn, peer, Counter::DataDropped);
                hn.counters.dropped(DropReason::UnknownConn);
                return;
            }
        }
    } else {
        AdoptKey {
            peer: peer.id,
            conn_ref: hdr.conn_ref,
        }
    };
    let now = jiffies();
    let len = skb.data().len();
    let fate = st.adopted.with_locked(&key, |(), e| {
        if e.flow_id == 0 {
            if hdr.flow_id != 0 {
                return DataFate::Mismatch;
            }
            return hold(e, skb.data());
        }
        if (hdr.flow_id != 0 && hdr.flow_id != e.flow_id) || e.key.0 != tuple {
            return DataFate::Mismatch;
        }
        e.last_seen = now;
        DataFate::Deliver(e.flow.on_client_segment(flags))
    });
    let fate = match fate {
        Some(f) => f,
        None if hdr.flow_id != 0 => {
            // A flow this node does not know (ended, or never adopted).
            count(hn, peer, Counter::DataDropped);
            hn.counters.dropped(DropReason::UnknownConn);
            return;
        }
        None => early_entry(hn, key, skb.data(), len),
    };
    match fate {
        DataFate::Deliver(step) => {
            if step == FlowStep::End {
                st.adopted.remove(&key);
                count(hn, peer, Counter::FlowsEnded);
            }
            let c = if inject::deliver(net, skb).is_ok() {
                Counter::Received
            } else {
                Counter::DataDropped
            };
            count(hn, peer, c);
        }
        DataFate::Held => count(hn, peer, Counter::DataEarly),
        DataFate::Overflow | DataFate::Mismatch => count(hn, peer, Counter::DataDropped),
    }
}

/// The connection a RELAYED DATA is for: adopted from any peer under its
/// conn_ref, with its flow id and tuple. Relaying names no origin (the
/// header has no room for it, and growing it would break the MSS rule), so
/// each peer's key is tried: peers are few, and relaying happens only after
/// a front failed.
fn relayed_key(hn: &HandoffNet, hdr: &EncapHdr, tuple: &Tuple) -> Option<AdoptKey> {
    if hdr.flow_id == 0 {
        return None;
    }
    let guard = rcu::read_lock();
    let found = hn.st.peers(&guard)?.iter().find_map(|p| {
        let key = AdoptKey {
            peer: p.id,
            conn_ref: hdr.conn_ref,
        };
        let ours = hn
            .st
            .adopted
            .with_locked(&key, |(), e| e.flow_id == hdr.flow_id && e.key.0 == *tuple);
        (ours == Some(true)).then_some(key)
    });
    found
}

/// Copies an early packet into `e`'s queue, within its bounds.
fn hold(e: &mut AdoptEntry, bytes: &[u8]) -> DataFate {
    if !migrate::early_admit(e.early.len(), e.early_bytes, bytes.len()) {
        return DataFate::Overflow;
    }
    let mut copy = KVec::new();
    if copy.extend_from_slice(bytes, GFP_ATOMIC).is_err() || e.early.push(copy, GFP_ATOMIC).is_err()
    {
        return DataFate::Overflow;
    }
    e.early_bytes += bytes.len();
    DataFate::Held
}

/// DATA (flow id 0) for a connection whose NEW has not come: an entry to
/// hold it until then.
fn early_entry(hn: &HandoffNet, key: AdoptKey, bytes: &[u8], _len: usize) -> DataFate {
    let mut e = AdoptEntry {
        flow_id: 0,
        key: ConnKey(Tuple::default()),
        flow: Flow::new(),
        early: KVec::new(),
        early_bytes: 0,
        busy: false,
        last_seen: jiffies(),
        idle_ms: EARLY_MS,
    };
    let fate = hold(&mut e, bytes);
    if !matches!(fate, DataFate::Held) {
        return fate;
    }
    match hn.st.adopted.insert(key, (), e, GFP_ATOMIC) {
        Ok(()) => DataFate::Held,
        // Another CPU made the entry meanwhile: queue there.
        Err(err) if err == EEXIST => hn
            .st
            .adopted
            .with_locked(&key, |(), e| hold(e, bytes))
            .unwrap_or(DataFate::Overflow),
        Err(_) => DataFate::Overflow,
    }
}

/// The connection (client's direction) and TCP flags of a forwarded client
/// packet: an IPv4 TCP segment, or an ICMP error quoting one (no flags).
fn inner_of(b: &[u8]) -> Option<(Tuple, TcpFlags)> {
    let vihl = *b.first()?;
    if vihl >> 4 != 4 {
        return None;
    }
    if *b.get(9)? == 1 {
        let ihl = usize::from(vihl & 0x0f) * 4;
        let q = icmp::quoted_v4(b.get(ihl..)?)?;
        return Some((
            Tuple {
                saddr: cookie::v4_mapped(q.client),
                daddr: cookie::v4_mapped(q.server),
                sport: q.client_port,
                dport: q.server_port,
            },
            TcpFlags(0),
        ));
    }
    let p = packet::parse(b).ok()?;
    Some((p.tuple(), p.flags))
}
