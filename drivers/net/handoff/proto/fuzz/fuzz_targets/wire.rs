//! Fuzzes the redistribution datagram parser (`wire::parse`, and
//! `wire::parse_new` for NEW) and the round trip of every accepted NEW
//! through `write_new` and `new_datagram`.

#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "../../tests/common/wire.rs"]
mod wire_check;

fuzz_target!(|data: &[u8]| {
    let _ = wire_check::check_datagram(data);
});
