//! The binary as a user meets it: exit statuses, one-line errors on stderr,
//! help on stdout.

use std::process::{Command, Output};

fn handoff(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_handoff"))
        .args(args)
        .output()
        .expect("run handoff")
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// A usage error: status 2, exactly one line on stderr, nothing on stdout.
fn usage_error(args: &[&str], want: &str) {
    let o = handoff(args);
    assert_eq!(o.status.code(), Some(2), "{args:?}: {}", stderr(&o));
    assert_eq!(stderr(&o), format!("handoff: {want}\n"), "{args:?}");
    assert!(o.stdout.is_empty());
}

#[test]
fn usage_errors_exit_2() {
    usage_error(
        &["service", "add", "10.0.0.1:0"],
        "invalid port \"0\" in \"10.0.0.1:0\"",
    );
    usage_error(
        &["service", "add", "10.0.0.1:80", "foo"],
        "unknown keyword \"foo\" (try \"handoff service help\")",
    );
    usage_error(&["s"], "ambiguous object \"s\": service, stats");
    usage_error(&[], "missing object (try \"handoff help\")");
    usage_error(
        &["peer", "add", "1", "address", "[::1"],
        "invalid address \"[::1\"",
    );
    usage_error(
        &["peer", "add", "1", "10.0.0.1", "port", "x"],
        "invalid port \"x\"",
    );
    usage_error(
        &["node", "set", "forward", "10.0.0.1", "port", "0"],
        "invalid port \"0\"",
    );
    usage_error(
        &["node", "set", "forward", "10.0.0.1"],
        "missing port in \"10.0.0.1\"",
    );
    usage_error(
        &["service", "add", "10.0.0.1:80", "syncookies", "sometimes"],
        "invalid syncookies mode \"sometimes\" (must be auto or always)",
    );
    usage_error(
        &["service", "add", "10.0.0.1:80", "syncookies"],
        "missing argument for \"syncookies\" (try \"handoff service help\")",
    );
    usage_error(
        &["service", "add", "10.0.0.1:80", "first-data-wait", "60001"],
        "invalid first-data-wait \"60001\" (0..60000 ms)",
    );
    usage_error(
        &["service", "add", "10.0.0.1:80", "first-data-wait", "1s"],
        "invalid first-data-wait \"1s\" (0..60000 ms)",
    );
    usage_error(
        &["service", "add", "10.0.0.1:80", "f", "0"],
        "ambiguous keyword \"f\": fallback, first-data-wait",
    );
    usage_error(
        &["node", "set", "sync-interval", "5"],
        "invalid sync-interval \"5\" (10..60000 ms)",
    );
    usage_error(
        &["node", "set", "dead-intervals", "0"],
        "invalid dead-intervals \"0\" (1..100)",
    );
    usage_error(
        &[
            "peer",
            "add",
            "2",
            "10.0.0.2",
            "sync-address",
            "10.1.0.2:7001",
        ],
        "invalid sync-address \"10.1.0.2:7001\" (no port: the sync port is the node's)",
    );
    usage_error(
        &["-q", "service"],
        "unknown option \"-q\" (try \"handoff help\")",
    );
}

#[test]
fn unknown_interface_exits_1() {
    let o = handoff(&["service", "add", "10.0.0.1:80", "dev", "nosuchif0"]);
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(stderr(&o), "handoff: unknown interface \"nosuchif0\"\n");
}

#[test]
fn help_goes_to_stdout() {
    for args in [
        &["help"][..],
        &["-h"],
        &["service", "help"],
        &["help", "peer"],
        &["serv", "add", "help"],
    ] {
        let o = handoff(args);
        assert_eq!(o.status.code(), Some(0), "{args:?}");
        let out = String::from_utf8(o.stdout).unwrap();
        assert!(out.starts_with("Usage: handoff"), "{args:?}: {out}");
        assert!(o.stderr.is_empty());
    }
    let o = handoff(&["conn", "help"]);
    assert!(String::from_utf8(o.stdout)
        .unwrap()
        .contains("temporary | forward"));
    let o = handoff(&["service", "help"]);
    let out = String::from_utf8(o.stdout).unwrap();
    assert!(out.contains("[ syncookies SYNCOOKIES ]"), "{out}");
    assert!(out.contains("SYNCOOKIES := { auto | always }"), "{out}");
    assert!(out.contains("[ first-data-wait MS ]"), "{out}");
    let o = handoff(&["node", "help"]);
    let out = String::from_utf8(o.stdout).unwrap();
    assert!(
        out.contains("[ sync-interval MS ] [ dead-intervals N ]"),
        "{out}"
    );
    let o = handoff(&["peer", "help"]);
    let out = String::from_utf8(o.stdout).unwrap();
    assert!(out.contains("[ sync-address ADDR ]"), "{out}");
}

#[test]
fn version() {
    let o = handoff(&["-V"]);
    assert_eq!(o.status.code(), Some(0));
    assert!(String::from_utf8(o.stdout).unwrap().starts_with("handoff "));
}

/// Without the module: the "family not found" error and status 1.  With it
/// (a test VM): the command succeeds and prints JSON.
#[test]
fn show_with_or_without_the_module() {
    let o = handoff(&["-j", "service", "show"]);
    match o.status.code() {
        Some(1) => assert_eq!(
            stderr(&o),
            "handoff: generic netlink family \"handoff\" not found (is the module loaded?)\n"
        ),
        Some(0) => {
            let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
            assert!(v.is_array());
        }
        other => panic!("unexpected status {other:?}: {}", stderr(&o)),
    }
}

/// What the bash completion offers after each command line (the last word
/// being the one completed), where bash is at hand.
#[test]
fn bash_completion() {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/handoff.bash-completion");
    let cases = [
        (
            "node set ''",
            "id forward sync weight sync-interval dead-intervals help",
        ),
        ("node set forward 10.0.0.1 ''", "port help"),
        ("node set sync 2001:db8::1 ''", "port help"),
        ("node set f '[::1]' ''", "port help"),
        ("node set forward 10.0.0.1 po", "port"),
        ("node set forward 10.0.0.1 port ''", ""),
        (
            "node set forward 10.0.0.1:7000 ''",
            "id forward sync weight sync-interval dead-intervals help",
        ),
        (
            "node set forward 10.0.0.1 port 7000 ''",
            "id forward sync weight sync-interval dead-intervals help",
        ),
        ("node set sync", "sync sync-interval"),
        ("node set sync-", "sync-interval"),
        ("node set d", "dead-intervals"),
        ("node set sync-interval ''", ""),
        ("node set sync-i ''", ""),
        ("node set dead-intervals ''", ""),
        (
            "node set sync-interval 100 ''",
            "id forward sync weight sync-interval dead-intervals help",
        ),
        ("node set sync 10.0.0.1 ''", "port help"),
        (
            "node set sync 10.0.0.1:7001 dead-intervals 3 ''",
            "id forward sync weight sync-interval dead-intervals help",
        ),
        ("peer add 2 ''", "address weight sync-address help"),
        ("peer add 2 10.0.0.2 ''", "port weight sync-address help"),
        ("peer add 2 10.0.0.2:7000 ''", "weight sync-address help"),
        (
            "peer add 2 '[2001:db8::2]:7000' ''",
            "weight sync-address help",
        ),
        ("peer add 2 2001:db8::2 ''", "port weight sync-address help"),
        (
            "peer add 2 weight 1 address '[::2]' ''",
            "port weight sync-address help",
        ),
        ("peer add 2 10.0.0.2 port ''", ""),
        (
            "peer add 2 10.0.0.2 port 7000 ''",
            "weight sync-address help",
        ),
        ("peer add 2 weight 1 ''", "address weight sync-address help"),
        ("peer add 2 10.0.0.2 s", "sync-address"),
        ("peer add 2 10.0.0.2 sync-address ''", ""),
        ("peer add 2 10.0.0.2 s ''", ""),
        (
            "peer add 2 10.0.0.2 sync-address 10.1.0.2 ''",
            "weight help",
        ),
        ("peer add 2 sync-address 10.1.0.2 ''", "address weight help"),
        (
            "peer add 2 sync-address 2001:db8::2 address 10.0.0.2 ''",
            "port weight help",
        ),
        ("peer add 2 10.0.0.2 -j ''", "port weight sync-address help"),
        (
            "service add 10.0.0.1:80 ''",
            "dev policy match name fallback max-temporary max-forward syn-timeout \
             idle-timeout syncookies first-data-wait help",
        ),
        ("service add 10.0.0.1:80 sync", "syncookies"),
        ("service add 10.0.0.1:80 syn", "syn-timeout syncookies"),
        ("service add 10.0.0.1:80 syncookies ''", "auto always"),
        ("service add 10.0.0.1:80 sync al", "always"),
        ("service add 10.0.0.1:80 syn-timeout ''", ""),
        (
            "service add 10.0.0.1:80 syncookies auto ''",
            "dev policy match name fallback max-temporary max-forward syn-timeout \
             idle-timeout syncookies first-data-wait help",
        ),
        ("service add 10.0.0.1:80 f", "fallback first-data-wait"),
        ("service add 10.0.0.1:80 fi", "first-data-wait"),
        ("service add 10.0.0.1:80 first-data-wait ''", ""),
        ("service add 10.0.0.1:80 fi ''", ""),
        (
            "service add 10.0.0.1:80 first-data-wait 0 ''",
            "dev policy match name fallback max-temporary max-forward syn-timeout \
             idle-timeout syncookies first-data-wait help",
        ),
    ];
    let mut prog = format!(
        "source {script}\n\
         c() {{ COMP_WORDS=(handoff \"$@\"); COMP_CWORD=$((${{#COMP_WORDS[@]}} - 1)); \
         _handoff; echo \"${{COMPREPLY[*]}}\"; }}\n"
    );
    for (line, _) in cases {
        prog.push_str(&format!("c {line}\n"));
    }
    let Ok(out) = Command::new("bash").args(["--norc", "-c", &prog]).output() else {
        eprintln!("skipped: no bash");
        return;
    };
    assert!(out.status.success(), "{}", stderr(&out));
    let got = String::from_utf8(out.stdout).unwrap();
    let got: Vec<&str> = got.lines().collect();
    assert_eq!(got.len(), cases.len(), "{got:?}");
    for ((line, want), got) in cases.iter().zip(got) {
        assert_eq!(got, *want, "handoff {line}");
    }
}
