//! Choosing the node that serves a connection.
//!
//! [`select`] is the seam where redistribution policies plug in: the
//! module calls it once per connection, when the first request bytes have
//! arrived, with this node's weight and load, the peers it knows and those
//! bytes. Policies are pure functions of these inputs and a random number
//! the caller draws (e.g. `get_random_u32()`), so they are testable here
//! and deterministic for a given draw.

use core::cmp::Ordering;

/// Where a connection goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Choice {
    /// This node serves it (inject into the local stack).
    Local,
    /// Hand it over to the peer with this node id.
    Peer(u32),
}

/// A peer node as a policy sees it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Candidate {
    /// The peer's node id (what [`Choice::Peer`] returns).
    pub id: u32,
    /// Its configured weight; 0 means "send it no new connections".
    pub weight: u32,
    /// Whether it can take connections now: it has a forward address and
    /// port and is not DOWN. Unusable peers are never chosen.
    pub usable: bool,
    /// Its load as this node estimates it: the figure of its last sync
    /// report ([`load_of`]) plus the connections this node handed it since
    /// that report, so a burst between two reports does not all go to the
    /// same peer. Read by [`Policy::LeastLoad`] only.
    pub load: u32,
}

/// This node as a policy sees it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct SelfNode {
    /// Its configured weight; 0 means "take no new connections here
    /// unless no node can".
    pub weight: u32,
    /// Its current load, in the units of [`Candidate::load`] (see
    /// [`load_of`]). Read by [`Policy::LeastLoad`] only.
    pub load: u32,
}

/// The load figure a sync report stands for: the connections the node
/// serves plus those waiting in its accept queue (accepted by TCP, not yet
/// by the server), saturating. Queued connections count because a node
/// whose server falls behind must look busy before its connection count
/// shows it.
pub fn load_of(conns: u32, queue_len: u32) -> u32 {
    conns.saturating_add(queue_len)
}

/// A redistribution policy.
///
/// Policies to be added here, each a new variant handled in [`select`]
/// (they are in the UAPI's `enum handoff_policy` already): `HostUri` (by
/// the HTTP Host header and path in [`Request::bytes`]), `Cookie` (by an
/// HTTP cookie naming the node) and `TlsSni` (by the server name of a TLS
/// ClientHello). Content policies fall back to another policy when the
/// request does not decide.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Policy {
    /// Every connection stays on the node that accepted it.
    Local,
    /// Weighted random choice among this node and the usable peers.
    Weighted,
    /// The better of two random choices by load per unit of weight.
    ///
    /// The eligible nodes are this node if its weight is not 0 and the
    /// usable peers whose weight is not 0. None: [`Choice::Local`]. One:
    /// that node. Otherwise two distinct eligible nodes `a` and `b` are
    /// drawn uniformly from `rnd`, and `a` wins when
    /// `(load_a + 1) * weight_b < (load_b + 1) * weight_a`, i.e. when its
    /// load per unit of weight is lower; computed in u64, so neither a
    /// division nor an overflow is possible. The `+ 1` makes an idle node
    /// of higher weight win over an idle node of lower weight. A tie goes
    /// to this node when it is one of the two (no handoff needed), else to
    /// the first drawn.
    ///
    /// Why two random choices and not the least loaded node: every front
    /// decides from the same reports, which are up to one interval old.
    /// Sending every new connection to the global minimum makes all fronts
    /// pile onto the same node until the next report shows it loaded (a
    /// herd), then onto the next one. Comparing two random nodes spreads
    /// the connections over all nodes while still steering them away from
    /// loaded ones: a node more loaded per unit of weight than all others
    /// is never chosen, and the load gap stays small (the "power of two
    /// choices").
    LeastLoad,
    /// By the client's address: [`Request::hash`] names the node, the same
    /// on every front that has the same nodes.
    ///
    /// The table ([`super::maglev`]) maps a hash of the address to one of
    /// the nodes (this node and its peers, by id); when that node cannot
    /// take the connection (an unusable peer, or a weight of 0, this node
    /// included) the address with one more byte, 1 to [`HASH_PROBES`], is
    /// looked up instead. A node that becomes unusable thus moves only its
    /// own clients, each to the same node on every front that sees the same
    /// nodes unusable. No table, or no usable node within the probes:
    /// [`Choice::Local`].
    Hash,
}

/// How many times [`Policy::Hash`] hashes an address again when its node
/// cannot take the connection: with `u` of `n` nodes unusable, a client is
/// left without a node (kept local) with probability `(u / n)^9`.
pub const HASH_PROBES: u8 = 8;

/// A consistent-hash table and the nodes its slots name.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct HashTable<'a> {
    /// The slots ([`super::maglev::build`]): indexes into `nodes`.
    pub slots: &'a [u16],
    /// The node ids the table was built over, ascending.
    pub nodes: &'a [u32],
    /// This node's id (one of `nodes`).
    pub self_id: u32,
}

/// What is known of the connection's request when the choice is made.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Request<'a> {
    /// The request bytes received so far (the TCP payload from the
    /// client's ISN + 1). Unused by [`Policy::Local`], [`Policy::Weighted`]
    /// and [`Policy::LeastLoad`], but part of the interface so that
    /// content policies plug in without changing the callers.
    pub bytes: &'a [u8],
    /// The client's address (4 or 16 bytes, network order), for
    /// [`Policy::Hash`].
    pub client: &'a [u8],
    /// The consistent-hash table, for [`Policy::Hash`]; `None` when the
    /// node has none (no id yet).
    pub hash: Option<HashTable<'a>>,
}

impl Request<'_> {
    /// A request with nothing known.
    pub const EMPTY: Request<'static> = Request {
        bytes: &[],
        client: &[],
        hash: None,
    };
}

/// The node for a connection under `policy`.
///
/// `me` is this node, `peers` the known peers (in any order; the caller's
/// order only decides which peer a given `rnd` maps to), `req` the request
/// so far and `rnd` a uniformly random 32-bit value drawn by the caller
/// for this connection. When no node can be chosen (every weight 0, or no
/// usable peer and a self weight of 0) every policy keeps the connection
/// [`Choice::Local`], as the UAPI specifies: refusing it would serve the
/// client worse than an unwanted local accept.
///
/// [`Policy::Weighted`]: this node and each usable peer are chosen with
/// probability proportional to their weight; a weight of 0 is never
/// chosen. `rnd` is mapped to `[0, total)` by `rnd * total / 2^32`,
/// computed exactly in 64-bit arithmetic: a node of weight `w` gets
/// `w * 2^32 / total` of the 2^32 values of `rnd`, give or take one, a
/// bias negligible for any realistic total (`rnd % total` would favour the
/// first slots, by up to a factor of 2 for totals near 2^32).
///
/// [`Policy::LeastLoad`]: see there. With `n` eligible nodes (this node
/// first, then the peers in the caller's order), the first node drawn is
/// number `floor(rnd * n / 2^32)`, and the low 32 bits of `rnd * n`,
/// spread over `[0, 2^32)` again, draw the second among the other
/// `n - 1` the same way: both from the one `rnd`, every ordered pair with
/// a relative bias of the order of `n^2 / 2^32`.
pub fn select(
    policy: Policy,
    me: &SelfNode,
    peers: &[Candidate],
    req: &Request<'_>,
    rnd: u32,
) -> Choice {
    // Only content policies read the request.
    let _ = req.bytes;
    match policy {
        Policy::Local => Choice::Local,
        Policy::Weighted => weighted(me.weight, peers, rnd),
        Policy::LeastLoad => least_load(me, peers, rnd),
        Policy::Hash => by_hash(me, peers, req),
    }
}

fn by_hash(me: &SelfNode, peers: &[Candidate], req: &Request<'_>) -> Choice {
    let Some(t) = req.hash else {
        return Choice::Local;
    };
    let takes = |id: u32| {
        if id == t.self_id {
            me.weight != 0
        } else {
            peers
                .iter()
                .any(|p| p.id == id && p.usable && p.weight != 0)
        }
    };
    let mut key = [0u8; 17];
    let n = req.client.len().min(16);
    let (Some(dst), Some(src)) = (key.get_mut(..n), req.client.get(..n)) else {
        return Choice::Local;
    };
    dst.copy_from_slice(src);
    for probe in 0..=HASH_PROBES {
        let k = if probe == 0 {
            key.get(..n)
        } else {
            if let Some(b) = key.get_mut(n) {
                *b = probe;
            }
            key.get(..n + 1)
        };
        let Some(id) = k
            .and_then(|k| super::maglev::lookup(t.slots, k))
            .and_then(|i| t.nodes.get(usize::from(i)).copied())
        else {
            return Choice::Local;
        };
        if takes(id) {
            return if id == t.self_id {
                Choice::Local
            } else {
                Choice::Peer(id)
            };
        }
    }
    Choice::Local
}

/// Peers a weighted choice may land on.
fn eligible(peers: &[Candidate]) -> impl Iterator<Item = &Candidate> {
    peers.iter().filter(|p| p.usable && p.weight != 0)
}

fn weighted(self_weight: u32, peers: &[Candidate], rnd: u32) -> Choice {
    // A u64 holds the sum of 2^32 weights below 2^32, far more peers than
    // fit in memory; saturation is there only so that no input can
    // overflow.
    let total = eligible(peers).fold(u64::from(self_weight), |acc, p| {
        acc.saturating_add(u64::from(p.weight))
    });
    if total == 0 {
        return Choice::Local;
    }
    let mut pick = scale(rnd, total);
    if pick < u64::from(self_weight) {
        return Choice::Local;
    }
    pick = pick.saturating_sub(u64::from(self_weight));
    for p in eligible(peers) {
        let w = u64::from(p.weight);
        if pick < w {
            return Choice::Peer(p.id);
        }
        pick = pick.saturating_sub(w);
    }
    // Unreachable: pick < total. Staying local is the safe answer anyway.
    Choice::Local
}

/// A node [`Policy::LeastLoad`] compares.
#[derive(Clone, Copy)]
struct Node {
    /// `None` for this node.
    id: Option<u32>,
    weight: u32,
    load: u32,
}

impl Node {
    fn choice(self) -> Choice {
        self.id.map_or(Choice::Local, Choice::Peer)
    }
}

/// The `k`-th eligible node: this node first (if its weight is not 0),
/// then the eligible peers in the caller's order.
fn nth_eligible(me: &SelfNode, peers: &[Candidate], k: u64) -> Option<Node> {
    let me_node = Node {
        id: None,
        weight: me.weight,
        load: me.load,
    };
    let mine = (me.weight != 0).then_some(me_node);
    let others = eligible(peers).map(|p| Node {
        id: Some(p.id),
        weight: p.weight,
        load: p.load,
    });
    let k = usize::try_from(k).ok()?;
    mine.into_iter().chain(others).nth(k)
}

fn least_load(me: &SelfNode, peers: &[Candidate], rnd: u32) -> Choice {
    let n = u64::from(me.weight != 0) + eligible(peers).count() as u64;
    if n < 2 {
        // One eligible node is the choice; none leaves it local.
        return nth_eligible(me, peers, 0).map_or(Choice::Local, Node::choice);
    }
    let (i, j) = two_of(rnd, n);
    let (Some(a), Some(b)) = (nth_eligible(me, peers, i), nth_eligible(me, peers, j)) else {
        // Unreachable: both indices are below n.
        return Choice::Local;
    };
    // Cost a = (load_a + 1) / weight_a; compare a < b cross-multiplied.
    // Each side is below 2^32 * 2^32 = 2^64: no overflow.
    let cost_a = (u64::from(a.load) + 1) * u64::from(b.weight);
    let cost_b = (u64::from(b.load) + 1) * u64::from(a.weight);
    let winner = match cost_a.cmp(&cost_b) {
        Ordering::Less => a,
        Ordering::Greater => b,
        // A tie: this node if it is one of the two (`a` wins as well when
        // it is), else the first drawn.
        Ordering::Equal if b.id.is_none() => b,
        Ordering::Equal => a,
    };
    winner.choice()
}

/// Two distinct indices in `[0, n)`, uniform over the ordered pairs, from
/// one 32-bit `rnd`; `n` must be at least 2.
///
/// `rnd * n = i * 2^32 + f`: the integer part gives the first index
/// `i = floor(rnd * n / 2^32)` (as [`scale`]), and the fractional part `f`
/// (the low 32 bits of `rnd * n`) is again spread over `[0, 2^32)` for a
/// given `i`, so it draws the second index among the `n - 1` others:
/// `j' = floor(f * (n - 1) / 2^32)`, skipping `i` (`j = j' + 1` when
/// `j' >= i`). Each ordered pair gets `2^32 / (n * (n - 1))` values of
/// `rnd` give or take two, a relative bias of the order of `n^2 / 2^32`:
/// negligible for any realistic farm. Using all 32 bits this way (rather
/// than, say, the two 16-bit halves) keeps that bias small even for large
/// `n`.
fn two_of(rnd: u32, n: u64) -> (u64, u64) {
    let i = scale(rnd, n);
    let frac = (u64::from(rnd).wrapping_mul(n) & 0xffff_ffff) as u32;
    let j = scale(frac, n.saturating_sub(1));
    (i, if j >= i { j + 1 } else { j })
}

/// `floor(rnd * total / 2^32)`, which lies in `[0, total)`, without a
/// 128-bit multiplication (costly or a library call on 32-bit kernels).
///
/// With `total = hi * 2^32 + lo`: `rnd * total / 2^32 = rnd * hi +
/// rnd * lo / 2^32`, and since `rnd * hi` is an integer the floor applies
/// to the second term alone. `rnd * hi` and `rnd * lo` are each below
/// 2^64, and the sum is below `total`, so nothing overflows.
fn scale(rnd: u32, total: u64) -> u64 {
    let r = u64::from(rnd);
    let hi = total >> 32;
    let lo = total & 0xffff_ffff;
    r.wrapping_mul(hi).wrapping_add(r.wrapping_mul(lo) >> 32)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::{vec, vec::Vec};

    const REQ: Request<'static> = Request {
        bytes: b"GET /",
        ..Request::EMPTY
    };

    fn peer(id: u32, weight: u32) -> Candidate {
        Candidate {
            id,
            weight,
            usable: true,
            load: 0,
        }
    }

    fn me(weight: u32) -> SelfNode {
        SelfNode { weight, load: 0 }
    }

    /// The choices for 2^16 evenly spaced values of `rnd`, counted as
    /// (local, per peer id below 8).
    fn histogram(self_weight: u32, peers: &[Candidate]) -> (u32, [u32; 8]) {
        let mut local = 0;
        let mut by_id = [0u32; 8];
        for i in 0..1u32 << 16 {
            match select(Policy::Weighted, &me(self_weight), peers, &REQ, i << 16) {
                Choice::Local => local += 1,
                Choice::Peer(id) => by_id[id as usize] += 1,
            }
        }
        (local, by_id)
    }

    fn assert_share(count: u32, weight: u32, total: u32) {
        let expect = f64::from(1u32 << 16) * f64::from(weight) / f64::from(total);
        let diff = (f64::from(count) - expect).abs();
        assert!(
            diff <= expect * 0.01 + 1.0,
            "count {count} expected {expect}"
        );
    }

    #[test]
    fn local_policy() {
        let peers = [peer(1, 100), peer(2, 100)];
        for rnd in [0, 1, u32::MAX / 2, u32::MAX] {
            assert_eq!(
                select(Policy::Local, &me(0), &peers, &REQ, rnd),
                Choice::Local
            );
            assert_eq!(select(Policy::Local, &me(5), &[], &REQ, rnd), Choice::Local);
        }
    }

    #[test]
    fn proportional_to_weights() {
        let peers = [peer(1, 1), peer(2, 2), peer(3, 4), peer(5, 3)];
        let (local, by_id) = histogram(10, &peers);
        let total = 10 + 1 + 2 + 4 + 3;
        assert_share(local, 10, total);
        assert_share(by_id[1], 1, total);
        assert_share(by_id[2], 2, total);
        assert_share(by_id[3], 4, total);
        assert_share(by_id[5], 3, total);
        assert_eq!(by_id[0] + by_id[4] + by_id[6] + by_id[7], 0);
        // Large weights behave the same.
        let peers = [peer(1, u32::MAX), peer(2, u32::MAX / 3)];
        let (local, by_id) = histogram(u32::MAX / 3, &peers);
        assert_share(local, 1, 5);
        assert_share(by_id[1], 3, 5);
        assert_share(by_id[2], 1, 5);
    }

    #[test]
    fn zero_weight_never_chosen() {
        let peers = [peer(1, 0), peer(2, 7), peer(3, 0)];
        let (local, by_id) = histogram(0, &peers);
        assert_eq!(local, 0);
        assert_eq!(by_id[2], 1 << 16);
        let (local, by_id) = histogram(3, &peers);
        assert_eq!(by_id[1] + by_id[3], 0);
        assert_share(local, 3, 10);
        assert_share(by_id[2], 7, 10);
        // Including the extremes of rnd.
        for rnd in [0, 1, u32::MAX - 1, u32::MAX] {
            assert_eq!(
                select(Policy::Weighted, &me(0), &peers, &REQ, rnd),
                Choice::Peer(2)
            );
        }
    }

    #[test]
    fn nothing_choosable_stays_local() {
        let zero = [peer(1, 0), peer(2, 0)];
        let mut down = [peer(1, 5), peer(2, 5)];
        for p in &mut down {
            p.usable = false;
        }
        for rnd in [0, 12345, u32::MAX] {
            assert_eq!(
                select(Policy::Weighted, &me(0), &zero, &REQ, rnd),
                Choice::Local
            );
            assert_eq!(
                select(Policy::Weighted, &me(0), &down, &REQ, rnd),
                Choice::Local
            );
            assert_eq!(
                select(Policy::Weighted, &me(0), &[], &REQ, rnd),
                Choice::Local
            );
            assert_eq!(
                select(Policy::Weighted, &me(1), &[], &REQ, rnd),
                Choice::Local
            );
        }
    }

    #[test]
    fn unusable_skipped() {
        let mut peers = [peer(1, 5), peer(2, 5), peer(3, 5)];
        peers[1].usable = false;
        let (local, by_id) = histogram(5, &peers);
        assert_eq!(by_id[2], 0);
        assert_share(local, 1, 3);
        assert_share(by_id[1], 1, 3);
        assert_share(by_id[3], 1, 3);
    }

    #[test]
    fn deterministic_and_ordered() {
        let peers = [peer(1, 1), peer(2, 1), peer(3, 1)];
        let mut s = 0x9e37_79b9_7f4a_7c15u64;
        for _ in 0..1000 {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            let rnd = s as u32;
            let a = select(Policy::Weighted, &me(1), &peers, &REQ, rnd);
            let b = select(Policy::Weighted, &me(1), &peers, &Request::EMPTY, rnd);
            assert_eq!(a, b);
        }
        // rnd walks the slots in order: self first, then peers as listed.
        assert_eq!(
            select(Policy::Weighted, &me(1), &peers, &REQ, 0),
            Choice::Local
        );
        assert_eq!(
            select(Policy::Weighted, &me(1), &peers, &REQ, 1 << 30),
            Choice::Peer(1)
        );
        assert_eq!(
            select(Policy::Weighted, &me(1), &peers, &REQ, 2 << 30),
            Choice::Peer(2)
        );
        assert_eq!(
            select(Policy::Weighted, &me(1), &peers, &REQ, u32::MAX),
            Choice::Peer(3)
        );
    }

    #[test]
    fn scale_exact() {
        for total in [
            1u64,
            2,
            3,
            1000,
            u64::from(u32::MAX),
            1 << 32,
            (1 << 42) + 12345,
            u64::MAX,
        ] {
            for rnd in [0u32, 1, 0x8000_0000, 0xdead_beef, u32::MAX] {
                let want = (u128::from(rnd) * u128::from(total)) >> 32;
                let got = scale(rnd, total);
                assert_eq!(u128::from(got), want, "rnd {rnd} total {total}");
                assert!(got < total);
            }
        }
    }

    #[test]
    fn many_max_weight_peers() {
        let peers: std::vec::Vec<Candidate> = (0..1024).map(|i| peer(i, u32::MAX)).collect();
        for rnd in [0, 1, 0x7fff_ffff, 0x8000_0000, u32::MAX - 1, u32::MAX] {
            let c = select(Policy::Weighted, &me(u32::MAX), &peers, &REQ, rnd);
            // 1025 equal slots: slot k covers rnd in [k, k + 1) * 2^32 / 1025.
            let slot = (u64::from(rnd) * 1025) >> 32;
            let want = match slot {
                0 => Choice::Local,
                k => Choice::Peer((k - 1) as u32),
            };
            assert_eq!(c, want, "rnd {rnd}");
        }
        assert_eq!(
            select(Policy::Weighted, &me(0), &peers, &REQ, u32::MAX),
            Choice::Peer(1023)
        );
    }

    // ---- LeastLoad.

    fn loaded(id: u32, weight: u32, load: u32) -> Candidate {
        Candidate {
            load,
            ..peer(id, weight)
        }
    }

    /// The LeastLoad choices for 2^16 evenly spaced values of `rnd`, as
    /// [`histogram`].
    fn ll_histogram(me: &SelfNode, peers: &[Candidate]) -> (u32, [u32; 8]) {
        let mut local = 0;
        let mut by_id = [0u32; 8];
        for i in 0..1u32 << 16 {
            match select(Policy::LeastLoad, me, peers, &REQ, i << 16) {
                Choice::Local => local += 1,
                Choice::Peer(id) => by_id[id as usize] += 1,
            }
        }
        (local, by_id)
    }

    #[test]
    fn least_load_nothing_eligible_stays_local() {
        let zero = [loaded(1, 0, 0), loaded(2, 0, 0)];
        let mut down = [loaded(1, 5, 0), loaded(2, 5, 0)];
        for p in &mut down {
            p.usable = false;
        }
        let idle = SelfNode { weight: 0, load: 0 };
        for rnd in [0, 12345, u32::MAX] {
            for peers in [&zero[..], &down[..], &[]] {
                assert_eq!(
                    select(Policy::LeastLoad, &idle, peers, &REQ, rnd),
                    Choice::Local
                );
            }
        }
    }

    #[test]
    fn least_load_single_eligible() {
        // Only this node, however loaded.
        let busy = SelfNode {
            weight: 1,
            load: u32::MAX,
        };
        let mut peers = [loaded(1, 0, 0), loaded(2, 5, 0)];
        peers[1].usable = false;
        assert_eq!(ll_histogram(&busy, &peers).0, 1 << 16);
        // Only one peer, however loaded, even against an idle self of
        // weight 0.
        let peers = [loaded(1, 0, 0), loaded(3, 5, u32::MAX), loaded(2, 0, 0)];
        let (local, by_id) = ll_histogram(&me(0), &peers);
        assert_eq!((local, by_id[3]), (0, 1 << 16));
    }

    #[test]
    fn least_load_skips_zero_weight_and_unusable() {
        // Idle but excluded nodes never win against loaded eligible ones.
        let mut peers = [
            loaded(1, 0, 0),
            loaded(2, 1, 1000),
            loaded(3, 1, 0),
            loaded(4, 1, 2000),
        ];
        peers[2].usable = false;
        let (local, by_id) = ll_histogram(&me(0), &peers);
        assert_eq!(local, 0);
        assert_eq!(by_id[1] + by_id[3], 0);
        // 2 and 4 always meet: the less loaded wins.
        assert_eq!(by_id[2], 1 << 16);
        let (local, by_id) = ll_histogram(
            &SelfNode {
                weight: 1,
                load: 500,
            },
            &peers,
        );
        assert_eq!(by_id[1] + by_id[3], 0);
        // Self wins every pair it is in (2 of 3 pairs), 2 the other.
        assert_share(local, 2, 3);
        assert_share(by_id[2], 1, 3);
    }

    #[test]
    fn least_load_avoids_the_loaded_node() {
        // Self 0, A (1) 50, B (2) 0, equal weights. A loses every pair it is
        // in; self and B tie, which goes to self: self wins the pairs
        // {self, A} and {self, B}, B the pair {A, B}.
        let me0 = SelfNode { weight: 1, load: 0 };
        let peers = [loaded(1, 1, 50), loaded(2, 1, 0)];
        let (local, by_id) = ll_histogram(&me0, &peers);
        assert_eq!(by_id[1], 0);
        assert_share(local, 2, 3);
        assert_share(by_id[2], 1, 3);
        // Without self in the race, B and C (idle) share, A never.
        let peers = [loaded(1, 1, 50), loaded(2, 1, 0), loaded(3, 1, 0)];
        let (local, by_id) = ll_histogram(&me(0), &peers);
        assert_eq!((local, by_id[1]), (0, 0));
        assert_share(by_id[2], 1, 2);
        assert_share(by_id[3], 1, 2);
    }

    #[test]
    fn least_load_per_unit_of_weight() {
        // B: weight 2, load 10 -> (10 + 1) * 1 = 11; C: weight 1, load 6 ->
        // (6 + 1) * 2 = 14. B is better although more loaded.
        let peers = [loaded(2, 2, 10), loaded(3, 1, 6)];
        let (local, by_id) = ll_histogram(&me(0), &peers);
        assert_eq!((local, by_id[2], by_id[3]), (0, 1 << 16, 0));
        // Idle nodes: the higher weight wins (the + 1).
        let peers = [loaded(2, 1, 0), loaded(3, 4, 0)];
        assert_eq!(ll_histogram(&me(0), &peers).1[3], 1 << 16);
        // Extremes do not overflow.
        let peers = [loaded(2, u32::MAX, u32::MAX), loaded(3, 1, u32::MAX - 1)];
        assert_eq!(ll_histogram(&me(0), &peers).1[2], 1 << 16);
        let big = SelfNode {
            weight: u32::MAX,
            load: u32::MAX,
        };
        let peers = [loaded(1, u32::MAX, u32::MAX)];
        // A tie at the extremes: self.
        assert_eq!(ll_histogram(&big, &peers).0, 1 << 16);
    }

    #[test]
    fn least_load_ties() {
        // Self in the pair: self, whichever was drawn first.
        let me5 = SelfNode { weight: 1, load: 5 };
        let peers = [loaded(1, 1, 5)];
        assert_eq!(ll_histogram(&me5, &peers).0, 1 << 16);
        // The same (load + 1) per weight with different weights: ties
        // everywhere, so self wins the pairs it is in (4 of 6) and the
        // pair of peers goes to the first drawn.
        let me5 = SelfNode { weight: 2, load: 9 };
        let peers = [loaded(1, 1, 4), loaded(2, 4, 19)];
        let (local, by_id) = ll_histogram(&me5, &peers);
        assert_share(local, 4, 6);
        assert_share(by_id[1], 1, 6);
        assert_share(by_id[2], 1, 6);
        // Between peers: the first drawn, so each half of the time.
        let peers = [loaded(1, 1, 5), loaded(2, 1, 5)];
        let (local, by_id) = ll_histogram(&me(0), &peers);
        assert_eq!(local, 0);
        assert_share(by_id[1], 1, 2);
        assert_share(by_id[2], 1, 2);
    }

    #[test]
    fn least_load_spreads_equal_nodes() {
        // Equal loads and weights: a tie everywhere. Self is in 8 of the
        // 20 ordered pairs of 5 nodes; each peer is the first drawn of 3
        // pairs without self.
        let me0 = me(1);
        let peers = [peer(1, 1), peer(2, 1), peer(3, 1), peer(4, 1)];
        let (local, by_id) = ll_histogram(&me0, &peers);
        assert_share(local, 8, 20);
        for &count in &by_id[1..=4] {
            assert_share(count, 3, 20);
        }
    }

    #[test]
    fn two_of_distinct_and_in_range() {
        for n in [2u64, 3, 4, 5, 7, 10, 64, 1025] {
            // Counts of the ordered pairs, for n up to 10.
            let mut pairs = [[0u32; 10]; 10];
            for k in 0..1u32 << 16 {
                // Evenly spaced values plus an odd offset, so the low bits
                // vary too.
                for rnd in [k << 16, (k << 16) | 0x8001, k.wrapping_mul(0x9e37_79b9)] {
                    let (i, j) = two_of(rnd, n);
                    assert!(i < n && j < n && i != j, "n {n} rnd {rnd}: {i} {j}");
                    if n <= 10 {
                        pairs[i as usize][j as usize] += 1;
                    }
                }
            }
            for rnd in [0, 1, u32::MAX - 1, u32::MAX] {
                let (i, j) = two_of(rnd, n);
                assert!(i < n && j < n && i != j);
            }
            // Uniform over the ordered pairs (where the sweep can tell).
            if n <= 10 {
                let expect = 3.0 * 65536.0 / (n * (n - 1)) as f64;
                for (i, row) in pairs.iter().enumerate().take(n as usize) {
                    for (j, &c) in row.iter().enumerate().take(n as usize) {
                        if i == j {
                            continue;
                        }
                        let diff = (f64::from(c) - expect).abs();
                        assert!(
                            diff <= expect * 0.01 + 2.0,
                            "n {n} ({i}, {j}) {c} vs {expect}"
                        );
                    }
                }
            }
        }
        // Huge n: no overflow, still distinct and in range.
        for n in [1u64 << 32, u64::MAX] {
            for rnd in [0, 1, 0x8000_0000, u32::MAX] {
                let (i, j) = two_of(rnd, n);
                assert!(i < n && j < n && i != j);
            }
        }
    }

    #[test]
    fn least_load_many_peers() {
        // The most loaded of many nodes is never chosen; the least loaded
        // wins every pair it is in.
        let peers: std::vec::Vec<Candidate> = (0..200).map(|i| loaded(i, 1, 1000 + i)).collect();
        let me_busy = SelfNode {
            weight: 1,
            load: 5000,
        };
        let mut best = 0;
        for k in 0..1u32 << 14 {
            match select(Policy::LeastLoad, &me_busy, &peers, &REQ, k << 18) {
                Choice::Local => panic!("the most loaded node was chosen"),
                Choice::Peer(0) => best += 1,
                Choice::Peer(_) => {}
            }
        }
        // Node 0 is in 2/201 of the draws.
        let expect = 16384.0 * 2.0 / 201.0;
        assert!((f64::from(best) - expect).abs() < expect * 0.05, "{best}");
    }

    #[test]
    fn load_figure() {
        assert_eq!(load_of(10, 5), 15);
        assert_eq!(load_of(u32::MAX, 1), u32::MAX);
        assert_eq!(load_of(0, 0), 0);
    }

    /// The node id each of `clients` gets from a front `self_id` with
    /// `down` unusable, over the table of nodes 1, 2, 3.
    fn hash_nodes(slots: &[u16], self_id: u32, down: &[u32], clients: &[[u8; 4]]) -> Vec<u32> {
        let nodes = [1u32, 2, 3];
        let peers: Vec<Candidate> = nodes
            .iter()
            .filter(|&&id| id != self_id)
            .map(|&id| Candidate {
                id,
                weight: 1,
                usable: !down.contains(&id),
                load: 0,
            })
            .collect();
        let me = SelfNode {
            weight: u32::from(!down.contains(&self_id)),
            load: 0,
        };
        clients
            .iter()
            .map(|c| {
                let req = Request {
                    client: c,
                    hash: Some(HashTable {
                        slots,
                        nodes: &nodes,
                        self_id,
                    }),
                    ..Request::EMPTY
                };
                match select(Policy::Hash, &me, &peers, &req, 0) {
                    Choice::Local => self_id,
                    Choice::Peer(id) => id,
                }
            })
            .collect()
    }

    #[test]
    fn hash_same_node_on_every_front_and_only_a_down_nodes_clients_move() {
        use crate::maglev;
        let mut slots = vec![0u16; maglev::TABLE_SIZE];
        let mut next = [0u32; 3];
        maglev::build(&[1, 2, 3], &mut slots, &mut next).unwrap();
        let clients: Vec<[u8; 4]> = (0..1000u32)
            .map(|i| [10, (i >> 16) as u8, (i >> 8) as u8, i as u8])
            .collect();
        let a = hash_nodes(&slots, 1, &[], &clients);
        let b = hash_nodes(&slots, 2, &[], &clients);
        assert_eq!(a, b, "two fronts agree");
        for id in 1..=3 {
            let n = a.iter().filter(|&&x| x == id).count();
            assert!((250..420).contains(&n), "node {id} has {n} of 1000");
        }
        // Node 3 down, on both fronts: its clients move, no other.
        let a3 = hash_nodes(&slots, 1, &[3], &clients);
        let b3 = hash_nodes(&slots, 2, &[3], &clients);
        assert_eq!(a3, b3);
        for (before, after) in a.iter().zip(&a3) {
            assert_ne!(*after, 3);
            if *before != 3 {
                assert_eq!(before, after);
            }
        }
        // This node drained (weight 0): its clients go to the others.
        let a1 = hash_nodes(&slots, 1, &[1], &clients);
        assert!(a1.iter().all(|&x| x != 1));
        // No table: local.
        let req = Request {
            client: &[10, 0, 0, 1],
            ..Request::EMPTY
        };
        assert_eq!(select(Policy::Hash, &me(1), &[], &req, 0), Choice::Local);
    }
}
