//! Matching what a request says against the rules of the content policies.
//!
//! The parsers ([`super::http`], [`super::tls`]) extract a host, a path, a
//! cookie or a resumption; the functions here turn those into a node:
//!
//! * by host and path: [`first_match`] over the configured [`Rule`]s, in
//!   order, with [`host_matches`] and [`path_matches`];
//! * by a sticky-session cookie: [`cookie_node`];
//! * by a TLS resumption: [`resumption_key`], a keyed hash that the module
//!   maps onto the nodes with its consistent-hash table.
//!
//! # Cookies naming a node
//!
//! Under direct server return the front never sees the response that sets
//! a cookie, so it cannot learn which node a cookie value stands for: the
//! value must name the node itself, in one of these forms (`<id>` being a
//! node id, 1 to 4294967295, written in decimal without sign or leading
//! zeros, at most 10 digits):
//!
//! * the whole value is `<id>`: `route=2`;
//! * the whole value is `node<id>`, `node` in any case: `route=node2`;
//! * a Tomcat-style jvmRoute suffix: a non-empty session id, a `.`, then
//!   `<id>` or `node<id>` after the last `.`: `JSESSIONID=8F3A1C.node2`,
//!   `JSESSIONID=8F3A1C.2`. Servers append their route this way when
//!   configured to (Tomcat `jvmRoute="node2"`, or the application does).
//!
//! Anything else names no node.
//!
//! # TLS resumption
//!
//! A client that resumes a session goes best to the node that holds it.
//! What identifies the session depends on the version: a TLS 1.3 client
//! resumes with a PSK identity, so its legacy session id is random (RFC
//! 8446 §4.1.2, middlebox compatibility) and says nothing; a TLS 1.2
//! client with a session ticket (RFC 5077), else with the session id.
//! [`resumption_key`] hashes the one that counts under a secret key.
//!
//! The hash sends every resumption with the same ticket or id to the same
//! node, from every front with the same nodes; the front cannot know which
//! node issued the session (it never sees the server's handshake). So the
//! node the hash names holds the session if the nodes share their ticket
//! keys or session cache, or if the first connection was placed by the
//! same hash; otherwise the resumption fails over to a full handshake, as
//! it would without affinity.

use super::siphash::{siphash24, SipKey};
use super::tls::{ClientHello, Span};

/// Whether `host` matches `pattern`, ASCII case-insensitively.
///
/// A pattern `*.example.com` matches every name below `example.com` (one
/// or more non-empty labels before `.example.com`: `a.example.com`,
/// `a.b.example.com`), not `example.com` itself. Any other pattern,
/// including a `*` elsewhere, matches only the same name. One trailing dot
/// (the root label) of either is ignored. An empty pattern or host matches
/// nothing. Hosts are compared as given: an IPv6 literal is written with
/// its brackets (as [`super::http::Request::host`] gives it).
pub fn host_matches(pattern: &[u8], host: &[u8]) -> bool {
    let pattern = pattern.strip_suffix(b".").unwrap_or(pattern);
    let host = host.strip_suffix(b".").unwrap_or(host);
    if pattern.is_empty() || host.is_empty() {
        return false;
    }
    let Some(suffix) = pattern.strip_prefix(b"*") else {
        return pattern.eq_ignore_ascii_case(host);
    };
    let cut = host.len().checked_sub(suffix.len()).filter(|&c| c > 0);
    let (Some(cut), Some(b'.')) = (cut, suffix.first()) else {
        return pattern.eq_ignore_ascii_case(host);
    };
    let (labels, tail) = host.split_at(cut);
    tail.eq_ignore_ascii_case(suffix) && labels.split(|&b| b == b'.').all(|l| !l.is_empty())
}

/// Whether `path` begins with `prefix`: a byte-wise, case-sensitive prefix
/// match, as nginx prefix locations and HAProxy `path_beg` do. The path is
/// taken as sent, neither percent-decoded nor normalized, so `/api`
/// matches `/api`, `/api/v1` and `/apiary` (end a prefix with `/` to
/// match a directory only), and an empty prefix matches every path.
pub fn path_matches(prefix: &[u8], path: &[u8]) -> bool {
    path.starts_with(prefix)
}

/// A routing rule of the host/path policy: requests it matches go to
/// `node`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Rule<'a> {
    /// A host pattern ([`host_matches`]); `None` matches any request, with
    /// a host or without.
    pub host: Option<&'a [u8]>,
    /// A path prefix ([`path_matches`]); `None` matches any request, with
    /// a path or without.
    pub path: Option<&'a [u8]>,
    /// The node id requests go to.
    pub node: u32,
}

impl Rule<'_> {
    /// Whether a request with this host and path matches. A rule field
    /// that is set never matches a request without that part (a host rule
    /// and an HTTP/1.0 request without Host, a path rule and a TLS
    /// ClientHello).
    pub fn matches(&self, host: Option<&[u8]>, path: Option<&[u8]>) -> bool {
        let part = |rule: Option<&[u8]>, req: Option<&[u8]>, f: fn(&[u8], &[u8]) -> bool| {
            rule.map_or(true, |r| req.is_some_and(|q| f(r, q)))
        };
        part(self.host, host, host_matches) && part(self.path, path, path_matches)
    }
}

/// The node of the first of `rules` that a request with this host and path
/// matches ([`Rule::matches`]), or `None`.
pub fn first_match<'a, I: IntoIterator<Item = Rule<'a>>>(
    rules: I,
    host: Option<&[u8]>,
    path: Option<&[u8]>,
) -> Option<u32> {
    rules
        .into_iter()
        .find(|r| r.matches(host, path))
        .map(|r| r.node)
}

/// The most digits of a node id.
const MAX_ID_DIGITS: usize = 10;

/// The node a sticky-session cookie value names, in one of the forms of
/// the module documentation, or `None`.
pub fn cookie_node(value: &[u8]) -> Option<u32> {
    if let Some(id) = route(value) {
        return Some(id);
    }
    let dot = value.iter().rposition(|&b| b == b'.')?;
    let (session, suffix) = value.split_at(dot);
    if session.is_empty() {
        return None;
    }
    route(suffix.get(1..)?)
}

/// `<id>` or `node<id>`.
fn route(s: &[u8]) -> Option<u32> {
    match s {
        [n, o, d, e, id @ ..] if [*n, *o, *d, *e].eq_ignore_ascii_case(b"node") => node_id(id),
        _ => node_id(s),
    }
}

/// A node id in decimal: 1 to 10 digits, no leading zero, at most
/// `u32::MAX`.
fn node_id(digits: &[u8]) -> Option<u32> {
    let first = digits.first()?;
    if !(b'1'..=b'9').contains(first) || digits.len() > MAX_ID_DIGITS {
        return None;
    }
    digits.iter().try_fold(0u32, |acc, &b| {
        let d = b.checked_sub(b'0').filter(|d| *d <= 9)?;
        acc.checked_mul(10)?.checked_add(u32::from(d))
    })
}

/// Domain separation of the hashed items: the same bytes used as a PSK
/// identity, a ticket or a session id give different keys.
const TAG_PSK: u8 = 1;
const TAG_TICKET: u8 = 2;
const TAG_SESSION_ID: u8 = 3;

/// What [`resumption_key`] hashes, in blocks of this many bytes.
const BLOCK: usize = 256;

/// The hash that sends a resuming TLS client to the same node every time,
/// or `None` when the ClientHello resumes nothing.
///
/// If the client offers TLS 1.3: its PSK identity, else a non-empty
/// TLS 1.2 session ticket, else `None` (its legacy session id is random).
/// If not: a non-empty session ticket, else a non-empty session id, else
/// `None`.
///
/// SipHash-2-4 under `key`, chained over the item in blocks of 256 bytes:
/// `h = siphash(key, tag || len as u64le)`, then for each block
/// `h = siphash(key, h as u64le || block)`. Tickets may be split over
/// records, so the item is read in blocks of the handshake stream; the
/// result does not depend on where the record boundaries fall, and only a
/// 264-byte buffer is needed however long the item is.
pub fn resumption_key(hello: &ClientHello<'_>, key: &SipKey) -> Option<u64> {
    let ticket = hello.session_ticket.filter(|t| t.len > 0);
    let span = |tag: u8, span: Span| {
        chained_hash(key, tag, span.len, |off, out| hello.read(span, off, out))
    };
    if hello.offers_tls13 {
        if let Some(id) = hello.psk_identity {
            return Some(span(TAG_PSK, id));
        }
        return ticket.map(|t| span(TAG_TICKET, t));
    }
    if let Some(t) = ticket {
        return Some(span(TAG_TICKET, t));
    }
    let sid = hello.session_id();
    (!sid.is_empty()).then(|| {
        chained_hash(key, TAG_SESSION_ID, sid.len(), |off, out| {
            let src = sid.get(off..).unwrap_or_default();
            let n = src.len().min(out.len());
            if let (Some(d), Some(s)) = (out.get_mut(..n), src.get(..n)) {
                d.copy_from_slice(s);
            }
            n
        })
    })
}

/// The chained hash of [`resumption_key`] over `len` bytes that `fill(off,
/// out)` copies into `out` from offset `off` on, returning how many.
fn chained_hash(
    key: &SipKey,
    tag: u8,
    len: usize,
    mut fill: impl FnMut(usize, &mut [u8]) -> usize,
) -> u64 {
    let mut buf = [0u8; 8 + BLOCK];
    let mut first = [tag; 9];
    if let Some(l) = first.get_mut(1..) {
        l.copy_from_slice(&u64::try_from(len).unwrap_or(u64::MAX).to_le_bytes());
    }
    let mut h = siphash24(key, &first);
    let mut off = 0usize;
    while off < len {
        let (head, block) = buf.split_at_mut(8);
        let want = block.len().min(len.saturating_sub(off));
        let n = fill(off, block.get_mut(..want).unwrap_or_default());
        if n == 0 {
            // Only for an item that is not all there, which the parser
            // never returns.
            break;
        }
        head.copy_from_slice(&h.to_le_bytes());
        h = siphash24(key, buf.get(..n.saturating_add(8)).unwrap_or_default());
        off = off.saturating_add(n);
    }
    h
}

#[cfg(test)]
mod tests {
    use super::super::http::{cookie, parse_request, Progress};
    use super::super::tls::{build::*, parse_client_hello};
    use super::*;
    use std::vec::Vec;

    #[test]
    fn hosts() {
        assert!(host_matches(b"www.example.com", b"WWW.Example.COM"));
        assert!(host_matches(b"www.example.com", b"www.example.com."));
        assert!(host_matches(b"www.example.com.", b"www.example.com"));
        assert!(!host_matches(b"www.example.com", b"www.example.com.."));
        assert!(!host_matches(b"www.example.com", b"ww.example.com"));
        assert!(!host_matches(b"www.example.com", b"xwww.example.com"));
        assert!(host_matches(b"*.example.com", b"a.example.com"));
        assert!(host_matches(b"*.example.com", b"A.b-c.EXAMPLE.com."));
        assert!(!host_matches(b"*.example.com", b"example.com"));
        assert!(!host_matches(b"*.example.com", b".example.com"));
        assert!(!host_matches(b"*.example.com", b"a..example.com"));
        assert!(!host_matches(b"*.example.com", b".a.example.com"));
        assert!(!host_matches(b"*.example.com", b"aexample.com"));
        assert!(!host_matches(b"*.example.com", b"a.example.org"));
        // Only a leading "*." is a wildcard.
        assert!(!host_matches(b"*example.com", b"www.example.com"));
        assert!(host_matches(b"*example.com", b"*EXAMPLE.com"));
        assert!(!host_matches(b"a.*.com", b"a.b.com"));
        assert!(!host_matches(b"*", b"a"));
        assert!(host_matches(b"*.", b"*"));
        assert!(!host_matches(b"", b""));
        assert!(!host_matches(b".", b"."));
        assert!(!host_matches(b"a", b""));
        assert!(host_matches(b"[2001:DB8::1]", b"[2001:db8::1]"));
        assert!(host_matches(b"192.0.2.1", b"192.0.2.1"));
    }

    #[test]
    fn paths() {
        assert!(path_matches(b"/api", b"/api"));
        assert!(path_matches(b"/api", b"/api/v1/users"));
        assert!(path_matches(b"/api", b"/apiary"));
        assert!(!path_matches(b"/api/", b"/api"));
        assert!(!path_matches(b"/api", b"/API"));
        assert!(!path_matches(b"/api", b"/%61pi"));
        assert!(!path_matches(b"/api", b"/ap"));
        assert!(path_matches(b"", b""));
        assert!(path_matches(b"/", b"/x"));
    }

    const RULES: [Rule<'static>; 5] = [
        Rule {
            host: Some(b"static.example.com"),
            path: None,
            node: 1,
        },
        Rule {
            host: Some(b"*.example.com"),
            path: Some(b"/api/"),
            node: 2,
        },
        Rule {
            host: None,
            path: Some(b"/img/"),
            node: 3,
        },
        Rule {
            host: Some(b"*.example.com"),
            path: None,
            node: 4,
        },
        Rule {
            host: None,
            path: None,
            node: 5,
        },
    ];

    #[test]
    fn rules_in_order() {
        let m = |h: Option<&[u8]>, p: Option<&[u8]>| first_match(RULES, h, p);
        assert_eq!(m(Some(b"static.example.com"), Some(b"/api/x")), Some(1));
        assert_eq!(m(Some(b"www.example.com"), Some(b"/api/x")), Some(2));
        assert_eq!(m(Some(b"www.example.com"), Some(b"/img/a.png")), Some(3));
        assert_eq!(m(Some(b"other.org"), Some(b"/img/a.png")), Some(3));
        assert_eq!(m(Some(b"www.example.com"), Some(b"/")), Some(4));
        // TLS: a host, no path.
        assert_eq!(m(Some(b"www.example.com"), None), Some(4));
        // No host: host rules never match.
        assert_eq!(m(None, Some(b"/api/x")), Some(5));
        assert_eq!(m(None, None), Some(5));
        assert_eq!(first_match(RULES[..4].iter().copied(), None, None), None);
        assert_eq!(first_match([], Some(b"a"), Some(b"/")), None);
        // A slice of rules works as well as an array.
        let v: Vec<Rule<'_>> = RULES.to_vec();
        assert_eq!(
            first_match(v.iter().copied(), Some(b"a.example.com"), None),
            Some(4)
        );
    }

    #[test]
    fn rules_with_parsed_requests() {
        let req = b"GET /api/v2/items HTTP/1.1\r\nHost: Shop.Example.com:443\r\n\r\n";
        let Progress::Done(r) = parse_request(req) else {
            panic!()
        };
        assert_eq!(first_match(RULES, r.host, r.path), Some(2));
        let rec = browser(b"static.example.com").record();
        let Progress::Done(h) = parse_client_hello(&rec) else {
            panic!()
        };
        assert_eq!(first_match(RULES, h.sni(), None), Some(1));
    }

    #[test]
    fn cookie_forms() {
        for (value, node) in [
            (&b"2"[..], Some(2)),
            (b"node2", Some(2)),
            (b"NODE17", Some(17)),
            (b"Node4294967295", Some(u32::MAX)),
            (b"4294967295", Some(u32::MAX)),
            (b"8F3A1C.node2", Some(2)),
            (b"8F3A1C77D2E04B5A9C1D.2", Some(2)),
            (b"a.b.node12", Some(12)),
            (b"1.3", Some(3)),
            (b"x.1000000000", Some(1_000_000_000)),
            (b"", None),
            (b"0", None),
            (b"02", None),
            (b"+2", None),
            (b"-2", None),
            (b" 2", None),
            (b"2 ", None),
            (b"4294967296", None),
            (b"99999999999", None),
            (b"00000000002", None),
            (b"node", None),
            (b"node0", None),
            (b"node-1", None),
            (b"nod2", None),
            (b"noda2", None),
            (b"2node", None),
            (b"node2x", None),
            (b"8F3A1C.", None),
            (b".node2", None),
            (b".2", None),
            (b"8F3A1C.node2.x", None),
            (b"8F3A1C.nodeX", None),
            (b"8F3A1C.0", None),
            (b"8F3A1C", None),
            (b"\xff", None),
        ] {
            assert_eq!(
                cookie_node(value),
                node,
                "{:?}",
                std::string::String::from_utf8_lossy(value)
            );
        }
    }

    #[test]
    fn cookie_from_request() {
        let req = b"GET / HTTP/1.1\r\nCookie: JSESSIONID=\"8F3A1C.node7\"; route=3\r\n\r\n";
        let Progress::Done(r) = parse_request(req) else {
            panic!()
        };
        assert_eq!(cookie(&r, b"JSESSIONID").and_then(cookie_node), Some(7));
        assert_eq!(cookie(&r, b"route").and_then(cookie_node), Some(3));
    }

    const KEY: SipKey = *b"0123456789abcdef";

    fn key_of(rec: &[u8]) -> Option<u64> {
        match parse_client_hello(rec) {
            Progress::Done(h) => resumption_key(&h, &KEY),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn resumption_choice() {
        let ticket = bytes(700, 1);
        let other_ticket = bytes(700, 2);
        let identity = bytes(300, 3);
        let sid = bytes(32, 4);
        // TLS 1.3 with a PSK: the identity, whatever else is there.
        let mut h13 = browser(b"a.example");
        h13.session_id = sid.clone();
        let psk_rec = |h: Hello| h.ext(41, psk(&[&identity, b"other"])).record();
        let k_psk = key_of(&psk_rec(browser(b"a.example")));
        assert!(k_psk.is_some());
        let mut with_ticket = browser(b"b.example");
        with_ticket.exts.as_mut().unwrap().retain(|(t, _)| *t != 35);
        let with_ticket = with_ticket.ext(35, ticket.clone());
        assert_eq!(key_of(&psk_rec(with_ticket)), k_psk);
        // TLS 1.3 without a PSK: the TLS 1.2 ticket, not the session id.
        let mut t13 = browser(b"a.example");
        t13.exts.as_mut().unwrap().retain(|(t, _)| *t != 35);
        let k_ticket = key_of(&t13.ext(35, ticket.clone()).record());
        assert!(k_ticket.is_some());
        assert_ne!(k_ticket, k_psk);
        // browser() sends an empty ticket and a random session id.
        assert_eq!(key_of(&browser(b"a.example").record()), None);
        assert_eq!(key_of(&h13.record()), None);
        // TLS 1.2: the ticket, else the session id.
        let mut t12 = Hello::new().ext(35, ticket.clone());
        t12.session_id = sid.clone();
        assert_eq!(key_of(&t12.record()), k_ticket);
        let mut t12 = Hello::new().ext(35, other_ticket.clone());
        t12.session_id = sid.clone();
        let k_other = key_of(&t12.record());
        assert!(k_other.is_some());
        assert_ne!(k_other, k_ticket);
        let mut s12 = Hello::new().ext(35, Vec::new());
        s12.session_id = sid.clone();
        let k_sid = key_of(&s12.record());
        assert!(k_sid.is_some());
        assert_ne!(k_sid, k_ticket);
        let mut s12b = Hello::new().ext(0, sni_ext(b"x.example"));
        s12b.session_id = sid.clone();
        assert_eq!(key_of(&s12b.record()), k_sid);
        // Nothing to resume.
        assert_eq!(key_of(&Hello::new().record()), None);
        assert_eq!(key_of(&Hello::new().ext(35, Vec::new()).record()), None);
        // A PSK is only looked at when TLS 1.3 is offered; TLS 1.2 without
        // ticket or session id then resumes nothing.
        assert_eq!(
            key_of(&Hello::new().ext(41, psk(&[&identity])).record()),
            None
        );
        // The key matters.
        let rec = s12.record();
        let Progress::Done(h) = parse_client_hello(&rec) else {
            panic!()
        };
        let mut k2 = KEY;
        k2[0] ^= 1;
        assert_ne!(resumption_key(&h, &k2), resumption_key(&h, &KEY));
    }

    #[test]
    fn resumption_key_ignores_record_boundaries() {
        for len in [1, 255, 256, 257, 512, 1000] {
            let ticket = bytes(len, 9);
            let msg = Hello::new().ext(35, ticket.clone()).message();
            let mut keys = Vec::new();
            for frag in [1, 3, 100, 255, 256, 4096] {
                keys.push(key_of(&records(&msg, frag)));
            }
            assert!(keys[0].is_some());
            assert!(keys.iter().all(|k| *k == keys[0]), "{len}");
            // The reference: the chain over the contiguous ticket.
            let mut h = siphash24(
                &KEY,
                &[&[TAG_TICKET][..], &(len as u64).to_le_bytes()].concat(),
            );
            for block in ticket.chunks(BLOCK) {
                h = siphash24(&KEY, &[&h.to_le_bytes()[..], block].concat());
            }
            assert_eq!(keys[0], Some(h));
        }
    }
}
