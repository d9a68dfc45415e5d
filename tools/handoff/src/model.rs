//! The objects of the handoff family: encoding to attributes, decoding from
//! the kernel's attributes, and their printed form.

use std::net::IpAddr;

use crate::addr::format_addr;
use crate::attr::{Attr, RawAttr};
use crate::output::{Record, Show, Val};
use crate::uapi::*;
use crate::Error;

/// Names of enum values as the command line and the output spell them.
pub type Names = &'static [(u32, &'static str)];

pub const POLICY_NAMES: Names = &[
    (HANDOFF_POLICY_LOCAL, "local"),
    (HANDOFF_POLICY_LEAST_LOAD, "least-load"),
    (HANDOFF_POLICY_WEIGHTED, "weighted"),
    (HANDOFF_POLICY_HOST_URI, "host-uri"),
    (HANDOFF_POLICY_COOKIE, "cookie"),
    (HANDOFF_POLICY_TLS_SNI, "tls-sni"),
    (HANDOFF_POLICY_HASH, "hash"),
];

/// Policies that may serve as a fallback (not `hash`, nor the ones with
/// parameters).
pub const FALLBACK_NAMES: Names = &[
    (HANDOFF_POLICY_LOCAL, "local"),
    (HANDOFF_POLICY_LEAST_LOAD, "least-load"),
    (HANDOFF_POLICY_WEIGHTED, "weighted"),
];

pub const SYNCOOKIES_NAMES: Names = &[
    (HANDOFF_SYNCOOKIES_AUTO, "auto"),
    (HANDOFF_SYNCOOKIES_ALWAYS, "always"),
];

pub const TABLE_NAMES: Names = &[
    (HANDOFF_TABLE_TEMPORARY, "temporary"),
    (HANDOFF_TABLE_FORWARD, "forward"),
];

pub const CONN_STATE_NAMES: Names = &[
    (HANDOFF_CONN_STATE_SYN_RECV, "syn-recv"),
    (HANDOFF_CONN_STATE_ESTABLISHED, "established"),
    (HANDOFF_CONN_STATE_BOUND, "bound"),
    (HANDOFF_CONN_STATE_MIGRATING, "migrating"),
    (HANDOFF_CONN_STATE_FORWARDED, "forwarded"),
    (HANDOFF_CONN_STATE_CLOSED, "closed"),
];

pub const PEER_STATE_NAMES: Names = &[
    (HANDOFF_PEER_STATE_UNKNOWN, "unknown"),
    (HANDOFF_PEER_STATE_UP, "up"),
    (HANDOFF_PEER_STATE_DOWN, "down"),
];

pub const SCOPE_NAMES: Names = &[
    (HANDOFF_SCOPE_GLOBAL, "global"),
    (HANDOFF_SCOPE_SERVICE, "service"),
    (HANDOFF_SCOPE_PEER, "peer"),
];

pub const CHANGE_NAMES: Names = &[(HANDOFF_CHANGE_ADD, "add"), (HANDOFF_CHANGE_DEL, "del")];

/// Counters of HANDOFF_A_STATS, in the header's order, with their output keys.
pub const STATS_NAMES: &[(u16, &str)] = &[
    (HANDOFF_A_STATS_SYN_ANSWERED, "syn_answered"),
    (HANDOFF_A_STATS_SYN_RETRANSMIT, "syn_retransmit"),
    (HANDOFF_A_STATS_COOKIES_CHECKED, "cookies_checked"),
    (HANDOFF_A_STATS_COOKIES_FAILED, "cookies_failed"),
    (HANDOFF_A_STATS_ACKS_ABSORBED, "acks_absorbed"),
    (HANDOFF_A_STATS_INJECTED, "injected"),
    (HANDOFF_A_STATS_INJECT_FAILED, "inject_failed"),
    (HANDOFF_A_STATS_MIGRATED, "migrated"),
    (HANDOFF_A_STATS_MIGRATE_FAILED, "migrate_failed"),
    (HANDOFF_A_STATS_FORWARDED, "forwarded"),
    (HANDOFF_A_STATS_ADOPTED, "adopted"),
    (HANDOFF_A_STATS_RECEIVED, "received"),
    (HANDOFF_A_STATS_TIMEOUTS, "timeouts"),
    (HANDOFF_A_STATS_DROP_MALFORMED, "drop_malformed"),
    (HANDOFF_A_STATS_DROP_BAD_CHECKSUM, "drop_bad_checksum"),
    (HANDOFF_A_STATS_DROP_UNSUPPORTED, "drop_unsupported"),
    (HANDOFF_A_STATS_DROP_NO_LISTENER, "drop_no_listener"),
    (HANDOFF_A_STATS_DROP_QUEUE_FULL, "drop_queue_full"),
    (HANDOFF_A_STATS_DROP_TABLE_FULL, "drop_table_full"),
    (HANDOFF_A_STATS_DROP_UNKNOWN_CONN, "drop_unknown_conn"),
    (HANDOFF_A_STATS_DROP_BAD_COOKIE, "drop_bad_cookie"),
    (HANDOFF_A_STATS_DROP_EXPIRED, "drop_expired"),
    (HANDOFF_A_STATS_DROP_BAD_ACK, "drop_bad_ack"),
    (HANDOFF_A_STATS_DROP_OUT_OF_WINDOW, "drop_out_of_window"),
    (HANDOFF_A_STATS_DROP_OUT_OF_ORDER, "drop_out_of_order"),
    (HANDOFF_A_STATS_DROP_SYN_MISMATCH, "drop_syn_mismatch"),
    (HANDOFF_A_STATS_DROP_UNEXPECTED_SYN, "drop_unexpected_syn"),
    (HANDOFF_A_STATS_DROP_RATE_LIMITED, "drop_rate_limited"),
    (HANDOFF_A_STATS_DROP_RST_IN_WINDOW, "drop_rst_in_window"),
    (HANDOFF_A_STATS_DROP_BAD_EVENT, "drop_bad_event"),
    (HANDOFF_A_STATS_DROP_INJECT_RETRY, "drop_inject_retry"),
    (HANDOFF_A_STATS_DROP_INJECT_FAILED, "drop_inject_failed"),
    (HANDOFF_A_STATS_DROP_PEER_DOWN, "drop_peer_down"),
    (HANDOFF_A_STATS_TEMPORARY_ENTRIES, "temporary_entries"),
    (HANDOFF_A_STATS_FORWARD_ENTRIES, "forward_entries"),
    (HANDOFF_A_STATS_XMIT_FAILED, "xmit_failed"),
    (HANDOFF_A_STATS_NEW_SENT, "new_sent"),
    (HANDOFF_A_STATS_NEW_RETRANSMIT, "new_retransmit"),
    (HANDOFF_A_STATS_NEW_REFUSED, "new_refused"),
    (HANDOFF_A_STATS_NEW_TIMEOUT, "new_timeout"),
    (HANDOFF_A_STATS_FALLBACK_LOCAL, "fallback_local"),
    (HANDOFF_A_STATS_DATA_EARLY, "data_early"),
    (HANDOFF_A_STATS_DATA_DROPPED, "data_dropped"),
    (HANDOFF_A_STATS_DGRAM_NOT_PEER, "dgram_not_peer"),
    (HANDOFF_A_STATS_DGRAM_MALFORMED, "dgram_malformed"),
    (HANDOFF_A_STATS_REFUSED, "refused"),
    (HANDOFF_A_STATS_FLOWS_ENDED, "flows_ended"),
    (HANDOFF_A_STATS_ADOPTED_ENTRIES, "adopted_entries"),
    (HANDOFF_A_STATS_SYNCOOKIES_SENT, "syncookies_sent"),
    (HANDOFF_A_STATS_SYNC_SENT, "sync_sent"),
    (HANDOFF_A_STATS_SYNC_RECEIVED, "sync_received"),
    (HANDOFF_A_STATS_SYNC_NOT_PEER, "sync_not_peer"),
    (HANDOFF_A_STATS_SYNC_MALFORMED, "sync_malformed"),
    (HANDOFF_A_STATS_SYNC_REPLAY, "sync_replay"),
    (HANDOFF_A_STATS_ANNOUNCE_SENT, "announce_sent"),
    (HANDOFF_A_STATS_ANNOUNCE_RECEIVED, "announce_received"),
    (HANDOFF_A_STATS_ANNOUNCE_DROPPED, "announce_dropped"),
    (HANDOFF_A_STATS_RELAYED, "relayed"),
    (HANDOFF_A_STATS_RELAY_ENTRIES, "relay_entries"),
    (HANDOFF_A_STATS_REQUEST_HELD, "request_held"),
    (HANDOFF_A_STATS_REQUEST_BYTES, "request_bytes"),
];

/// The name of an enum value; an unknown value prints as its number.
pub fn name_of(names: Names, v: u32) -> String {
    names
        .iter()
        .find(|(n, _)| *n == v)
        .map(|(_, s)| s.to_string())
        .unwrap_or_else(|| v.to_string())
}

/// Interface index to name, for printing.
pub type IfName<'a> = &'a dyn Fn(u32) -> String;

// ---------------------------------------------------------------------------
// Service

/// A policy rule: `match [HOST][/PATH] node ID`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Rule {
    pub host: Option<String>,
    pub path: Option<String>,
    pub node: u32,
}

impl Rule {
    /// The `match` word: `HOST`, `HOST/PATH`, `/PATH`, or `*` for any.
    pub fn match_text(&self) -> String {
        match (&self.host, &self.path) {
            (Some(h), Some(p)) => format!("{h}{p}"),
            (Some(h), None) => h.clone(),
            (None, Some(p)) => p.clone(),
            (None, None) => "*".to_string(),
        }
    }

    fn to_attrs(&self) -> Vec<Attr> {
        let mut a = Vec::new();
        if let Some(h) = &self.host {
            a.push(Attr::str(HANDOFF_A_RULE_HOST, h));
        }
        if let Some(p) = &self.path {
            a.push(Attr::str(HANDOFF_A_RULE_PATH, p));
        }
        a.push(Attr::u32(HANDOFF_A_RULE_NODE, self.node));
        a
    }

    fn from_raw(attrs: &[RawAttr]) -> Result<Rule, Error> {
        let mut r = Rule::default();
        for a in attrs {
            match a.kind {
                HANDOFF_A_RULE_HOST => r.host = Some(a.get_str()?),
                HANDOFF_A_RULE_PATH => r.path = Some(a.get_str()?),
                HANDOFF_A_RULE_NODE => r.node = a.get_u32()?,
                _ => {}
            }
        }
        Ok(r)
    }
}

/// HANDOFF_A_SERVICE_POLICY_PARAMS.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PolicyParams {
    pub fallback: Option<u32>,
    pub cookie_name: Option<String>,
    pub rules: Vec<Rule>,
}

impl PolicyParams {
    pub fn is_empty(&self) -> bool {
        self.fallback.is_none() && self.cookie_name.is_none() && self.rules.is_empty()
    }

    fn to_attrs(&self) -> Vec<Attr> {
        let mut a = Vec::new();
        if let Some(f) = self.fallback {
            a.push(Attr::u32(HANDOFF_A_POLICY_FALLBACK, f));
        }
        if let Some(c) = &self.cookie_name {
            a.push(Attr::str(HANDOFF_A_POLICY_COOKIE_NAME, c));
        }
        for r in &self.rules {
            a.push(Attr::nested(HANDOFF_A_POLICY_RULE, r.to_attrs()));
        }
        a
    }

    fn from_raw(attrs: &[RawAttr]) -> Result<PolicyParams, Error> {
        let mut p = PolicyParams::default();
        for a in attrs {
            match a.kind {
                HANDOFF_A_POLICY_FALLBACK => p.fallback = Some(a.get_u32()?),
                HANDOFF_A_POLICY_COOKIE_NAME => p.cookie_name = Some(a.get_str()?),
                HANDOFF_A_POLICY_RULE => p.rules.push(Rule::from_raw(&a.get_nested()?)?),
                _ => {}
            }
        }
        Ok(p)
    }
}

/// A service; in requests only the attributes that are `Some` are sent.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Service {
    pub addr: IpAddr,
    pub port: u16,
    pub protocol: Option<u8>,
    pub ifaces: Vec<u32>,
    pub policy: Option<u32>,
    pub params: PolicyParams,
    pub max_temporary: Option<u32>,
    pub max_forward: Option<u32>,
    pub syn_timeout: Option<u32>,
    pub idle_timeout: Option<u32>,
    pub syncookies: Option<u32>,
    /// Milliseconds to wait for the client's first data (0..60000).
    pub first_data_wait: Option<u32>,
    /// Content policies: the most request bytes held before choosing
    /// (1..16384).
    pub request_limit: Option<u32>,
}

impl Service {
    pub fn new(addr: IpAddr, port: u16) -> Service {
        Service {
            addr,
            port,
            protocol: None,
            ifaces: Vec::new(),
            policy: None,
            params: PolicyParams::default(),
            max_temporary: None,
            max_forward: None,
            syn_timeout: None,
            idle_timeout: None,
            syncookies: None,
            first_data_wait: None,
            request_limit: None,
        }
    }

    /// The attributes nested in HANDOFF_A_SERVICE.
    pub fn to_attrs(&self) -> Vec<Attr> {
        let mut a = vec![
            Attr::addr(HANDOFF_A_SERVICE_ADDR, self.addr),
            Attr::u16(HANDOFF_A_SERVICE_PORT, self.port),
        ];
        if let Some(p) = self.protocol {
            a.push(Attr::u8(HANDOFF_A_SERVICE_PROTOCOL, p));
        }
        if !self.ifaces.is_empty() {
            let list = self
                .ifaces
                .iter()
                .map(|i| Attr::u32(HANDOFF_A_IFACE_INDEX, *i))
                .collect();
            a.push(Attr::nested(HANDOFF_A_SERVICE_IFACES, list));
        }
        if let Some(p) = self.policy {
            a.push(Attr::u32(HANDOFF_A_SERVICE_POLICY, p));
        }
        if !self.params.is_empty() {
            a.push(Attr::nested(
                HANDOFF_A_SERVICE_POLICY_PARAMS,
                self.params.to_attrs(),
            ));
        }
        let opt = [
            (HANDOFF_A_SERVICE_MAX_TEMPORARY, self.max_temporary),
            (HANDOFF_A_SERVICE_MAX_FORWARD, self.max_forward),
            (HANDOFF_A_SERVICE_SYN_TIMEOUT, self.syn_timeout),
            (HANDOFF_A_SERVICE_IDLE_TIMEOUT, self.idle_timeout),
            (HANDOFF_A_SERVICE_SYNCOOKIES, self.syncookies),
            (HANDOFF_A_SERVICE_FIRST_DATA_WAIT, self.first_data_wait),
            (HANDOFF_A_SERVICE_REQUEST_LIMIT, self.request_limit),
        ];
        for (kind, v) in opt {
            if let Some(v) = v {
                a.push(Attr::u32(kind, v));
            }
        }
        a
    }

    pub fn from_raw(attrs: &[RawAttr]) -> Result<Service, Error> {
        let mut addr = None;
        let mut port = None;
        let mut s = Service::new(IpAddr::from([0u8; 4]), 0);
        for a in attrs {
            match a.kind {
                HANDOFF_A_SERVICE_ADDR => addr = Some(a.get_addr()?),
                HANDOFF_A_SERVICE_PORT => port = Some(a.get_u16()?),
                HANDOFF_A_SERVICE_PROTOCOL => s.protocol = Some(a.get_u8()?),
                HANDOFF_A_SERVICE_IFACES => {
                    for i in a.get_nested()? {
                        if i.kind == HANDOFF_A_IFACE_INDEX {
                            s.ifaces.push(i.get_u32()?);
                        }
                    }
                }
                HANDOFF_A_SERVICE_POLICY => s.policy = Some(a.get_u32()?),
                HANDOFF_A_SERVICE_POLICY_PARAMS => {
                    s.params = PolicyParams::from_raw(&a.get_nested()?)?
                }
                HANDOFF_A_SERVICE_MAX_TEMPORARY => s.max_temporary = Some(a.get_u32()?),
                HANDOFF_A_SERVICE_MAX_FORWARD => s.max_forward = Some(a.get_u32()?),
                HANDOFF_A_SERVICE_SYN_TIMEOUT => s.syn_timeout = Some(a.get_u32()?),
                HANDOFF_A_SERVICE_IDLE_TIMEOUT => s.idle_timeout = Some(a.get_u32()?),
                HANDOFF_A_SERVICE_SYNCOOKIES => s.syncookies = Some(a.get_u32()?),
                HANDOFF_A_SERVICE_FIRST_DATA_WAIT => s.first_data_wait = Some(a.get_u32()?),
                HANDOFF_A_SERVICE_REQUEST_LIMIT => s.request_limit = Some(a.get_u32()?),
                _ => {}
            }
        }
        match (addr, port) {
            (Some(addr), Some(port)) => {
                s.addr = addr;
                s.port = port;
                Ok(s)
            }
            _ => Err(Error::Fail(
                "malformed reply from the kernel: service without address or port".to_string(),
            )),
        }
    }

    pub fn endpoint(&self) -> String {
        format_addr(self.addr, Some(self.port))
    }

    /// Fields of a service, after a leading `service VIP:PORT`.
    pub fn to_record(&self, ifname: IfName) -> Record {
        let mut r = Record::new();
        r.str("service", self.endpoint());
        if let Some(p) = self.protocol {
            r.str(
                "protocol",
                if p == libc::IPPROTO_TCP as u8 {
                    "tcp".to_string()
                } else {
                    p.to_string()
                },
            );
        }
        if !self.ifaces.is_empty() {
            r.push(
                "dev",
                Val::List(self.ifaces.iter().map(|i| Val::Str(ifname(*i))).collect()),
            );
        }
        if let Some(p) = self.policy {
            r.str("policy", name_of(POLICY_NAMES, p));
        }
        if let Some(c) = &self.params.cookie_name {
            r.str("name", c.clone());
        }
        if !self.params.rules.is_empty() {
            let rules = self
                .params
                .rules
                .iter()
                .map(|rule| {
                    let mut rr = Record::new();
                    rr.str("match", rule.match_text()).num("node", rule.node);
                    Val::Rec(rr)
                })
                .collect();
            r.push("rules", Val::List(rules));
        }
        if let Some(f) = self.params.fallback {
            r.str("fallback", name_of(POLICY_NAMES, f));
        }
        r.opt_num("max-temporary", self.max_temporary)
            .opt_num("max-forward", self.max_forward)
            .opt_num("syn-timeout", self.syn_timeout)
            .opt_num("idle-timeout", self.idle_timeout);
        if let Some(m) = self.syncookies {
            r.str("syncookies", name_of(SYNCOOKIES_NAMES, m));
        }
        r.opt_num("first-data-wait", self.first_data_wait)
            .opt_num("request-limit", self.request_limit);
        r
    }
}

// ---------------------------------------------------------------------------
// Peer

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Peer {
    pub id: u32,
    pub addr: Option<IpAddr>,
    pub port: Option<u16>,
    pub weight: Option<u32>,
    pub state: Option<u32>,
    /// Where sync reports go to and come from (with the node's sync port);
    /// not sent in PEER_ADD: the kernel takes the forward address.
    pub sync_addr: Option<IpAddr>,
    /// Replies and events only, once the peer reported: milliseconds since
    /// its last valid report, and its load as this node estimates it.
    pub report_age: Option<u32>,
    pub load: Option<u32>,
}

impl Peer {
    pub fn to_attrs(&self) -> Vec<Attr> {
        let mut a = vec![Attr::u32(HANDOFF_A_PEER_ID, self.id)];
        if let Some(ip) = self.addr {
            a.push(Attr::addr(HANDOFF_A_PEER_ADDR, ip));
        }
        if let Some(p) = self.port {
            a.push(Attr::u16(HANDOFF_A_PEER_PORT, p));
        }
        if let Some(w) = self.weight {
            a.push(Attr::u32(HANDOFF_A_PEER_WEIGHT, w));
        }
        if let Some(s) = self.state {
            a.push(Attr::u32(HANDOFF_A_PEER_STATE, s));
        }
        if let Some(ip) = self.sync_addr {
            a.push(Attr::addr(HANDOFF_A_PEER_SYNC_ADDR, ip));
        }
        if let Some(ms) = self.report_age {
            a.push(Attr::u32(HANDOFF_A_PEER_REPORT_AGE, ms));
        }
        if let Some(l) = self.load {
            a.push(Attr::u32(HANDOFF_A_PEER_LOAD, l));
        }
        a
    }

    pub fn from_raw(attrs: &[RawAttr]) -> Result<Peer, Error> {
        let mut p = Peer::default();
        for a in attrs {
            match a.kind {
                HANDOFF_A_PEER_ID => p.id = a.get_u32()?,
                HANDOFF_A_PEER_ADDR => p.addr = Some(a.get_addr()?),
                HANDOFF_A_PEER_PORT => p.port = Some(a.get_u16()?),
                HANDOFF_A_PEER_WEIGHT => p.weight = Some(a.get_u32()?),
                HANDOFF_A_PEER_STATE => p.state = Some(a.get_u32()?),
                HANDOFF_A_PEER_SYNC_ADDR => p.sync_addr = Some(a.get_addr()?),
                HANDOFF_A_PEER_REPORT_AGE => p.report_age = Some(a.get_u32()?),
                HANDOFF_A_PEER_LOAD => p.load = Some(a.get_u32()?),
                _ => {}
            }
        }
        Ok(p)
    }

    /// `peer ID address ADDR:PORT weight N state STATE`, then what the
    /// sync channel knows: `sync-address ADDR`, and once the peer reported,
    /// `report-age MS load N`.
    pub fn to_record(&self) -> Record {
        let mut r = Record::new();
        r.num("peer", self.id);
        if let Some(ip) = self.addr {
            r.str("address", format_addr(ip, self.port));
        }
        r.opt_num("weight", self.weight);
        if let Some(s) = self.state {
            r.str("state", name_of(PEER_STATE_NAMES, s));
        }
        if let Some(ip) = self.sync_addr {
            r.str("sync-address", format_addr(ip, None));
        }
        r.opt_num("report-age", self.report_age)
            .opt_num("load", self.load);
        r
    }
}

// ---------------------------------------------------------------------------
// Node

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Node {
    pub id: Option<u32>,
    pub forward_addr: Option<IpAddr>,
    pub forward_port: Option<u16>,
    pub sync_addr: Option<IpAddr>,
    pub sync_port: Option<u16>,
    pub weight: Option<u32>,
    /// Milliseconds between two sync reports to each peer (10..60000).
    pub sync_interval: Option<u32>,
    /// Sync intervals without a valid report after which an UP peer is
    /// DOWN (1..100).
    pub dead_intervals: Option<u32>,
}

impl Node {
    pub fn is_empty(&self) -> bool {
        *self == Node::default()
    }

    pub fn to_attrs(&self) -> Vec<Attr> {
        let mut a = Vec::new();
        if let Some(id) = self.id {
            a.push(Attr::u32(HANDOFF_A_NODE_ID, id));
        }
        if let Some(ip) = self.forward_addr {
            a.push(Attr::addr(HANDOFF_A_NODE_FORWARD_ADDR, ip));
        }
        if let Some(p) = self.forward_port {
            a.push(Attr::u16(HANDOFF_A_NODE_FORWARD_PORT, p));
        }
        if let Some(ip) = self.sync_addr {
            a.push(Attr::addr(HANDOFF_A_NODE_SYNC_ADDR, ip));
        }
        if let Some(p) = self.sync_port {
            a.push(Attr::u16(HANDOFF_A_NODE_SYNC_PORT, p));
        }
        let u32s = [
            (HANDOFF_A_NODE_WEIGHT, self.weight),
            (HANDOFF_A_NODE_SYNC_INTERVAL, self.sync_interval),
            (HANDOFF_A_NODE_DEAD_INTERVALS, self.dead_intervals),
        ];
        for (kind, v) in u32s {
            if let Some(v) = v {
                a.push(Attr::u32(kind, v));
            }
        }
        a
    }

    pub fn from_raw(attrs: &[RawAttr]) -> Result<Node, Error> {
        let mut n = Node::default();
        for a in attrs {
            match a.kind {
                HANDOFF_A_NODE_ID => n.id = Some(a.get_u32()?),
                HANDOFF_A_NODE_FORWARD_ADDR => n.forward_addr = Some(a.get_addr()?),
                HANDOFF_A_NODE_FORWARD_PORT => n.forward_port = Some(a.get_u16()?),
                HANDOFF_A_NODE_SYNC_ADDR => n.sync_addr = Some(a.get_addr()?),
                HANDOFF_A_NODE_SYNC_PORT => n.sync_port = Some(a.get_u16()?),
                HANDOFF_A_NODE_WEIGHT => n.weight = Some(a.get_u32()?),
                HANDOFF_A_NODE_SYNC_INTERVAL => n.sync_interval = Some(a.get_u32()?),
                HANDOFF_A_NODE_DEAD_INTERVALS => n.dead_intervals = Some(a.get_u32()?),
                _ => {}
            }
        }
        Ok(n)
    }

    pub fn to_record(&self) -> Record {
        let mut r = Record::new();
        r.opt_num("node", self.id);
        if let Some(ip) = self.forward_addr {
            r.str("forward", format_addr(ip, self.forward_port));
        }
        if let Some(ip) = self.sync_addr {
            r.str("sync", format_addr(ip, self.sync_port));
        }
        r.opt_num("weight", self.weight)
            .opt_num("sync-interval", self.sync_interval)
            .opt_num("dead-intervals", self.dead_intervals);
        r
    }
}

/// The reply of SELECT_GET (`service select`), HANDOFF_A_NODE with _ID: the
/// node a new connection of the client goes to, as `node N` (0: this node,
/// while it has no id).
pub fn selection_record(attrs: &[RawAttr]) -> Result<Record, Error> {
    let id = Node::from_raw(attrs)?.id.ok_or_else(|| {
        Error::Fail("malformed reply from the kernel: selection without node id".to_string())
    })?;
    let mut r = Record::new();
    r.num("node", id);
    Ok(r)
}

// ---------------------------------------------------------------------------
// Connection table entries (replies only)

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Conn {
    pub table: Option<u32>,
    pub family: Option<u16>,
    pub saddr: Option<IpAddr>,
    pub daddr: Option<IpAddr>,
    pub sport: Option<u16>,
    pub dport: Option<u16>,
    pub state: Option<u32>,
    pub client_isn: Option<u32>,
    pub local_isn: Option<u32>,
    pub peer_id: Option<u32>,
    pub age_ms: Option<u64>,
    pub flow_id: Option<u32>,
    pub conn_ref: Option<u32>,
    /// Forward table: client packets forwarded to the peer, and their bytes.
    pub packets: Option<u64>,
    pub bytes: Option<u64>,
}

impl Conn {
    /// Encoding exists for tests and symmetry; the kernel is the only sender.
    pub fn to_attrs(&self) -> Vec<Attr> {
        let mut a = Vec::new();
        let u32s = [
            (HANDOFF_A_CONN_TABLE, self.table),
            (HANDOFF_A_CONN_STATE, self.state),
            (HANDOFF_A_CONN_CLIENT_ISN, self.client_isn),
            (HANDOFF_A_CONN_LOCAL_ISN, self.local_isn),
            (HANDOFF_A_CONN_PEER_ID, self.peer_id),
            (HANDOFF_A_CONN_FLOW_ID, self.flow_id),
            (HANDOFF_A_CONN_REF, self.conn_ref),
        ];
        for (kind, v) in u32s {
            if let Some(v) = v {
                a.push(Attr::u32(kind, v));
            }
        }
        if let Some(f) = self.family {
            a.push(Attr::u16(HANDOFF_A_CONN_FAMILY, f));
        }
        if let Some(ip) = self.saddr {
            a.push(Attr::addr(HANDOFF_A_CONN_SADDR, ip));
        }
        if let Some(ip) = self.daddr {
            a.push(Attr::addr(HANDOFF_A_CONN_DADDR, ip));
        }
        if let Some(p) = self.sport {
            a.push(Attr::u16(HANDOFF_A_CONN_SPORT, p));
        }
        if let Some(p) = self.dport {
            a.push(Attr::u16(HANDOFF_A_CONN_DPORT, p));
        }
        let u64s = [
            (HANDOFF_A_CONN_AGE_MS, self.age_ms),
            (HANDOFF_A_CONN_PACKETS, self.packets),
            (HANDOFF_A_CONN_BYTES, self.bytes),
        ];
        for (kind, v) in u64s {
            if let Some(v) = v {
                a.push(Attr::u64(kind, v));
            }
        }
        a
    }

    pub fn from_raw(attrs: &[RawAttr]) -> Result<Conn, Error> {
        let mut c = Conn::default();
        for a in attrs {
            match a.kind {
                HANDOFF_A_CONN_TABLE => c.table = Some(a.get_u32()?),
                HANDOFF_A_CONN_FAMILY => c.family = Some(a.get_u16()?),
                HANDOFF_A_CONN_SADDR => c.saddr = Some(a.get_addr()?),
                HANDOFF_A_CONN_DADDR => c.daddr = Some(a.get_addr()?),
                HANDOFF_A_CONN_SPORT => c.sport = Some(a.get_u16()?),
                HANDOFF_A_CONN_DPORT => c.dport = Some(a.get_u16()?),
                HANDOFF_A_CONN_STATE => c.state = Some(a.get_u32()?),
                HANDOFF_A_CONN_CLIENT_ISN => c.client_isn = Some(a.get_u32()?),
                HANDOFF_A_CONN_LOCAL_ISN => c.local_isn = Some(a.get_u32()?),
                HANDOFF_A_CONN_PEER_ID => c.peer_id = Some(a.get_u32()?),
                HANDOFF_A_CONN_AGE_MS => c.age_ms = Some(a.get_u64()?),
                HANDOFF_A_CONN_FLOW_ID => c.flow_id = Some(a.get_u32()?),
                HANDOFF_A_CONN_REF => c.conn_ref = Some(a.get_u32()?),
                HANDOFF_A_CONN_PACKETS => c.packets = Some(a.get_u64()?),
                HANDOFF_A_CONN_BYTES => c.bytes = Some(a.get_u64()?),
                _ => {}
            }
        }
        Ok(c)
    }

    pub fn to_record(&self) -> Record {
        let mut r = Record::new();
        if let Some(t) = self.table {
            r.str("table", name_of(TABLE_NAMES, t));
        }
        if let Some(ip) = self.saddr {
            r.str("src", format_addr(ip, self.sport));
        }
        if let Some(ip) = self.daddr {
            r.str("dst", format_addr(ip, self.dport));
        }
        if let Some(s) = self.state {
            r.str("state", name_of(CONN_STATE_NAMES, s));
        }
        r.opt_num("client-isn", self.client_isn)
            .opt_num("local-isn", self.local_isn)
            .opt_num("peer", self.peer_id)
            .opt_num("flow-id", self.flow_id)
            .opt_num("conn-ref", self.conn_ref)
            .opt_num("packets", self.packets)
            .opt_num("bytes", self.bytes)
            .opt_num("age-ms", self.age_ms);
        r
    }
}

// ---------------------------------------------------------------------------
// Statistics

/// One STATS_GET message: a scope, what it names, and the counters.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Stats {
    pub scope: Option<u32>,
    pub service: Option<Service>,
    pub peer: Option<Peer>,
    /// (counter attribute, value), in the order received.
    pub counters: Vec<(u16, u64)>,
}

impl Stats {
    pub fn from_msg(attrs: &[RawAttr]) -> Result<Stats, Error> {
        let mut s = Stats::default();
        for a in attrs {
            match a.kind {
                HANDOFF_A_SCOPE => s.scope = Some(a.get_u32()?),
                HANDOFF_A_SERVICE => s.service = Some(Service::from_raw(&a.get_nested()?)?),
                HANDOFF_A_PEER => s.peer = Some(Peer::from_raw(&a.get_nested()?)?),
                HANDOFF_A_STATS => {
                    for c in a.get_nested()? {
                        if c.kind != HANDOFF_A_STATS_PAD && c.kind != HANDOFF_A_STATS_UNSPEC {
                            s.counters.push((c.kind, c.get_u64()?));
                        }
                    }
                }
                _ => {}
            }
        }
        Ok(s)
    }

    /// The message's attributes (for tests: the kernel is the only sender).
    pub fn to_msg_attrs(&self) -> Vec<Attr> {
        let mut a = Vec::new();
        if let Some(s) = self.scope {
            a.push(Attr::u32(HANDOFF_A_SCOPE, s));
        }
        if let Some(svc) = &self.service {
            a.push(Attr::nested(HANDOFF_A_SERVICE, svc.to_attrs()));
        }
        if let Some(p) = &self.peer {
            a.push(Attr::nested(HANDOFF_A_PEER, p.to_attrs()));
        }
        let counters = self
            .counters
            .iter()
            .map(|(k, v)| Attr::u64(*k, *v))
            .collect();
        a.push(Attr::nested(HANDOFF_A_STATS, counters));
        a
    }

    /// `global COUNTERS...`, `service VIP:PORT COUNTERS...`, `peer ID
    /// COUNTERS...`; JSON has `"scope"` in each object.  Every known counter
    /// is printed (0 when the kernel did not report it); unknown ones are
    /// skipped.
    pub fn to_record(&self) -> Record {
        let mut r = Record::new();
        let scope = self.scope.unwrap_or(HANDOFF_SCOPE_GLOBAL);
        let scope_name = Val::Str(name_of(SCOPE_NAMES, scope));
        match (scope, &self.service, &self.peer) {
            (HANDOFF_SCOPE_SERVICE, Some(svc), _) => {
                r.push_show("scope", scope_name, Show::JsonOnly);
                r.str("service", svc.endpoint());
            }
            (HANDOFF_SCOPE_PEER, _, Some(p)) => {
                r.push_show("scope", scope_name, Show::JsonOnly);
                r.num("peer", p.id);
            }
            _ => {
                r.push_show("scope", scope_name, Show::ValueOnly);
            }
        }
        for (kind, key) in STATS_NAMES {
            let v = self
                .counters
                .iter()
                .find(|(k, _)| k == kind)
                .map(|(_, v)| *v)
                .unwrap_or(0);
            r.num(key, v);
        }
        r
    }
}

// ---------------------------------------------------------------------------
// Events

/// A notification from the events group.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Event {
    PeerUp(Peer),
    PeerDown(Peer),
    ServiceChange {
        change: Option<u32>,
        service: Service,
    },
    Other(u8),
}

impl Event {
    pub fn from_msg(cmd: u8, attrs: &[RawAttr]) -> Result<Event, Error> {
        let nested = |kind: u16| -> Result<Vec<RawAttr>, Error> {
            match attrs.iter().find(|a| a.kind == kind) {
                Some(a) => a.get_nested(),
                None => Err(Error::Fail(format!(
                    "malformed event from the kernel: command {cmd} without attribute {kind}"
                ))),
            }
        };
        match cmd {
            HANDOFF_CMD_PEER_UP => Ok(Event::PeerUp(Peer::from_raw(&nested(HANDOFF_A_PEER)?)?)),
            HANDOFF_CMD_PEER_DOWN => Ok(Event::PeerDown(Peer::from_raw(&nested(HANDOFF_A_PEER)?)?)),
            HANDOFF_CMD_SERVICE_CHANGE => {
                let change = match attrs.iter().find(|a| a.kind == HANDOFF_A_CHANGE) {
                    Some(a) => Some(a.get_u32()?),
                    None => None,
                };
                let service = Service::from_raw(&nested(HANDOFF_A_SERVICE)?)?;
                Ok(Event::ServiceChange { change, service })
            }
            other => Ok(Event::Other(other)),
        }
    }

    /// `peer-up peer 2 ...`, `service-add service 10.0.0.1:80 ...`; JSON has
    /// `"event"` first.
    pub fn to_record(&self, ifname: IfName) -> Record {
        let (event, body) = match self {
            Event::PeerUp(p) => ("peer-up".to_string(), p.to_record()),
            Event::PeerDown(p) => ("peer-down".to_string(), p.to_record()),
            Event::ServiceChange { change, service } => {
                let what = change
                    .map(|c| name_of(CHANGE_NAMES, c))
                    .unwrap_or_else(|| "change".to_string());
                (format!("service-{what}"), service.to_record(ifname))
            }
            Event::Other(cmd) => {
                let mut r = Record::new();
                r.num("cmd", *cmd);
                ("unknown".to_string(), r)
            }
        };
        let mut r = Record::new();
        r.push_show("event", Val::Str(event), Show::ValueOnly);
        r.0.extend(body.0);
        r
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::attr::{emit_attrs, parse_attrs};

    fn roundtrip(attrs: Vec<Attr>) -> Vec<RawAttr> {
        parse_attrs(&emit_attrs(&attrs)).unwrap()
    }

    fn ifname(i: u32) -> String {
        format!("if{i}")
    }

    fn full_service() -> Service {
        Service {
            addr: "2001:db8::10".parse().unwrap(),
            port: 443,
            protocol: Some(6),
            ifaces: vec![2, 3],
            policy: Some(HANDOFF_POLICY_HOST_URI),
            params: PolicyParams {
                fallback: Some(HANDOFF_POLICY_WEIGHTED),
                cookie_name: None,
                rules: vec![
                    Rule {
                        host: Some("a.example".into()),
                        path: Some("/api".into()),
                        node: 2,
                    },
                    Rule {
                        host: None,
                        path: Some("/static".into()),
                        node: 3,
                    },
                    Rule {
                        host: Some("*.example".into()),
                        path: None,
                        node: 1,
                    },
                ],
            },
            max_temporary: Some(1000),
            max_forward: Some(2000),
            syn_timeout: Some(3000),
            idle_timeout: Some(300_000),
            syncookies: Some(HANDOFF_SYNCOOKIES_ALWAYS),
            first_data_wait: Some(500),
            request_limit: Some(8192),
        }
    }

    #[test]
    fn service_roundtrip() {
        let s = full_service();
        assert_eq!(Service::from_raw(&roundtrip(s.to_attrs())).unwrap(), s);
        let minimal = Service::new("10.0.0.1".parse().unwrap(), 80);
        assert_eq!(minimal.to_attrs().len(), 2);
        assert_eq!(
            Service::from_raw(&roundtrip(minimal.to_attrs())).unwrap(),
            minimal
        );
    }

    #[test]
    fn service_without_key_is_rejected() {
        let raw = roundtrip(vec![Attr::u16(HANDOFF_A_SERVICE_PORT, 80)]);
        assert!(Service::from_raw(&raw).is_err());
    }

    #[test]
    fn service_record() {
        let r = full_service().to_record(&ifname);
        assert_eq!(
            r.human(),
            "service [2001:db8::10]:443 protocol tcp dev if2 dev if3 policy host-uri \
             match a.example/api node 2 match /static node 3 match *.example node 1 \
             fallback weighted max-temporary 1000 max-forward 2000 syn-timeout 3000 idle-timeout 300000 \
             syncookies always first-data-wait 500 request-limit 8192"
        );
        let j = r.json();
        assert_eq!(j["rules"][1]["match"], "/static");
        assert_eq!(j["dev"][0], "if2");
        assert_eq!(j["idle-timeout"], 300_000);
        assert_eq!(j["syncookies"], "always");
        assert_eq!(j["first-data-wait"], 500);
        assert_eq!(j["request-limit"], 8192);
    }

    /// A service as the kernel reports it: every attribute, the mode
    /// included (AUTO when it was not set), right after idle-timeout.
    #[test]
    fn service_reply_with_syncookies() {
        let raw = roundtrip(vec![
            Attr::addr(HANDOFF_A_SERVICE_ADDR, "10.0.0.100".parse().unwrap()),
            Attr::u16(HANDOFF_A_SERVICE_PORT, 80),
            Attr::u8(HANDOFF_A_SERVICE_PROTOCOL, 6),
            Attr::u32(HANDOFF_A_SERVICE_POLICY, HANDOFF_POLICY_LOCAL),
            Attr::u32(HANDOFF_A_SERVICE_MAX_TEMPORARY, 16384),
            Attr::u32(HANDOFF_A_SERVICE_MAX_FORWARD, 65536),
            Attr::u32(HANDOFF_A_SERVICE_SYN_TIMEOUT, 10000),
            Attr::u32(HANDOFF_A_SERVICE_IDLE_TIMEOUT, 900000),
            Attr::u32(HANDOFF_A_SERVICE_SYNCOOKIES, HANDOFF_SYNCOOKIES_AUTO),
            Attr::u32(HANDOFF_A_SERVICE_FIRST_DATA_WAIT, 200),
            Attr::u32(HANDOFF_A_SERVICE_REQUEST_LIMIT, 16384),
        ]);
        let s = Service::from_raw(&raw).unwrap();
        assert_eq!(s.syncookies, Some(HANDOFF_SYNCOOKIES_AUTO));
        assert_eq!(s.first_data_wait, Some(200));
        assert_eq!(s.request_limit, Some(16384));
        let r = s.to_record(&ifname);
        assert_eq!(
            r.human(),
            "service 10.0.0.100:80 protocol tcp policy local max-temporary 16384 \
             max-forward 65536 syn-timeout 10000 idle-timeout 900000 syncookies auto \
             first-data-wait 200 request-limit 16384"
        );
        let j = r.json();
        assert_eq!(j["syncookies"], "auto");
        assert_eq!(j["first-data-wait"], 200);
        assert_eq!(j["request-limit"], 16384);
        let keys: Vec<&String> = j.as_object().unwrap().keys().collect();
        assert_eq!(
            keys[keys.len() - 4..],
            [
                "idle-timeout",
                "syncookies",
                "first-data-wait",
                "request-limit"
            ]
        );

        // Sent only when given.
        let mut req = Service::new("10.0.0.1".parse().unwrap(), 80);
        assert!(req
            .to_attrs()
            .iter()
            .all(|a| a.kind != HANDOFF_A_SERVICE_SYNCOOKIES));
        req.syncookies = Some(HANDOFF_SYNCOOKIES_ALWAYS);
        let raw = roundtrip(req.to_attrs());
        let a = raw
            .iter()
            .find(|a| a.kind == HANDOFF_A_SERVICE_SYNCOOKIES)
            .unwrap();
        assert_eq!(a.get_u32().unwrap(), HANDOFF_SYNCOOKIES_ALWAYS);

        // A mode this CLI does not know prints as its number.
        req.syncookies = Some(9);
        assert!(req.to_record(&ifname).human().ends_with(" syncookies 9"));
    }

    /// `first-data-wait` is HANDOFF_A_SERVICE_FIRST_DATA_WAIT, a u32 in
    /// milliseconds, after the syncookies mode; 0 (bound at the handshake
    /// ACK) is a value like any other: sent, and shown.
    #[test]
    fn service_first_data_wait() {
        let mut req = Service::new("10.0.0.1".parse().unwrap(), 80);
        assert!(req
            .to_attrs()
            .iter()
            .all(|a| a.kind != HANDOFF_A_SERVICE_FIRST_DATA_WAIT));
        assert!(!req.to_record(&ifname).human().contains("first-data-wait"));
        req.syncookies = Some(HANDOFF_SYNCOOKIES_AUTO);
        req.first_data_wait = Some(0);
        let raw = roundtrip(req.to_attrs());
        let kinds: Vec<u16> = raw.iter().map(|a| a.kind).collect();
        assert_eq!(
            kinds[kinds.len() - 2..],
            [
                HANDOFF_A_SERVICE_SYNCOOKIES,
                HANDOFF_A_SERVICE_FIRST_DATA_WAIT
            ]
        );
        assert_eq!(raw.last().unwrap().get_u32().unwrap(), 0);
        let s = Service::from_raw(&raw).unwrap();
        assert_eq!(s, req);
        let r = s.to_record(&ifname);
        assert_eq!(
            r.human(),
            "service 10.0.0.1:80 syncookies auto first-data-wait 0"
        );
        let j = r.json();
        assert_eq!(j["first-data-wait"], 0);
        let keys: Vec<&String> = j.as_object().unwrap().keys().collect();
        assert_eq!(keys.last().unwrap().as_str(), "first-data-wait");
        req.first_data_wait = Some(60_000);
        assert_eq!(
            Service::from_raw(&roundtrip(req.to_attrs()))
                .unwrap()
                .first_data_wait,
            Some(60_000)
        );
    }

    /// `request-limit` is HANDOFF_A_SERVICE_REQUEST_LIMIT, a u32 in bytes,
    /// after first-data-wait, the last of a service: sent and shown only
    /// when there.
    #[test]
    fn service_request_limit() {
        let mut req = Service::new("10.0.0.1".parse().unwrap(), 80);
        assert!(req
            .to_attrs()
            .iter()
            .all(|a| a.kind != HANDOFF_A_SERVICE_REQUEST_LIMIT));
        assert!(!req.to_record(&ifname).human().contains("request-limit"));
        req.policy = Some(HANDOFF_POLICY_TLS_SNI);
        req.first_data_wait = Some(200);
        req.request_limit = Some(1);
        let raw = roundtrip(req.to_attrs());
        let kinds: Vec<u16> = raw.iter().map(|a| a.kind).collect();
        assert_eq!(
            kinds[kinds.len() - 2..],
            [
                HANDOFF_A_SERVICE_FIRST_DATA_WAIT,
                HANDOFF_A_SERVICE_REQUEST_LIMIT
            ]
        );
        assert_eq!(raw.last().unwrap().get_u32().unwrap(), 1);
        let s = Service::from_raw(&raw).unwrap();
        assert_eq!(s, req);
        let r = s.to_record(&ifname);
        assert_eq!(
            r.human(),
            "service 10.0.0.1:80 policy tls-sni first-data-wait 200 request-limit 1"
        );
        let j = r.json();
        assert_eq!(j["request-limit"], 1);
        let keys: Vec<&String> = j.as_object().unwrap().keys().collect();
        assert_eq!(keys.last().unwrap().as_str(), "request-limit");
        // Alone (without first-data-wait) too.
        req.first_data_wait = None;
        req.request_limit = Some(16_384);
        let s = Service::from_raw(&roundtrip(req.to_attrs())).unwrap();
        assert_eq!(s.request_limit, Some(16_384));
        assert_eq!(
            s.to_record(&ifname).human(),
            "service 10.0.0.1:80 policy tls-sni request-limit 16384"
        );
    }

    #[test]
    fn unknown_attributes_are_ignored() {
        let mut attrs = Peer {
            id: 4,
            ..Default::default()
        }
        .to_attrs();
        attrs.push(Attr::u32(200, 1));
        assert_eq!(Peer::from_raw(&roundtrip(attrs)).unwrap().id, 4);
    }

    #[test]
    fn peer_node_conn_roundtrip() {
        let p = Peer {
            id: 9,
            addr: Some("10.0.0.9".parse().unwrap()),
            port: Some(7000),
            weight: Some(0),
            state: Some(HANDOFF_PEER_STATE_UP),
            ..Default::default()
        };
        assert_eq!(Peer::from_raw(&roundtrip(p.to_attrs())).unwrap(), p);
        assert_eq!(
            p.to_record().human(),
            "peer 9 address 10.0.0.9:7000 weight 0 state up"
        );

        let n = Node {
            id: Some(1),
            forward_addr: Some("10.0.0.1".parse().unwrap()),
            forward_port: Some(7000),
            sync_addr: Some("ff02::1234".parse().unwrap()),
            sync_port: Some(7001),
            weight: Some(5),
            sync_interval: Some(250),
            dead_intervals: Some(4),
        };
        assert_eq!(Node::from_raw(&roundtrip(n.to_attrs())).unwrap(), n);
        assert_eq!(
            n.to_record().human(),
            "node 1 forward 10.0.0.1:7000 sync [ff02::1234]:7001 weight 5 \
             sync-interval 250 dead-intervals 4"
        );

        let c = Conn {
            table: Some(HANDOFF_TABLE_FORWARD),
            family: Some(libc::AF_INET as u16),
            saddr: Some("192.0.2.7".parse().unwrap()),
            daddr: Some("10.0.0.1".parse().unwrap()),
            sport: Some(51000),
            dport: Some(80),
            state: Some(HANDOFF_CONN_STATE_FORWARDED),
            client_isn: Some(1),
            local_isn: Some(u32::MAX),
            peer_id: Some(2),
            age_ms: Some(1 << 40),
            flow_id: Some(77),
            conn_ref: Some(5),
            packets: Some(12),
            bytes: Some(u64::MAX),
        };
        assert_eq!(Conn::from_raw(&roundtrip(c.to_attrs())).unwrap(), c);
        assert_eq!(
            c.to_record().human(),
            "table forward src 192.0.2.7:51000 dst 10.0.0.1:80 state forwarded client-isn 1 \
             local-isn 4294967295 peer 2 flow-id 77 conn-ref 5 packets 12 \
             bytes 18446744073709551615 age-ms 1099511627776"
        );
    }

    /// A peer as the kernel reports it: the sync address always (the
    /// forward address when none was given), the report age and the load
    /// only once the peer reported; all after the state.
    #[test]
    fn peer_sync_fields() {
        let raw = roundtrip(vec![
            Attr::u32(HANDOFF_A_PEER_ID, 2),
            Attr::addr(HANDOFF_A_PEER_ADDR, "10.0.0.2".parse().unwrap()),
            Attr::u16(HANDOFF_A_PEER_PORT, 7000),
            Attr::u32(HANDOFF_A_PEER_WEIGHT, 1),
            Attr::u32(HANDOFF_A_PEER_STATE, HANDOFF_PEER_STATE_UP),
            Attr::addr(HANDOFF_A_PEER_SYNC_ADDR, "10.1.0.2".parse().unwrap()),
            Attr::u32(HANDOFF_A_PEER_REPORT_AGE, 40),
            Attr::u32(HANDOFF_A_PEER_LOAD, 12),
        ]);
        let p = Peer::from_raw(&raw).unwrap();
        assert_eq!(p.sync_addr, Some("10.1.0.2".parse().unwrap()));
        assert_eq!((p.report_age, p.load), (Some(40), Some(12)));
        assert_eq!(Peer::from_raw(&roundtrip(p.to_attrs())).unwrap(), p);
        let r = p.to_record();
        assert_eq!(
            r.human(),
            "peer 2 address 10.0.0.2:7000 weight 1 state up sync-address 10.1.0.2 \
             report-age 40 load 12"
        );
        let j = r.json();
        assert_eq!(j["sync-address"], "10.1.0.2");
        assert_eq!(j["report-age"], 40);
        assert_eq!(j["load"], 12);
        let keys: Vec<&String> = j.as_object().unwrap().keys().collect();
        assert_eq!(
            keys,
            [
                "peer",
                "address",
                "weight",
                "state",
                "sync-address",
                "report-age",
                "load"
            ]
        );

        // Before its first report: no age, no load; 0 is a value like any
        // other.
        let fresh = Peer {
            id: 3,
            addr: Some("2001:db8::3".parse().unwrap()),
            port: Some(7000),
            weight: Some(1),
            state: Some(HANDOFF_PEER_STATE_UNKNOWN),
            sync_addr: Some("2001:db8::3".parse().unwrap()),
            ..Default::default()
        };
        let r = Peer::from_raw(&roundtrip(fresh.to_attrs()))
            .unwrap()
            .to_record();
        assert_eq!(
            r.human(),
            "peer 3 address [2001:db8::3]:7000 weight 1 state unknown sync-address 2001:db8::3"
        );
        assert!(r.json().get("report-age").is_none() && r.json().get("load").is_none());
        let down = Peer {
            state: Some(HANDOFF_PEER_STATE_DOWN),
            report_age: Some(300),
            load: Some(0),
            ..fresh
        };
        assert!(down
            .to_record()
            .human()
            .ends_with(" state down sync-address 2001:db8::3 report-age 300 load 0"));

        // PEER_ADD sends the sync address only when given.
        let req = Peer {
            id: 4,
            addr: Some("10.0.0.4".parse().unwrap()),
            ..Default::default()
        };
        assert!(req
            .to_attrs()
            .iter()
            .all(|a| a.kind != HANDOFF_A_PEER_SYNC_ADDR));
    }

    /// `sync-interval` and `dead-intervals`: u32s after the weight, in
    /// requests only when given, printed after the existing fields.
    #[test]
    fn node_sync_timers() {
        let req = Node {
            sync_interval: Some(10),
            dead_intervals: Some(100),
            ..Default::default()
        };
        let raw = roundtrip(req.to_attrs());
        let kinds: Vec<u16> = raw.iter().map(|a| a.kind).collect();
        assert_eq!(
            kinds,
            [HANDOFF_A_NODE_SYNC_INTERVAL, HANDOFF_A_NODE_DEAD_INTERVALS]
        );
        assert_eq!(Node::from_raw(&raw).unwrap(), req);
        let only_weight = Node {
            weight: Some(1),
            ..Default::default()
        };
        assert_eq!(only_weight.to_attrs().len(), 1);

        // As the kernel reports it: every attribute, the defaults included.
        let raw = roundtrip(vec![
            Attr::u32(HANDOFF_A_NODE_ID, 1),
            Attr::addr(HANDOFF_A_NODE_FORWARD_ADDR, "10.0.0.1".parse().unwrap()),
            Attr::u16(HANDOFF_A_NODE_FORWARD_PORT, 7000),
            Attr::addr(HANDOFF_A_NODE_SYNC_ADDR, "10.1.0.1".parse().unwrap()),
            Attr::u16(HANDOFF_A_NODE_SYNC_PORT, 7001),
            Attr::u32(HANDOFF_A_NODE_WEIGHT, 1),
            Attr::u32(HANDOFF_A_NODE_SYNC_INTERVAL, 100),
            Attr::u32(HANDOFF_A_NODE_DEAD_INTERVALS, 3),
        ]);
        let r = Node::from_raw(&raw).unwrap().to_record();
        assert_eq!(
            r.human(),
            "node 1 forward 10.0.0.1:7000 sync 10.1.0.1:7001 weight 1 sync-interval 100 \
             dead-intervals 3"
        );
        let j = r.json();
        assert_eq!(j["sync-interval"], 100);
        assert_eq!(j["dead-intervals"], 3);
        let keys: Vec<&String> = j.as_object().unwrap().keys().collect();
        assert_eq!(
            keys[keys.len() - 3..],
            ["weight", "sync-interval", "dead-intervals"]
        );
    }

    /// A forward entry as the kernel puts it: the 64-bit values each after a
    /// HANDOFF_A_CONN_PAD (nla_put_u64_64bit()), which is skipped.
    #[test]
    fn forward_entry_from_the_kernel() {
        let pad = || Attr::bytes(HANDOFF_A_CONN_PAD, vec![]);
        let raw = roundtrip(vec![
            Attr::u32(HANDOFF_A_CONN_TABLE, HANDOFF_TABLE_FORWARD),
            Attr::u16(HANDOFF_A_CONN_FAMILY, libc::AF_INET6 as u16),
            Attr::addr(HANDOFF_A_CONN_SADDR, "2001:db8::7".parse().unwrap()),
            Attr::addr(HANDOFF_A_CONN_DADDR, "2001:db8::1".parse().unwrap()),
            Attr::u16(HANDOFF_A_CONN_SPORT, 40000),
            Attr::u16(HANDOFF_A_CONN_DPORT, 443),
            Attr::u32(HANDOFF_A_CONN_STATE, HANDOFF_CONN_STATE_MIGRATING),
            Attr::u32(HANDOFF_A_CONN_CLIENT_ISN, 10),
            Attr::u32(HANDOFF_A_CONN_LOCAL_ISN, 20),
            Attr::u32(HANDOFF_A_CONN_PEER_ID, 3),
            pad(),
            Attr::u64(HANDOFF_A_CONN_AGE_MS, 250),
            Attr::u32(HANDOFF_A_CONN_FLOW_ID, 0),
            Attr::u32(HANDOFF_A_CONN_REF, 9),
            pad(),
            Attr::u64(HANDOFF_A_CONN_PACKETS, 12),
            pad(),
            Attr::u64(HANDOFF_A_CONN_BYTES, 3456),
        ]);
        let c = Conn::from_raw(&raw).unwrap();
        assert_eq!((c.packets, c.bytes), (Some(12), Some(3456)));
        let rec = c.to_record();
        assert_eq!(
            rec.human(),
            "table forward src [2001:db8::7]:40000 dst [2001:db8::1]:443 state migrating \
             client-isn 10 local-isn 20 peer 3 flow-id 0 conn-ref 9 packets 12 bytes 3456 age-ms 250"
        );
        let j = rec.json();
        assert_eq!(j["packets"], 12);
        assert_eq!(j["bytes"], 3456);
        assert_eq!(j["state"], "migrating");
        assert_eq!(j["peer"], 3);
        assert_eq!(j["flow-id"], 0);
        assert_eq!(j["age-ms"], 250);

        // A temporary entry has neither: no packets or bytes keys at all.
        let t = Conn {
            table: Some(HANDOFF_TABLE_TEMPORARY),
            state: Some(HANDOFF_CONN_STATE_SYN_RECV),
            age_ms: Some(3),
            ..Default::default()
        };
        let rec = Conn::from_raw(&roundtrip(t.to_attrs()))
            .unwrap()
            .to_record();
        assert_eq!(rec.human(), "table temporary state syn-recv age-ms 3");
        assert!(rec.json().get("packets").is_none() && rec.json().get("bytes").is_none());

        // A 64-bit counter of the wrong size is a malformed reply.
        let raw = roundtrip(vec![Attr::u16(HANDOFF_A_CONN_BYTES, 1)]);
        assert_eq!(
            Conn::from_raw(&raw).unwrap_err(),
            Error::Fail(format!(
                "malformed reply from the kernel: attribute {HANDOFF_A_CONN_BYTES} has length 2"
            ))
        );
    }

    #[test]
    fn stats_records() {
        let g = Stats {
            scope: Some(HANDOFF_SCOPE_GLOBAL),
            counters: vec![
                (HANDOFF_A_STATS_SYN_ANSWERED, 5),
                (HANDOFF_A_STATS_FORWARD_ENTRIES, 2),
                (HANDOFF_A_STATS_NEW_SENT, 7),
                (HANDOFF_A_STATS_ADOPTED_ENTRIES, 3),
                (HANDOFF_A_STATS_SYNCOOKIES_SENT, 11),
                (HANDOFF_A_STATS_SYNC_SENT, 20),
                (HANDOFF_A_STATS_SYNC_RECEIVED, 19),
                (HANDOFF_A_STATS_SYNC_REPLAY, 1),
                (999, 1),
            ],
            ..Default::default()
        };
        let raw = roundtrip(g.to_msg_attrs());
        let back = Stats::from_msg(&raw).unwrap();
        assert_eq!(back, g);
        let line = back.to_record().human();
        assert!(
            line.starts_with("global syn_answered 5 syn_retransmit 0 "),
            "{line}"
        );
        assert!(
            line.ends_with(
                " forward_entries 2 xmit_failed 0 new_sent 7 new_retransmit 0 new_refused 0 \
                 new_timeout 0 fallback_local 0 data_early 0 data_dropped 0 dgram_not_peer 0 \
                 dgram_malformed 0 refused 0 flows_ended 0 adopted_entries 3 syncookies_sent 11 \
                 sync_sent 20 sync_received 19 sync_not_peer 0 sync_malformed 0 sync_replay 1 \
                 announce_sent 0 announce_received 0 announce_dropped 0 relayed 0 relay_entries 0 \
                 request_held 0 request_bytes 0"
            ),
            "{line}"
        );
        assert!(!line.contains(" 999 "), "{line}");
        let j = back.to_record().json();
        assert_eq!(j["scope"], "global");
        assert_eq!(j["new_sent"], 7);
        assert_eq!(j["adopted_entries"], 3);
        assert_eq!(j["syncookies_sent"], 11);
        assert_eq!(j["sync_sent"], 20);
        assert_eq!(j["sync_not_peer"], 0);
        assert_eq!(j["sync_replay"], 1);
        assert_eq!(j.as_object().unwrap().len(), 1 + STATS_NAMES.len());

        let s = Stats {
            scope: Some(HANDOFF_SCOPE_SERVICE),
            service: Some(Service::new("10.0.0.1".parse().unwrap(), 80)),
            ..Default::default()
        };
        let rec = Stats::from_msg(&roundtrip(s.to_msg_attrs()))
            .unwrap()
            .to_record();
        assert!(rec
            .human()
            .starts_with("service 10.0.0.1:80 syn_answered 0"));
        assert_eq!(rec.json()["scope"], "service");

        let p = Stats {
            scope: Some(HANDOFF_SCOPE_PEER),
            peer: Some(Peer {
                id: 3,
                ..Default::default()
            }),
            ..Default::default()
        };
        let rec = Stats::from_msg(&roundtrip(p.to_msg_attrs()))
            .unwrap()
            .to_record();
        assert!(rec.human().starts_with("peer 3 syn_answered 0"));
        assert!(rec.human().ends_with(
            " announce_sent 0 announce_received 0 announce_dropped 0 relayed 0 relay_entries 0 \
             request_held 0 request_bytes 0"
        ));
        assert_eq!(rec.json()["peer"], 3);
    }

    #[test]
    fn events() {
        let peer = Peer {
            id: 2,
            state: Some(HANDOFF_PEER_STATE_DOWN),
            ..Default::default()
        };
        let raw = roundtrip(vec![Attr::nested(HANDOFF_A_PEER, peer.to_attrs())]);
        let ev = Event::from_msg(HANDOFF_CMD_PEER_DOWN, &raw).unwrap();
        assert_eq!(ev.to_record(&ifname).human(), "peer-down peer 2 state down");

        // The peer line of `peer show`, sync fields included.
        let peer = Peer {
            id: 2,
            addr: Some("10.0.0.2".parse().unwrap()),
            port: Some(7000),
            weight: Some(1),
            state: Some(HANDOFF_PEER_STATE_UP),
            sync_addr: Some("10.0.0.2".parse().unwrap()),
            report_age: Some(0),
            load: Some(7),
        };
        let raw = roundtrip(vec![Attr::nested(HANDOFF_A_PEER, peer.to_attrs())]);
        let ev = Event::from_msg(HANDOFF_CMD_PEER_UP, &raw).unwrap();
        assert_eq!(ev, Event::PeerUp(peer.clone()));
        let rec = ev.to_record(&ifname);
        assert_eq!(rec.human(), format!("peer-up {}", peer.to_record().human()));
        assert_eq!(
            rec.human(),
            "peer-up peer 2 address 10.0.0.2:7000 weight 1 state up sync-address 10.0.0.2 \
             report-age 0 load 7"
        );
        let j = rec.json();
        assert_eq!(j["event"], "peer-up");
        assert_eq!(j["sync-address"], "10.0.0.2");
        assert_eq!(j["report-age"], 0);
        assert_eq!(j["load"], 7);
        let ev = Event::from_msg(HANDOFF_CMD_PEER_DOWN, &raw).unwrap();
        assert!(ev
            .to_record(&ifname)
            .human()
            .starts_with("peer-down peer 2 "));

        let svc = Service::new("10.0.0.1".parse().unwrap(), 80);
        let raw = roundtrip(vec![
            Attr::u32(HANDOFF_A_CHANGE, HANDOFF_CHANGE_ADD),
            Attr::nested(HANDOFF_A_SERVICE, svc.to_attrs()),
        ]);
        let ev = Event::from_msg(HANDOFF_CMD_SERVICE_CHANGE, &raw).unwrap();
        let rec = ev.to_record(&ifname);
        assert_eq!(rec.human(), "service-add service 10.0.0.1:80");
        assert_eq!(rec.json()["event"], "service-add");

        assert!(Event::from_msg(HANDOFF_CMD_PEER_UP, &[]).is_err());
        assert_eq!(
            Event::from_msg(99, &[]).unwrap().to_record(&ifname).human(),
            "unknown cmd 99"
        );
    }

    /// JSON objects have the human keys, and every human `key value` pair
    /// is a JSON key.
    #[test]
    fn json_keys_are_the_human_keys() {
        let svc = full_service();
        let peer = Peer {
            id: 2,
            addr: Some("10.0.0.2".parse().unwrap()),
            port: Some(7000),
            weight: Some(1),
            state: Some(2),
            sync_addr: Some("10.0.0.2".parse().unwrap()),
            report_age: Some(30),
            load: Some(4),
        };
        let node = Node {
            id: Some(1),
            weight: Some(3),
            sync_interval: Some(100),
            dead_intervals: Some(3),
            ..Default::default()
        };
        let conn = Conn {
            table: Some(1),
            saddr: Some("192.0.2.1".parse().unwrap()),
            sport: Some(1),
            state: Some(1),
            age_ms: Some(5),
            packets: Some(6),
            bytes: Some(7),
            ..Default::default()
        };
        for rec in [
            svc.to_record(&ifname),
            peer.to_record(),
            node.to_record(),
            conn.to_record(),
        ] {
            let json = rec.json();
            let obj = json.as_object().unwrap();
            let keys: Vec<&str> = rec.0.iter().map(|f| f.key).collect();
            assert_eq!(obj.keys().map(String::as_str).collect::<Vec<_>>(), keys);
            let human = rec.human();
            for f in &rec.0 {
                if f.show == Show::Pair && !matches!(f.val, Val::List(_) | Val::Rec(_)) {
                    assert!(
                        human.contains(&format!("{} ", f.key)),
                        "{} missing in {human}",
                        f.key
                    );
                }
            }
            // Round trip through text.
            let text = serde_json::to_string(&json).unwrap();
            assert_eq!(
                serde_json::from_str::<serde_json::Value>(&text).unwrap(),
                json
            );
        }
    }

    /// Policy hash: a name like the others in show and JSON, no parameters,
    /// not a fallback.
    #[test]
    fn hash_policy() {
        assert_eq!(name_of(POLICY_NAMES, HANDOFF_POLICY_HASH), "hash");
        assert!(FALLBACK_NAMES.iter().all(|(_, n)| *n != "hash"));
        let raw = roundtrip(vec![
            Attr::addr(HANDOFF_A_SERVICE_ADDR, "192.0.2.40".parse().unwrap()),
            Attr::u16(HANDOFF_A_SERVICE_PORT, 80),
            Attr::u8(HANDOFF_A_SERVICE_PROTOCOL, 6),
            Attr::u32(HANDOFF_A_SERVICE_POLICY, HANDOFF_POLICY_HASH),
            Attr::u32(HANDOFF_A_SERVICE_MAX_TEMPORARY, 16384),
        ]);
        let s = Service::from_raw(&raw).unwrap();
        assert_eq!(s.policy, Some(HANDOFF_POLICY_HASH));
        let r = s.to_record(&ifname);
        assert_eq!(
            r.human(),
            "service 192.0.2.40:80 protocol tcp policy hash max-temporary 16384"
        );
        assert_eq!(r.json()["policy"], "hash");
    }

    /// SELECT_GET's reply: `node N`, `{"node":N}`; 0 is a value (this node
    /// without an id); attributes other than the id are ignored.
    #[test]
    fn selection() {
        for id in [0, 3, u32::MAX] {
            let raw = roundtrip(vec![Attr::u32(HANDOFF_A_NODE_ID, id)]);
            let r = selection_record(&raw).unwrap();
            assert_eq!(r.human(), format!("node {id}"));
            assert_eq!(r.json(), serde_json::json!({ "node": id }));
        }
        let raw = roundtrip(vec![
            Attr::u32(HANDOFF_A_NODE_WEIGHT, 1),
            Attr::u32(HANDOFF_A_NODE_ID, 2),
        ]);
        assert_eq!(selection_record(&raw).unwrap().human(), "node 2");
        let raw = roundtrip(vec![Attr::u32(HANDOFF_A_NODE_WEIGHT, 1)]);
        assert_eq!(
            selection_record(&raw).unwrap_err(),
            Error::Fail("malformed reply from the kernel: selection without node id".into())
        );
        let raw = roundtrip(vec![Attr::u16(HANDOFF_A_NODE_ID, 2)]);
        assert!(selection_record(&raw).is_err());
    }

    #[test]
    fn unknown_enum_values_print_as_numbers() {
        assert_eq!(name_of(POLICY_NAMES, 42), "42");
        assert_eq!(name_of(POLICY_NAMES, HANDOFF_POLICY_TLS_SNI), "tls-sni");
        assert_eq!(name_of(SYNCOOKIES_NAMES, HANDOFF_SYNCOOKIES_AUTO), "auto");
        assert_eq!(
            name_of(SYNCOOKIES_NAMES, HANDOFF_SYNCOOKIES_ALWAYS),
            "always"
        );
        assert_eq!(name_of(SYNCOOKIES_NAMES, 0), "0");
    }
}
