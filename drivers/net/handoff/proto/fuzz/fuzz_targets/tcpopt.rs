//! Fuzzes the TCP options parsers (strict and lenient) and the SYN-ACK
//! options built in reply to whatever they accept.

#![no_main]

use libfuzzer_sys::fuzz_target;

// Only the options checks are used here.
#[allow(dead_code)]
#[path = "../../tests/common/mod.rs"]
mod common;

fuzz_target!(|data: &[u8]| {
    let _ = common::check_options(data);
});
