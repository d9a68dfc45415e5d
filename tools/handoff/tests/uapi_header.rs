//! The CLI's constants must not drift from `include/uapi/linux/handoff.h`:
//! parse the header (enum members in order, `= VALUE`, `#define`s, structs)
//! and compare it with `handoff_cli::uapi` and the CLI's name tables.

use std::collections::BTreeMap;

use handoff_cli::model;
use handoff_cli::uapi;

const HEADER: &str = include_str!("../../../include/uapi/linux/handoff.h");

/// What the header defines.
#[derive(Debug, Default)]
struct Header {
    /// Numeric constants: enum members and `#define`s.
    numbers: BTreeMap<String, i64>,
    /// String `#define`s, without quotes.
    strings: BTreeMap<String, String>,
    /// Enums: name -> members in order.
    enums: BTreeMap<String, Vec<String>>,
    /// Structs: name -> (type, field, array length).
    structs: BTreeMap<String, Vec<(String, String, usize)>>,
}

fn strip_comments(s: &str) -> String {
    let mut out = String::new();
    let mut rest = s;
    while let Some(i) = rest.find("/*") {
        out.push_str(&rest[..i]);
        let end = rest[i..].find("*/").expect("unterminated comment") + i + 2;
        out.push(' ');
        rest = &rest[end..];
    }
    out.push_str(rest);
    out.lines()
        .map(|l| l.split("//").next().unwrap())
        .collect::<Vec<_>>()
        .join("\n")
}

/// Evaluate `NUMBER`, `NAME`, `(EXPR)`, `A + B`, `A - B` against known values.
fn eval(expr: &str, known: &BTreeMap<String, i64>) -> i64 {
    let tokens: Vec<String> = {
        let mut t = Vec::new();
        let mut cur = String::new();
        for c in expr.chars() {
            if c.is_alphanumeric() || c == '_' {
                cur.push(c);
            } else {
                if !cur.is_empty() {
                    t.push(std::mem::take(&mut cur));
                }
                if !c.is_whitespace() {
                    t.push(c.to_string());
                }
            }
        }
        if !cur.is_empty() {
            t.push(cur);
        }
        t
    };
    fn term(t: &[String], i: &mut usize, known: &BTreeMap<String, i64>) -> i64 {
        let tok = &t[*i];
        *i += 1;
        if tok == "(" {
            let v = sum(t, i, known);
            assert_eq!(t[*i], ")", "unbalanced parentheses");
            *i += 1;
            return v;
        }
        if let Some(hex) = tok.strip_prefix("0x") {
            return i64::from_str_radix(hex, 16).unwrap();
        }
        if tok.chars().next().unwrap().is_ascii_digit() {
            return tok.trim_end_matches(['u', 'U', 'l', 'L']).parse().unwrap();
        }
        *known
            .get(tok.as_str())
            .unwrap_or_else(|| panic!("unknown name {tok} in expression"))
    }
    fn sum(t: &[String], i: &mut usize, known: &BTreeMap<String, i64>) -> i64 {
        let mut v = term(t, i, known);
        while *i < t.len() && (t[*i] == "+" || t[*i] == "-") {
            let op = t[*i].clone();
            *i += 1;
            let r = term(t, i, known);
            v = if op == "+" { v + r } else { v - r };
        }
        v
    }
    let mut i = 0;
    let v = sum(&tokens, &mut i, known);
    assert_eq!(i, tokens.len(), "trailing tokens in {expr:?}");
    v
}

fn parse_header(src: &str) -> Header {
    let src = strip_comments(src);
    let mut h = Header::default();
    let mut rest = src.as_str();
    loop {
        // The next #define, enum or struct, whichever comes first.
        let next = [
            rest.find("#define"),
            rest.find("enum "),
            rest.find("struct "),
        ]
        .into_iter()
        .flatten()
        .min();
        let Some(at) = next else { break };
        rest = &rest[at..];
        if rest.starts_with("#define") {
            let eol = rest.find('\n').unwrap_or(rest.len());
            let line = rest["#define".len()..eol].trim();
            rest = &rest[eol..];
            let (name, value) = match line.split_once(char::is_whitespace) {
                Some((n, v)) => (n.trim(), v.trim()),
                None => (line, ""),
            };
            if value.is_empty() {
                continue; // include guard
            }
            if let Some(s) = value.strip_prefix('"') {
                h.strings
                    .insert(name.to_string(), s.trim_end_matches('"').to_string());
            } else {
                let v = eval(value, &h.numbers);
                h.numbers.insert(name.to_string(), v);
            }
            continue;
        }
        let kind = if rest.starts_with("enum ") {
            "enum"
        } else {
            "struct"
        };
        let open = rest.find('{');
        let semi = rest.find(';');
        // A use (`struct x y;`) rather than a definition: skip the word.
        if open.is_none() || semi < open {
            rest = &rest[kind.len()..];
            continue;
        }
        let open = open.unwrap();
        let name = rest[kind.len()..open].trim().to_string();
        let close = rest.find('}').expect("unterminated body");
        let body = &rest[open + 1..close];
        rest = &rest[close + 1..];
        if kind == "enum" {
            let mut value = -1i64;
            let mut members = Vec::new();
            for m in body.split(',').map(str::trim).filter(|m| !m.is_empty()) {
                let member = match m.split_once('=') {
                    Some((n, e)) => {
                        value = eval(e, &h.numbers);
                        n.trim()
                    }
                    None => {
                        value += 1;
                        m
                    }
                };
                assert!(
                    h.numbers.insert(member.to_string(), value).is_none(),
                    "{member} defined twice"
                );
                members.push(member.to_string());
            }
            h.enums.insert(name, members);
        } else {
            let mut fields = Vec::new();
            for f in body.split(';').map(str::trim).filter(|f| !f.is_empty()) {
                let mut words: Vec<&str> = f.split_whitespace().collect();
                let decl = words.pop().unwrap();
                let ty = words.join(" ");
                let (field, n) = match decl.split_once('[') {
                    Some((n, len)) => (n, len.trim_end_matches(']').parse().unwrap()),
                    None => (decl, 1),
                };
                fields.push((ty, field.to_string(), n));
            }
            h.structs.insert(name, fields);
        }
    }
    h
}

fn header() -> Header {
    parse_header(HEADER)
}

#[test]
fn parser_handles_the_forms_used() {
    let h = parse_header(
        "#ifndef G\n#define G\n#define A 3\n#define S \"x\"\n/* c */ enum e { X, Y = 0x10, Z, /* no */ __E_MAX, };\n\
         #define E_MAX (__E_MAX - 1)\nstruct s { __u8 a; __be32 b[4]; };\n",
    );
    assert_eq!(h.numbers["A"], 3);
    assert_eq!(h.strings["S"], "x");
    assert_eq!(h.enums["e"], ["X", "Y", "Z", "__E_MAX"]);
    assert_eq!(
        (h.numbers["X"], h.numbers["Y"], h.numbers["Z"]),
        (0, 16, 17)
    );
    assert_eq!(h.numbers["E_MAX"], 17);
    assert_eq!(
        h.structs["s"][1],
        ("__be32".to_string(), "b".to_string(), 4)
    );
    assert!(!h.numbers.contains_key("G"));
}

#[test]
fn every_number_matches_the_header() {
    let h = header();
    let cli: BTreeMap<&str, i64> = uapi::ALL.iter().copied().collect();
    assert_eq!(
        cli.len(),
        uapi::ALL.len(),
        "a constant is listed twice in uapi.rs"
    );
    for (name, value) in &h.numbers {
        match cli.get(name.as_str()) {
            Some(v) => assert_eq!(v, value, "{name}: uapi.rs has {v}, the header {value}"),
            None => panic!("{name} = {value} of the header is missing from uapi.rs"),
        }
    }
    for (name, value) in &cli {
        assert!(
            h.numbers.contains_key(*name),
            "{name} = {value} of uapi.rs is not in the header"
        );
    }
    assert!(
        h.numbers.len() > 150,
        "the parser found only {} constants",
        h.numbers.len()
    );
}

#[test]
fn every_string_matches_the_header() {
    let h = header();
    let cli: BTreeMap<String, String> = uapi::STRINGS
        .iter()
        .map(|(n, v)| (n.to_string(), v.to_string()))
        .collect();
    assert_eq!(h.strings, cli);
    assert_eq!(h.strings["HANDOFF_GENL_NAME"], "handoff");
    assert_eq!(h.strings["HANDOFF_GENL_MCGRP_EVENTS"], "events");
}

#[test]
fn header_conventions() {
    let h = header();
    assert!(HEADER.starts_with("/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */"));
    assert!(HEADER.contains("#ifndef _UAPI_LINUX_HANDOFF_H\n#define _UAPI_LINUX_HANDOFF_H"));
    assert!(HEADER.contains("#include <linux/types.h>"));
    for (name, members) in &h.enums {
        let mut seen = BTreeMap::new();
        for m in members {
            if let Some(other) = seen.insert(h.numbers[m], m) {
                panic!("enum {name}: {m} and {other} have the same value");
            }
        }
        // Attribute sets and commands start with UNSPEC = 0; value enums at 1.
        let first = &members[0];
        if first.ends_with("_UNSPEC") {
            assert_eq!(h.numbers[first], 0, "{first}");
        } else if name != "handoff_pkt_type" {
            assert_eq!(h.numbers[first], 1, "{name} must start at 1");
        }
        // __X_MAX is last, X_MAX is one less.
        if let Some(max) = members.last().filter(|m| m.starts_with("__")) {
            let public = &max[2..];
            assert_eq!(h.numbers[public], h.numbers[max] - 1, "{public}");
        }
    }
    assert_eq!(h.numbers["HANDOFF_CMD_UNSPEC"], 0);
    assert_eq!(h.numbers["HANDOFF_PKT_NEW"], 1);
    assert_eq!(h.numbers["HANDOFF_PKT_DATA"], 2);
    assert_eq!(h.numbers["HANDOFF_PKT_MIGRATED_ACK"], 3);
}

/// The attributes this CLI version added: their numbers are part of the ABI.
#[test]
fn syncookies_numbers() {
    let h = header();
    let svc = &h.enums["handoff_service_attr"];
    let at = svc.iter().position(|m| m == "HANDOFF_A_SERVICE_SYNCOOKIES");
    assert_eq!(
        at.map(|i| svc[i - 1].as_str()),
        Some("HANDOFF_A_SERVICE_IDLE_TIMEOUT")
    );
    assert_eq!(h.numbers["HANDOFF_A_SERVICE_SYNCOOKIES"], 11);
    assert_eq!(h.numbers["HANDOFF_SYNCOOKIES_AUTO"], 1);
    assert_eq!(h.numbers["HANDOFF_SYNCOOKIES_ALWAYS"], 2);
    assert_eq!(h.numbers["HANDOFF_SYNCOOKIES_MAX"], 2);
    assert_eq!(h.numbers["HANDOFF_A_STATS_SYNCOOKIES_SENT"], 50);
}

/// HANDOFF_A_SERVICE_FIRST_DATA_WAIT: right after the syncookies mode; the
/// range the CLI checks is the header's.
#[test]
fn first_data_wait_number() {
    let h = header();
    let svc = &h.enums["handoff_service_attr"];
    let at = svc
        .iter()
        .position(|m| m == "HANDOFF_A_SERVICE_FIRST_DATA_WAIT");
    assert_eq!(
        at.map(|i| svc[i - 1].as_str()),
        Some("HANDOFF_A_SERVICE_SYNCOOKIES")
    );
    assert_eq!(h.numbers["HANDOFF_A_SERVICE_FIRST_DATA_WAIT"], 12);
    let doc = HEADER
        .split(" * @")
        .find(|d| d.starts_with("HANDOFF_A_SERVICE_FIRST_DATA_WAIT:"))
        .expect("HANDOFF_A_SERVICE_FIRST_DATA_WAIT is documented");
    let doc: Vec<&str> = doc.split_whitespace().filter(|w| *w != "*").collect();
    let doc = doc.join(" ");
    let range = format!(
        "NLA_U32, milliseconds, 0..{} (default 200)",
        handoff_cli::args::FIRST_DATA_WAIT_MAX
    );
    assert!(doc.contains(&range), "{doc}");
}

/// HANDOFF_A_SERVICE_REQUEST_LIMIT: right after first-data-wait, the last
/// service attribute; the range the CLI checks is the header's.
#[test]
fn request_limit_number() {
    let h = header();
    let svc = &h.enums["handoff_service_attr"];
    let at = svc
        .iter()
        .position(|m| m == "HANDOFF_A_SERVICE_REQUEST_LIMIT");
    assert_eq!(
        at.map(|i| svc[i - 1].as_str()),
        Some("HANDOFF_A_SERVICE_FIRST_DATA_WAIT")
    );
    assert_eq!(h.numbers["HANDOFF_A_SERVICE_REQUEST_LIMIT"], 13);
    assert_eq!(h.numbers["HANDOFF_A_SERVICE_MAX"], 13);
    use handoff_cli::args::{REQUEST_LIMIT_MAX, REQUEST_LIMIT_MIN};
    let doc = attr_doc("HANDOFF_A_SERVICE_REQUEST_LIMIT");
    let range = format!(
        "NLA_U32, bytes, {REQUEST_LIMIT_MIN}..{REQUEST_LIMIT_MAX} (default {REQUEST_LIMIT_MAX})"
    );
    assert!(doc.contains(&range), "{doc}");
}

/// The header's documentation of attribute `name`, on one line.
fn attr_doc(name: &str) -> String {
    let doc = HEADER
        .split(" * @")
        .find(|d| d.starts_with(&format!("{name}:")))
        .unwrap_or_else(|| panic!("{name} is documented"));
    let doc: Vec<&str> = doc.split_whitespace().filter(|w| *w != "*").collect();
    doc.join(" ")
}

/// The sync channel's attributes: after the ones before them, and the
/// ranges the CLI checks are the header's.
#[test]
fn sync_channel_numbers() {
    let h = header();
    let follows = |enum_name: &str, member: &str, before: &str| {
        let e = &h.enums[enum_name];
        let at = e.iter().position(|m| m == member);
        assert_eq!(at.map(|i| e[i - 1].as_str()), Some(before), "{member}");
    };
    follows(
        "handoff_node_attr",
        "HANDOFF_A_NODE_SYNC_INTERVAL",
        "HANDOFF_A_NODE_WEIGHT",
    );
    follows(
        "handoff_node_attr",
        "HANDOFF_A_NODE_DEAD_INTERVALS",
        "HANDOFF_A_NODE_SYNC_INTERVAL",
    );
    follows(
        "handoff_peer_attr",
        "HANDOFF_A_PEER_SYNC_ADDR",
        "HANDOFF_A_PEER_STATE",
    );
    follows(
        "handoff_peer_attr",
        "HANDOFF_A_PEER_REPORT_AGE",
        "HANDOFF_A_PEER_SYNC_ADDR",
    );
    follows(
        "handoff_peer_attr",
        "HANDOFF_A_PEER_LOAD",
        "HANDOFF_A_PEER_REPORT_AGE",
    );
    assert_eq!(h.numbers["HANDOFF_A_NODE_SYNC_INTERVAL"], 7);
    assert_eq!(h.numbers["HANDOFF_A_NODE_DEAD_INTERVALS"], 8);
    assert_eq!(h.numbers["HANDOFF_A_PEER_SYNC_ADDR"], 6);
    assert_eq!(h.numbers["HANDOFF_A_PEER_REPORT_AGE"], 7);
    assert_eq!(h.numbers["HANDOFF_A_PEER_LOAD"], 8);
    assert_eq!(h.numbers["HANDOFF_A_STATS_SYNC_SENT"], 51);
    assert_eq!(h.numbers["HANDOFF_A_STATS_SYNC_REPLAY"], 55);
    use handoff_cli::args::{
        DEAD_INTERVALS_MAX, DEAD_INTERVALS_MIN, SYNC_INTERVAL_MAX, SYNC_INTERVAL_MIN,
    };
    let doc = attr_doc("HANDOFF_A_NODE_SYNC_INTERVAL");
    let range = format!("{SYNC_INTERVAL_MIN}..{SYNC_INTERVAL_MAX} (default 100)");
    assert!(doc.contains(&range), "{doc}");
    let doc = attr_doc("HANDOFF_A_NODE_DEAD_INTERVALS");
    let range = format!("NLA_U32, {DEAD_INTERVALS_MIN}..{DEAD_INTERVALS_MAX} (default 3)");
    assert!(doc.contains(&range), "{doc}");
}

/// Size of a UAPI scalar type.
fn type_size(ty: &str) -> usize {
    match ty {
        "__u8" | "__s8" => 1,
        "__u16" | "__s16" | "__be16" | "__le16" => 2,
        "__u32" | "__s32" | "__be32" | "__le32" => 4,
        "__u64" | "__s64" | "__be64" | "__le64" | "__aligned_u64" => 8,
        other => panic!("unexpected field type {other}"),
    }
}

/// (size, every field naturally aligned with no hole).
fn layout(fields: &[(String, String, usize)]) -> (usize, bool) {
    let mut off = 0;
    let mut packed = true;
    let mut align = 1;
    for (ty, _, n) in fields {
        let sz = type_size(ty);
        align = align.max(sz);
        if off % sz != 0 {
            packed = false;
            off += sz - off % sz;
        }
        off += sz * n;
    }
    (off.div_ceil(align) * align, packed)
}

#[test]
fn wire_structs() {
    let h = header();
    let hdr = &h.structs["handoff_encap_hdr"];
    let names: Vec<(&str, &str)> = hdr
        .iter()
        .map(|(t, n, _)| (t.as_str(), n.as_str()))
        .collect();
    assert_eq!(
        names,
        [
            ("__u8", "type"),
            ("__u8", "flags"),
            ("__be16", "len"),
            ("__be32", "conn_ref"),
            ("__be32", "flow_id")
        ]
    );
    assert_eq!(layout(hdr), (12, true));
    let new = &h.structs["handoff_new_conn"];
    assert_eq!(layout(new), (60, true));
    assert_eq!(new.len(), 14);
}

/// The CLI's name tables cover exactly the members of each value enum.
fn covers(h: &Header, enum_name: &str, names: &[(u32, &str)]) {
    let members: Vec<i64> = h.enums[enum_name]
        .iter()
        .filter(|m| !m.starts_with("__"))
        .map(|m| h.numbers[m])
        .collect();
    let mut table: Vec<i64> = names.iter().map(|(v, _)| i64::from(*v)).collect();
    table.sort();
    assert_eq!(
        table, members,
        "{enum_name}: the CLI's names do not cover the enum"
    );
}

#[test]
fn name_tables_cover_the_enums() {
    let h = header();
    covers(&h, "handoff_policy", model::POLICY_NAMES);
    covers(&h, "handoff_syncookies", model::SYNCOOKIES_NAMES);
    covers(&h, "handoff_table", model::TABLE_NAMES);
    covers(&h, "handoff_conn_state", model::CONN_STATE_NAMES);
    covers(&h, "handoff_peer_state", model::PEER_STATE_NAMES);
    covers(&h, "handoff_scope", model::SCOPE_NAMES);
    covers(&h, "handoff_change", model::CHANGE_NAMES);
    // Every counter (all of the set but UNSPEC, PAD and __MAX) has a name
    // that is its header name in lower case.
    let counters: Vec<String> = h.enums["handoff_stats_attr"]
        .iter()
        .filter(|m| !m.starts_with("__") && !m.ends_with("_UNSPEC") && !m.ends_with("_PAD"))
        .cloned()
        .collect();
    assert_eq!(counters.len(), model::STATS_NAMES.len());
    for (member, (kind, key)) in counters.iter().zip(model::STATS_NAMES) {
        assert_eq!(h.numbers[member], i64::from(*kind), "{member}");
        assert_eq!(
            member
                .strip_prefix("HANDOFF_A_STATS_")
                .unwrap()
                .to_lowercase(),
            *key
        );
    }
}

/// Where a C compiler is at hand, the header must compile on its own, in C
/// and C++, with the UAPI types of the system.
#[test]
fn header_compiles() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../include/uapi");
    for (cc, lang) in [("cc", "c"), ("c++", "c++")] {
        let out = std::process::Command::new(cc)
            .args([
                "-fsyntax-only",
                "-Wall",
                "-Wextra",
                "-Werror",
                "-x",
                lang,
                "-I",
                dir,
                "-",
            ])
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::piped())
            .spawn();
        let Ok(mut child) = out else {
            eprintln!("skipped: no {cc}");
            continue;
        };
        use std::io::Write;
        child
            .stdin
            .take()
            .unwrap()
            .write_all(
                b"#include <linux/handoff.h>\n\
                  #ifdef __cplusplus\n#define SA static_assert\n#else\n#define SA _Static_assert\n#endif\n\
                  SA(sizeof(struct handoff_encap_hdr) == 12, \"encap\");\n\
                  SA(sizeof(struct handoff_new_conn) == 60, \"new\");\n",
            )
            .unwrap();
        let out = child.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "{cc}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}
