//! Host build of handoff's protocol logic.
//!
//! The kernel module compiles `mod.rs` directly as one of its own modules;
//! this crate root wraps the same files so they can be tested, linted and
//! fuzzed with an ordinary cargo toolchain.

#![no_std]
#![forbid(unsafe_code)]

#[cfg(test)]
extern crate std;

#[path = "mod.rs"]
mod proto;

pub use proto::*;
