/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * handoff: every server of a farm is its own TCP load balancer, with
 * connection handoff.
 *
 * An ingress hook answers SYNs for a service address (VIP:port) and keeps the
 * half-open connection in the *temporary* table.  On the first request bytes
 * the connection is either injected into the local TCP stack, or migrated to
 * a peer server; the packets of a migrated connection that still arrive here
 * are then forwarded to that peer (*forward* table).
 *
 * This header is the contract between the kernel module and user space.  It
 * has two parts:
 *
 *  1. the generic netlink family HANDOFF_GENL_NAME (configuration, tables,
 *     statistics, events);
 *  2. the wire format of the redistribution protocol spoken between nodes
 *     (struct handoff_encap_hdr and friends, at the end of this file).
 *
 * Generic netlink conventions, valid for every attribute below unless its
 * comment says otherwise:
 *
 *  - Integers (NLA_U8, NLA_U16, NLA_U32, NLA_U64) are in host byte order.
 *    This includes TCP/UDP ports: a port is an NLA_U16 holding e.g. 80, as
 *    WireGuard's WGDEVICE_A_LISTEN_PORT does.  NLA_F_NET_BYTEORDER is never
 *    set.  Port 0 is invalid wherever a port is given.
 *  - An address is an NLA_BINARY of exactly 4 bytes (IPv4, struct in_addr) or
 *    16 bytes (IPv6, struct in6_addr), in network byte order as those structs
 *    are.  The length selects the family; any other length is -EINVAL.
 *  - Enumerated values are NLA_U32 and start at 1: 0 is never valid.
 *  - Identifiers (node id, peer id) are NLA_U32 in 1..UINT32_MAX; 0 is
 *    invalid in requests and means "none" in replies.
 *  - Durations are NLA_U32 milliseconds, except ages, which are NLA_U64
 *    milliseconds.
 *  - NLA_U64 attributes are put with nla_put_u64_64bit() and the *_PAD
 *    attribute of their set; readers skip the PAD attributes.
 *  - Nested attributes carry NLA_F_NESTED (the family validates strictly).
 *  - Strings are NLA_NUL_STRING of at most HANDOFF_STR_MAX bytes including
 *    the terminating NUL.
 *  - In requests an absent optional attribute means "kernel default" (ADD) or
 *    "leave unchanged" (SET).  Replies and events report every attribute that
 *    has a value, with the effective (possibly defaulted) value.
 *  - Readers ignore attributes and enum values they do not know; writers
 *    never send attributes a command does not list.
 *
 * Errors are negative errnos in the netlink ACK, with an extack message
 * where the kernel has something more precise to say (for instance
 * -EEXIST "service already exists", -ENOENT "no such peer").
 *
 * Permissions: every command that changes state (NODE_SET, SERVICE_ADD,
 * SERVICE_DEL, PEER_ADD, PEER_DEL, CONN_FLUSH) and CONN_GET (it reveals
 * client addresses) require CAP_NET_ADMIN (GENL_ADMIN_PERM: in the initial
 * user namespace, whatever the network namespace); others get -EPERM.  The
 * other GET commands and the events group are open.
 *
 * Limits: at most 256 services and 1024 peers per namespace (-ENOSPC
 * beyond); per service at most 16 interfaces, 16 policy rules and 2048 bytes
 * of policy strings (cookie name, rule hosts and paths) (-EINVAL beyond).
 *
 * The family is per network namespace (netnsok): each namespace has its own
 * node settings, services, peers, tables and counters.
 */

#ifndef _UAPI_LINUX_HANDOFF_H
#define _UAPI_LINUX_HANDOFF_H

#include <linux/types.h>

#define HANDOFF_GENL_NAME		"handoff"
#define HANDOFF_GENL_VERSION		1

/* Multicast group receiving HANDOFF_CMD_PEER_UP, _PEER_DOWN, _SERVICE_CHANGE. */
#define HANDOFF_GENL_MCGRP_EVENTS	"events"

/* Maximum length of a string attribute, including the terminating NUL. */
#define HANDOFF_STR_MAX			256

/**
 * enum handoff_cmd - generic netlink commands
 *
 * "do" is a plain request (NLM_F_REQUEST, usually with NLM_F_ACK); "dump" is
 * NLM_F_DUMP.  Replies use the command of the request.  "admin" means
 * GENL_ADMIN_PERM (CAP_NET_ADMIN).
 *
 * @HANDOFF_CMD_UNSPEC: invalid.
 * @HANDOFF_CMD_NODE_GET: do.  Request: no attributes.  Reply: HANDOFF_A_NODE
 *	with this node's settings.
 * @HANDOFF_CMD_NODE_SET: do, admin.  Request: HANDOFF_A_NODE with the
 *	attributes to change (at least one); absent ones are left unchanged.
 *	A forward or sync address must come with its port and vice versa.
 * @HANDOFF_CMD_SERVICE_ADD: do, admin.  Request: HANDOFF_A_SERVICE; _ADDR and
 *	_PORT are required, everything else is optional.  -EEXIST if the
 *	service (address, port, protocol) exists.  Sends SERVICE_CHANGE (ADD).
 * @HANDOFF_CMD_SERVICE_DEL: do, admin.  Request: HANDOFF_A_SERVICE with _ADDR,
 *	_PORT (and optionally _PROTOCOL).  Drops the service's entries from both
 *	tables.  -ENOENT if there is no such service.  Sends SERVICE_CHANGE (DEL).
 * @HANDOFF_CMD_SERVICE_GET: do: request HANDOFF_A_SERVICE with _ADDR, _PORT
 *	(optionally _PROTOCOL), one reply; -ENOENT if unknown.  dump: no
 *	attributes, one message per service.  Reply: HANDOFF_A_SERVICE with
 *	every attribute.
 * @HANDOFF_CMD_PEER_ADD: do, admin.  Request: HANDOFF_A_PEER with _ID and
 *	_ADDR (required), _PORT and _WEIGHT (optional; an absent port means the
 *	peer listens on the same forward port as this node).  -EEXIST if the
 *	id is taken, -EINVAL if it is this node's id.
 * @HANDOFF_CMD_PEER_DEL: do, admin.  Request: HANDOFF_A_PEER with _ID.  The
 *	forward entries pointing at the peer are dropped.  -ENOENT if unknown.
 * @HANDOFF_CMD_PEER_GET: do: request HANDOFF_A_PEER with _ID, one reply.
 *	dump: no attributes, one message per peer.  Reply: HANDOFF_A_PEER with
 *	every attribute.
 * @HANDOFF_CMD_CONN_GET: dump, admin.  Request: optional HANDOFF_A_TABLE
 *	(absent: both tables, temporary first).  One message per entry, each
 *	with HANDOFF_A_CONN.
 * @HANDOFF_CMD_CONN_FLUSH: do, admin.  Request: optional HANDOFF_A_TABLE
 *	(absent: both tables).  Removes the entries; the connections they
 *	described are broken (their further packets are dropped as unknown).
 * @HANDOFF_CMD_STATS_GET: do: no attributes; reply HANDOFF_A_SCOPE (GLOBAL)
 *	and HANDOFF_A_STATS.  dump: no attributes; the global message first,
 *	then one per service (HANDOFF_A_SCOPE SERVICE, HANDOFF_A_SERVICE with
 *	_ADDR, _PORT, _PROTOCOL, and HANDOFF_A_STATS), then one per peer
 *	(HANDOFF_A_SCOPE PEER, HANDOFF_A_PEER with _ID, HANDOFF_A_STATS).
 * @HANDOFF_CMD_PEER_UP: event on HANDOFF_GENL_MCGRP_EVENTS: a peer became
 *	reachable.  HANDOFF_A_PEER with every attribute.
 * @HANDOFF_CMD_PEER_DOWN: event: a peer became unreachable.  HANDOFF_A_PEER
 *	with every attribute.
 * @HANDOFF_CMD_SERVICE_CHANGE: event: a service was added or deleted.
 *	HANDOFF_A_CHANGE and HANDOFF_A_SERVICE with every attribute.
 * @HANDOFF_CMD_CONN_FILL: do, admin; test builds only (the module built
 *	with HANDOFF_DEBUG=1), others answer EOPNOTSUPP.  Request:
 *	HANDOFF_A_SERVICE (_ADDR, _PORT) of an existing service, HANDOFF_A_PEER
 *	(_ID) of an existing peer and HANDOFF_A_COUNT: puts COUNT synthetic
 *	entries, clients 198.18.0.0/16, into the forward table, as if that many
 *	connections had been handed to the peer (they count against the
 *	service's MAX_FORWARD).  For tests of large tables.
 * @HANDOFF_CMD_SELECT_GET: do.  Request: HANDOFF_A_SERVICE (_ADDR, _PORT) and
 *	HANDOFF_A_CLIENT.  Reply: HANDOFF_A_NODE with _ID: the node a new
 *	connection of that client to the service goes to now (this node's id,
 *	0 while it has none).  For the policies whose choice follows from the
 *	client alone: LOCAL and HASH; -EOPNOTSUPP for the others.
 * @__HANDOFF_CMD_MAX: internal: one past the highest value.
 */
enum handoff_cmd {
	HANDOFF_CMD_UNSPEC,
	HANDOFF_CMD_NODE_GET,
	HANDOFF_CMD_NODE_SET,
	HANDOFF_CMD_SERVICE_ADD,
	HANDOFF_CMD_SERVICE_DEL,
	HANDOFF_CMD_SERVICE_GET,
	HANDOFF_CMD_PEER_ADD,
	HANDOFF_CMD_PEER_DEL,
	HANDOFF_CMD_PEER_GET,
	HANDOFF_CMD_CONN_GET,
	HANDOFF_CMD_CONN_FLUSH,
	HANDOFF_CMD_STATS_GET,
	HANDOFF_CMD_PEER_UP,
	HANDOFF_CMD_PEER_DOWN,
	HANDOFF_CMD_SERVICE_CHANGE,
	HANDOFF_CMD_CONN_FILL,
	HANDOFF_CMD_SELECT_GET,

	__HANDOFF_CMD_MAX,
};
#define HANDOFF_CMD_MAX (__HANDOFF_CMD_MAX - 1)

/**
 * enum handoff_attr - top-level attributes
 *
 * @HANDOFF_A_UNSPEC: invalid.
 * @HANDOFF_A_NODE: NLA_NESTED, enum handoff_node_attr.  NODE_GET reply,
 *	NODE_SET request.
 * @HANDOFF_A_SERVICE: NLA_NESTED, enum handoff_service_attr.  SERVICE_ADD,
 *	SERVICE_DEL, SERVICE_GET requests and replies, STATS_GET dump replies,
 *	SERVICE_CHANGE events.
 * @HANDOFF_A_PEER: NLA_NESTED, enum handoff_peer_attr.  PEER_ADD, PEER_DEL,
 *	PEER_GET requests and replies, STATS_GET dump replies, PEER_UP and
 *	PEER_DOWN events.
 * @HANDOFF_A_CONN: NLA_NESTED, enum handoff_conn_attr.  CONN_GET replies.
 * @HANDOFF_A_STATS: NLA_NESTED, enum handoff_stats_attr.  STATS_GET replies.
 * @HANDOFF_A_TABLE: NLA_U32, enum handoff_table.  CONN_GET and CONN_FLUSH
 *	requests; absent selects both tables.
 * @HANDOFF_A_SCOPE: NLA_U32, enum handoff_scope.  STATS_GET replies: what the
 *	HANDOFF_A_STATS of the same message counts.
 * @HANDOFF_A_CHANGE: NLA_U32, enum handoff_change.  SERVICE_CHANGE events.
 * @HANDOFF_A_COUNT: NLA_U32, 1..32767.  CONN_FILL requests: how many
 *	entries.
 * @HANDOFF_A_CLIENT: NLA_BINARY, 4 or 16 bytes.  SELECT_GET requests: the
 *	client's address.
 * @__HANDOFF_A_MAX: internal: one past the highest value.
 */
enum handoff_attr {
	HANDOFF_A_UNSPEC,
	HANDOFF_A_NODE,
	HANDOFF_A_SERVICE,
	HANDOFF_A_PEER,
	HANDOFF_A_CONN,
	HANDOFF_A_STATS,
	HANDOFF_A_TABLE,
	HANDOFF_A_SCOPE,
	HANDOFF_A_CHANGE,
	HANDOFF_A_COUNT,
	HANDOFF_A_CLIENT,

	__HANDOFF_A_MAX,
};
#define HANDOFF_A_MAX (__HANDOFF_A_MAX - 1)

/**
 * enum handoff_node_attr - attributes nested in HANDOFF_A_NODE
 *
 * @HANDOFF_A_NODE_UNSPEC: invalid.
 * @HANDOFF_A_NODE_ID: NLA_U32, this node's id in the farm (1..UINT32_MAX).
 *	Peers know this node under this id; policy rules may name it.
 * @HANDOFF_A_NODE_FORWARD_ADDR: NLA_BINARY, 4 or 16 bytes.  Local address
 *	of the redistribution channel: the UDP socket that sends and receives
 *	struct handoff_encap_hdr datagrams.
 * @HANDOFF_A_NODE_FORWARD_PORT: NLA_U16, UDP port of that channel.
 * @HANDOFF_A_NODE_SYNC_ADDR: NLA_BINARY, 4 or 16 bytes.  Local address of the
 *	state synchronisation channel (load reports, peer liveness; see "Sync
 *	channel" below): a UDP socket that sends a report to every peer each
 *	_SYNC_INTERVAL and receives theirs.  IPv4 only for now (-EOPNOTSUPP).
 * @HANDOFF_A_NODE_SYNC_PORT: NLA_U16, UDP port of the sync channel.  Every
 *	node of a farm uses the same sync port: reports go to it.
 * @HANDOFF_A_NODE_WEIGHT: NLA_U32, this node's own weight for the WEIGHTED
 *	and LEAST_LOAD policies (default 1; 0: never keep new connections
 *	locally unless no peer can take them).  Sent in the sync reports.
 * @HANDOFF_A_NODE_SYNC_INTERVAL: NLA_U32, milliseconds between two reports
 *	to each peer, 10..60000 (default 100).
 * @HANDOFF_A_NODE_DEAD_INTERVALS: NLA_U32, 1..100 (default 3): a peer that
 *	was UP is DOWN when no valid report came from it for this many of this
 *	node's sync intervals.
 * @__HANDOFF_A_NODE_MAX: internal: one past the highest value.
 */
enum handoff_node_attr {
	HANDOFF_A_NODE_UNSPEC,
	HANDOFF_A_NODE_ID,
	HANDOFF_A_NODE_FORWARD_ADDR,
	HANDOFF_A_NODE_FORWARD_PORT,
	HANDOFF_A_NODE_SYNC_ADDR,
	HANDOFF_A_NODE_SYNC_PORT,
	HANDOFF_A_NODE_WEIGHT,
	HANDOFF_A_NODE_SYNC_INTERVAL,
	HANDOFF_A_NODE_DEAD_INTERVALS,

	__HANDOFF_A_NODE_MAX,
};
#define HANDOFF_A_NODE_MAX (__HANDOFF_A_NODE_MAX - 1)

/**
 * enum handoff_service_attr - attributes nested in HANDOFF_A_SERVICE
 *
 * A service is identified by (_ADDR, _PORT, _PROTOCOL).
 *
 * @HANDOFF_A_SERVICE_UNSPEC: invalid.
 * @HANDOFF_A_SERVICE_ADDR: NLA_BINARY, 4 or 16 bytes: the VIP.  Required in
 *	every request.  Neither unspecified nor multicast.
 * @HANDOFF_A_SERVICE_PORT: NLA_U16, TCP port of the service.  Required in
 *	every request.
 * @HANDOFF_A_SERVICE_PROTOCOL: NLA_U8, IP protocol number.  Only IPPROTO_TCP
 *	(6) is supported; absent means IPPROTO_TCP.
 * @HANDOFF_A_SERVICE_IFACES: NLA_NESTED, a list of HANDOFF_A_IFACE_INDEX
 *	attributes: the interfaces whose ingress is hooked for this service.
 *	Absent or empty: every interface of the namespace but loopback, also
 *	those that appear later.
 * @HANDOFF_A_SERVICE_POLICY: NLA_U32, enum handoff_policy: how the node that
 *	answered the SYN picks the server of a connection.  Default
 *	HANDOFF_POLICY_LOCAL.
 * @HANDOFF_A_SERVICE_POLICY_PARAMS: NLA_NESTED, enum handoff_policy_attr:
 *	parameters of the policy.
 * @HANDOFF_A_SERVICE_MAX_TEMPORARY: NLA_U32, 1..1048576 (default 16384):
 *	maximum number of entries of this service in the temporary table; SYNs
 *	beyond it are answered without state (enum handoff_syncookies).
 * @HANDOFF_A_SERVICE_MAX_FORWARD: NLA_U32, 1..1048576 (default 65536):
 *	maximum number of entries of this service in the forward table; beyond
 *	it connections are injected locally instead of being migrated.
 * @HANDOFF_A_SERVICE_SYN_TIMEOUT: NLA_U32, milliseconds, 1..600000 (default
 *	10000): lifetime of a temporary entry that has not received its first
 *	request bytes.
 * @HANDOFF_A_SERVICE_IDLE_TIMEOUT: NLA_U32, milliseconds, 1..604800000 (7
 *	days; default 900000): a forward entry that has seen no packet for this
 *	long is removed.
 * @HANDOFF_A_SERVICE_SYNCOOKIES: NLA_U32, enum handoff_syncookies: when SYNs
 *	are answered without state.  Default HANDOFF_SYNCOOKIES_AUTO.
 * @HANDOFF_A_SERVICE_FIRST_DATA_WAIT: NLA_U32, milliseconds, 0..60000
 *	(default 200): how long after the handshake a connection waits for the
 *	client's first data (or, with a content policy, for the rest of its
 *	request head) before it is handed over with what has arrived
 *	(protocols where the server speaks first: SSH, SMTP, FTP, MySQL).  The
 *	policy then chooses by that (a content policy's fallback: it says too
 *	little), local or a peer.  0: bound to this node at the handshake ACK.
 * @HANDOFF_A_SERVICE_REQUEST_LIMIT: NLA_U32, bytes, 1..16384 (default
 *	16384): content policies (host-uri, cookie, tls-sni): the most request
 *	bytes held for a connection while its HTTP head or TLS ClientHello is
 *	not complete; with that many the policy chooses by what it has.  Other
 *	policies choose at the first data and ignore it.
 * @__HANDOFF_A_SERVICE_MAX: internal: one past the highest value.
 */
enum handoff_service_attr {
	HANDOFF_A_SERVICE_UNSPEC,
	HANDOFF_A_SERVICE_ADDR,
	HANDOFF_A_SERVICE_PORT,
	HANDOFF_A_SERVICE_PROTOCOL,
	HANDOFF_A_SERVICE_IFACES,
	HANDOFF_A_SERVICE_POLICY,
	HANDOFF_A_SERVICE_POLICY_PARAMS,
	HANDOFF_A_SERVICE_MAX_TEMPORARY,
	HANDOFF_A_SERVICE_MAX_FORWARD,
	HANDOFF_A_SERVICE_SYN_TIMEOUT,
	HANDOFF_A_SERVICE_IDLE_TIMEOUT,
	HANDOFF_A_SERVICE_SYNCOOKIES,
	HANDOFF_A_SERVICE_FIRST_DATA_WAIT,
	HANDOFF_A_SERVICE_REQUEST_LIMIT,

	__HANDOFF_A_SERVICE_MAX,
};
#define HANDOFF_A_SERVICE_MAX (__HANDOFF_A_SERVICE_MAX - 1)

/**
 * enum handoff_syncookies - HANDOFF_A_SERVICE_SYNCOOKIES values
 *
 * A SYN answered without state gets a SYN-ACK whose ISN is a cookie (and,
 * with timestamps, whose TSval carries the client's window scale and SACK);
 * its handshake ACK and first data are checked against the cookie and the
 * connection rebuilt from it, as the stack's own SYN cookies do.  Such a
 * connection keeps the MSS of the cookie's table (536, 1300, 1440, 1460, the
 * largest not above the client's) and, without timestamps, neither window
 * scaling nor SACK.
 *
 * @HANDOFF_SYNCOOKIES_AUTO: with state while the service's share of the
 *	temporary table (HANDOFF_A_SERVICE_MAX_TEMPORARY) and the table itself
 *	have room, without state when either is full (a SYN flood).
 * @HANDOFF_SYNCOOKIES_ALWAYS: every SYN without state.
 * @__HANDOFF_SYNCOOKIES_MAX: internal: one past the highest value.
 */
enum handoff_syncookies {
	HANDOFF_SYNCOOKIES_AUTO = 1,
	HANDOFF_SYNCOOKIES_ALWAYS,

	__HANDOFF_SYNCOOKIES_MAX,
};
#define HANDOFF_SYNCOOKIES_MAX (__HANDOFF_SYNCOOKIES_MAX - 1)

/**
 * enum handoff_iface_attr - attributes nested in HANDOFF_A_SERVICE_IFACES
 *
 * @HANDOFF_A_IFACE_UNSPEC: invalid.
 * @HANDOFF_A_IFACE_INDEX: NLA_U32, an interface index; repeated, once per
 *	interface, in no particular order.
 * @__HANDOFF_A_IFACE_MAX: internal: one past the highest value.
 */
enum handoff_iface_attr {
	HANDOFF_A_IFACE_UNSPEC,
	HANDOFF_A_IFACE_INDEX,

	__HANDOFF_A_IFACE_MAX,
};
#define HANDOFF_A_IFACE_MAX (__HANDOFF_A_IFACE_MAX - 1)

/**
 * enum handoff_policy - HANDOFF_A_SERVICE_POLICY values
 *
 * "Node" below is this node or one of its peers.  Peers that are DOWN are
 * never chosen; when no node can be chosen the connection stays local.
 *
 * @HANDOFF_POLICY_LOCAL: every connection is injected locally (no handoff).
 * @HANDOFF_POLICY_LEAST_LOAD: the node with the lowest load, as reported on
 *	the sync channel.  No parameters.
 * @HANDOFF_POLICY_WEIGHTED: weighted random choice over this node
 *	(HANDOFF_A_NODE_WEIGHT) and the peers (HANDOFF_A_PEER_WEIGHT).  No
 *	parameters.
 * @HANDOFF_POLICY_HOST_URI: the first HANDOFF_A_POLICY_RULE whose _HOST
 *	matches the HTTP Host header and whose _PATH is a prefix of the request
 *	URI path names the node; no match: the fallback policy.
 * @HANDOFF_POLICY_COOKIE: the HTTP cookie named HANDOFF_A_POLICY_COOKIE_NAME
 *	names the node (affinity set by the servers): its value is the node's
 *	decimal id, or "node" and the id, or ends with "." and one of those (a
 *	jvmRoute suffix); absent, malformed or naming no usable node: the
 *	fallback policy.
 * @HANDOFF_POLICY_TLS_SNI: the first HANDOFF_A_POLICY_RULE whose _HOST matches
 *	the TLS ClientHello server_name names the node (_PATH is not allowed);
 *	no match: a resumed session (TLS 1.3 PSK identity, TLS 1.2 ticket or
 *	session id) goes where its hash says on the HANDOFF_POLICY_HASH table
 *	(needs this node's id); else the fallback policy.
 *
 * The content policies (HOST_URI, COOKIE, TLS_SNI) choose by the whole
 * request head: the front acknowledges and holds the client's segments until
 * the HTTP headers end or the TLS ClientHello is whole (or 16 KiB arrived),
 * then hands all of it to the chosen node.  When the service's first-data
 * wait ends first, the connection is bound to this node with what arrived.
 * @HANDOFF_POLICY_HASH: by the client's address, the same node for the same
 *	client on every front: a consistent-hash table (Maglev, 65537 slots)
 *	over this node and its peers by node id, the same whatever the order
 *	the peers were added in.  A node that cannot take the client (DOWN,
 *	weight 0, no forward endpoint) is skipped by hashing the address again
 *	(up to 8 times), so that only its clients move.  Needs this node's id.
 *	No parameters.
 * @__HANDOFF_POLICY_MAX: internal: one past the highest value.
 */
enum handoff_policy {
	HANDOFF_POLICY_LOCAL = 1,
	HANDOFF_POLICY_LEAST_LOAD,
	HANDOFF_POLICY_WEIGHTED,
	HANDOFF_POLICY_HOST_URI,
	HANDOFF_POLICY_COOKIE,
	HANDOFF_POLICY_TLS_SNI,
	HANDOFF_POLICY_HASH,

	__HANDOFF_POLICY_MAX,
};
#define HANDOFF_POLICY_MAX (__HANDOFF_POLICY_MAX - 1)

/**
 * enum handoff_policy_attr - attributes nested in
 * HANDOFF_A_SERVICE_POLICY_PARAMS
 *
 * @HANDOFF_A_POLICY_UNSPEC: invalid.
 * @HANDOFF_A_POLICY_FALLBACK: NLA_U32, enum handoff_policy, one of LOCAL,
 *	LEAST_LOAD or WEIGHTED: used by HOST_URI, COOKIE and TLS_SNI when
 *	their parameters select no node.  Default HANDOFF_POLICY_LOCAL.
 * @HANDOFF_A_POLICY_COOKIE_NAME: NLA_NUL_STRING, the cookie name for
 *	HANDOFF_POLICY_COOKIE (required by it, refused by the others).
 * @HANDOFF_A_POLICY_RULE: NLA_NESTED, enum handoff_rule_attr; repeated, once
 *	per rule, in match order.  HOST_URI and TLS_SNI only.
 * @__HANDOFF_A_POLICY_MAX: internal: one past the highest value.
 */
enum handoff_policy_attr {
	HANDOFF_A_POLICY_UNSPEC,
	HANDOFF_A_POLICY_FALLBACK,
	HANDOFF_A_POLICY_COOKIE_NAME,
	HANDOFF_A_POLICY_RULE,

	__HANDOFF_A_POLICY_MAX,
};
#define HANDOFF_A_POLICY_MAX (__HANDOFF_A_POLICY_MAX - 1)

/**
 * enum handoff_rule_attr - attributes nested in HANDOFF_A_POLICY_RULE
 *
 * @HANDOFF_A_RULE_UNSPEC: invalid.
 * @HANDOFF_A_RULE_HOST: NLA_NUL_STRING, host name compared case-insensitively
 *	with the Host header (HOST_URI, port suffix ignored) or the SNI
 *	(TLS_SNI); a leading "*." matches any non-empty subdomain.  Absent: any
 *	host.
 * @HANDOFF_A_RULE_PATH: NLA_NUL_STRING starting with "/": URI path prefix
 *	(HOST_URI only).  Absent: any path.
 * @HANDOFF_A_RULE_NODE: NLA_U32, required: id of the node (this node or a
 *	peer) that gets the matching connections.
 * @__HANDOFF_A_RULE_MAX: internal: one past the highest value.
 */
enum handoff_rule_attr {
	HANDOFF_A_RULE_UNSPEC,
	HANDOFF_A_RULE_HOST,
	HANDOFF_A_RULE_PATH,
	HANDOFF_A_RULE_NODE,

	__HANDOFF_A_RULE_MAX,
};
#define HANDOFF_A_RULE_MAX (__HANDOFF_A_RULE_MAX - 1)

/**
 * enum handoff_peer_state - HANDOFF_A_PEER_STATE values
 *
 * @HANDOFF_PEER_STATE_UNKNOWN: no valid report from the peer yet (just
 *	added, or this node has no sync channel).  It may be chosen.
 * @HANDOFF_PEER_STATE_UP: the peer reports on the sync channel; it may be
 *	chosen by the policies.
 * @HANDOFF_PEER_STATE_DOWN: the peer stopped reporting; no policy chooses it.
 *	Its forward entries stay (the connections may still be alive on it)
 *	and their packets are still forwarded.
 * @__HANDOFF_PEER_STATE_MAX: internal: one past the highest value.
 */
enum handoff_peer_state {
	HANDOFF_PEER_STATE_UNKNOWN = 1,
	HANDOFF_PEER_STATE_UP,
	HANDOFF_PEER_STATE_DOWN,

	__HANDOFF_PEER_STATE_MAX,
};
#define HANDOFF_PEER_STATE_MAX (__HANDOFF_PEER_STATE_MAX - 1)

/**
 * enum handoff_peer_attr - attributes nested in HANDOFF_A_PEER
 *
 * @HANDOFF_A_PEER_UNSPEC: invalid.
 * @HANDOFF_A_PEER_ID: NLA_U32, the peer's node id (its HANDOFF_A_NODE_ID),
 *	1..UINT32_MAX and not this node's id.  Required in every request.
 * @HANDOFF_A_PEER_ADDR: NLA_BINARY, 4 or 16 bytes: the peer's forward address
 *	(its HANDOFF_A_NODE_FORWARD_ADDR).  Neither unspecified nor multicast.
 * @HANDOFF_A_PEER_PORT: NLA_U16: the peer's forward port.  Absent in
 *	PEER_ADD: this node's HANDOFF_A_NODE_FORWARD_PORT.
 * @HANDOFF_A_PEER_WEIGHT: NLA_U32, weight for HANDOFF_POLICY_WEIGHTED
 *	(default 1; 0 drains the peer: no new connections, existing ones go on).
 * @HANDOFF_A_PEER_STATE: NLA_U32, enum handoff_peer_state.  Replies and
 *	events only.
 * @HANDOFF_A_PEER_SYNC_ADDR: NLA_BINARY, 4 or 16 bytes: the peer's sync
 *	address (its HANDOFF_A_NODE_SYNC_ADDR).  Absent in PEER_ADD: its
 *	forward address.  Reports are sent to it and accepted only from it
 *	(and this node's sync port).
 * @HANDOFF_A_PEER_REPORT_AGE: NLA_U32, milliseconds since the peer's last
 *	valid report.  Replies and events only; absent before its first.
 * @HANDOFF_A_PEER_LOAD: NLA_U32, the peer's load as this node estimates it:
 *	connections it reported serving plus its listeners' accept queues, plus
 *	the connections this node handed it since that report.  Replies and
 *	events only; absent before its first report.
 * @__HANDOFF_A_PEER_MAX: internal: one past the highest value.
 */
enum handoff_peer_attr {
	HANDOFF_A_PEER_UNSPEC,
	HANDOFF_A_PEER_ID,
	HANDOFF_A_PEER_ADDR,
	HANDOFF_A_PEER_PORT,
	HANDOFF_A_PEER_WEIGHT,
	HANDOFF_A_PEER_STATE,
	HANDOFF_A_PEER_SYNC_ADDR,
	HANDOFF_A_PEER_REPORT_AGE,
	HANDOFF_A_PEER_LOAD,

	__HANDOFF_A_PEER_MAX,
};
#define HANDOFF_A_PEER_MAX (__HANDOFF_A_PEER_MAX - 1)

/**
 * enum handoff_table - HANDOFF_A_TABLE and HANDOFF_A_CONN_TABLE values
 *
 * @HANDOFF_TABLE_TEMPORARY: half-open and not yet dispatched connections.
 * @HANDOFF_TABLE_FORWARD: connections migrated to a peer.
 * @__HANDOFF_TABLE_MAX: internal: one past the highest value.
 */
enum handoff_table {
	HANDOFF_TABLE_TEMPORARY = 1,
	HANDOFF_TABLE_FORWARD,

	__HANDOFF_TABLE_MAX,
};
#define HANDOFF_TABLE_MAX (__HANDOFF_TABLE_MAX - 1)

/**
 * enum handoff_conn_state - HANDOFF_A_CONN_STATE values
 *
 * @HANDOFF_CONN_STATE_SYN_RECV: SYN answered with a SYN-ACK, waiting for the
 *	handshake ACK (temporary table).
 * @HANDOFF_CONN_STATE_ESTABLISHED: handshake ACK validated, waiting for the
 *	first request bytes (temporary table).
 * @HANDOFF_CONN_STATE_BOUND: injected into the local TCP stack, which owns
 *	it now (temporary table, until the entry is released).
 * @HANDOFF_CONN_STATE_MIGRATING: HANDOFF_PKT_NEW sent to the peer, waiting
 *	for its HANDOFF_PKT_MIGRATED_ACK (forward table).
 * @HANDOFF_CONN_STATE_FORWARDED: migrated: the peer owns the connection and
 *	the client's packets are forwarded to it (forward table).
 * @HANDOFF_CONN_STATE_CLOSED: finished; the entry is about to be removed.
 * @__HANDOFF_CONN_STATE_MAX: internal: one past the highest value.
 */
enum handoff_conn_state {
	HANDOFF_CONN_STATE_SYN_RECV = 1,
	HANDOFF_CONN_STATE_ESTABLISHED,
	HANDOFF_CONN_STATE_BOUND,
	HANDOFF_CONN_STATE_MIGRATING,
	HANDOFF_CONN_STATE_FORWARDED,
	HANDOFF_CONN_STATE_CLOSED,

	__HANDOFF_CONN_STATE_MAX,
};
#define HANDOFF_CONN_STATE_MAX (__HANDOFF_CONN_STATE_MAX - 1)

/**
 * enum handoff_conn_attr - attributes nested in HANDOFF_A_CONN (replies only)
 *
 * @HANDOFF_A_CONN_UNSPEC: invalid.
 * @HANDOFF_A_CONN_TABLE: NLA_U32, enum handoff_table holding the entry.
 * @HANDOFF_A_CONN_FAMILY: NLA_U16, AF_INET or AF_INET6.
 * @HANDOFF_A_CONN_SADDR: NLA_BINARY, 4 or 16 bytes: client address.
 * @HANDOFF_A_CONN_DADDR: NLA_BINARY, 4 or 16 bytes: service address (VIP).
 * @HANDOFF_A_CONN_SPORT: NLA_U16: client port.
 * @HANDOFF_A_CONN_DPORT: NLA_U16: service port.
 * @HANDOFF_A_CONN_STATE: NLA_U32, enum handoff_conn_state.
 * @HANDOFF_A_CONN_CLIENT_ISN: NLA_U32: the client's initial sequence number.
 * @HANDOFF_A_CONN_LOCAL_ISN: NLA_U32: the ISN of our SYN-ACK (the cookie).
 * @HANDOFF_A_CONN_PEER_ID: NLA_U32: the peer owning the connection (forward
 *	table only).
 * @HANDOFF_A_CONN_AGE_MS: NLA_U64, milliseconds since the entry was created.
 * @HANDOFF_A_CONN_FLOW_ID: NLA_U32: the peer's flow id for the connection
 *	(handoff_encap_hdr.flow_id; forward table, 0 until MIGRATED_ACK).
 * @HANDOFF_A_CONN_REF: NLA_U32: this node's reference of the connection
 *	(handoff_encap_hdr.conn_ref).
 * @HANDOFF_A_CONN_PAD: padding for HANDOFF_A_CONN_AGE_MS.
 * @HANDOFF_A_CONN_PACKETS: NLA_U64: client packets forwarded to the peer
 *	(forward table only).
 * @HANDOFF_A_CONN_BYTES: NLA_U64: bytes of those packets, IP headers
 *	included (forward table only).
 * @__HANDOFF_A_CONN_MAX: internal: one past the highest value.
 */
enum handoff_conn_attr {
	HANDOFF_A_CONN_UNSPEC,
	HANDOFF_A_CONN_TABLE,
	HANDOFF_A_CONN_FAMILY,
	HANDOFF_A_CONN_SADDR,
	HANDOFF_A_CONN_DADDR,
	HANDOFF_A_CONN_SPORT,
	HANDOFF_A_CONN_DPORT,
	HANDOFF_A_CONN_STATE,
	HANDOFF_A_CONN_CLIENT_ISN,
	HANDOFF_A_CONN_LOCAL_ISN,
	HANDOFF_A_CONN_PEER_ID,
	HANDOFF_A_CONN_AGE_MS,
	HANDOFF_A_CONN_FLOW_ID,
	HANDOFF_A_CONN_REF,
	HANDOFF_A_CONN_PAD,
	HANDOFF_A_CONN_PACKETS,
	HANDOFF_A_CONN_BYTES,

	__HANDOFF_A_CONN_MAX,
};
#define HANDOFF_A_CONN_MAX (__HANDOFF_A_CONN_MAX - 1)

/**
 * enum handoff_scope - HANDOFF_A_SCOPE values
 *
 * @HANDOFF_SCOPE_GLOBAL: the whole node (namespace).
 * @HANDOFF_SCOPE_SERVICE: the service named by the message's
 *	HANDOFF_A_SERVICE.
 * @HANDOFF_SCOPE_PEER: the peer named by the message's HANDOFF_A_PEER.
 * @__HANDOFF_SCOPE_MAX: internal: one past the highest value.
 */
enum handoff_scope {
	HANDOFF_SCOPE_GLOBAL = 1,
	HANDOFF_SCOPE_SERVICE,
	HANDOFF_SCOPE_PEER,

	__HANDOFF_SCOPE_MAX,
};
#define HANDOFF_SCOPE_MAX (__HANDOFF_SCOPE_MAX - 1)

/**
 * enum handoff_change - HANDOFF_A_CHANGE values
 *
 * @HANDOFF_CHANGE_ADD: the service was added.
 * @HANDOFF_CHANGE_DEL: the service was deleted.
 * @__HANDOFF_CHANGE_MAX: internal: one past the highest value.
 */
enum handoff_change {
	HANDOFF_CHANGE_ADD = 1,
	HANDOFF_CHANGE_DEL,

	__HANDOFF_CHANGE_MAX,
};
#define HANDOFF_CHANGE_MAX (__HANDOFF_CHANGE_MAX - 1)

/**
 * enum handoff_stats_attr - counters nested in HANDOFF_A_STATS
 *
 * Every counter is an NLA_U64 (put with HANDOFF_A_STATS_PAD) counting
 * packets unless it says otherwise.  Every scope reports every counter; the
 * letters say in which scopes a counter can be non-zero: G global, S per
 * service, P per peer.  The *_ENTRIES values are gauges, the rest only grow.
 *
 * The DROP_* counters count dropped segments, one reason each, in the order
 * of the module's drop reasons (DropReason::ALL): the attribute of each of
 * these reasons is HANDOFF_A_STATS_DROP_MALFORMED + its index.  Attribute
 * numbers are ABI: new counters are only ever appended at the end.
 *
 * @HANDOFF_A_STATS_UNSPEC: invalid.
 * @HANDOFF_A_STATS_PAD: padding.
 * @HANDOFF_A_STATS_SYN_ANSWERED: GS, SYNs answered with the module's own
 *	SYN-ACK (new temporary entry).
 * @HANDOFF_A_STATS_SYN_RETRANSMIT: GS, retransmitted SYNs answered again.
 * @HANDOFF_A_STATS_COOKIES_CHECKED: GS, handshake ACKs validated against the
 *	module's ISN (the cookie).
 * @HANDOFF_A_STATS_COOKIES_FAILED: GS, handshake ACKs whose ISN check failed
 *	(the segment is also counted in DROP_BAD_COOKIE).
 * @HANDOFF_A_STATS_ACKS_ABSORBED: GS, segments consumed silently in the
 *	temporary table (handshake ACK, pure ACKs before the first request
 *	bytes).
 * @HANDOFF_A_STATS_INJECTED: GS, connections injected into the local stack.
 * @HANDOFF_A_STATS_INJECT_FAILED: GS, injections the local stack refused.
 * @HANDOFF_A_STATS_MIGRATED: GSP, connections handed off to a peer
 *	(MIGRATED_ACK received).
 * @HANDOFF_A_STATS_MIGRATE_FAILED: GSP, handoffs refused by the peer or
 *	unanswered in time.
 * @HANDOFF_A_STATS_FORWARDED: GSP, client packets forwarded to a peer
 *	(HANDOFF_PKT_DATA sent).
 * @HANDOFF_A_STATS_ADOPTED: GSP, connections received from a peer
 *	(HANDOFF_PKT_NEW) and established locally.
 * @HANDOFF_A_STATS_RECEIVED: GSP, HANDOFF_PKT_DATA packets received from a
 *	peer and delivered locally.
 * @HANDOFF_A_STATS_TIMEOUTS: GSP, entries removed by the SYN or idle timeout
 *	(counts entries, not packets).
 * @HANDOFF_A_STATS_DROP_MALFORMED: GSP, the packet, its TCP options or its
 *	encapsulation failed to parse.
 * @HANDOFF_A_STATS_DROP_BAD_CHECKSUM: GS, bad TCP or IPv4 header checksum.
 * @HANDOFF_A_STATS_DROP_UNSUPPORTED: GS, a packet shape not handled (e.g.
 *	IPv6 extension headers).
 * @HANDOFF_A_STATS_DROP_NO_LISTENER: GS, no local listener for a connection
 *	to hand over.
 * @HANDOFF_A_STATS_DROP_QUEUE_FULL: GS, the local accept queue (or a handoff
 *	queue) was full.
 * @HANDOFF_A_STATS_DROP_TABLE_FULL: GS, the table was full
 *	(HANDOFF_A_SERVICE_MAX_TEMPORARY reached).
 * @HANDOFF_A_STATS_DROP_UNKNOWN_CONN: GSP, a segment for a tuple not in the
 *	table (or already closed), or DATA/MIGRATED_ACK from a peer matching no
 *	entry.
 * @HANDOFF_A_STATS_DROP_BAD_COOKIE: GS, a handshake ACK whose cookie does not
 *	verify.
 * @HANDOFF_A_STATS_DROP_EXPIRED: GS, a cookie or entry too old.
 * @HANDOFF_A_STATS_DROP_BAD_ACK: GS, an unacceptable acknowledgment number.
 * @HANDOFF_A_STATS_DROP_OUT_OF_WINDOW: GS, a sequence number outside the
 *	receive window.
 * @HANDOFF_A_STATS_DROP_OUT_OF_ORDER: GS, in the window but not at the next
 *	expected byte.
 * @HANDOFF_A_STATS_DROP_SYN_MISMATCH: GS, a SYN with another ISN on a
 *	half-open tuple.
 * @HANDOFF_A_STATS_DROP_UNEXPECTED_SYN: GS, a SYN after the handshake
 *	completed.
 * @HANDOFF_A_STATS_DROP_RATE_LIMITED: GS, too many SYN-ACK retransmissions
 *	for one entry.
 * @HANDOFF_A_STATS_DROP_RST_IN_WINDOW: GS, a RST in the window but not at the
 *	next expected byte (RFC 5961 section 3.2).
 * @HANDOFF_A_STATS_DROP_BAD_EVENT: GS, an event that makes no sense in the
 *	entry's state.
 * @HANDOFF_A_STATS_DROP_INJECT_RETRY: GS, a handoff failed transiently; the
 *	client will retransmit.
 * @HANDOFF_A_STATS_DROP_INJECT_FAILED: GS, a handoff failed for good.
 * @HANDOFF_A_STATS_DROP_PEER_DOWN: GSP, reserved: packets of forward entries
 *	are forwarded whatever their peer's state (the connection may live on
 *	it), so nothing is counted here.
 * @HANDOFF_A_STATS_TEMPORARY_ENTRIES: GS, gauge: entries in the temporary
 *	table now.
 * @HANDOFF_A_STATS_FORWARD_ENTRIES: GSP, gauge: entries in the forward table
 *	now.
 * @HANDOFF_A_STATS_XMIT_FAILED: GS, replies (SYN-ACK, RST) the module built
 *	but the device did not take.
 * @HANDOFF_A_STATS_NEW_SENT: GSP, origin: connections offered to a peer
 *	(first HANDOFF_PKT_NEW of a connection sent).
 * @HANDOFF_A_STATS_NEW_RETRANSMIT: GSP, origin: HANDOFF_PKT_NEW sent again
 *	because no HANDOFF_PKT_MIGRATED_ACK came in time.
 * @HANDOFF_A_STATS_NEW_REFUSED: GSP, origin: handoffs the peer refused
 *	(MIGRATED_ACK with HANDOFF_PKT_F_REFUSED); the client is reset.
 * @HANDOFF_A_STATS_NEW_TIMEOUT: GSP, origin: handoffs unanswered when the
 *	service's SYN timeout ran out; the fallback took the connection.
 * @HANDOFF_A_STATS_FALLBACK_LOCAL: GS, origin: connections whose handoff timed
 *	out and that were then bound to the local stack (the others were reset).
 * @HANDOFF_A_STATS_DATA_EARLY: GSP, target: HANDOFF_PKT_DATA held because its
 *	connection was not injected yet (delivered after the injection).
 * @HANDOFF_A_STATS_DATA_DROPPED: GSP, HANDOFF_PKT_DATA lost: origin: not sent
 *	(no route, too big, device refused); target: early queue full, unknown
 *	or mismatching connection, or the held packets of a connection that
 *	never came.
 * @HANDOFF_A_STATS_DGRAM_NOT_PEER: G, datagrams at the forward port from an
 *	address and port that is no configured peer.
 * @HANDOFF_A_STATS_DGRAM_MALFORMED: GP, datagrams from a peer that failed to
 *	parse (truncated, unknown type, length past the end, impossible NEW
 *	state, DATA that is not a TCP packet of its connection).
 * @HANDOFF_A_STATS_REFUSED: GSP, target: HANDOFF_PKT_NEW refused (no such
 *	service, no listener, stack refused the connection).
 * @HANDOFF_A_STATS_FLOWS_ENDED: GSP, forward (origin) and adopted (target)
 *	entries ended by the client's RST, or by its FIN and the linger time
 *	(idle timeouts are in TIMEOUTS).
 * @HANDOFF_A_STATS_ADOPTED_ENTRIES: GP, gauge: connections this node adopted
 *	from peers and still tracks (target side).
 * @HANDOFF_A_STATS_SYNCOOKIES_SENT: GS, SYNs answered without state (a
 *	cookie SYN-ACK; see enum handoff_syncookies).  Not in SYN_ANSWERED.
 * @HANDOFF_A_STATS_SYNC_SENT: GP, sync reports sent (per peer: to it).
 * @HANDOFF_A_STATS_SYNC_RECEIVED: GP, valid sync reports received and used.
 * @HANDOFF_A_STATS_SYNC_NOT_PEER: G, sync datagrams dropped: not from a
 *	peer's sync address and the sync port, or naming another node id.
 * @HANDOFF_A_STATS_SYNC_MALFORMED: GP, sync datagrams dropped: they failed to
 *	parse (see "Sync channel").
 * @HANDOFF_A_STATS_SYNC_REPLAY: GP, sync reports dropped as old or repeated
 *	(their epoch and sequence number).
 * @HANDOFF_A_STATS_ANNOUNCE_SENT: GP, front failover: entries of
 *	HANDOFF_SYNC_CONNS datagrams sent (per peer: to it), ADD and DEL.
 * @HANDOFF_A_STATS_ANNOUNCE_RECEIVED: GP, front failover: entries of
 *	HANDOFF_SYNC_CONNS datagrams received from peers and applied.
 * @HANDOFF_A_STATS_ANNOUNCE_DROPPED: G, front failover: announcements not
 *	sent (the queue was full: those connections do not survive a failover
 *	of this node) or not stored (the relay table was full).
 * @HANDOFF_A_STATS_RELAYED: GSP, front failover: client packets of a
 *	connection another front handed to a peer, forwarded to that peer as
 *	HANDOFF_PKT_DATA with HANDOFF_PKT_F_RELAYED (per peer: to it).
 * @HANDOFF_A_STATS_RELAY_ENTRIES: G, gauge: connections peers announced that
 *	this node would relay (the relay table).
 * @HANDOFF_A_STATS_REQUEST_HELD: GS, content policies: segments of an
 *	incomplete request the front acknowledged and holds until the request
 *	is complete (end of the HTTP headers, whole TLS ClientHello), reaches
 *	16 KiB, or the first-data wait ends.
 * @HANDOFF_A_STATS_REQUEST_BYTES: G, gauge: request bytes held now (at most
 *	16 MiB per namespace; beyond, segments are dropped and retransmitted).
 * @__HANDOFF_A_STATS_MAX: internal: one past the highest value.
 */
enum handoff_stats_attr {
	HANDOFF_A_STATS_UNSPEC,
	HANDOFF_A_STATS_PAD,
	HANDOFF_A_STATS_SYN_ANSWERED,
	HANDOFF_A_STATS_SYN_RETRANSMIT,
	HANDOFF_A_STATS_COOKIES_CHECKED,
	HANDOFF_A_STATS_COOKIES_FAILED,
	HANDOFF_A_STATS_ACKS_ABSORBED,
	HANDOFF_A_STATS_INJECTED,
	HANDOFF_A_STATS_INJECT_FAILED,
	HANDOFF_A_STATS_MIGRATED,
	HANDOFF_A_STATS_MIGRATE_FAILED,
	HANDOFF_A_STATS_FORWARDED,
	HANDOFF_A_STATS_ADOPTED,
	HANDOFF_A_STATS_RECEIVED,
	HANDOFF_A_STATS_TIMEOUTS,
	HANDOFF_A_STATS_DROP_MALFORMED,
	HANDOFF_A_STATS_DROP_BAD_CHECKSUM,
	HANDOFF_A_STATS_DROP_UNSUPPORTED,
	HANDOFF_A_STATS_DROP_NO_LISTENER,
	HANDOFF_A_STATS_DROP_QUEUE_FULL,
	HANDOFF_A_STATS_DROP_TABLE_FULL,
	HANDOFF_A_STATS_DROP_UNKNOWN_CONN,
	HANDOFF_A_STATS_DROP_BAD_COOKIE,
	HANDOFF_A_STATS_DROP_EXPIRED,
	HANDOFF_A_STATS_DROP_BAD_ACK,
	HANDOFF_A_STATS_DROP_OUT_OF_WINDOW,
	HANDOFF_A_STATS_DROP_OUT_OF_ORDER,
	HANDOFF_A_STATS_DROP_SYN_MISMATCH,
	HANDOFF_A_STATS_DROP_UNEXPECTED_SYN,
	HANDOFF_A_STATS_DROP_RATE_LIMITED,
	HANDOFF_A_STATS_DROP_RST_IN_WINDOW,
	HANDOFF_A_STATS_DROP_BAD_EVENT,
	HANDOFF_A_STATS_DROP_INJECT_RETRY,
	HANDOFF_A_STATS_DROP_INJECT_FAILED,
	HANDOFF_A_STATS_DROP_PEER_DOWN,
	HANDOFF_A_STATS_TEMPORARY_ENTRIES,
	HANDOFF_A_STATS_FORWARD_ENTRIES,
	HANDOFF_A_STATS_XMIT_FAILED,
	HANDOFF_A_STATS_NEW_SENT,
	HANDOFF_A_STATS_NEW_RETRANSMIT,
	HANDOFF_A_STATS_NEW_REFUSED,
	HANDOFF_A_STATS_NEW_TIMEOUT,
	HANDOFF_A_STATS_FALLBACK_LOCAL,
	HANDOFF_A_STATS_DATA_EARLY,
	HANDOFF_A_STATS_DATA_DROPPED,
	HANDOFF_A_STATS_DGRAM_NOT_PEER,
	HANDOFF_A_STATS_DGRAM_MALFORMED,
	HANDOFF_A_STATS_REFUSED,
	HANDOFF_A_STATS_FLOWS_ENDED,
	HANDOFF_A_STATS_ADOPTED_ENTRIES,
	HANDOFF_A_STATS_SYNCOOKIES_SENT,
	HANDOFF_A_STATS_SYNC_SENT,
	HANDOFF_A_STATS_SYNC_RECEIVED,
	HANDOFF_A_STATS_SYNC_NOT_PEER,
	HANDOFF_A_STATS_SYNC_MALFORMED,
	HANDOFF_A_STATS_SYNC_REPLAY,
	HANDOFF_A_STATS_ANNOUNCE_SENT,
	HANDOFF_A_STATS_ANNOUNCE_RECEIVED,
	HANDOFF_A_STATS_ANNOUNCE_DROPPED,
	HANDOFF_A_STATS_RELAYED,
	HANDOFF_A_STATS_RELAY_ENTRIES,
	HANDOFF_A_STATS_REQUEST_HELD,
	HANDOFF_A_STATS_REQUEST_BYTES,

	__HANDOFF_A_STATS_MAX,
};
#define HANDOFF_A_STATS_MAX (__HANDOFF_A_STATS_MAX - 1)

/*
 * Redistribution protocol
 * -----------------------
 *
 * Nodes exchange UDP datagrams between their forward addresses and ports
 * (HANDOFF_A_NODE_FORWARD_*, HANDOFF_A_PEER_ADDR/_PORT).  Each datagram is one
 * struct handoff_encap_hdr followed by exactly hdr.len bytes of body.  All
 * multi-byte fields are in network byte order.  The node that answered the
 * SYN is the *origin*, the peer that takes the connection over the *target*.
 *
 *  NEW (origin -> target): hand a connection over.  conn_ref is the origin's
 *	reference, flow_id is 0.  Body: struct handoff_new_conn, then the request
 *	bytes received so far (the TCP payload from sequence client_isn + 1).
 *	The origin retransmits NEW until it gets MIGRATED_ACK or the service's
 *	SYN timeout runs out.
 *  MIGRATED_ACK (target -> origin): answer to NEW.  conn_ref echoes NEW's,
 *	flow_id is the target's id of the connection.  No body.  With
 *	HANDOFF_PKT_F_REFUSED the target did not take the connection (flow_id
 *	0) and the origin resets it.  A NEW retransmission for a connection
 *	already adopted gets the same MIGRATED_ACK again.
 *  DATA (origin -> target): a client packet of a migrated connection.
 *	conn_ref is the origin's, flow_id the target's (0 while the origin has
 *	no MIGRATED_ACK yet: the target then finds the connection by the outer
 *	source address and conn_ref).  Body: the client's IP packet, from its
 *	IP header on, unchanged.
 *
 * The target answers the client directly, from the VIP (direct server
 * return); nothing of the server-to-client direction crosses the channel.
 * A DATA datagram is the client packet plus the outer IP and UDP headers and
 * 12 bytes: the path between nodes needs that much more MTU, or the
 * datagrams are fragmented.
 */

/**
 * enum handoff_pkt_type - handoff_encap_hdr.type values
 *
 * @HANDOFF_PKT_NEW: connection handoff, origin to target.
 * @HANDOFF_PKT_DATA: forwarded client packet, origin to target.
 * @HANDOFF_PKT_MIGRATED_ACK: handoff answer, target to origin.
 */
enum handoff_pkt_type {
	HANDOFF_PKT_NEW = 0x01,
	HANDOFF_PKT_DATA = 0x02,
	HANDOFF_PKT_MIGRATED_ACK = 0x03,
};

/* handoff_encap_hdr.flags: MIGRATED_ACK only, the target refused the handoff. */
#define HANDOFF_PKT_F_REFUSED		0x01
/*
 * handoff_encap_hdr.flags: DATA only, sent by a front that is not the
 * connection's origin (front failover, see "Sync channel"): conn_ref is the
 * origin's, flow_id the target's (never 0).  The target takes it for the
 * connection it adopted from any peer under that conn_ref and flow id, with
 * the packet's tuple.
 */
#define HANDOFF_PKT_F_RELAYED		0x02

/**
 * struct handoff_encap_hdr - header of every redistribution datagram
 * (12 bytes, naturally aligned)
 *
 * @type: enum handoff_pkt_type.  Datagrams of other types are dropped
 *	(drop_malformed).
 * @flags: HANDOFF_PKT_F_* bits.  Senders clear the bits they do not define;
 *	receivers ignore bits they do not know.
 * @len: length in bytes of the body following this header.  Datagrams
 *	shorter than sizeof(struct handoff_encap_hdr) + len are dropped; bytes
 *	beyond it are ignored.
 * @conn_ref: the origin's reference of the connection, opaque to the target,
 *	unique among the origin's live forward entries (e.g. a slot index and a
 *	generation count); never 0.
 * @flow_id: the target's id of the connection, opaque to the origin, chosen
 *	by the target in MIGRATED_ACK; 0 means "not known yet".
 */
struct handoff_encap_hdr {
	__u8	type;
	__u8	flags;
	__be16	len;
	__be32	conn_ref;
	__be32	flow_id;
};

/* handoff_new_conn.tcp_opts: options the client and the origin agreed on. */
#define HANDOFF_TCPOPT_SACK_PERM	0x01
#define HANDOFF_TCPOPT_TIMESTAMP	0x02
#define HANDOFF_TCPOPT_WSCALE		0x04

/**
 * struct handoff_new_conn - body of HANDOFF_PKT_NEW, before the request bytes
 * (60 bytes, naturally aligned)
 *
 * Everything the target needs to build a socket equivalent to the one the
 * origin would have created from the handshake.
 *
 * @family: AF_INET or AF_INET6.
 * @tcp_opts: HANDOFF_TCPOPT_* negotiated in the handshake.
 * @snd_wscale: the client's window scale (from its SYN), if
 *	HANDOFF_TCPOPT_WSCALE.
 * @rcv_wscale: the window scale the origin announced in the SYN-ACK, if
 *	HANDOFF_TCPOPT_WSCALE.
 * @mss: the MSS to use towards the client (minimum of the client's and the
 *	origin's).
 * @window: the client's last advertised window, as in its TCP header
 *	(unscaled).
 * @client_isn: the client's initial sequence number (its SYN).
 * @local_isn: the origin's initial sequence number (the SYN-ACK's).
 * @ts_recent: the last TSval received from the client, if
 *	HANDOFF_TCPOPT_TIMESTAMP.
 * @ts_local: the TSval the origin sent in its SYN-ACK, if
 *	HANDOFF_TCPOPT_TIMESTAMP: the target keeps its TSvals monotonic from it.
 * @sport: the client's port.
 * @dport: the service port.
 * @saddr: the client's address: an in6_addr, or an in_addr in the first four
 *	bytes with the rest zero.
 * @daddr: the service address (VIP), same layout as @saddr.
 */
struct handoff_new_conn {
	__u8	family;
	__u8	tcp_opts;
	__u8	snd_wscale;
	__u8	rcv_wscale;
	__be16	mss;
	__be16	window;
	__be32	client_isn;
	__be32	local_isn;
	__be32	ts_recent;
	__be32	ts_local;
	__be16	sport;
	__be16	dport;
	__be32	saddr[4];
	__be32	daddr[4];
};

/*
 * Sync channel
 * ------------
 *
 * Every node with a sync address sends each peer, every
 * HANDOFF_A_NODE_SYNC_INTERVAL, one UDP datagram or more (40 services per
 * datagram) from its sync address and port to the peer's sync address
 * (HANDOFF_A_PEER_SYNC_ADDR) and the same port: struct handoff_sync_hdr, then
 * exactly hdr.len bytes of struct handoff_sync_load, one per service of the
 * sender.  Multi-byte fields in network byte order.
 *
 * A receiver takes a report only from a configured peer's sync address and
 * the sync port, naming that peer's node id, and only whole and well formed
 * (else sync_not_peer or sync_malformed).  Then (epoch, seq) must be newer
 * than the last report taken from that peer (else sync_replay): while the
 * peer is UP, the same epoch with a later seq (serial-number arithmetic,
 * RFC 1982), or a later epoch (the sender restarted; epochs come from its
 * clock); while it is DOWN, a later seq of the same epoch or any other epoch.
 * The first report taken makes the peer UP (event HANDOFF_CMD_PEER_UP); no
 * report taken for HANDOFF_A_NODE_DEAD_INTERVALS of the receiver's intervals
 * makes it DOWN (HANDOFF_CMD_PEER_DOWN).  The channel has no authentication:
 * like the redistribution channel it belongs on a network of the farm's
 * own; the checks catch misconfiguration and stale datagrams, not attackers.
 */

/*
 * Front failover: a node announces each connection it forwards to a peer
 * (once the peer acknowledged it, so with its flow id) to all its peers
 * on the sync channel, batched every interval: HANDOFF_SYNC_CONNS datagrams,
 * struct handoff_sync_hdr (type HANDOFF_SYNC_CONNS, same node id, epoch and
 * seq numbering as the reports) then hdr.len bytes of struct
 * handoff_sync_conn (24 per datagram), an ADD when the connection is handed
 * over and again every third of its idle timeout while it lives, a DEL when
 * its forward entry ends.  Up to 4096 entries wait to be sent; beyond, they
 * are dropped (announce_dropped) and those connections do not survive this
 * node's failure.
 *
 * A receiver takes them from a peer's sync address like reports (not
 * checked for replay: an old ADD makes an entry that expires by itself)
 * into its relay table (at most 65536 entries, else announce_dropped),
 * ignoring connections handed to itself.  A client packet that is not a
 * SYN, for a connection the receiver does not know otherwise but has in
 * its relay table, is sent to the connection's target as HANDOFF_PKT_DATA
 * with HANDOFF_PKT_F_RELAYED (relayed): when a front dies and the routers
 * move its clients to another front, its connections go on.  A relay entry
 * ends with the DEL of its announcer, the client's RST or FIN (and linger),
 * or its idle timeout after the last ADD or packet.
 */

/* handoff_sync_hdr.type */
#define HANDOFF_SYNC_REPORT		0x10
#define HANDOFF_SYNC_CONNS		0x11

/* handoff_sync_conn.op */
#define HANDOFF_SYNC_CONN_ADD		1
#define HANDOFF_SYNC_CONN_DEL		2

/**
 * struct handoff_sync_hdr - header of a sync report (28 bytes)
 *
 * @type: HANDOFF_SYNC_REPORT or HANDOFF_SYNC_CONNS; other types are dropped
 *	(sync_malformed).
 * @flags: 0 when sent, ignored when received.
 * @len: length of the body (a multiple of sizeof(struct handoff_sync_load),
 *	at most 40 of them; of struct handoff_sync_conn, at most 24).
 * @node_id: the sender's HANDOFF_A_NODE_ID.
 * @epoch: the sender's instance epoch (from its clock when its sync channel
 *	opened): later after a restart.
 * @seq: the sender's sequence number, one more for every datagram it sends.
 * @interval_ms: the sender's HANDOFF_A_NODE_SYNC_INTERVAL (10..60000).
 * @conns: connections the sender serves: the TCP sockets of its namespace
 *	(as /proc/net/sockstat counts them).
 * @weight: the sender's HANDOFF_A_NODE_WEIGHT.
 */
struct handoff_sync_hdr {
	__u8	type;
	__u8	flags;
	__be16	len;
	__be32	node_id;
	__be32	epoch;
	__be32	seq;
	__be32	interval_ms;
	__be32	conns;
	__be32	weight;
};

/**
 * struct handoff_sync_load - one service in a sync report (32 bytes)
 *
 * @addr: the service address: an in6_addr, or an in_addr in the first four
 *	bytes with the rest zero.
 * @port: the service port (not 0).
 * @family: AF_INET or AF_INET6.
 * @reserved: 0 when sent, ignored when received.
 * @handed: connections the sender took for the service in its last interval
 *	(injected locally or adopted from peers).
 * @queue_len: its listener's accept queue length (0 without a listener).
 * @queue_max: its listener's accept queue limit (0 without a listener).
 */
struct handoff_sync_load {
	__be32	addr[4];
	__be16	port;
	__u8	family;
	__u8	reserved;
	__be32	handed;
	__be32	queue_len;
	__be32	queue_max;
};

/**
 * struct handoff_sync_conn - one connection in a HANDOFF_SYNC_CONNS datagram
 * (56 bytes)
 *
 * @client_addr: the client's address: an in6_addr, or an in_addr in the first
 *	four bytes with the rest zero.
 * @service_addr: the service address (VIP), of the same family.
 * @client_port: the client's port (not 0).
 * @service_port: the service port (not 0).
 * @family: AF_INET or AF_INET6.
 * @op: HANDOFF_SYNC_CONN_ADD or HANDOFF_SYNC_CONN_DEL.
 * @reserved: 0 when sent, ignored when received.
 * @target: the node id of the peer the connection was handed to (not 0).
 * @conn_ref: the sender's reference of the connection (not 0), as in its
 *	DATA datagrams.
 * @flow_id: the target's flow id of the connection (not 0).
 * @idle_ms: the connection's idle timeout on the sender (1..86400000).
 */
struct handoff_sync_conn {
	__be32	client_addr[4];
	__be32	service_addr[4];
	__be16	client_port;
	__be16	service_port;
	__u8	family;
	__u8	op;
	__be16	reserved;
	__be32	target;
	__be32	conn_ref;
	__be32	flow_id;
	__be32	idle_ms;
};

#endif /* _UAPI_LINUX_HANDOFF_H */
