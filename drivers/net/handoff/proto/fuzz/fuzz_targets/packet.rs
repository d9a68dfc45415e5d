//! Fuzzes the IPv4/IPv6 + TCP parser and everything the module does with
//! an accepted packet (checksums, options, SYN-ACK and RST replies).

#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "../../tests/common/mod.rs"]
mod common;

fuzz_target!(|data: &[u8]| {
    if let Ok(p) = handoff_proto::packet::parse(data) {
        common::check_packet(data, &p);
    }
});
