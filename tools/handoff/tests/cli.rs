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
        &["service", "add", "10.0.0.1:80", "request-limit", "0"],
        "invalid request-limit \"0\" (1..16384 bytes)",
    );
    usage_error(
        &["service", "add", "10.0.0.1:80", "r", "16385"],
        "invalid request-limit \"16385\" (1..16384 bytes)",
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
    assert!(out.contains("[ request-limit BYTES ]"), "{out}");
    let o = handoff(&["help"]);
    let out = String::from_utf8(o.stdout).unwrap();
    assert!(out.contains("| -n[etns] NETNS"), "{out}");
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

/// Held by the tests that add a namespace under /run/netns or list them.
static RUN_NETNS: std::sync::Mutex<()> = std::sync::Mutex::new(());

const NO_NETNS: &str =
    "handoff: cannot open network namespace \"does-not-exist-xyz\": No such file or directory\n";

/// `-netns NETNS` (`-n`) that does not exist: status 1, one line naming it
/// (the open fails, as root or not), before anything else: before the
/// interface names are resolved, before a batch's first line.
#[test]
fn netns_missing() {
    let cases = [
        &["-n", "does-not-exist-xyz", "service", "show"][..],
        &["-netns", "does-not-exist-xyz", "-j", "service", "show"],
        &["-s", "stats", "--net", "does-not-exist-xyz"],
        &["service", "-n", "does-not-exist-xyz", "show"],
        &[
            "-n",
            "does-not-exist-xyz",
            "service",
            "add",
            "10.0.0.1:80",
            "dev",
            "nosuchif0",
        ],
        &["-n", "does-not-exist-xyz", "monitor"],
    ];
    for args in cases {
        let o = handoff(args);
        assert_eq!(o.status.code(), Some(1), "{args:?}: {}", stderr(&o));
        assert_eq!(stderr(&o), NO_NETNS, "{args:?}");
        assert!(o.stdout.is_empty(), "{args:?}");
    }
    let o = handoff_stdin(
        &["-n", "does-not-exist-xyz", "-j", "-batch", "-"],
        "help node\nservice add 10.0.0.1:80 dev nosuchif0\n",
    );
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(stderr(&o), NO_NETNS);
    assert!(o.stdout.is_empty());
    // A path.
    let o = handoff(&["-n", "/nonexistent/ns/net", "node", "show"]);
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(
        stderr(&o),
        "handoff: cannot open network namespace \"/nonexistent/ns/net\": \
         No such file or directory\n"
    );
    // Help and the version need no namespace.
    let o = handoff(&["-n", "does-not-exist-xyz", "help"]);
    assert_eq!(o.status.code(), Some(0));
    assert_eq!(stdout(&o), help::MAIN);
    let o = handoff(&["-n", "does-not-exist-xyz", "node", "help"]);
    assert_eq!((o.status.code(), stdout(&o)), (Some(0), help::NODE.into()));
    let o = handoff(&["-V", "-n", "does-not-exist-xyz"]);
    assert_eq!(o.status.code(), Some(0));
    assert!(stdout(&o).starts_with("handoff "));
}

/// A file that is not a network namespace's: the switch fails.
#[test]
fn netns_not_a_network_namespace() {
    let manifest = concat!(env!("CARGO_MANIFEST_DIR"), "/Cargo.toml");
    for ns in [manifest, "/proc/self/ns/mnt", "/"] {
        let o = handoff(&["-n", ns, "node", "show"]);
        assert_eq!(o.status.code(), Some(1), "{ns}");
        assert_eq!(
            stderr(&o),
            format!(
                "handoff: cannot switch to network namespace \"{ns}\": not a network namespace\n"
            )
        );
    }
}

/// Its own namespace, by path: as root the switch succeeds and the command
/// runs (an unknown interface); else setns() is not permitted.
#[test]
fn netns_own_namespace() {
    let o = handoff(&[
        "-n",
        "/proc/self/ns/net",
        "service",
        "add",
        "10.0.0.1:80",
        "dev",
        "nosuchif0",
    ]);
    assert_eq!(o.status.code(), Some(1));
    // SAFETY: geteuid() has no preconditions.
    let want = if unsafe { libc::geteuid() } == 0 {
        "handoff: unknown interface \"nosuchif0\"\n"
    } else {
        "handoff: cannot switch to network namespace \"/proc/self/ns/net\": \
         Operation not permitted\n"
    };
    assert_eq!(stderr(&o), want);
}

#[test]
fn netns_usage_errors() {
    usage_error(
        &["-n"],
        "missing argument for \"-netns\" (try \"handoff help\")",
    );
    usage_error(
        &["node", "show", "-netns"],
        "missing argument for \"-netns\" (try \"handoff help\")",
    );
    usage_error(
        &["-n", "a", "-netns", "b", "node", "show"],
        "duplicate \"-netns\"",
    );
    usage_error(
        &["-n", "", "node", "show"],
        "invalid network namespace \"\"",
    );
    usage_error(
        &["-n", "..", "node", "show"],
        "invalid network namespace \"..\"",
    );
    let o = handoff_stdin(&["-batch", "-"], "help node\n-n blue node show\n");
    assert_eq!(o.status.code(), Some(2));
    assert_eq!(stdout(&o), help::NODE);
    assert_eq!(
        stderr(&o),
        "handoff: line 2: \"-netns\" is not allowed in a batch file\n"
    );
}

/// A namespace of `ip netns add` (as root, where `ip` can make one).  The
/// `dev` names are the namespace's, resolved after the switch: an
/// interface of this namespace that the new one lacks is unknown there, by
/// name or by path, alone or in a batch.  A show talks to the namespace's
/// module state (the family missing, or no services yet).
#[test]
fn netns_named() {
    // SAFETY: geteuid() has no preconditions.
    if unsafe { libc::geteuid() } != 0 {
        eprintln!("skipped: not root");
        return;
    }
    let ip = |args: &[&str]| {
        Command::new("ip")
            .args(args)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    };
    let _lock = RUN_NETNS.lock().unwrap_or_else(|e| e.into_inner());
    let name = format!("handoff-test-{}", std::process::id());
    if !ip(&["netns", "add", &name]) {
        eprintln!("skipped: cannot add a network namespace with ip");
        return;
    }
    struct Del(String);
    impl Drop for Del {
        fn drop(&mut self) {
            let _ = Command::new("ip").args(["netns", "del", &self.0]).status();
        }
    }
    let _del = Del(name.clone());
    let path = format!("/run/netns/{name}");

    let o = handoff(&["-j", "-n", &name, "service", "show"]);
    match o.status.code() {
        Some(1) => assert_eq!(
            stderr(&o),
            "handoff: generic netlink family \"handoff\" not found (is the module loaded?)\n"
        ),
        Some(0) => assert_eq!(stdout(&o), "[]\n"),
        other => panic!("unexpected status {other:?}: {}", stderr(&o)),
    }

    let mut here: Vec<String> = std::fs::read_dir("/sys/class/net")
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    here.sort();
    let Some(dev) = here
        .into_iter()
        .find(|d| !ip(&["-n", &name, "link", "show", "dev", d]))
    else {
        eprintln!("skipped: no interface here that {name} lacks");
        return;
    };
    let unknown = format!("handoff: unknown interface \"{dev}\"\n");
    for ns in [&name, &path] {
        let o = handoff(&["-n", ns, "service", "add", "10.0.0.1:80", "dev", &dev]);
        assert_eq!(o.status.code(), Some(1), "{ns}");
        assert_eq!(stderr(&o), unknown, "{ns}");
        let o = handoff_stdin(
            &["-batch", "-", "-netns", ns],
            &format!("service add 10.0.0.1:80 dev {dev}\n"),
        );
        assert_eq!(o.status.code(), Some(1), "{ns}");
        assert_eq!(stderr(&o), format!("handoff: line 1: {}", &unknown[9..]));
    }
}

/// What the bash completion offers after each command line (the last word
/// being the one completed), where bash is at hand.
#[test]
fn bash_completion() {
    let cases = [
        (
            "node set ''",
            "id forward sync weight sync-interval dead-intervals help",
        ),
        ("-b", "-batch"),
        ("-f", "-force"),
        ("-n", "-netns"),
        ("-ne", "-netns"),
        ("-n blue ''", "service peer node conn stats monitor help"),
        ("-netns blue -j node ''", "set show help"),
        ("node -n blue ''", "set show help"),
        ("-j -n blue -s stats ''", "show help"),
        (
            "-n blue peer add 2 10.0.0.2 ''",
            "port weight sync-address help",
        ),
        ("-n /proc/self/ns/ne", "/proc/self/ns/net"),
        ("-n blue -batch cmds ''", ""),
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
             idle-timeout syncookies first-data-wait request-limit help",
        ),
        ("service add 10.0.0.1:80 sync", "syncookies"),
        ("service add 10.0.0.1:80 syn", "syn-timeout syncookies"),
        ("service add 10.0.0.1:80 syncookies ''", "auto always"),
        ("service add 10.0.0.1:80 sync al", "always"),
        ("service add 10.0.0.1:80 syn-timeout ''", ""),
        (
            "service add 10.0.0.1:80 syncookies auto ''",
            "dev policy match name fallback max-temporary max-forward syn-timeout \
             idle-timeout syncookies first-data-wait request-limit help",
        ),
        ("service add 10.0.0.1:80 f", "fallback first-data-wait"),
        ("service add 10.0.0.1:80 fi", "first-data-wait"),
        ("service add 10.0.0.1:80 first-data-wait ''", ""),
        ("service add 10.0.0.1:80 fi ''", ""),
        (
            "service add 10.0.0.1:80 first-data-wait 0 ''",
            "dev policy match name fallback max-temporary max-forward syn-timeout \
             idle-timeout syncookies first-data-wait request-limit help",
        ),
        ("service add 10.0.0.1:80 r", "request-limit"),
        ("service add 10.0.0.1:80 request-limit ''", ""),
        ("service add 10.0.0.1:80 req ''", ""),
        (
            "service add 10.0.0.1:80 request-limit 4096 ''",
            "dev policy match name fallback max-temporary max-forward syn-timeout \
             idle-timeout syncookies first-data-wait request-limit help",
        ),
    ];
    complete("", &cases);
}

/// What the bash completion offers after each command line, after `setup`
/// (bash code run once the script is sourced); nothing where bash is not
/// at hand.
fn complete(setup: &str, cases: &[(&str, &str)]) {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/handoff.bash-completion");
    let mut prog = format!(
        "source {script}\n{setup}\n\
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

/// After `-netns`/`-n`: the names of /run/netns (here three made-up ones).
#[test]
fn bash_completion_netns_names() {
    complete(
        "_handoff_netns_names() { printf '%s\\n' blue green red; }",
        &[
            ("-n ''", "blue green red"),
            ("-netns g", "green"),
            ("--net b", "blue"),
            ("-n bl", "blue"),
            ("node show -n ''", "blue green red"),
            ("-j -b cmds -n r", "red"),
            ("-n x", ""),
        ],
    );
    // The names are the files of /run/netns (none if it does not exist).
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/handoff.bash-completion");
    let prog = format!("source {script}\n_handoff_netns_names\n");
    let _lock = RUN_NETNS.lock().unwrap_or_else(|e| e.into_inner());
    let Ok(out) = Command::new("bash").args(["--norc", "-c", &prog]).output() else {
        eprintln!("skipped: no bash");
        return;
    };
    assert!(out.status.success(), "{}", stderr(&out));
    let mut got: Vec<String> = stdout(&out).lines().map(str::to_string).collect();
    got.sort();
    let mut want: Vec<String> = std::fs::read_dir("/run/netns")
        .map(|d| {
            d.map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    want.sort();
    assert_eq!(got, want);
}
