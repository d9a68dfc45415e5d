//! Consistent hashing of client addresses to nodes, Maglev style (Eisenbud
//! et al., "Maglev: A Fast and Reliable Software Network Load Balancer",
//! NSDI 2016, §3.4), for a `hash` policy.
//!
//! Two properties matter: every front maps a client address to the same
//! node, without talking to the others, and when a node leaves (or joins)
//! mostly the clients of that node move. Both follow from the table
//! depending on nothing but the set of node ids:
//!
//! * each node has a preference order over the [`TABLE_SIZE`] slots, a
//!   permutation `slot(k) = (offset + k * skip) mod TABLE_SIZE` whose
//!   `offset` and `skip` are SipHash-2-4 values of its node id under fixed
//!   keys ([`OFFSET_KEY`], [`SKIP_KEY`]), so every front derives the same
//!   permutation for a node;
//! * [`build`] fills the table round-robin over the nodes in ascending id
//!   order, each taking the next slot of its permutation that is still
//!   free, until every slot is taken. Every node ends with `TABLE_SIZE / n`
//!   slots rounded up or down;
//! * [`lookup`] hashes the client address under [`LOOKUP_KEY`] to a slot.
//!
//! Removing a node frees its slots; the others mostly keep theirs, since
//! their preference orders did not change, and take over the freed ones.
//! A few slots change hands between surviving nodes as the round-robin
//! shifts (a few percent of the table, in the paper's measurements and in
//! the tests here).
//!
//! The keys are fixed and public: the table must be the same on every
//! front, so they are part of the protocol, not secrets. A client that
//! chooses its address could pick the node it lands on, as with any
//! affinity scheme.
//!
//! # Cost
//!
//! [`build`] runs in process context on membership changes. It takes one
//! SipHash per slot filled plus the probes of the permutations: as the
//! table fills, free slots get rare and the expected probes per slot grow
//! like `TABLE_SIZE / free`, which sums to about `TABLE_SIZE * ln
//! TABLE_SIZE` (some 730 000 cheap probes for 65537 slots) in the worst
//! case, the usual Maglev bound. On a current x86 core that is about 3 ms
//! for a few nodes and 10 ms for [`MAX_NODES`]. [`lookup`] is one SipHash
//! of the address and one read.

use super::siphash::{siphash24, SipKey};

/// Number of slots in the table: a prime, so that every `skip` in
/// `1..TABLE_SIZE` makes the permutation visit every slot, and large
/// against the node count (at most [`MAX_NODES`]) so that the shares stay
/// within 1% of each other.
pub const TABLE_SIZE: usize = 65537;

/// Most nodes a table can hold; the stored indices fit a u16 with room for
/// the "empty" marker.
pub const MAX_NODES: usize = 1024;

/// SipHash key of a node's permutation offset: the ASCII bytes
/// `"handoff maglev o"`.
pub const OFFSET_KEY: SipKey = *b"handoff maglev o";
/// SipHash key of a node's permutation skip: `"handoff maglev s"`.
pub const SKIP_KEY: SipKey = *b"handoff maglev s";
/// SipHash key of a client address in [`lookup`]: `"handoff maglev k"`.
pub const LOOKUP_KEY: SipKey = *b"handoff maglev k";

/// A slot no node has taken yet (only during [`build`]).
const EMPTY: u16 = u16::MAX;

// TABLE_SIZE as the u64 the arithmetic uses.
const M64: u64 = TABLE_SIZE as u64;

/// Why [`build`] refused its input.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum MaglevError {
    /// No node: there is nothing to map to.
    EmptySet,
    /// More than [`MAX_NODES`] nodes.
    TooMany,
    /// The node ids are not strictly ascending (unsorted or duplicated).
    NotSorted,
    /// The table is not [`TABLE_SIZE`] entries long.
    TableSize,
    /// The scratch slice is shorter than the node list.
    Scratch,
}

/// The node id as hashed: four big-endian bytes.
fn id_bytes(id: u32) -> [u8; 4] {
    id.to_be_bytes()
}

/// Where node `id`'s permutation starts, in `[0, TABLE_SIZE)`.
fn offset_of(id: u32) -> u32 {
    // The remainder is below 65537, so it fits a u32.
    (siphash24(&OFFSET_KEY, &id_bytes(id)) % M64) as u32
}

/// The step of node `id`'s permutation, in `[1, TABLE_SIZE)`: never 0, so
/// (TABLE_SIZE being prime) the permutation visits every slot.
fn skip_of(id: u32) -> u32 {
    (siphash24(&SKIP_KEY, &id_bytes(id)) % (M64 - 1) + 1) as u32
}

/// Fills `table` for the UP nodes `nodes` (this node included): each entry
/// becomes the index in `nodes` of the node owning that slot.
///
/// `nodes` must be sorted ascending without duplicates, and hold 1 to
/// [`MAX_NODES`] ids: the sorted set is what makes every front compute the
/// same table whatever order it learnt the nodes in, and sorting is left
/// to the caller, which has the allocator. `table` must hold exactly
/// [`TABLE_SIZE`] entries. `next` is scratch space of at least
/// `nodes.len()` entries (its contents on entry do not matter; on return
/// they are meaningless): it holds each node's position in its
/// permutation, which `build` cannot allocate. On error nothing is
/// written.
pub fn build(nodes: &[u32], table: &mut [u16], next: &mut [u32]) -> Result<(), MaglevError> {
    if nodes.is_empty() {
        return Err(MaglevError::EmptySet);
    }
    if nodes.len() > MAX_NODES {
        return Err(MaglevError::TooMany);
    }
    if nodes.windows(2).any(|w| matches!(w, [a, b] if a >= b)) {
        return Err(MaglevError::NotSorted);
    }
    if table.len() != TABLE_SIZE {
        return Err(MaglevError::TableSize);
    }
    let next = next.get_mut(..nodes.len()).ok_or(MaglevError::Scratch)?;
    table.fill(EMPTY);
    for (pos, &id) in next.iter_mut().zip(nodes) {
        *pos = offset_of(id);
    }
    let mut filled = 0usize;
    // Every turn of a node fills one slot, and every permutation reaches
    // every free slot, so this ends after exactly TABLE_SIZE turns.
    'fill: loop {
        for ((index, &id), pos) in (0u16..).zip(nodes).zip(next.iter_mut()) {
            // Recomputed per turn rather than stored: the scratch slice
            // has room for the position only.
            let skip = skip_of(id);
            let mut p = *pos;
            // At most TABLE_SIZE probes find a free slot while one is
            // left; the bound only guards against a logic error.
            for _ in 0..TABLE_SIZE {
                let slot = table.get_mut(p as usize);
                p = ((u64::from(p) + u64::from(skip)) % M64) as u32;
                if let Some(s) = slot {
                    if *s == EMPTY {
                        *s = index;
                        break;
                    }
                }
            }
            *pos = p;
            filled += 1;
            if filled >= TABLE_SIZE {
                break 'fill;
            }
        }
    }
    Ok(())
}

/// The index (into the `nodes` given to [`build`]) of the node serving the
/// client whose address bytes are `key` (the 4 or 16 bytes of the address,
/// or any stable encoding the fronts agree on). `None` if `table` is not a
/// built table of [`TABLE_SIZE`] entries.
pub fn lookup(table: &[u16], key: &[u8]) -> Option<u16> {
    if table.len() != TABLE_SIZE {
        return None;
    }
    let slot = siphash24(&LOOKUP_KEY, key) % M64;
    let index = *table.get(usize::try_from(slot).ok()?)?;
    (index != EMPTY).then_some(index)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::vec;
    use std::vec::Vec;

    const M32: u32 = TABLE_SIZE as u32;

    fn table_for(nodes: &[u32]) -> Vec<u16> {
        let mut t = vec![0u16; TABLE_SIZE];
        let mut next = vec![0u32; nodes.len()];
        build(nodes, &mut t, &mut next).unwrap();
        t
    }

    fn client(i: u32) -> [u8; 4] {
        // 10.x.y.z
        let [_, x, y, z] = i.to_be_bytes();
        [10, x, y, z]
    }

    #[test]
    fn permutation_parameters() {
        for id in [1u32, 2, 3, 0xffff_ffff, 123_456] {
            assert!(offset_of(id) < M32);
            let s = skip_of(id);
            assert!((1..M32).contains(&s));
        }
        assert_ne!(offset_of(1), offset_of(2));
        assert_eq!(M32 as usize, TABLE_SIZE);
    }

    #[test]
    fn deterministic() {
        let nodes = [3u32, 17, 99, 1000, 0xdead_beef];
        let a = table_for(&nodes);
        // Dirty scratch and a dirty table give the same result.
        let mut b = vec![7u16; TABLE_SIZE];
        let mut next = vec![u32::MAX; 9];
        build(&nodes, &mut b, &mut next).unwrap();
        assert_eq!(a, b);
        assert!(a.iter().all(|&i| usize::from(i) < nodes.len()));
        // Pinned values, so a change of the algorithm (which every front
        // must agree on) does not go unnoticed.
        let first: Vec<u16> = (0..8u32).map(|i| lookup(&a, &client(i)).unwrap()).collect();
        assert_eq!(first, [3, 3, 1, 3, 1, 2, 3, 3]);
        assert_eq!(a[..8], [0, 2, 1, 4, 0, 2, 2, 3]);
        assert_eq!((offset_of(1), skip_of(1)), (8309, 44031));
    }

    #[test]
    fn balanced() {
        for n in [1usize, 2, 3, 10, 100, MAX_NODES] {
            let nodes: Vec<u32> = (1..=n as u32).map(|i| i * 7919).collect();
            let t = table_for(&nodes);
            let mut count = vec![0usize; n];
            for &i in &t {
                count[usize::from(i)] += 1;
            }
            let fair = TABLE_SIZE / n;
            for (i, &c) in count.iter().enumerate() {
                // Round-robin: every node gets floor or ceil of the share.
                assert!(c == fair || c == fair + 1, "n {n} node {i}: {c}");
                assert!(c * 10 >= fair * 9 && c * 10 <= fair * 11);
            }
        }
    }

    #[test]
    fn removal_moves_little() {
        let nodes: Vec<u32> = (1..=10).collect();
        let before = table_for(&nodes);
        let gone = 4u32;
        let rest: Vec<u32> = nodes.iter().copied().filter(|&i| i != gone).collect();
        let after = table_for(&rest);
        let (mut moved, mut moved_survivor, mut on_gone) = (0, 0, 0);
        const CLIENTS: u32 = 1000;
        for i in 0..CLIENTS {
            let a = nodes[usize::from(lookup(&before, &client(i * 4099)).unwrap())];
            let b = rest[usize::from(lookup(&after, &client(i * 4099)).unwrap())];
            if a == gone {
                on_gone += 1;
            }
            if a != b {
                moved += 1;
                if a != gone {
                    moved_survivor += 1;
                }
            }
        }
        assert!(on_gone > 50, "{on_gone}");
        // Only the clients of the departed node, and very few others.
        assert!(moved * 10 < CLIENTS * 3 / 2, "moved {moved}");
        assert!(
            moved_survivor * 50 <= CLIENTS,
            "survivors moved {moved_survivor}"
        );
        // The same over the whole table.
        let survivors_moved = before
            .iter()
            .zip(&after)
            .filter(|(&a, &b)| {
                nodes[usize::from(a)] != gone && nodes[usize::from(a)] != rest[usize::from(b)]
            })
            .count();
        assert!(survivors_moved * 50 <= TABLE_SIZE, "{survivors_moved}");
    }

    #[test]
    fn rejections() {
        let mut t = vec![0u16; TABLE_SIZE];
        let mut next = vec![0u32; MAX_NODES + 1];
        let untouched = t.clone();
        assert_eq!(build(&[], &mut t, &mut next), Err(MaglevError::EmptySet));
        assert_eq!(
            build(&[2, 1], &mut t, &mut next),
            Err(MaglevError::NotSorted)
        );
        assert_eq!(
            build(&[1, 1], &mut t, &mut next),
            Err(MaglevError::NotSorted)
        );
        assert_eq!(
            build(&[1, 5, 3], &mut t, &mut next),
            Err(MaglevError::NotSorted)
        );
        let many: Vec<u32> = (1..=MAX_NODES as u32 + 1).collect();
        assert_eq!(build(&many, &mut t, &mut next), Err(MaglevError::TooMany));
        assert_eq!(
            build(&[1, 2, 3], &mut t, &mut next[..2]),
            Err(MaglevError::Scratch)
        );
        assert_eq!(t, untouched);
        for len in [0, 1, TABLE_SIZE - 1, TABLE_SIZE + 1] {
            let mut short = vec![0u16; len];
            assert_eq!(
                build(&[1], &mut short, &mut next),
                Err(MaglevError::TableSize)
            );
            assert_eq!(lookup(&short, b"x"), None);
        }
        // A table nobody built maps to nothing.
        assert_eq!(lookup(&vec![EMPTY; TABLE_SIZE], b"x"), None);
        // A single node takes everything; a 0 id is an id like any other.
        let t = table_for(&[0]);
        assert!(t.iter().all(|&i| i == 0));
        assert_eq!(lookup(&t, &[]), Some(0));
    }
}
