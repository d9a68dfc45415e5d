//! The binary as a user meets it: exit statuses, one-line errors on stderr,
//! help on stdout.

use std::io::Write;
use std::process::{Command, Output, Stdio};

use handoff_cli::help;

fn handoff(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_handoff"))
        .args(args)
        .output()
        .expect("run handoff")
}

/// Run with `input` on standard input.
fn handoff_stdin(args: &[&str], input: &str) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_handoff"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run handoff");
    let mut stdin = child.stdin.take().unwrap();
    // A batch that stops early may not read it all.
    let _ = stdin.write_all(input.as_bytes());
    drop(stdin);
    child.wait_with_output().expect("wait for handoff")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
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
    usage_error(
        &["service", "select", "10.0.0.1:80"],
        "missing \"client ADDR\" (try \"handoff service help\")",
    );
    usage_error(
        &[
            "service",
            "select",
            "10.0.0.1:80",
            "client",
            "10.0.0.9:5000",
        ],
        "invalid client \"10.0.0.9:5000\" (no port: the choice is by address alone)",
    );
    usage_error(
        &[
            "service",
            "select",
            "[2001:db8::1]:80",
            "client",
            "10.0.0.9",
        ],
        "invalid client \"10.0.0.9\" (IPv4, the service is IPv6)",
    );
    usage_error(&["service", "s"], "ambiguous command \"s\": show, select");
    usage_error(
        &[
            "service",
            "add",
            "10.0.0.1:80",
            "policy",
            "host-uri",
            "fallback",
            "hash",
        ],
        "invalid fallback policy \"hash\" (must be local, least-load or weighted)",
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
    assert!(!out.contains("select"), "{out}");
    let o = handoff(&["service", "select", "help"]);
    let out = String::from_utf8(o.stdout).unwrap();
    assert!(
        out.contains("handoff service select VIP:PORT client ADDR\n"),
        "{out}"
    );
    assert!(out.contains("ADDR := { IPV4 | IPV6 | [IPV6] }"), "{out}");
    assert!(
        out.contains("POLICY := { local | least-load | weighted | hash\n"),
        "{out}"
    );
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

/// `-batch -`: every line runs, printing what it prints alone; blank and
/// comment lines are skipped.
#[test]
fn batch_runs_every_line() {
    let input = "# a batch\n\nhelp node\n   \n\t# indented\nhelp \"peer\" # trailing\n-V";
    let o = handoff_stdin(&["-batch", "-"], input);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let version = stdout(&handoff(&["-V"]));
    assert_eq!(stdout(&o), format!("{}{}{version}", help::NODE, help::PEER));
    assert!(o.stderr.is_empty());
    // Nothing to do: success, no output.
    let o = handoff_stdin(&["-b", "-"], "# nothing\n\n");
    assert_eq!(o.status.code(), Some(0));
    assert!(o.stdout.is_empty() && o.stderr.is_empty());
}

/// Without -force the first failing line ends the batch, with its status
/// and its line number.
#[test]
fn batch_stops_at_the_first_failure() {
    let o = handoff_stdin(&["-batch", "-"], "help node\n\nbogus\nhelp peer\n");
    assert_eq!(o.status.code(), Some(2));
    assert_eq!(stdout(&o), help::NODE);
    assert_eq!(
        stderr(&o),
        "handoff: line 3: unknown object \"bogus\" (try \"handoff help\")\n"
    );
    let o = handoff_stdin(
        &["-batch", "-"],
        "# setup\nservice add 10.0.0.1:80 dev nosuchif0\nhelp\n",
    );
    assert_eq!(o.status.code(), Some(1));
    assert!(o.stdout.is_empty());
    assert_eq!(
        stderr(&o),
        "handoff: line 2: unknown interface \"nosuchif0\"\n"
    );
    let o = handoff_stdin(&["-batch", "-"], "help node\npeer add 2 \"10.0.0.2\n");
    assert_eq!(o.status.code(), Some(2));
    assert_eq!(stdout(&o), help::NODE);
    assert_eq!(
        stderr(&o),
        "handoff: line 2: unterminated quoted string (no closing \")\n"
    );
}

/// With -force every line runs; status 1 if any failed.
#[test]
fn batch_force() {
    let input = "bogus\nhelp node\nfoo \"x\nmonitor\n\
                 service add 10.0.0.1:80 dev nosuchif0\n-batch x\nhelp peer\n";
    let o = handoff_stdin(&["-force", "-batch", "-"], input);
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(stdout(&o), format!("{}{}", help::NODE, help::PEER));
    assert_eq!(
        stderr(&o),
        "handoff: line 1: unknown object \"bogus\" (try \"handoff help\")\n\
         handoff: line 3: unterminated quoted string (no closing \")\n\
         handoff: line 4: \"monitor\" cannot run in a batch (it never ends)\n\
         handoff: line 5: unknown interface \"nosuchif0\"\n\
         handoff: line 6: \"-batch\" is not allowed in a batch file\n"
    );
    let o = handoff_stdin(&["-b", "-", "-f"], "help node\n");
    assert_eq!(o.status.code(), Some(0));
    assert_eq!(stdout(&o), help::NODE);
}

#[test]
fn batch_refuses_monitor() {
    let o = handoff_stdin(&["-batch", "-"], "help monitor\nmon\nhelp\n");
    assert_eq!(o.status.code(), Some(2));
    assert_eq!(stdout(&o), help::MONITOR);
    assert_eq!(
        stderr(&o),
        "handoff: line 2: \"monitor\" cannot run in a batch (it never ends)\n"
    );
}

#[test]
fn batch_file() {
    let path = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("batch-file.txt");
    std::fs::write(&path, "help node\nhelp peer\n").unwrap();
    let o = handoff(&["-batch", path.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(stdout(&o), format!("{}{}", help::NODE, help::PEER));
    let o = handoff(&["-batch", "/nonexistent/batch"]);
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(
        stderr(&o),
        "handoff: cannot open \"/nonexistent/batch\": No such file or directory\n"
    );
    let o = handoff(&["-batch", "/"]);
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(stderr(&o), "handoff: cannot read \"/\": Is a directory\n");
}

#[test]
fn batch_usage_errors() {
    usage_error(
        &["-batch"],
        "missing argument for \"-batch\" (try \"handoff help\")",
    );
    usage_error(&["-batch", "a", "-batch", "b"], "duplicate \"-batch\"");
    usage_error(
        &["-batch", "a", "node", "show"],
        "unexpected argument \"node\" (with \"-batch\", the commands come from FILE)",
    );
}

/// `service select` in a batch: parsed as on the command line, errors
/// naming their line; a good line talks to the kernel.
#[test]
fn batch_service_select() {
    let input = "service select 10.0.0.1:80 client 10.0.0.300\n\
                 service sel 10.0.0.1:80\n\
                 service select 10.0.0.1:80 client 10.0.0.9 client 10.0.0.9\n\
                 help service\n";
    let o = handoff_stdin(&["-force", "-batch", "-"], input);
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(stdout(&o), help::SERVICE);
    assert_eq!(
        stderr(&o),
        "handoff: line 1: invalid address \"10.0.0.300\"\n\
         handoff: line 2: missing \"client ADDR\" (try \"handoff service help\")\n\
         handoff: line 3: duplicate \"client\"\n"
    );
    // Without the module: the family is missing.  With it (a test VM) the
    // service does not exist: the kernel's error.  Either way, line 2.
    let o = handoff_stdin(
        &["-j", "-batch", "-"],
        "help peer\nservice select 192.0.2.99:9 client 10.0.0.9\nhelp node\n",
    );
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert_eq!(stdout(&o), help::PEER);
    let err = stderr(&o);
    assert!(err.starts_with("handoff: line 2: "), "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
}

/// A batch of commands that talk to the kernel, on one socket.  Without
/// the module: the first line's "family not found" error and status 1.
/// With it (a test VM): one JSON document per command.
#[test]
fn batch_with_or_without_the_module() {
    let o = handoff_stdin(
        &["-j", "-batch", "-"],
        "service show\npeer show\nnode show\n",
    );
    match o.status.code() {
        Some(1) => assert_eq!(
            stderr(&o),
            "handoff: line 1: generic netlink family \"handoff\" not found (is the module loaded?)\n"
        ),
        Some(0) => {
            let out = stdout(&o);
            let docs: Vec<serde_json::Value> = out
                .lines()
                .map(|l| serde_json::from_str(l).unwrap())
                .collect();
            assert_eq!(docs.len(), 3, "{out}");
            assert!(docs.iter().all(|d| d.is_array()), "{out}");
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
        ("-b", "-batch"),
        ("-f", "-force"),
        ("-batch Cargo.t", "Cargo.toml"),
        ("-b -", "-"),
        ("-batch cmds ''", ""),
        ("-j -ba cmds node ''", ""),
        ("-force ''", "service peer node conn stats monitor help"),
        ("-force node ''", "set show help"),
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
        ("service ''", "add del show select help"),
        ("service s", "show select"),
        ("service sel", "select"),
        ("peer ''", "add del show help"),
        ("service select ''", ""),
        ("service select 10.0.0.1:80 ''", "client help"),
        ("service sel 10.0.0.1:80 c", "client"),
        ("service select 10.0.0.1:80 client ''", ""),
        ("service select 10.0.0.1:80 cl ''", ""),
        ("service select 10.0.0.1:80 client 10.0.0.9 ''", "help"),
        (
            "service select '[2001:db8::1]:80' client 2001:db8::9 ''",
            "help",
        ),
        (
            "service add 10.0.0.1:80 policy ''",
            "local least-load weighted host-uri cookie tls-sni hash",
        ),
        ("service add 10.0.0.1:80 policy h", "host-uri hash"),
        (
            "service add 10.0.0.1:80 fallback ''",
            "local least-load weighted",
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
