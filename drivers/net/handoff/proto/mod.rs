//! Protocol logic of handoff that needs no kernel types.
//!
//! Everything here is plain `core` Rust: it is compiled into the kernel
//! module and, through `host.rs`, into a host crate for tests and fuzzing.
//! Parsers never panic on packet input; they return errors instead.

pub mod announce;
pub mod conn;
pub mod content;
pub mod cookie;
pub mod http;
pub mod icmp;
pub mod maglev;
pub mod migrate;
pub mod packet;
pub mod select;
pub mod seq;
pub mod siphash;
pub mod sync;
pub mod tcpopt;
pub mod tls;
pub mod wire;
