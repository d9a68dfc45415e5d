//! The kernel module's copies of the contract must match the CLI's: its
//! constants (`drivers/net/handoff/uapi.rs`, compared with `handoff_cli::uapi`,
//! which `uapi_header.rs` compares with the header) and its counter names and
//! attributes (`drivers/net/handoff/stats.rs`, compared with the CLI's
//! `STATS_NAMES`). Both module files are plain `core` Rust, included here.

#[path = "../../../drivers/net/handoff/uapi.rs"]
mod uapi;

// The protocol types `stats.rs` names (the drop reasons), where it looks
// for them (`crate::proto::conn`); `conn.rs` uses `super::seq`.
#[path = "../../../drivers/net/handoff/proto/conn.rs"]
#[allow(dead_code)]
mod conn;
#[path = "../../../drivers/net/handoff/proto/seq.rs"]
#[allow(dead_code)]
mod seq;
mod proto {
    pub(crate) use super::conn;
}

#[path = "../../../drivers/net/handoff/stats.rs"]
#[allow(dead_code)]
mod stats;

use std::collections::BTreeMap;

#[test]
fn module_constants_match_the_cli() {
    let cli: BTreeMap<&str, i64> = handoff_cli::uapi::ALL.iter().copied().collect();
    assert!(uapi::ALL.len() > 100);
    for (name, value) in uapi::ALL {
        assert_eq!(cli.get(name), Some(value), "{name}");
    }
    assert_eq!(
        uapi::HANDOFF_GENL_NAME,
        handoff_cli::uapi::HANDOFF_GENL_NAME
    );
    assert_eq!(
        uapi::HANDOFF_GENL_MCGRP_EVENTS,
        handoff_cli::uapi::HANDOFF_GENL_MCGRP_EVENTS
    );
}

#[test]
fn module_counters_match_the_cli() {
    let names = handoff_cli::model::STATS_NAMES;
    assert_eq!(stats::Counter::ALL.len(), names.len());
    for (c, (attr, name)) in stats::Counter::ALL.iter().zip(names) {
        assert_eq!(c.name(), *name);
        assert_eq!(c.attr(), *attr, "{name}");
    }
}
