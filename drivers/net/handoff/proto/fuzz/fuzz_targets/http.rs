//! Fuzzes the HTTP/1.x request head parser (`http::parse_request`): no
//! panic, slices within the input, incremental safety (a prefix is never
//! further along than the whole), and the cookie and content-rule
//! functions on every accepted request.

#![no_main]

use handoff_proto::content::{self, Rule};
use handoff_proto::http::{self, Progress, Request};
use libfuzzer_sys::fuzz_target;

/// Whether `s` lies within `data`.
fn within(s: &[u8], data: &[u8]) -> bool {
    let (d, r) = (data.as_ptr_range(), s.as_ptr_range());
    d.start <= r.start && r.end <= d.end
}

/// What a parse of `data[..cut]` may give when `data` gave `whole`.
fn check_prefix(whole: &Progress<Request<'_>>, data: &[u8], cut: usize) {
    let part = http::parse_request(&data[..cut]);
    match whole {
        Progress::Done(r) if r.head_len <= cut => assert_eq!(part, *whole, "cut {cut}"),
        Progress::Done(_) | Progress::Incomplete => {
            assert_eq!(part, Progress::Incomplete, "cut {cut}")
        }
        Progress::Invalid => assert!(!matches!(part, Progress::Done(_)), "cut {cut}"),
    }
}

fn check_request(r: &Request<'_>, data: &[u8]) {
    assert!(0 < r.head_len && r.head_len <= data.len());
    let head = &data[..r.head_len];
    // The head alone parses the same; every shorter prefix is Incomplete
    // (all of them for short heads, a sample of long ones).
    assert_eq!(http::parse_request(head), Progress::Done(*r));
    let step = (r.head_len / 128).max(1);
    for cut in (0..r.head_len)
        .step_by(step)
        .chain(r.head_len.saturating_sub(4)..r.head_len)
    {
        assert_eq!(
            http::parse_request(&head[..cut]),
            Progress::Incomplete,
            "cut {cut}"
        );
    }
    assert!(within(r.method, head) && !r.method.is_empty());
    assert!(within(r.target, head) && !r.target.is_empty());
    assert!(r.version_minor <= 9);
    if let Some(p) = r.path {
        assert!(within(p, r.target) || p == b"/");
        assert!(content::path_matches(p, p));
    }
    if let Some(h) = r.host {
        assert!(within(h, head) && !h.is_empty());
        assert_eq!(content::host_matches(h, h), h != b".");
    }
    for h in r.headers() {
        assert!(within(h.name, head) && within(h.value, head));
        assert!(!h.name.is_empty() && !h.name.contains(&b':'));
        assert!(!h.value.iter().any(|&b| b == b'\r' || b == b'\n'));
        assert!(r.header(h.name).is_some());
    }
    // Cookies: the name of a pair in the first Cookie header, if any.
    if let Some(c) = r.header(b"cookie") {
        let name = c.split(|&b| b == b'=').next().unwrap_or_default();
        let start = name.iter().position(|&b| b != b' ').unwrap_or(name.len());
        let name = &name[start..];
        if let Some(v) = http::cookie(r, name) {
            assert!(within(v, head));
            if let Some(id) = content::cookie_node(v) {
                assert_ne!(id, 0);
            }
        }
    }
    let rules = [
        Rule {
            host: r.host,
            path: r.path,
            node: 1,
        },
        Rule {
            host: None,
            path: None,
            node: 2,
        },
    ];
    let want = if r.host.is_some_and(|h| h == b".") {
        2
    } else {
        1
    };
    assert_eq!(content::first_match(rules, r.host, r.path), Some(want));
}

fuzz_target!(|data: &[u8]| {
    let whole = http::parse_request(data);
    if let Progress::Done(r) = &whole {
        check_request(r, data);
    }
    for cut in [data.len() / 2, data.len().saturating_sub(1)] {
        check_prefix(&whole, data, cut);
    }
    let _ = content::cookie_node(data);
});
