//! Fuzzes the sync report parser (`sync::parse_report`) and the canonical
//! re-encoding of every accepted report through `sync::write_report`.

#![no_main]

use handoff_proto::sync::{self, Load, SYNC_HDR_LEN, SYNC_LOAD_LEN};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(r) = sync::parse_report(data) else {
        return;
    };
    // What the module relies on for an accepted report.
    assert_eq!(r.hdr.check(), Ok(()));
    assert!(r.len() <= sync::MAX_LOADS);
    let mut loads = [Load::default(); sync::MAX_LOADS];
    let mut n = 0;
    for l in r.loads() {
        assert_eq!(l.check(), Ok(()));
        loads[n] = l;
        n += 1;
    }
    assert_eq!(n, r.len());
    // The encoding is canonical: the same bytes, with the ignored `flags`
    // and `reserved` bytes written as 0.
    let len = SYNC_HDR_LEN + n * SYNC_LOAD_LEN;
    let mut want = [0u8; sync::MAX_REPORT_LEN];
    want[..len].copy_from_slice(&data[..len]);
    want[1] = 0;
    for e in want[SYNC_HDR_LEN..len].chunks_exact_mut(SYNC_LOAD_LEN) {
        e[19] = 0;
    }
    let mut out = [0u8; sync::MAX_REPORT_LEN];
    assert_eq!(sync::write_report(&mut out, &r.hdr, &loads[..n]), Ok(len));
    assert_eq!(out[..len], want[..len]);
    let back = sync::parse_report(&out[..len]).expect("our report parses");
    assert_eq!(back.hdr, r.hdr);
    assert!(back.loads().eq(loads[..n].iter().copied()));
});
