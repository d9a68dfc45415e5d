// SPDX-License-Identifier: GPL-2.0

//! Constants of `include/uapi/linux/handoff.h`, the contract between the
//! module and the CLI.
//!
//! One file for both: the module uses it as `crate::uapi`, the CLI includes
//! it (`tools/handoff/src/lib.rs`) so that it builds without the kernel
//! tree. Plain `core` Rust, written out by hand; the CLI's host test
//! `tests/uapi_header.rs` parses the header and checks that every constant
//! here has the header's value and that nothing is missing on either side.
// `pub` for the CLI, whose library exports the module; the kernel module
// uses a part of it, privately.
#![allow(dead_code, unreachable_pub)]

/// Defines every constant and `ALL`, the (name, value) table the header test
/// compares with the header.
macro_rules! uapi_consts {
    ($($(#[$m:meta])* $name:ident: $ty:ty = $val:expr;)*) => {
        $($(#[$m])* pub const $name: $ty = $val;)*

        /// Every numeric constant, by its name in the header.
        pub const ALL: &[(&str, i64)] = &[$((stringify!($name), $name as i64),)*];
    };
}

/// `HANDOFF_GENL_NAME`.
pub const HANDOFF_GENL_NAME: &str = "handoff";
/// `HANDOFF_GENL_MCGRP_EVENTS`.
pub const HANDOFF_GENL_MCGRP_EVENTS: &str = "events";

/// Every string constant, by its name in the header.
pub const STRINGS: &[(&str, &str)] = &[
    ("HANDOFF_GENL_NAME", HANDOFF_GENL_NAME),
    ("HANDOFF_GENL_MCGRP_EVENTS", HANDOFF_GENL_MCGRP_EVENTS),
];

uapi_consts! {
    // #defines
    HANDOFF_GENL_VERSION: u8 = 1;
    HANDOFF_STR_MAX: usize = 256;

    // enum handoff_cmd
    HANDOFF_CMD_UNSPEC: u8 = 0;
    HANDOFF_CMD_NODE_GET: u8 = 1;
    HANDOFF_CMD_NODE_SET: u8 = 2;
    HANDOFF_CMD_SERVICE_ADD: u8 = 3;
    HANDOFF_CMD_SERVICE_DEL: u8 = 4;
    HANDOFF_CMD_SERVICE_GET: u8 = 5;
    HANDOFF_CMD_PEER_ADD: u8 = 6;
    HANDOFF_CMD_PEER_DEL: u8 = 7;
    HANDOFF_CMD_PEER_GET: u8 = 8;
    HANDOFF_CMD_CONN_GET: u8 = 9;
    HANDOFF_CMD_CONN_FLUSH: u8 = 10;
    HANDOFF_CMD_STATS_GET: u8 = 11;
    HANDOFF_CMD_PEER_UP: u8 = 12;
    HANDOFF_CMD_PEER_DOWN: u8 = 13;
    HANDOFF_CMD_SERVICE_CHANGE: u8 = 14;
    HANDOFF_CMD_CONN_FILL: u8 = 15;
    HANDOFF_CMD_SELECT_GET: u8 = 16;
    __HANDOFF_CMD_MAX: u8 = 17;
    HANDOFF_CMD_MAX: u8 = 16;

    // enum handoff_attr
    HANDOFF_A_UNSPEC: u16 = 0;
    HANDOFF_A_NODE: u16 = 1;
    HANDOFF_A_SERVICE: u16 = 2;
    HANDOFF_A_PEER: u16 = 3;
    HANDOFF_A_CONN: u16 = 4;
    HANDOFF_A_STATS: u16 = 5;
    HANDOFF_A_TABLE: u16 = 6;
    HANDOFF_A_SCOPE: u16 = 7;
    HANDOFF_A_CHANGE: u16 = 8;
    HANDOFF_A_COUNT: u16 = 9;
    HANDOFF_A_CLIENT: u16 = 10;
    __HANDOFF_A_MAX: u16 = 11;
    HANDOFF_A_MAX: u16 = 10;

    // enum handoff_node_attr
    HANDOFF_A_NODE_UNSPEC: u16 = 0;
    HANDOFF_A_NODE_ID: u16 = 1;
    HANDOFF_A_NODE_FORWARD_ADDR: u16 = 2;
    HANDOFF_A_NODE_FORWARD_PORT: u16 = 3;
    HANDOFF_A_NODE_SYNC_ADDR: u16 = 4;
    HANDOFF_A_NODE_SYNC_PORT: u16 = 5;
    HANDOFF_A_NODE_WEIGHT: u16 = 6;
    HANDOFF_A_NODE_SYNC_INTERVAL: u16 = 7;
    HANDOFF_A_NODE_DEAD_INTERVALS: u16 = 8;
    __HANDOFF_A_NODE_MAX: u16 = 9;
    HANDOFF_A_NODE_MAX: u16 = 8;

    // enum handoff_service_attr
    HANDOFF_A_SERVICE_UNSPEC: u16 = 0;
    HANDOFF_A_SERVICE_ADDR: u16 = 1;
    HANDOFF_A_SERVICE_PORT: u16 = 2;
    HANDOFF_A_SERVICE_PROTOCOL: u16 = 3;
    HANDOFF_A_SERVICE_IFACES: u16 = 4;
    HANDOFF_A_SERVICE_POLICY: u16 = 5;
    HANDOFF_A_SERVICE_POLICY_PARAMS: u16 = 6;
    HANDOFF_A_SERVICE_MAX_TEMPORARY: u16 = 7;
    HANDOFF_A_SERVICE_MAX_FORWARD: u16 = 8;
    HANDOFF_A_SERVICE_SYN_TIMEOUT: u16 = 9;
    HANDOFF_A_SERVICE_IDLE_TIMEOUT: u16 = 10;
    HANDOFF_A_SERVICE_SYNCOOKIES: u16 = 11;
    HANDOFF_A_SERVICE_FIRST_DATA_WAIT: u16 = 12;
    __HANDOFF_A_SERVICE_MAX: u16 = 13;
    HANDOFF_A_SERVICE_MAX: u16 = 12;

    // enum handoff_syncookies
    HANDOFF_SYNCOOKIES_AUTO: u32 = 1;
    HANDOFF_SYNCOOKIES_ALWAYS: u32 = 2;
    __HANDOFF_SYNCOOKIES_MAX: u32 = 3;
    HANDOFF_SYNCOOKIES_MAX: u32 = 2;

    // enum handoff_iface_attr
    HANDOFF_A_IFACE_UNSPEC: u16 = 0;
    HANDOFF_A_IFACE_INDEX: u16 = 1;
    __HANDOFF_A_IFACE_MAX: u16 = 2;
    HANDOFF_A_IFACE_MAX: u16 = 1;

    // enum handoff_policy
    HANDOFF_POLICY_LOCAL: u32 = 1;
    HANDOFF_POLICY_LEAST_LOAD: u32 = 2;
    HANDOFF_POLICY_WEIGHTED: u32 = 3;
    HANDOFF_POLICY_HOST_URI: u32 = 4;
    HANDOFF_POLICY_COOKIE: u32 = 5;
    HANDOFF_POLICY_TLS_SNI: u32 = 6;
    HANDOFF_POLICY_HASH: u32 = 7;
    __HANDOFF_POLICY_MAX: u32 = 8;
    HANDOFF_POLICY_MAX: u32 = 7;

    // enum handoff_policy_attr
    HANDOFF_A_POLICY_UNSPEC: u16 = 0;
    HANDOFF_A_POLICY_FALLBACK: u16 = 1;
    HANDOFF_A_POLICY_COOKIE_NAME: u16 = 2;
    HANDOFF_A_POLICY_RULE: u16 = 3;
    __HANDOFF_A_POLICY_MAX: u16 = 4;
    HANDOFF_A_POLICY_MAX: u16 = 3;

    // enum handoff_rule_attr
    HANDOFF_A_RULE_UNSPEC: u16 = 0;
    HANDOFF_A_RULE_HOST: u16 = 1;
    HANDOFF_A_RULE_PATH: u16 = 2;
    HANDOFF_A_RULE_NODE: u16 = 3;
    __HANDOFF_A_RULE_MAX: u16 = 4;
    HANDOFF_A_RULE_MAX: u16 = 3;

    // enum handoff_peer_state
    HANDOFF_PEER_STATE_UNKNOWN: u32 = 1;
    HANDOFF_PEER_STATE_UP: u32 = 2;
    HANDOFF_PEER_STATE_DOWN: u32 = 3;
    __HANDOFF_PEER_STATE_MAX: u32 = 4;
    HANDOFF_PEER_STATE_MAX: u32 = 3;

    // enum handoff_peer_attr
    HANDOFF_A_PEER_UNSPEC: u16 = 0;
    HANDOFF_A_PEER_ID: u16 = 1;
    HANDOFF_A_PEER_ADDR: u16 = 2;
    HANDOFF_A_PEER_PORT: u16 = 3;
    HANDOFF_A_PEER_WEIGHT: u16 = 4;
    HANDOFF_A_PEER_STATE: u16 = 5;
    HANDOFF_A_PEER_SYNC_ADDR: u16 = 6;
    HANDOFF_A_PEER_REPORT_AGE: u16 = 7;
    HANDOFF_A_PEER_LOAD: u16 = 8;
    __HANDOFF_A_PEER_MAX: u16 = 9;
    HANDOFF_A_PEER_MAX: u16 = 8;

    // enum handoff_table
    HANDOFF_TABLE_TEMPORARY: u32 = 1;
    HANDOFF_TABLE_FORWARD: u32 = 2;
    __HANDOFF_TABLE_MAX: u32 = 3;
    HANDOFF_TABLE_MAX: u32 = 2;

    // enum handoff_conn_state
    HANDOFF_CONN_STATE_SYN_RECV: u32 = 1;
    HANDOFF_CONN_STATE_ESTABLISHED: u32 = 2;
    HANDOFF_CONN_STATE_BOUND: u32 = 3;
    HANDOFF_CONN_STATE_MIGRATING: u32 = 4;
    HANDOFF_CONN_STATE_FORWARDED: u32 = 5;
    HANDOFF_CONN_STATE_CLOSED: u32 = 6;
    __HANDOFF_CONN_STATE_MAX: u32 = 7;
    HANDOFF_CONN_STATE_MAX: u32 = 6;

    // enum handoff_conn_attr
    HANDOFF_A_CONN_UNSPEC: u16 = 0;
    HANDOFF_A_CONN_TABLE: u16 = 1;
    HANDOFF_A_CONN_FAMILY: u16 = 2;
    HANDOFF_A_CONN_SADDR: u16 = 3;
    HANDOFF_A_CONN_DADDR: u16 = 4;
    HANDOFF_A_CONN_SPORT: u16 = 5;
    HANDOFF_A_CONN_DPORT: u16 = 6;
    HANDOFF_A_CONN_STATE: u16 = 7;
    HANDOFF_A_CONN_CLIENT_ISN: u16 = 8;
    HANDOFF_A_CONN_LOCAL_ISN: u16 = 9;
    HANDOFF_A_CONN_PEER_ID: u16 = 10;
    HANDOFF_A_CONN_AGE_MS: u16 = 11;
    HANDOFF_A_CONN_FLOW_ID: u16 = 12;
    HANDOFF_A_CONN_REF: u16 = 13;
    HANDOFF_A_CONN_PAD: u16 = 14;
    HANDOFF_A_CONN_PACKETS: u16 = 15;
    HANDOFF_A_CONN_BYTES: u16 = 16;
    __HANDOFF_A_CONN_MAX: u16 = 17;
    HANDOFF_A_CONN_MAX: u16 = 16;

    // enum handoff_scope
    HANDOFF_SCOPE_GLOBAL: u32 = 1;
    HANDOFF_SCOPE_SERVICE: u32 = 2;
    HANDOFF_SCOPE_PEER: u32 = 3;
    __HANDOFF_SCOPE_MAX: u32 = 4;
    HANDOFF_SCOPE_MAX: u32 = 3;

    // enum handoff_change
    HANDOFF_CHANGE_ADD: u32 = 1;
    HANDOFF_CHANGE_DEL: u32 = 2;
    __HANDOFF_CHANGE_MAX: u32 = 3;
    HANDOFF_CHANGE_MAX: u32 = 2;

    // enum handoff_stats_attr
    HANDOFF_A_STATS_UNSPEC: u16 = 0;
    HANDOFF_A_STATS_PAD: u16 = 1;
    HANDOFF_A_STATS_SYN_ANSWERED: u16 = 2;
    HANDOFF_A_STATS_SYN_RETRANSMIT: u16 = 3;
    HANDOFF_A_STATS_COOKIES_CHECKED: u16 = 4;
    HANDOFF_A_STATS_COOKIES_FAILED: u16 = 5;
    HANDOFF_A_STATS_ACKS_ABSORBED: u16 = 6;
    HANDOFF_A_STATS_INJECTED: u16 = 7;
    HANDOFF_A_STATS_INJECT_FAILED: u16 = 8;
    HANDOFF_A_STATS_MIGRATED: u16 = 9;
    HANDOFF_A_STATS_MIGRATE_FAILED: u16 = 10;
    HANDOFF_A_STATS_FORWARDED: u16 = 11;
    HANDOFF_A_STATS_ADOPTED: u16 = 12;
    HANDOFF_A_STATS_RECEIVED: u16 = 13;
    HANDOFF_A_STATS_TIMEOUTS: u16 = 14;
    HANDOFF_A_STATS_DROP_MALFORMED: u16 = 15;
    HANDOFF_A_STATS_DROP_BAD_CHECKSUM: u16 = 16;
    HANDOFF_A_STATS_DROP_UNSUPPORTED: u16 = 17;
    HANDOFF_A_STATS_DROP_NO_LISTENER: u16 = 18;
    HANDOFF_A_STATS_DROP_QUEUE_FULL: u16 = 19;
    HANDOFF_A_STATS_DROP_TABLE_FULL: u16 = 20;
    HANDOFF_A_STATS_DROP_UNKNOWN_CONN: u16 = 21;
    HANDOFF_A_STATS_DROP_BAD_COOKIE: u16 = 22;
    HANDOFF_A_STATS_DROP_EXPIRED: u16 = 23;
    HANDOFF_A_STATS_DROP_BAD_ACK: u16 = 24;
    HANDOFF_A_STATS_DROP_OUT_OF_WINDOW: u16 = 25;
    HANDOFF_A_STATS_DROP_OUT_OF_ORDER: u16 = 26;
    HANDOFF_A_STATS_DROP_SYN_MISMATCH: u16 = 27;
    HANDOFF_A_STATS_DROP_UNEXPECTED_SYN: u16 = 28;
    HANDOFF_A_STATS_DROP_RATE_LIMITED: u16 = 29;
    HANDOFF_A_STATS_DROP_RST_IN_WINDOW: u16 = 30;
    HANDOFF_A_STATS_DROP_BAD_EVENT: u16 = 31;
    HANDOFF_A_STATS_DROP_INJECT_RETRY: u16 = 32;
    HANDOFF_A_STATS_DROP_INJECT_FAILED: u16 = 33;
    HANDOFF_A_STATS_DROP_PEER_DOWN: u16 = 34;
    HANDOFF_A_STATS_TEMPORARY_ENTRIES: u16 = 35;
    HANDOFF_A_STATS_FORWARD_ENTRIES: u16 = 36;
    HANDOFF_A_STATS_XMIT_FAILED: u16 = 37;
    HANDOFF_A_STATS_NEW_SENT: u16 = 38;
    HANDOFF_A_STATS_NEW_RETRANSMIT: u16 = 39;
    HANDOFF_A_STATS_NEW_REFUSED: u16 = 40;
    HANDOFF_A_STATS_NEW_TIMEOUT: u16 = 41;
    HANDOFF_A_STATS_FALLBACK_LOCAL: u16 = 42;
    HANDOFF_A_STATS_DATA_EARLY: u16 = 43;
    HANDOFF_A_STATS_DATA_DROPPED: u16 = 44;
    HANDOFF_A_STATS_DGRAM_NOT_PEER: u16 = 45;
    HANDOFF_A_STATS_DGRAM_MALFORMED: u16 = 46;
    HANDOFF_A_STATS_REFUSED: u16 = 47;
    HANDOFF_A_STATS_FLOWS_ENDED: u16 = 48;
    HANDOFF_A_STATS_ADOPTED_ENTRIES: u16 = 49;
    HANDOFF_A_STATS_SYNCOOKIES_SENT: u16 = 50;
    HANDOFF_A_STATS_SYNC_SENT: u16 = 51;
    HANDOFF_A_STATS_SYNC_RECEIVED: u16 = 52;
    HANDOFF_A_STATS_SYNC_NOT_PEER: u16 = 53;
    HANDOFF_A_STATS_SYNC_MALFORMED: u16 = 54;
    HANDOFF_A_STATS_SYNC_REPLAY: u16 = 55;
    __HANDOFF_A_STATS_MAX: u16 = 56;
    HANDOFF_A_STATS_MAX: u16 = 55;

    // enum handoff_pkt_type
    HANDOFF_PKT_NEW: u8 = 0x01;
    HANDOFF_PKT_DATA: u8 = 0x02;
    HANDOFF_PKT_MIGRATED_ACK: u8 = 0x03;

    // #defines of the redistribution protocol
    HANDOFF_PKT_F_REFUSED: u8 = 0x01;
    HANDOFF_TCPOPT_SACK_PERM: u8 = 0x01;
    HANDOFF_TCPOPT_TIMESTAMP: u8 = 0x02;
    HANDOFF_TCPOPT_WSCALE: u8 = 0x04;

    // #defines of the sync channel
    HANDOFF_SYNC_REPORT: u8 = 0x10;
}
