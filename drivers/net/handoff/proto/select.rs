//! Choosing the node that serves a connection.
//!
//! [`select`] is the seam where redistribution policies plug in: the
//! module calls it once per connection, when the first request bytes have
//! arrived, with this node's weight, the peers it knows and those bytes.
//! Policies are pure functions of these inputs and a random number the
//! caller draws (e.g. `get_random_u32()`), so they are testable here and
//! deterministic for a given draw.

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
}

/// A redistribution policy.
///
/// Policies to be added here, each a new variant handled in [`select`]
/// (all but `Hash` are in the UAPI's `enum handoff_policy` already):
/// `LeastLoad` (the lowest load reported on the sync channel), `HostUri`
/// (by the HTTP Host header and path in [`Request::bytes`]), `Cookie` (by
/// an HTTP cookie naming the node), `TlsSni` (by the server name of a TLS
/// ClientHello) and `Hash` (by client address, for affinity). Content
/// policies fall back to another policy when the request does not decide.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Policy {
    /// Every connection stays on the node that accepted it.
    Local,
    /// Weighted random choice among this node and the usable peers.
    Weighted,
}

/// What is known of the connection's request when the choice is made.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Request<'a> {
    /// The request bytes received so far (the TCP payload from the
    /// client's ISN + 1). Unused by [`Policy::Local`] and
    /// [`Policy::Weighted`], but part of the interface so that content
    /// policies plug in without changing the callers.
    pub bytes: &'a [u8],
}

/// The node for a connection under `policy`.
///
/// `self_weight` is this node's weight, `peers` the known peers (in any
/// order; the caller's order only decides which peer a given `rnd` maps
/// to), `req` the request so far and `rnd` a uniformly random 32-bit
/// value drawn by the caller for this connection.
///
/// [`Policy::Weighted`]: this node and each usable peer are chosen with
/// probability proportional to their weight; a weight of 0 is never
/// chosen. When no node can be chosen (every weight 0, or no usable peer
/// and a self weight of 0) the connection stays [`Choice::Local`], as the
/// UAPI specifies: refusing it would serve the client worse than an
/// unwanted local accept. `rnd` is mapped to `[0, total)` by
/// `rnd * total / 2^32`, computed exactly in 64-bit arithmetic: a node of
/// weight `w` gets `w * 2^32 / total` of the 2^32 values of `rnd`, give
/// or take one, a bias negligible for any realistic total (`rnd % total`
/// would favour the first slots, by up to a factor of 2 for totals near
/// 2^32).
pub fn select(
    policy: Policy,
    self_weight: u32,
    peers: &[Candidate],
    req: &Request<'_>,
    rnd: u32,
) -> Choice {
    // Only content policies read the request.
    let _ = req.bytes;
    match policy {
        Policy::Local => Choice::Local,
        Policy::Weighted => weighted(self_weight, peers, rnd),
    }
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

    const REQ: Request<'static> = Request { bytes: b"GET /" };

    fn peer(id: u32, weight: u32) -> Candidate {
        Candidate {
            id,
            weight,
            usable: true,
        }
    }

    /// The choices for 2^16 evenly spaced values of `rnd`, counted as
    /// (local, per peer id below 8).
    fn histogram(self_weight: u32, peers: &[Candidate]) -> (u32, [u32; 8]) {
        let mut local = 0;
        let mut by_id = [0u32; 8];
        for i in 0..1u32 << 16 {
            match select(Policy::Weighted, self_weight, peers, &REQ, i << 16) {
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
            assert_eq!(select(Policy::Local, 0, &peers, &REQ, rnd), Choice::Local);
            assert_eq!(select(Policy::Local, 5, &[], &REQ, rnd), Choice::Local);
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
                select(Policy::Weighted, 0, &peers, &REQ, rnd),
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
            assert_eq!(select(Policy::Weighted, 0, &zero, &REQ, rnd), Choice::Local);
            assert_eq!(select(Policy::Weighted, 0, &down, &REQ, rnd), Choice::Local);
            assert_eq!(select(Policy::Weighted, 0, &[], &REQ, rnd), Choice::Local);
            assert_eq!(select(Policy::Weighted, 1, &[], &REQ, rnd), Choice::Local);
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
            let a = select(Policy::Weighted, 1, &peers, &REQ, rnd);
            let b = select(Policy::Weighted, 1, &peers, &Request { bytes: &[] }, rnd);
            assert_eq!(a, b);
        }
        // rnd walks the slots in order: self first, then peers as listed.
        assert_eq!(select(Policy::Weighted, 1, &peers, &REQ, 0), Choice::Local);
        assert_eq!(
            select(Policy::Weighted, 1, &peers, &REQ, 1 << 30),
            Choice::Peer(1)
        );
        assert_eq!(
            select(Policy::Weighted, 1, &peers, &REQ, 2 << 30),
            Choice::Peer(2)
        );
        assert_eq!(
            select(Policy::Weighted, 1, &peers, &REQ, u32::MAX),
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
            let c = select(Policy::Weighted, u32::MAX, &peers, &REQ, rnd);
            // 1025 equal slots: slot k covers rnd in [k, k + 1) * 2^32 / 1025.
            let slot = (u64::from(rnd) * 1025) >> 32;
            let want = match slot {
                0 => Choice::Local,
                k => Choice::Peer((k - 1) as u32),
            };
            assert_eq!(c, want, "rnd {rnd}");
        }
        assert_eq!(
            select(Policy::Weighted, 0, &peers, &REQ, u32::MAX),
            Choice::Peer(1023)
        );
    }
}
