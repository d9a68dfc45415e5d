// SPDX-License-Identifier: GPL-2.0

//! The generic netlink family "handoff" (`include/uapi/linux/handoff.h`):
//! node settings, services, peers, connection tables and counters of the
//! instance of the requester's namespace, and events about them.
//!
//! Requests are validated in full before anything changes: the policies
//! below reject malformed attributes (types, lengths, ports and ids of 0,
//! address lengths), the handlers then check what the policies cannot
//! express (required attributes, combinations, limits, existence) and set
//! an extended ACK message naming the offending attribute. Changes happen
//! under the namespace's configuration lock, after the last check.
//! See `Documentation/handoff/netlink.rst`.

use crate::config::{
    Config, Endpoint, IpAddr, Peer, PeerState, Policy, Rule, ServiceKey, ServiceSpec, ServiceView,
    DEFAULT_WEIGHT, FIRST_DATA_WAIT, IDLE_TIMEOUT, IPPROTO_TCP, MAX_FORWARD, MAX_IFACES,
    MAX_PARAM_BYTES, MAX_PEERS, MAX_RULES, MAX_SERVICES, MAX_TEMPORARY, REQUEST_LIMIT, SYN_TIMEOUT,
};
use crate::netns::{ConnCursor, ConnEntry, HandoffNet, NodeError, Table};
use crate::peers::PeerRt;
use crate::proto::select::{Choice, Policy as SelectPolicy};
use crate::stats::{Counter, Counters};
use crate::sync::PeerSync;
use crate::uapi::*;
use kernel::c_str;
use kernel::net::genetlink::{
    self, Attr, AttrPolicy, AttrTable, BinaryCheck, Dump, DumpProgress, Family, Info, McGroup,
    Message, Op, OpKind, Put, Registration, Request,
};
use kernel::net::namespace::Namespace;
use kernel::prelude::*;
use kernel::str::CStr;

/// The family's registration, done at module init.
pub(crate) static FAMILY: Registration<Netlink> = Registration::new();

/// Index of `HANDOFF_GENL_MCGRP_EVENTS` in [`Netlink::MCGRPS`].
const GROUP_EVENTS: u32 = 0;

/// `AF_INET` and `AF_INET6`.
const AF_INET: u16 = 2;
const AF_INET6: u16 = 10;

// ---------------------------------------------------------------------------
// Policies

/// An address attribute is 4 or 16 bytes.
struct AddrLen;

impl BinaryCheck for AddrLen {
    fn check(payload: &[u8]) -> Result<(), &'static CStr> {
        match payload.len() {
            4 | 16 => Ok(()),
            _ => Err(c_str!("address must be 4 (IPv4) or 16 (IPv6) bytes")),
        }
    }
}

const ADDR: AttrPolicy = AttrPolicy::binary_checked::<AddrLen>(16);
const PORT: AttrPolicy = AttrPolicy::u16().min(1);
const ID: AttrPolicy = AttrPolicy::u32().min(1);
const STRING: AttrPolicy = AttrPolicy::nul_string(HANDOFF_STR_MAX as u16 - 1);

/// Number of entries of the policy of an attribute set whose highest type
/// is `max`.
const fn n(max: u16) -> usize {
    max as usize + 1
}

static NODE_POLICY: [AttrPolicy; n(HANDOFF_A_NODE_MAX)] = genetlink::policy(&[
    (HANDOFF_A_NODE_ID, ID),
    (HANDOFF_A_NODE_FORWARD_ADDR, ADDR),
    (HANDOFF_A_NODE_FORWARD_PORT, PORT),
    (HANDOFF_A_NODE_SYNC_ADDR, ADDR),
    (HANDOFF_A_NODE_SYNC_PORT, PORT),
    (HANDOFF_A_NODE_WEIGHT, AttrPolicy::u32()),
    (HANDOFF_A_NODE_SYNC_INTERVAL, AttrPolicy::u32()),
    (HANDOFF_A_NODE_DEAD_INTERVALS, AttrPolicy::u32()),
]);

static IFACE_POLICY: [AttrPolicy; n(HANDOFF_A_IFACE_MAX)] =
    genetlink::policy(&[(HANDOFF_A_IFACE_INDEX, AttrPolicy::u32().min(1))]);

static RULE_POLICY: [AttrPolicy; n(HANDOFF_A_RULE_MAX)] = genetlink::policy(&[
    (HANDOFF_A_RULE_HOST, STRING),
    (HANDOFF_A_RULE_PATH, STRING),
    (HANDOFF_A_RULE_NODE, ID),
]);

static POLICY_PARAMS_POLICY: [AttrPolicy; n(HANDOFF_A_POLICY_MAX)] = genetlink::policy(&[
    (
        HANDOFF_A_POLICY_FALLBACK,
        AttrPolicy::u32().range(1, HANDOFF_POLICY_WEIGHTED as u16),
    ),
    (HANDOFF_A_POLICY_COOKIE_NAME, STRING),
    (HANDOFF_A_POLICY_RULE, AttrPolicy::nested(&RULE_POLICY)),
]);

static SERVICE_POLICY: [AttrPolicy; n(HANDOFF_A_SERVICE_MAX)] = genetlink::policy(&[
    (HANDOFF_A_SERVICE_ADDR, ADDR),
    (HANDOFF_A_SERVICE_PORT, PORT),
    (HANDOFF_A_SERVICE_PROTOCOL, AttrPolicy::u8()),
    (HANDOFF_A_SERVICE_IFACES, AttrPolicy::nested(&IFACE_POLICY)),
    (
        HANDOFF_A_SERVICE_POLICY,
        AttrPolicy::u32().range(1, HANDOFF_POLICY_MAX as u16),
    ),
    (
        HANDOFF_A_SERVICE_POLICY_PARAMS,
        AttrPolicy::nested(&POLICY_PARAMS_POLICY),
    ),
    (HANDOFF_A_SERVICE_MAX_TEMPORARY, AttrPolicy::u32()),
    (HANDOFF_A_SERVICE_MAX_FORWARD, AttrPolicy::u32()),
    (HANDOFF_A_SERVICE_SYN_TIMEOUT, AttrPolicy::u32()),
    (HANDOFF_A_SERVICE_IDLE_TIMEOUT, AttrPolicy::u32()),
    (
        HANDOFF_A_SERVICE_SYNCOOKIES,
        AttrPolicy::u32().range(1, HANDOFF_SYNCOOKIES_MAX as u16),
    ),
    (HANDOFF_A_SERVICE_FIRST_DATA_WAIT, AttrPolicy::u32()),
    (HANDOFF_A_SERVICE_REQUEST_LIMIT, AttrPolicy::u32()),
]);

static PEER_POLICY: [AttrPolicy; n(HANDOFF_A_PEER_MAX)] = genetlink::policy(&[
    (HANDOFF_A_PEER_ID, ID),
    (HANDOFF_A_PEER_ADDR, ADDR),
    (HANDOFF_A_PEER_PORT, PORT),
    (HANDOFF_A_PEER_WEIGHT, AttrPolicy::u32()),
    (
        HANDOFF_A_PEER_STATE,
        AttrPolicy::reject(c_str!("the peer state is only reported, not set")),
    ),
    (HANDOFF_A_PEER_SYNC_ADDR, ADDR),
    (HANDOFF_A_PEER_REPORT_AGE, REPLY_ONLY),
    (HANDOFF_A_PEER_LOAD, REPLY_ONLY),
]);

const REPLY_ONLY: AttrPolicy = AttrPolicy::reject(c_str!("attribute only used in replies"));

static TOP_POLICY: [AttrPolicy; n(HANDOFF_A_MAX)] = genetlink::policy(&[
    (HANDOFF_A_NODE, AttrPolicy::nested(&NODE_POLICY)),
    (HANDOFF_A_SERVICE, AttrPolicy::nested(&SERVICE_POLICY)),
    (HANDOFF_A_PEER, AttrPolicy::nested(&PEER_POLICY)),
    (HANDOFF_A_CONN, REPLY_ONLY),
    (HANDOFF_A_STATS, REPLY_ONLY),
    (
        HANDOFF_A_TABLE,
        AttrPolicy::u32().range(1, HANDOFF_TABLE_MAX as u16),
    ),
    (HANDOFF_A_SCOPE, REPLY_ONLY),
    (HANDOFF_A_CHANGE, REPLY_ONLY),
    (HANDOFF_A_COUNT, AttrPolicy::u32().range(1, i16::MAX as u16)),
    (HANDOFF_A_CLIENT, ADDR),
]);

/// Whether `a` (a Rust string) and `b` (a C string) hold the same bytes.
const fn same_name(a: &str, b: &CStr) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes_with_nul());
    if a.len() + 1 != b.len() {
        return false;
    }
    let mut i = 0;
    while i < a.len() {
        if a[i] != b[i] {
            return false;
        }
        i += 1;
    }
    true
}

const FAMILY_NAME: &CStr = c_str!("handoff");
const EVENTS: &CStr = c_str!("events");
const _: () = assert!(same_name(HANDOFF_GENL_NAME, FAMILY_NAME));
const _: () = assert!(same_name(HANDOFF_GENL_MCGRP_EVENTS, EVENTS));

// ---------------------------------------------------------------------------
// The family

/// The handoff generic netlink family.
pub(crate) struct Netlink;

/// Where a dump resumes.
#[derive(Clone, Copy, Default)]
pub(crate) struct DumpState {
    /// STATS_GET: 0 global, 1 services, 2 peers. CONN_GET: the table being
    /// walked, 0 the first.
    phase: u8,
    /// CONN_GET: the one table asked for, 0 for both.
    table: u8,
    /// The last service dumped.
    service: Option<ServiceKey>,
    /// The last peer dumped (0: none yet).
    peer: u32,
    /// CONN_GET: where the table walk resumes.
    conn: ConnCursor,
}

impl Family for Netlink {
    const NAME: &'static CStr = FAMILY_NAME;
    const VERSION: u8 = HANDOFF_GENL_VERSION;
    const POLICY: &'static [AttrPolicy] = &TOP_POLICY;
    const OPS: &'static [Op] = &[
        Op::new::<Self>(HANDOFF_CMD_NODE_GET, OpKind::Do),
        Op::new::<Self>(HANDOFF_CMD_NODE_SET, OpKind::Do).admin(),
        Op::new::<Self>(HANDOFF_CMD_SERVICE_ADD, OpKind::Do).admin(),
        Op::new::<Self>(HANDOFF_CMD_SERVICE_DEL, OpKind::Do).admin(),
        Op::new::<Self>(HANDOFF_CMD_SERVICE_GET, OpKind::DoDump),
        Op::new::<Self>(HANDOFF_CMD_PEER_ADD, OpKind::Do).admin(),
        Op::new::<Self>(HANDOFF_CMD_PEER_DEL, OpKind::Do).admin(),
        Op::new::<Self>(HANDOFF_CMD_PEER_GET, OpKind::DoDump),
        Op::new::<Self>(HANDOFF_CMD_CONN_GET, OpKind::Dump).admin(),
        Op::new::<Self>(HANDOFF_CMD_CONN_FLUSH, OpKind::Do).admin(),
        Op::new::<Self>(HANDOFF_CMD_STATS_GET, OpKind::DoDump),
        Op::new::<Self>(HANDOFF_CMD_CONN_FILL, OpKind::Do).admin(),
        Op::new::<Self>(HANDOFF_CMD_SELECT_GET, OpKind::Do),
    ];
    const MCGRPS: &'static [McGroup] = &[McGroup::new(EVENTS)];

    type DumpState = DumpState;

    fn doit(cmd: u8, info: &Info<'_>) -> Result {
        match cmd {
            HANDOFF_CMD_NODE_GET => node_get(info),
            HANDOFF_CMD_NODE_SET => node_set(info),
            HANDOFF_CMD_SERVICE_ADD => service_add(info),
            HANDOFF_CMD_SERVICE_DEL => service_del(info),
            HANDOFF_CMD_SERVICE_GET => service_get(info),
            HANDOFF_CMD_PEER_ADD => peer_add(info),
            HANDOFF_CMD_PEER_DEL => peer_del(info),
            HANDOFF_CMD_PEER_GET => peer_get(info),
            HANDOFF_CMD_CONN_FLUSH => conn_flush(info),
            HANDOFF_CMD_STATS_GET => stats_get(info),
            HANDOFF_CMD_CONN_FILL => conn_fill(info),
            HANDOFF_CMD_SELECT_GET => select_get(info),
            _ => Err(EINVAL),
        }
    }

    fn dump_start(cmd: u8, req: &Request<'_>) -> Result<DumpState> {
        let mut state = DumpState::default();
        if cmd == HANDOFF_CMD_CONN_GET {
            state.table = table_of(req)?.map_or(0, |t| t as u8);
        }
        Ok(state)
    }

    fn dumpit(cmd: u8, dump: &mut Dump<'_>, state: &mut DumpState) -> Result<DumpProgress> {
        let hn = HandoffNet::of(dump.net());
        match cmd {
            HANDOFF_CMD_SERVICE_GET => dump_services(hn, dump, state),
            HANDOFF_CMD_PEER_GET => dump_peers(hn, dump, state),
            HANDOFF_CMD_CONN_GET => dump_conns(hn, dump, state),
            HANDOFF_CMD_STATS_GET => dump_stats(hn, dump, state),
            _ => Err(EINVAL),
        }
    }
}

// ---------------------------------------------------------------------------
// Request parsing

type NodeAttrs<'a> = AttrTable<'a, { n(HANDOFF_A_NODE_MAX) }>;
type ServiceAttrs<'a> = AttrTable<'a, { n(HANDOFF_A_SERVICE_MAX) }>;
type PeerAttrs<'a> = AttrTable<'a, { n(HANDOFF_A_PEER_MAX) }>;
type RuleAttrs<'a> = AttrTable<'a, { n(HANDOFF_A_RULE_MAX) }>;

/// The top-level nest `kind`, required.
fn top_nest<'a>(req: &Request<'a>, kind: u16, missing: &'static CStr) -> Result<Attr<'a>> {
    req.attr(kind)
        .ok_or_else(|| req.fail_missing(None, kind, missing))
}

/// Attribute `kind` of `nest`, required.
fn required<'a, const N: usize>(
    req: &Request<'_>,
    nest: &Attr<'_>,
    t: &AttrTable<'a, N>,
    kind: u16,
    missing: &'static CStr,
) -> Result<Attr<'a>> {
    t.get(kind)
        .ok_or_else(|| req.fail_missing(Some(nest), kind, missing))
}

/// The address in `a` (its length was checked by the policy).
fn ip_addr(req: &Request<'_>, a: &Attr<'_>) -> Result<IpAddr> {
    IpAddr::from_bytes(a.payload())
        .ok_or_else(|| req.fail_attr(EINVAL, a, c_str!("address must be 4 or 16 bytes")))
}

/// An address that must name one host.
fn unicast(req: &Request<'_>, a: &Attr<'_>) -> Result<IpAddr> {
    let addr = ip_addr(req, a)?;
    if !addr.is_unicast() {
        return Err(req.fail_attr(
            EINVAL,
            a,
            c_str!("address must be unicast (not unspecified, multicast or broadcast)"),
        ));
    }
    Ok(addr)
}

/// An optional u32 attribute within `min..=max`.
fn bounded(
    req: &Request<'_>,
    a: Option<Attr<'_>>,
    (min, max, default): (u32, u32, u32),
    msg: &'static CStr,
) -> Result<u32> {
    let Some(a) = a else {
        return Ok(default);
    };
    let v = a.u32()?;
    if v < min || v > max {
        return Err(req.fail_attr(ERANGE, &a, msg));
    }
    Ok(v)
}

/// The key of the service in `nest` (address, port, protocol).
fn service_key(req: &Request<'_>, nest: &Attr<'_>, t: &ServiceAttrs<'_>) -> Result<ServiceKey> {
    let a = required(
        req,
        nest,
        t,
        HANDOFF_A_SERVICE_ADDR,
        c_str!("the service address is required"),
    )?;
    let addr = ip_addr(req, &a)?;
    let port = required(
        req,
        nest,
        t,
        HANDOFF_A_SERVICE_PORT,
        c_str!("the service port is required"),
    )?
    .u16()?;
    let protocol = match t.get(HANDOFF_A_SERVICE_PROTOCOL) {
        None => IPPROTO_TCP,
        Some(p) if p.u8()? == IPPROTO_TCP => IPPROTO_TCP,
        Some(p) => {
            return Err(req.fail_attr(EINVAL, &p, c_str!("only TCP (protocol 6) is supported")))
        }
    };
    Ok(ServiceKey {
        addr,
        port,
        protocol,
    })
}

/// An address and a port given together, or neither.
fn endpoint(
    req: &Request<'_>,
    nest: &Attr<'_>,
    addr: Option<Attr<'_>>,
    port: Option<Attr<'_>>,
    (addr_kind, port_kind): (u16, u16),
) -> Result<Option<Endpoint>> {
    let msg = c_str!("an address needs its port and a port its address");
    match (addr, port) {
        (None, None) => Ok(None),
        (Some(_), None) => Err(req.fail_missing(Some(nest), port_kind, msg)),
        (None, Some(_)) => Err(req.fail_missing(Some(nest), addr_kind, msg)),
        (Some(a), Some(p)) => Ok(Some(Endpoint {
            addr: ip_addr(req, &a)?,
            port: p.u16()?,
        })),
    }
}

/// `HANDOFF_A_TABLE`, if given.
fn table_of(req: &Request<'_>) -> Result<Option<Table>> {
    let Some(a) = req.attr(HANDOFF_A_TABLE) else {
        return Ok(None);
    };
    match a.u32()? {
        HANDOFF_TABLE_TEMPORARY => Ok(Some(Table::Temporary)),
        HANDOFF_TABLE_FORWARD => Ok(Some(Table::Forward)),
        _ => Err(req.fail_attr(EINVAL, &a, c_str!("unknown table"))),
    }
}

/// A host name of a rule: letters, digits, `-`, `.`, `_`, `:`, `[`, `]`,
/// optionally after a leading `*.`.
fn valid_host(h: &[u8]) -> bool {
    let name = h.strip_prefix(b"*.").unwrap_or(h);
    !name.is_empty()
        && name
            .iter()
            .all(|&b| b.is_ascii_alphanumeric() || b"-._:[]".contains(&b))
}

/// A URI path prefix: `/` then printable ASCII without spaces.
fn valid_path(p: &[u8]) -> bool {
    p.first() == Some(&b'/') && p.iter().all(u8::is_ascii_graphic)
}

/// A cookie name: an RFC 6265 token.
fn valid_cookie_name(c: &[u8]) -> bool {
    !c.is_empty()
        && c.iter()
            .all(|&b| b.is_ascii_graphic() && !b"()<>@,;:\\\"/[]?={}".contains(&b))
}

/// Reads `HANDOFF_A_SERVICE_POLICY_PARAMS` into `spec`.
fn parse_params(
    req: &Request<'_>,
    service: &Attr<'_>,
    params: Option<Attr<'_>>,
    spec: &mut ServiceSpec,
) -> Result {
    let policy = spec.service.policy;
    for a in params.iter().flat_map(|p| p.nested()) {
        match a.kind() {
            HANDOFF_A_POLICY_FALLBACK => {
                if !policy.has_fallback() {
                    return Err(req.fail_attr(
                        EINVAL,
                        &a,
                        c_str!("a fallback needs policy host-uri, cookie or tls-sni"),
                    ));
                }
                match Policy::from_u32(a.u32()?) {
                    Some(f) if f.is_fallback() => spec.service.fallback = f,
                    _ => {
                        return Err(req.fail_attr(
                            EINVAL,
                            &a,
                            c_str!("the fallback must be local, least-load or weighted"),
                        ))
                    }
                }
            }
            HANDOFF_A_POLICY_COOKIE_NAME => {
                if policy != Policy::Cookie {
                    return Err(req.fail_attr(
                        EINVAL,
                        &a,
                        c_str!("a cookie name needs policy cookie"),
                    ));
                }
                if !valid_cookie_name(a.string()) {
                    return Err(req.fail_attr(EINVAL, &a, c_str!("invalid cookie name")));
                }
                spec.service.cookie = Some(spec.add_str(a.string())?);
            }
            HANDOFF_A_POLICY_RULE => {
                if !matches!(policy, Policy::HostUri | Policy::TlsSni) {
                    return Err(req.fail_attr(
                        EINVAL,
                        &a,
                        c_str!("rules need policy host-uri or tls-sni"),
                    ));
                }
                if spec.rule_count() >= MAX_RULES {
                    return Err(req.fail_attr(
                        EINVAL,
                        &a,
                        c_str!("too many rules (at most 16 per service)"),
                    ));
                }
                let rule = parse_rule(req, &a, &a.nested_table(), policy, spec)?;
                spec.add_rule(rule)?;
            }
            _ => {}
        }
    }
    if policy == Policy::Cookie && spec.service.cookie.is_none() {
        return Err(req.fail_missing(
            Some(params.as_ref().unwrap_or(service)),
            HANDOFF_A_POLICY_COOKIE_NAME,
            c_str!("policy cookie needs a cookie name"),
        ));
    }
    if spec.string_bytes() > MAX_PARAM_BYTES {
        return Err(req.fail_attr(
            EINVAL,
            params.as_ref().unwrap_or(service),
            c_str!("policy parameters too long (at most 2048 bytes of names)"),
        ));
    }
    Ok(())
}

/// Reads one `HANDOFF_A_POLICY_RULE`.
fn parse_rule(
    req: &Request<'_>,
    nest: &Attr<'_>,
    t: &RuleAttrs<'_>,
    policy: Policy,
    spec: &mut ServiceSpec,
) -> Result<Rule> {
    let node = required(
        req,
        nest,
        t,
        HANDOFF_A_RULE_NODE,
        c_str!("a rule needs a node id"),
    )?
    .u32()?;
    let host = match t.get(HANDOFF_A_RULE_HOST) {
        None => None,
        Some(h) if valid_host(h.string()) => Some(spec.add_str(h.string())?),
        Some(h) => return Err(req.fail_attr(EINVAL, &h, c_str!("invalid host name in rule"))),
    };
    let path = match t.get(HANDOFF_A_RULE_PATH) {
        None => None,
        Some(p) if policy == Policy::TlsSni => {
            return Err(req.fail_attr(EINVAL, &p, c_str!("tls-sni rules have no path")))
        }
        Some(p) if valid_path(p.string()) => Some(spec.add_str(p.string())?),
        Some(p) => {
            return Err(req.fail_attr(
                EINVAL,
                &p,
                c_str!("a rule path must start with / and have no spaces"),
            ))
        }
    };
    Ok(Rule { host, path, node })
}

// ---------------------------------------------------------------------------
// Encoding

/// Puts `HANDOFF_A_NODE`.
fn put_node(p: &mut impl Put, node: &crate::config::Node) -> Result {
    let mut n = p.nest(HANDOFF_A_NODE)?;
    if node.id != 0 {
        n.put_u32(HANDOFF_A_NODE_ID, node.id)?;
    }
    if let Some(f) = node.forward {
        n.put_binary(HANDOFF_A_NODE_FORWARD_ADDR, f.addr.as_bytes())?;
        n.put_u16(HANDOFF_A_NODE_FORWARD_PORT, f.port)?;
    }
    if let Some(s) = node.sync {
        n.put_binary(HANDOFF_A_NODE_SYNC_ADDR, s.addr.as_bytes())?;
        n.put_u16(HANDOFF_A_NODE_SYNC_PORT, s.port)?;
    }
    n.put_u32(HANDOFF_A_NODE_WEIGHT, node.weight)?;
    n.put_u32(HANDOFF_A_NODE_SYNC_INTERVAL, node.sync_interval_ms)?;
    n.put_u32(HANDOFF_A_NODE_DEAD_INTERVALS, node.dead_intervals)?;
    n.end();
    Ok(())
}

/// Puts `HANDOFF_A_SERVICE`: every attribute, or only the key.
fn put_service(p: &mut impl Put, v: ServiceView<'_>, full: bool) -> Result {
    let svc = v.service;
    let mut n = p.nest(HANDOFF_A_SERVICE)?;
    n.put_binary(HANDOFF_A_SERVICE_ADDR, svc.key.addr.as_bytes())?;
    n.put_u16(HANDOFF_A_SERVICE_PORT, svc.key.port)?;
    n.put_u8(HANDOFF_A_SERVICE_PROTOCOL, svc.key.protocol)?;
    if full {
        if !svc.ifaces().is_empty() {
            let mut l = n.nest(HANDOFF_A_SERVICE_IFACES)?;
            for &i in svc.ifaces() {
                l.put_u32(HANDOFF_A_IFACE_INDEX, i)?;
            }
            l.end();
        }
        n.put_u32(HANDOFF_A_SERVICE_POLICY, svc.policy as u32)?;
        if svc.policy.has_fallback() {
            let mut pp = n.nest(HANDOFF_A_SERVICE_POLICY_PARAMS)?;
            pp.put_u32(HANDOFF_A_POLICY_FALLBACK, svc.fallback as u32)?;
            if let Some(c) = svc.cookie {
                pp.put_string(HANDOFF_A_POLICY_COOKIE_NAME, v.str(c))?;
            }
            for r in v.rules {
                let mut rn = pp.nest(HANDOFF_A_POLICY_RULE)?;
                if let Some(h) = r.host {
                    rn.put_string(HANDOFF_A_RULE_HOST, v.str(h))?;
                }
                if let Some(path) = r.path {
                    rn.put_string(HANDOFF_A_RULE_PATH, v.str(path))?;
                }
                rn.put_u32(HANDOFF_A_RULE_NODE, r.node)?;
                rn.end();
            }
            pp.end();
        }
        n.put_u32(HANDOFF_A_SERVICE_MAX_TEMPORARY, svc.max_temporary)?;
        n.put_u32(HANDOFF_A_SERVICE_MAX_FORWARD, svc.max_forward)?;
        n.put_u32(HANDOFF_A_SERVICE_SYN_TIMEOUT, svc.syn_timeout)?;
        n.put_u32(HANDOFF_A_SERVICE_IDLE_TIMEOUT, svc.idle_timeout)?;
        n.put_u32(
            HANDOFF_A_SERVICE_SYNCOOKIES,
            if svc.syncookies_always {
                HANDOFF_SYNCOOKIES_ALWAYS
            } else {
                HANDOFF_SYNCOOKIES_AUTO
            },
        )?;
        n.put_u32(HANDOFF_A_SERVICE_FIRST_DATA_WAIT, svc.first_data_wait)?;
        n.put_u32(HANDOFF_A_SERVICE_REQUEST_LIMIT, svc.request_limit)?;
    }
    n.end();
    Ok(())
}

/// Puts `HANDOFF_A_PEER`: every attribute, or only the id.
fn put_peer(p: &mut impl Put, cfg: &Config, peer: &Peer, full: bool) -> Result {
    if !full {
        let mut n = p.nest(HANDOFF_A_PEER)?;
        n.put_u32(HANDOFF_A_PEER_ID, peer.id)?;
        n.end();
        return Ok(());
    }
    let live = cfg
        .find_peer(peer.id)
        .ok()
        .and_then(|i| cfg.peer_shared(i))
        .map_or(PeerLive::GONE, |s| PeerLive::of(&s.sync));
    let view = PeerView {
        id: peer.id,
        addr: peer.addr,
        port: cfg.peer_port(peer),
        weight: peer.weight,
        sync_addr: cfg.peer_sync_addr(peer),
    };
    put_peer_view(p, &view, &live)
}

/// A peer's settings as replies and events report them.
struct PeerView {
    id: u32,
    addr: IpAddr,
    port: Option<u16>,
    weight: u32,
    sync_addr: IpAddr,
}

/// A peer's liveness as replies and events report it.
struct PeerLive {
    state: PeerState,
    age: Option<u32>,
    load: Option<u32>,
}

impl PeerLive {
    /// A peer deleted: DOWN for the listeners, nothing more known.
    const GONE: Self = Self {
        state: PeerState::Down,
        age: None,
        load: None,
    };

    fn of(s: &PeerSync) -> Self {
        Self {
            state: s.state(),
            age: s.report_age_ms(),
            load: s.load(),
        }
    }
}

fn put_peer_view(p: &mut impl Put, v: &PeerView, live: &PeerLive) -> Result {
    let mut n = p.nest(HANDOFF_A_PEER)?;
    n.put_u32(HANDOFF_A_PEER_ID, v.id)?;
    n.put_binary(HANDOFF_A_PEER_ADDR, v.addr.as_bytes())?;
    if let Some(port) = v.port {
        n.put_u16(HANDOFF_A_PEER_PORT, port)?;
    }
    n.put_u32(HANDOFF_A_PEER_WEIGHT, v.weight)?;
    n.put_u32(HANDOFF_A_PEER_STATE, live.state as u32)?;
    n.put_binary(HANDOFF_A_PEER_SYNC_ADDR, v.sync_addr.as_bytes())?;
    if let Some(age) = live.age {
        n.put_u32(HANDOFF_A_PEER_REPORT_AGE, age)?;
    }
    if let Some(load) = live.load {
        n.put_u32(HANDOFF_A_PEER_LOAD, load)?;
    }
    n.end();
    Ok(())
}

/// Puts `HANDOFF_A_SCOPE` and `HANDOFF_A_STATS` with every counter.
fn put_stats(p: &mut impl Put, scope: u32, counters: &Counters) -> Result {
    p.put_u32(HANDOFF_A_SCOPE, scope)?;
    put_stats_nest(p, counters)
}

/// Puts `HANDOFF_A_CONN`.
fn put_conn(p: &mut impl Put, e: &ConnEntry) -> Result {
    let mut n = p.nest(HANDOFF_A_CONN)?;
    n.put_u32(HANDOFF_A_CONN_TABLE, e.table as u32)?;
    let family = match e.saddr {
        IpAddr::V4(_) => AF_INET,
        IpAddr::V6(_) => AF_INET6,
    };
    n.put_u16(HANDOFF_A_CONN_FAMILY, family)?;
    n.put_binary(HANDOFF_A_CONN_SADDR, e.saddr.as_bytes())?;
    n.put_binary(HANDOFF_A_CONN_DADDR, e.daddr.as_bytes())?;
    n.put_u16(HANDOFF_A_CONN_SPORT, e.sport)?;
    n.put_u16(HANDOFF_A_CONN_DPORT, e.dport)?;
    n.put_u32(HANDOFF_A_CONN_STATE, e.state)?;
    n.put_u32(HANDOFF_A_CONN_CLIENT_ISN, e.client_isn)?;
    n.put_u32(HANDOFF_A_CONN_LOCAL_ISN, e.local_isn)?;
    if e.table == Table::Forward {
        n.put_u32(HANDOFF_A_CONN_PEER_ID, e.peer_id)?;
        n.put_u32(HANDOFF_A_CONN_FLOW_ID, e.flow_id)?;
        n.put_u64(HANDOFF_A_CONN_PACKETS, e.packets, HANDOFF_A_CONN_PAD)?;
        n.put_u64(HANDOFF_A_CONN_BYTES, e.bytes, HANDOFF_A_CONN_PAD)?;
    }
    n.put_u64(HANDOFF_A_CONN_AGE_MS, e.age_ms, HANDOFF_A_CONN_PAD)?;
    n.put_u32(HANDOFF_A_CONN_REF, e.conn_ref)?;
    n.end();
    Ok(())
}

// ---------------------------------------------------------------------------
// Events

/// `SERVICE_CHANGE` for `v`.
fn service_event(v: ServiceView<'_>, change: u32) -> Result<Message> {
    let mut m = FAMILY.event(HANDOFF_CMD_SERVICE_CHANGE, GFP_KERNEL)?;
    m.put_u32(HANDOFF_A_CHANGE, change)?;
    put_service(&mut m, v, true)?;
    Ok(m)
}

/// `PEER_UP` or `PEER_DOWN` (after `live.state`) for the peer `v`.
fn peer_event(v: &PeerView, live: &PeerLive, flags: kernel::alloc::Flags) -> Result<Message> {
    let cmd = match live.state {
        PeerState::Up => HANDOFF_CMD_PEER_UP,
        PeerState::Down | PeerState::Unknown => HANDOFF_CMD_PEER_DOWN,
    };
    let mut m = FAMILY.event(cmd, flags)?;
    put_peer_view(&mut m, v, live)?;
    Ok(m)
}

/// Sends an event built under the configuration lock, if it could be built:
/// the change is made either way, and listeners that miss an event resync
/// with a dump.
fn send_event(net: &Namespace, ev: Result<Message>) {
    if let Ok(m) = ev {
        let _ = FAMILY.multicast(net, m, GROUP_EVENTS);
    }
}

/// Tells the events group that peer `p` of `net`'s instance became UP or
/// DOWN (its state now). For the sync channel: softirq context, the peer as
/// published.
pub(crate) fn peer_changed(net: &Namespace, p: &PeerRt) {
    let v = PeerView {
        id: p.id,
        addr: p.addr,
        port: p.port,
        weight: p.weight,
        sync_addr: p.sync_addr,
    };
    send_event(net, peer_event(&v, &PeerLive::of(&p.sync), GFP_ATOMIC));
}

// ---------------------------------------------------------------------------
// Handlers

fn node_get(info: &Info<'_>) -> Result {
    let node = HandoffNet::of(info.net()).config.lock().node;
    let mut m = info.reply_message()?;
    put_node(&mut m, &node)?;
    info.reply(m)
}

fn node_set(info: &Info<'_>) -> Result {
    let nest = top_nest(
        info,
        HANDOFF_A_NODE,
        c_str!("the node attributes (HANDOFF_A_NODE) are required"),
    )?;
    let t: NodeAttrs<'_> = nest.nested_table();
    if t.is_empty() {
        return Err(info.fail_attr(EINVAL, &nest, c_str!("nothing to set")));
    }
    let id = t.get(HANDOFF_A_NODE_ID);
    let forward = endpoint(
        info,
        &nest,
        t.get(HANDOFF_A_NODE_FORWARD_ADDR),
        t.get(HANDOFF_A_NODE_FORWARD_PORT),
        (HANDOFF_A_NODE_FORWARD_ADDR, HANDOFF_A_NODE_FORWARD_PORT),
    )?;
    let sync = endpoint(
        info,
        &nest,
        t.get(HANDOFF_A_NODE_SYNC_ADDR),
        t.get(HANDOFF_A_NODE_SYNC_PORT),
        (HANDOFF_A_NODE_SYNC_ADDR, HANDOFF_A_NODE_SYNC_PORT),
    )?;
    let weight = t.get(HANDOFF_A_NODE_WEIGHT).map(|a| a.u32()).transpose()?;
    let interval = t
        .get(HANDOFF_A_NODE_SYNC_INTERVAL)
        .map(|a| {
            bounded(
                info,
                Some(a),
                crate::sync::SYNC_INTERVAL,
                c_str!("sync-interval out of range (10..60000 ms)"),
            )
        })
        .transpose()?;
    let dead = t
        .get(HANDOFF_A_NODE_DEAD_INTERVALS)
        .map(|a| {
            bounded(
                info,
                Some(a),
                crate::sync::DEAD_INTERVALS,
                c_str!("dead-intervals out of range (1..100)"),
            )
        })
        .transpose()?;

    let mut cfg = HandoffNet::of(info.net()).config.lock();
    let mut node = cfg.node;
    if let Some(a) = id {
        node.id = a.u32()?;
        if cfg.find_peer(node.id).is_ok() {
            return Err(info.fail_attr(EEXIST, &a, c_str!("a peer has this id")));
        }
    }
    node.forward = forward.or(node.forward);
    node.sync = sync.or(node.sync);
    node.weight = weight.unwrap_or(node.weight);
    node.sync_interval_ms = interval.unwrap_or(node.sync_interval_ms);
    node.dead_intervals = dead.unwrap_or(node.dead_intervals);
    let old = core::mem::replace(&mut cfg.node, node);
    // The redistribution and sync sockets follow their endpoints.
    if let Err(e) = HandoffNet::of(info.net()).apply_node(info.net(), &cfg) {
        cfg.node = old;
        let msg = match e {
            NodeError::Forward(e) if e == crate::netns::eopnotsupp() => {
                c_str!("IPv6 forward addresses are not supported yet")
            }
            NodeError::Forward(_) => {
                c_str!("cannot open the forward socket on that address and port")
            }
            NodeError::Sync(e) if e == crate::netns::eopnotsupp() => {
                c_str!("IPv6 sync addresses are not supported yet")
            }
            NodeError::Sync(_) => c_str!("cannot open the sync socket on that address and port"),
            NodeError::Other(_) => c_str!("out of memory"),
        };
        return Err(info.fail_attr(e.errno(), &nest, msg));
    }
    Ok(())
}

fn service_add(info: &Info<'_>) -> Result {
    let nest = top_nest(
        info,
        HANDOFF_A_SERVICE,
        c_str!("the service attributes (HANDOFF_A_SERVICE) are required"),
    )?;
    let t: ServiceAttrs<'_> = nest.nested_table();
    let key = service_key(info, &nest, &t)?;
    if let Some(a) = t.get(HANDOFF_A_SERVICE_ADDR) {
        unicast(info, &a)?;
    }
    let mut spec = ServiceSpec::new(key);
    for a in t
        .get(HANDOFF_A_SERVICE_IFACES)
        .iter()
        .flat_map(|l| l.nested())
    {
        let ifindex = a.u32()?;
        if spec.service.ifaces().contains(&ifindex) {
            return Err(info.fail_attr(EINVAL, &a, c_str!("interface listed twice")));
        }
        if !info.has_ifindex(ifindex) {
            return Err(info.fail_attr(ENODEV, &a, c_str!("no such interface")));
        }
        if !spec.service.add_iface(ifindex) {
            return Err(info.fail_attr(
                EINVAL,
                &a,
                c_str!("too many interfaces (at most 16 per service)"),
            ));
        }
    }
    const _: () = assert!(MAX_IFACES == 16 && MAX_RULES == 16 && MAX_PARAM_BYTES == 2048);
    if let Some(a) = t.get(HANDOFF_A_SERVICE_POLICY) {
        spec.service.policy = Policy::from_u32(a.u32()?)
            .ok_or_else(|| info.fail_attr(EINVAL, &a, c_str!("unknown policy")))?;
    }
    parse_params(
        info,
        &nest,
        t.get(HANDOFF_A_SERVICE_POLICY_PARAMS),
        &mut spec,
    )?;
    spec.service.max_temporary = bounded(
        info,
        t.get(HANDOFF_A_SERVICE_MAX_TEMPORARY),
        MAX_TEMPORARY,
        c_str!("max-temporary out of range (1..1048576 entries)"),
    )?;
    spec.service.max_forward = bounded(
        info,
        t.get(HANDOFF_A_SERVICE_MAX_FORWARD),
        MAX_FORWARD,
        c_str!("max-forward out of range (1..1048576 entries)"),
    )?;
    spec.service.syn_timeout = bounded(
        info,
        t.get(HANDOFF_A_SERVICE_SYN_TIMEOUT),
        SYN_TIMEOUT,
        c_str!("syn-timeout out of range (1..600000 ms)"),
    )?;
    spec.service.idle_timeout = bounded(
        info,
        t.get(HANDOFF_A_SERVICE_IDLE_TIMEOUT),
        IDLE_TIMEOUT,
        c_str!("idle-timeout out of range (1..604800000 ms)"),
    )?;
    if let Some(a) = t.get(HANDOFF_A_SERVICE_SYNCOOKIES) {
        // The policy's range leaves AUTO and ALWAYS.
        spec.service.syncookies_always = a.u32()? == HANDOFF_SYNCOOKIES_ALWAYS;
    }
    spec.service.first_data_wait = bounded(
        info,
        t.get(HANDOFF_A_SERVICE_FIRST_DATA_WAIT),
        FIRST_DATA_WAIT,
        c_str!("first-data-wait out of range (0..60000 ms)"),
    )?;
    spec.service.request_limit = bounded(
        info,
        t.get(HANDOFF_A_SERVICE_REQUEST_LIMIT),
        REQUEST_LIMIT,
        c_str!("request-limit out of range (1..16384 bytes)"),
    )?;
    const _: () = assert!(
        MAX_TEMPORARY.1 == 1048576
            && MAX_FORWARD.1 == 1048576
            && SYN_TIMEOUT.1 == 600_000
            && IDLE_TIMEOUT.1 == 604_800_000
            && FIRST_DATA_WAIT.1 == 60_000
            && REQUEST_LIMIT.0 == 1
            && REQUEST_LIMIT.1 == 16_384
    );
    // Valid, but what the module cannot serve yet is refused rather than
    // accepted and never served.
    if let (IpAddr::V6(_), Some(a)) = (key.addr, t.get(HANDOFF_A_SERVICE_ADDR)) {
        return Err(info.fail_attr(
            crate::netns::eopnotsupp(),
            &a,
            c_str!("IPv6 services are not supported yet (the hook serves IPv4)"),
        ));
    }

    let hn_add = HandoffNet::of(info.net());
    let ev = {
        let mut cfg = hn_add.config.lock();
        if cfg.find_service(&key).is_ok() {
            return Err(info.fail_attr(EEXIST, &nest, c_str!("service already exists")));
        }
        if cfg.services().len() >= MAX_SERVICES {
            return Err(info.fail(
                ENOSPC,
                c_str!("too many services (at most 256 per namespace)"),
            ));
        }
        let i = cfg.add_service(&spec)?;
        if let Err(e) = hn_add.apply(info.net(), &cfg) {
            // Could not hook a device: back to how it was.
            let _ = cfg.remove_service(i);
            let _ = hn_add.apply(info.net(), &cfg);
            return Err(info.fail_attr(e, &nest, c_str!("cannot hook the service's interfaces")));
        }
        match cfg.service_view(i) {
            Some(v) => service_event(v, HANDOFF_CHANGE_ADD),
            None => Err(ENOENT),
        }
    };
    const _: () = assert!(MAX_SERVICES == 256 && MAX_PEERS == 1024);
    send_event(info.net(), ev);
    Ok(())
}

/// The service a request names: its `HANDOFF_A_SERVICE` and key.
fn service_of<'a>(info: &Request<'a>) -> Result<(Attr<'a>, ServiceKey)> {
    let nest = top_nest(
        info,
        HANDOFF_A_SERVICE,
        c_str!("the service attributes (HANDOFF_A_SERVICE) are required"),
    )?;
    let key = service_key(info, &nest, &nest.nested_table())?;
    Ok((nest, key))
}

fn service_del(info: &Info<'_>) -> Result {
    let (nest, key) = service_of(info)?;
    let hn = HandoffNet::of(info.net());
    let ev = {
        let mut cfg = hn.config.lock();
        let i = cfg
            .find_service(&key)
            .map_err(|_| info.fail_attr(ENOENT, &nest, c_str!("no such service")))?;
        let ev = match cfg.service_view(i) {
            Some(v) => service_event(v, HANDOFF_CHANGE_DEL),
            None => Err(ENOENT),
        };
        cfg.remove_service(i)?;
        // Unhooking and unpublishing cannot fail for lack of devices; only
        // an allocation can, and then the old, larger set stays in force.
        let _ = hn.apply(info.net(), &cfg);
        // Under the lock: a racing add of the same service waits, and its
        // new connections are not dropped with the old ones.
        hn.conn_drop_service(&key);
        ev
    };
    send_event(info.net(), ev);
    Ok(())
}

fn service_get(info: &Info<'_>) -> Result {
    let (nest, key) = service_of(info)?;
    let mut m = info.reply_message()?;
    {
        let cfg = HandoffNet::of(info.net()).config.lock();
        let v = cfg
            .find_service(&key)
            .ok()
            .and_then(|i| cfg.service_view(i))
            .ok_or_else(|| info.fail_attr(ENOENT, &nest, c_str!("no such service")))?;
        put_service(&mut m, v, true)?;
    }
    info.reply(m)
}

fn peer_add(info: &Info<'_>) -> Result {
    let (nest, t, id_attr) = peer_attrs(info)?;
    let addr = required(
        info,
        &nest,
        &t,
        HANDOFF_A_PEER_ADDR,
        c_str!("the peer address is required"),
    )?;
    let peer = Peer {
        id: id_attr.u32()?,
        addr: unicast(info, &addr)?,
        port: t.get(HANDOFF_A_PEER_PORT).map_or(Ok(0), |a| a.u16())?,
        weight: t
            .get(HANDOFF_A_PEER_WEIGHT)
            .map_or(Ok(DEFAULT_WEIGHT), |a| a.u32())?,
        sync_addr: t
            .get(HANDOFF_A_PEER_SYNC_ADDR)
            .map(|a| unicast(info, &a))
            .transpose()?,
    };
    let mut cfg = HandoffNet::of(info.net()).config.lock();
    if peer.id == cfg.node.id {
        return Err(info.fail_attr(EINVAL, &id_attr, c_str!("the peer id is this node's id")));
    }
    if cfg.find_peer(peer.id).is_ok() {
        return Err(info.fail_attr(EEXIST, &id_attr, c_str!("peer already exists")));
    }
    if cfg.peers().len() >= MAX_PEERS {
        return Err(info.fail(
            ENOSPC,
            c_str!("too many peers (at most 1024 per namespace)"),
        ));
    }
    let i = cfg.add_peer(peer)?;
    if let Err(e) = HandoffNet::of(info.net()).apply_node(info.net(), &cfg) {
        let _ = cfg.remove_peer(i);
        return Err(e.errno());
    }
    Ok(())
}

/// The `HANDOFF_A_PEER` of a request, the attributes in it and its id
/// attribute (required).
fn peer_attrs<'a>(info: &Request<'a>) -> Result<(Attr<'a>, PeerAttrs<'a>, Attr<'a>)> {
    let nest = top_nest(
        info,
        HANDOFF_A_PEER,
        c_str!("the peer attributes (HANDOFF_A_PEER) are required"),
    )?;
    let t: PeerAttrs<'a> = nest.nested_table();
    let id = required(
        info,
        &nest,
        &t,
        HANDOFF_A_PEER_ID,
        c_str!("the peer id is required"),
    )?;
    Ok((nest, t, id))
}

/// The id of the peer in `HANDOFF_A_PEER`, and the attribute.
fn peer_id<'a>(info: &Request<'a>) -> Result<(u32, Attr<'a>)> {
    let (_, _, a) = peer_attrs(info)?;
    Ok((a.u32()?, a))
}

fn peer_del(info: &Info<'_>) -> Result {
    let (id, a) = peer_id(info)?;
    let hn = HandoffNet::of(info.net());
    let ev = {
        let mut cfg = hn.config.lock();
        let i = cfg
            .find_peer(id)
            .map_err(|_| info.fail_attr(ENOENT, &a, c_str!("no such peer")))?;
        let was_up = cfg
            .peer_shared(i)
            .is_some_and(|s| s.sync.state() == PeerState::Up);
        let peer = cfg.remove_peer(i)?;
        // Publishing a smaller set allocates; if that fails the old set
        // stays published, and its peer finds no forward entries.
        let _ = hn.apply_node(info.net(), &cfg);
        // Under the lock, as for a service: a racing re-add keeps its own.
        hn.conn_drop_peer(id);
        // A deleted peer that was up can no longer be chosen: it is down
        // for the listeners.
        was_up.then(|| {
            let v = PeerView {
                id: peer.id,
                addr: peer.addr,
                port: cfg.peer_port(&peer),
                weight: peer.weight,
                sync_addr: cfg.peer_sync_addr(&peer),
            };
            peer_event(&v, &PeerLive::GONE, GFP_KERNEL)
        })
    };
    if let Some(ev) = ev {
        send_event(info.net(), ev);
    }
    Ok(())
}

fn peer_get(info: &Info<'_>) -> Result {
    let (id, a) = peer_id(info)?;
    let mut m = info.reply_message()?;
    {
        let cfg = HandoffNet::of(info.net()).config.lock();
        let i = cfg
            .find_peer(id)
            .map_err(|_| info.fail_attr(ENOENT, &a, c_str!("no such peer")))?;
        if let Some(p) = cfg.peers().get(i) {
            put_peer(&mut m, &cfg, p, true)?;
        }
    }
    info.reply(m)
}

fn conn_flush(info: &Info<'_>) -> Result {
    let table = table_of(info)?;
    HandoffNet::of(info.net()).conn_flush(table);
    Ok(())
}

/// `HANDOFF_CMD_CONN_FILL`: synthetic forward entries, in test builds.
#[cfg(handoff_debug)]
fn conn_fill(info: &Info<'_>) -> Result {
    let (nest, key) = service_of(info)?;
    let (peer, peer_attr) = peer_id(info)?;
    let count = top_nest(
        info,
        HANDOFF_A_COUNT,
        c_str!("the number of entries (HANDOFF_A_COUNT) is required"),
    )?
    .u32()?;
    let hn = HandoffNet::of(info.net());
    {
        // The service and the peer exist; deleting either afterwards drops
        // the entries like those of real connections.
        let cfg = hn.config.lock();
        cfg.find_service(&key)
            .map_err(|_| info.fail_attr(ENOENT, &nest, c_str!("no such service")))?;
        cfg.find_peer(peer)
            .map_err(|_| info.fail_attr(ENOENT, &peer_attr, c_str!("no such peer")))?;
    }
    match hn.conn_fill(&key, peer, count) {
        Some(n) if n == count => Ok(()),
        Some(_) => Err(info.fail(
            ENOSPC,
            c_str!("the service's max-forward or the forward table is full"),
        )),
        None => Err(info.fail_attr(ENOENT, &nest, c_str!("no such service"))),
    }
}

#[cfg(not(handoff_debug))]
fn conn_fill(info: &Info<'_>) -> Result {
    // EOPNOTSUPP: kernel::error::code has only the kernel-internal ENOTSUPP.
    let eopnotsupp = Error::from_errno(-(kernel::bindings::EOPNOTSUPP as i32));
    Err(info.fail(
        eopnotsupp,
        c_str!("CONN_FILL is for test builds of the module (HANDOFF_DEBUG=1)"),
    ))
}

/// `HANDOFF_CMD_SELECT_GET`: where a new connection of a client goes, for
/// the policies whose choice follows from the client alone.
fn select_get(info: &Info<'_>) -> Result {
    let (nest, key) = service_of(info)?;
    let a = top_nest(
        info,
        HANDOFF_A_CLIENT,
        c_str!("the client address (HANDOFF_A_CLIENT) is required"),
    )?;
    let client = ip_addr(info, &a)?;
    let hn = HandoffNet::of(info.net());
    let id = {
        let guard = kernel::sync::rcu::read_lock();
        let svc = hn
            .services(&guard)
            .and_then(|set| set.get(&key.addr.to_mapped(), key.port))
            .ok_or_else(|| info.fail_attr(ENOENT, &nest, c_str!("no such service")))?;
        // A content policy chooses by the request; its fallback is not the
        // whole story.
        if svc.content.is_some() || !matches!(svc.policy, SelectPolicy::Local | SelectPolicy::Hash)
        {
            return Err(info.fail_attr(
                crate::netns::eopnotsupp(),
                &nest,
                c_str!("only policies local and hash choose by the client alone"),
            ));
        }
        let self_id = hn.st.peers(&guard).map_or(0, |p| p.node_id);
        match crate::select::decide(&hn.st, &guard, svc.policy, &[], client.as_bytes(), 0) {
            Choice::Local => self_id,
            Choice::Peer(id) => id,
        }
    };
    let mut m = info.reply_message()?;
    let mut n = m.nest(HANDOFF_A_NODE)?;
    n.put_u32(HANDOFF_A_NODE_ID, id)?;
    n.end();
    info.reply(m)
}

fn stats_get(info: &Info<'_>) -> Result {
    let mut m = info.reply_message()?;
    put_stats(
        &mut m,
        HANDOFF_SCOPE_GLOBAL,
        &HandoffNet::of(info.net()).counters,
    )?;
    info.reply(m)
}

// ---------------------------------------------------------------------------
// Dumps
//
// Each dump walks a sorted table from the key after the last entry it put,
// so entries added or removed between two parts of the dump neither shift
// nor repeat the others; the configuration's generation flags such a dump
// (NLM_F_DUMP_INTR). An entry whose message does not fit is cancelled and
// put first in the next part.

fn dump_services(hn: &HandoffNet, dump: &mut Dump<'_>, st: &mut DumpState) -> Result<DumpProgress> {
    let cfg = hn.config.lock();
    dump.set_generation(cfg.generation());
    let mut i = cfg.services_after(st.service.as_ref());
    while let Some(v) = cfg.service_view(i) {
        let Ok(mut m) = dump.message() else {
            return Ok(DumpProgress::More);
        };
        if put_service(&mut m, v, true).is_err() {
            return Ok(DumpProgress::More);
        }
        m.end();
        st.service = Some(v.service.key);
        i += 1;
    }
    Ok(DumpProgress::Done)
}

fn dump_peers(hn: &HandoffNet, dump: &mut Dump<'_>, st: &mut DumpState) -> Result<DumpProgress> {
    let cfg = hn.config.lock();
    dump.set_generation(cfg.generation());
    for p in cfg.peers().get(cfg.peers_after(st.peer)..).unwrap_or(&[]) {
        let Ok(mut m) = dump.message() else {
            return Ok(DumpProgress::More);
        };
        if put_peer(&mut m, &cfg, p, true).is_err() {
            return Ok(DumpProgress::More);
        }
        m.end();
        st.peer = p.id;
    }
    Ok(DumpProgress::Done)
}

fn dump_stats(hn: &HandoffNet, dump: &mut Dump<'_>, st: &mut DumpState) -> Result<DumpProgress> {
    let cfg = hn.config.lock();
    dump.set_generation(cfg.generation());
    if st.phase == 0 {
        let Ok(mut m) = dump.message() else {
            return Ok(DumpProgress::More);
        };
        if put_stats(&mut m, HANDOFF_SCOPE_GLOBAL, &hn.counters).is_err() {
            return Ok(DumpProgress::More);
        }
        m.end();
        st.phase = 1;
    }
    if st.phase == 1 {
        let mut i = cfg.services_after(st.service.as_ref());
        while let (Some(v), Some(c)) = (cfg.service_view(i), cfg.service_counters(i)) {
            let Ok(mut m) = dump.message() else {
                return Ok(DumpProgress::More);
            };
            let put = put_u32_then(&mut m, HANDOFF_A_SCOPE, HANDOFF_SCOPE_SERVICE, |m| {
                put_service(m, v, false)?;
                put_stats_nest(m, c)
            });
            if put.is_err() {
                return Ok(DumpProgress::More);
            }
            m.end();
            st.service = Some(v.service.key);
            i += 1;
        }
        st.phase = 2;
    }
    let mut i = cfg.peers_after(st.peer);
    while let (Some(p), Some(c)) = (cfg.peers().get(i), cfg.peer_counters(i)) {
        let Ok(mut m) = dump.message() else {
            return Ok(DumpProgress::More);
        };
        let put = put_u32_then(&mut m, HANDOFF_A_SCOPE, HANDOFF_SCOPE_PEER, |m| {
            put_peer(m, &cfg, p, false)?;
            put_stats_nest(m, c)
        });
        if put.is_err() {
            return Ok(DumpProgress::More);
        }
        m.end();
        st.peer = p.id;
        i += 1;
    }
    Ok(DumpProgress::Done)
}

/// Puts a u32 attribute, then what `then` puts.
fn put_u32_then<P: Put>(
    m: &mut P,
    kind: u16,
    value: u32,
    then: impl FnOnce(&mut P) -> Result,
) -> Result {
    m.put_u32(kind, value)?;
    then(m)
}

/// Puts `HANDOFF_A_STATS` with every counter.
fn put_stats_nest(p: &mut impl Put, counters: &Counters) -> Result {
    let mut n = p.nest(HANDOFF_A_STATS)?;
    for &c in Counter::ALL {
        n.put_u64(c.attr(), counters.get(c), HANDOFF_A_STATS_PAD)?;
    }
    n.end();
    Ok(())
}

fn dump_conns(hn: &HandoffNet, dump: &mut Dump<'_>, st: &mut DumpState) -> Result<DumpProgress> {
    loop {
        let table = match (st.table, st.phase) {
            (0, 0) => Table::Temporary,
            (0, 1) => Table::Forward,
            (t, 0) if t == Table::Forward as u8 => Table::Forward,
            (t, 0) if t == Table::Temporary as u8 => Table::Temporary,
            _ => return Ok(DumpProgress::Done),
        };
        let mut full = false;
        hn.conn_walk(table, &mut st.conn, &mut |entry| {
            let put = match dump.message() {
                Ok(mut m) => put_conn(&mut m, entry).map(|()| m.end()),
                Err(err) => Err(err),
            };
            full = put.is_err();
            !full
        });
        if full {
            return Ok(DumpProgress::More);
        }
        st.phase += 1;
        st.conn = ConnCursor::default();
    }
}
