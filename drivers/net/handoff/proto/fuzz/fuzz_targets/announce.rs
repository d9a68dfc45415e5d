//! Fuzzes the front failover announcement parser
//! (`announce::parse_conns`), the canonical re-encoding of every accepted
//! datagram through `announce::write_conns`, and the write/parse round trip.

#![no_main]

use handoff_proto::announce::{self, Announce, SYNC_CONN_LEN};
use handoff_proto::cookie::Tuple;
use handoff_proto::sync::SYNC_HDR_LEN;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(c) = announce::parse_conns(data) else {
        return;
    };
    // What the module relies on for an accepted datagram.
    assert_eq!(announce::sync_type(data), Some(announce::SYNC_CONNS));
    assert_eq!(c.hdr.check(), Ok(()));
    assert!(c.len() <= announce::MAX_CONNS);
    assert_eq!(c.is_empty(), c.iter().next().is_none());
    let mut list = [PLACEHOLDER; announce::MAX_CONNS];
    let mut n = 0;
    for a in c.iter() {
        assert_eq!(a.check(), Ok(()));
        list[n] = a;
        n += 1;
    }
    assert_eq!(n, c.len());
    let list = &list[..n];
    // The encoding is canonical: the same bytes, with the ignored `flags`
    // and `reserved` bytes written as 0.
    let len = SYNC_HDR_LEN + n * SYNC_CONN_LEN;
    let mut want = [0u8; announce::MAX_CONNS_LEN];
    want[..len].copy_from_slice(&data[..len]);
    want[1] = 0;
    for e in want[SYNC_HDR_LEN..len].chunks_exact_mut(SYNC_CONN_LEN) {
        e[38..40].fill(0);
    }
    let mut out = [0u8; announce::MAX_CONNS_LEN];
    assert_eq!(announce::write_conns(&mut out, &c.hdr, list), Ok(len));
    assert_eq!(out[..len], want[..len]);
    // And what is written parses back to the same header and entries.
    let back = announce::parse_conns(&out[..len]).expect("our datagram parses");
    assert_eq!(back.hdr, c.hdr);
    assert!(back.iter().eq(list.iter().copied()));
});

/// Fills the entry array beyond the parsed entries (never read).
const PLACEHOLDER: Announce = Announce {
    op: announce::ConnOp::Add,
    tuple: Tuple {
        saddr: [0; 16],
        daddr: [0; 16],
        sport: 1,
        dport: 1,
    },
    target: 1,
    conn_ref: 1,
    flow_id: 1,
    idle_ms: 1,
};
