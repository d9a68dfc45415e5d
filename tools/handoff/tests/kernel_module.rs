//! The kernel module's counter names and attributes
//! (`drivers/net/handoff/stats.rs`) must match the CLI's `STATS_NAMES`. The
//! module file is plain `core` Rust, included here. (The constants need no
//! such test: the module and the CLI share `drivers/net/handoff/uapi.rs`,
//! which `uapi_header.rs` compares with the header.)

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

// `stats.rs` reaches the constants as `crate::uapi`.
use handoff_cli::uapi;

#[test]
fn module_counters_match_the_cli() {
    let names = handoff_cli::model::STATS_NAMES;
    assert_eq!(stats::Counter::ALL.len(), names.len());
    for (c, (attr, name)) in stats::Counter::ALL.iter().zip(names) {
        assert_eq!(c.name(), *name);
        assert_eq!(c.attr(), *attr, "{name}");
    }
}
