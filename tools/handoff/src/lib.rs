//! `handoff`: configure and inspect the handoff TCP load balancer through its
//! generic netlink family (see `include/uapi/linux/handoff.h`).

pub mod addr;
pub mod args;
pub mod attr;
pub mod batch;
pub mod help;
pub mod model;
pub mod netlink;
pub mod output;
pub mod request;
#[path = "../../../drivers/net/handoff/uapi.rs"]
pub mod uapi;

use std::ffi::{CStr, CString};
use std::fmt;
use std::io::{BufRead, BufReader, Write};
use std::os::fd::AsRawFd;
use std::os::unix::fs::OpenOptionsExt;
use std::path::PathBuf;

use args::{Cli, Command, Invocation, Opts};
use output::{render, render_one};

/// An error, printed as `handoff: MESSAGE`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Error {
    /// The command line is wrong: exit status 2.
    Usage(String),
    /// Anything else (unknown interface, kernel error, ...): exit status 1.
    Fail(String),
}

impl Error {
    pub fn exit_code(&self) -> i32 {
        match self {
            Error::Usage(_) => 2,
            Error::Fail(_) => 1,
        }
    }

    /// The same error, its message prefixed with `line N: ` (a batch line).
    pub fn at_line(self, number: usize) -> Error {
        match self {
            Error::Usage(m) => Error::Usage(format!("line {number}: {m}")),
            Error::Fail(m) => Error::Fail(format!("line {number}: {m}")),
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Usage(m) | Error::Fail(m) => f.write_str(m),
        }
    }
}

impl std::error::Error for Error {}

/// Where `ip netns` keeps the named network namespaces.
pub const NETNS_RUN_DIR: &str = "/run/netns";

/// The file of network namespace `netns` (`-netns`): a name under
/// /run/netns, or, with a '/', a path (`/proc/PID/ns/net`), as `ip -n`.
pub fn netns_path(netns: &str) -> PathBuf {
    if netns.contains('/') {
        PathBuf::from(netns)
    } else {
        PathBuf::from(NETNS_RUN_DIR).join(netns)
    }
}

/// Switch this process (it has a single thread) to network namespace
/// `netns` (see [`netns_path`]): every socket opened and interface name
/// resolved afterwards is that namespace's.  Errors name `netns` as given:
/// `cannot open network namespace "NETNS": MESSAGE`, `cannot switch to
/// network namespace "NETNS": MESSAGE`.
pub fn enter_netns(netns: &str) -> Result<(), Error> {
    let file = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_CLOEXEC)
        .open(netns_path(netns))
        .map_err(|e| {
            let msg = e
                .raw_os_error()
                .map_or_else(|| e.to_string(), netlink::strerror);
            Error::Fail(format!("cannot open network namespace \"{netns}\": {msg}"))
        })?;
    // SAFETY: setns() only uses the descriptor, open for the whole call.
    if unsafe { libc::setns(file.as_raw_fd(), libc::CLONE_NEWNET) } != 0 {
        let errno = std::io::Error::last_os_error().raw_os_error().unwrap_or(0);
        let msg = match errno {
            // Not a namespace file, or not a network namespace's.
            libc::EINVAL => "not a network namespace".to_string(),
            e => netlink::strerror(e),
        };
        return Err(Error::Fail(format!(
            "cannot switch to network namespace \"{netns}\": {msg}"
        )));
    }
    Ok(())
}

/// Interface name to index (`if_nametoindex`): in the namespace of the
/// moment, so after [`enter_netns`] for `-netns`.
pub fn ifindex(name: &str) -> Result<u32, Error> {
    let unknown = || Error::Fail(format!("unknown interface \"{name}\""));
    let c = CString::new(name).map_err(|_| unknown())?;
    // SAFETY: `c` is a valid NUL-terminated string for the whole call.
    match unsafe { libc::if_nametoindex(c.as_ptr()) } {
        0 => Err(unknown()),
        i => Ok(i),
    }
}

/// Interface index to name (`if_indextoname`), `ifN` if it has none.
pub fn ifname(index: u32) -> String {
    let mut buf = [0 as libc::c_char; libc::IF_NAMESIZE];
    // SAFETY: `buf` has the IF_NAMESIZE bytes if_indextoname() may write.
    let p = unsafe { libc::if_indextoname(index, buf.as_mut_ptr()) };
    if p.is_null() {
        return format!("if{index}");
    }
    // SAFETY: on success `buf` holds a NUL-terminated name.
    unsafe { CStr::from_ptr(buf.as_ptr()) }
        .to_string_lossy()
        .into_owned()
}

fn write_out(s: &str) -> Result<(), Error> {
    let mut out = std::io::stdout().lock();
    out.write_all(s.as_bytes())
        .and_then(|_| out.flush())
        .map_err(|e| Error::Fail(format!("cannot write the output: {e}")))
}

/// Run a parsed command.
pub fn execute(opts: &Opts, cmd: &Command) -> Result<(), Error> {
    execute_with(opts, cmd, &mut None)
}

/// Run a parsed command on the socket in `genl`, opened there first if
/// need be (a batch's commands share one).  After an error the socket is
/// dropped, not to reuse one left in an unknown state.
fn execute_with(opts: &Opts, cmd: &Command, genl: &mut Option<netlink::Genl>) -> Result<(), Error> {
    match cmd {
        Command::Help(obj) => return write_out(help::text(*obj)),
        Command::Version => {
            return write_out(&format!(
                "handoff {} (generic netlink family \"{}\" version {})\n",
                env!("CARGO_PKG_VERSION"),
                uapi::HANDOFF_GENL_NAME,
                uapi::HANDOFF_GENL_VERSION
            ))
        }
        Command::Monitor => return monitor(opts),
        _ => {}
    }
    let req = request::build(cmd, opts, &ifindex)?
        .expect("commands other than help, version and monitor send a request");
    let sock = match genl {
        Some(sock) => sock,
        None => genl.insert(netlink::Genl::open()?),
    };
    let replies = sock.request(&req).inspect_err(|_| *genl = None)?;
    let records = request::records(cmd, &replies, &ifname)?;
    match cmd {
        Command::ServiceShow(_)
        | Command::PeerShow(_)
        | Command::NodeShow
        | Command::ConnShow(_)
        | Command::Stats => write_out(&render(&records, opts.format)),
        // One answer: `node N`, or one JSON object.
        Command::ServiceSelect(..) => match records.first() {
            Some(rec) => write_out(&render_one(rec, opts.format)),
            None => Err(Error::Fail(
                "malformed reply from the kernel: no node selected".to_string(),
            )),
        },
        _ => Ok(()),
    }
}

fn monitor(opts: &Opts) -> Result<(), Error> {
    let genl = netlink::Genl::open()?;
    genl.subscribe_events()?;
    loop {
        for msg in genl.next_events()? {
            match model::Event::from_msg(msg.cmd, &msg.raw) {
                Ok(ev) => write_out(&render_one(&ev.to_record(&ifname), opts.format))?,
                Err(e) => eprintln!("handoff: {e}"),
            }
        }
    }
}

/// Print an error on stderr; its exit status.
fn report(e: &Error) -> i32 {
    eprintln!("handoff: {e}");
    e.exit_code()
}

/// Run one line of a batch (`opts`: the command line's options).
fn batch_line(opts: Opts, words: &[String], genl: &mut Option<netlink::Genl>) -> Result<(), Error> {
    let (opts, cmd) = args::parse_line(words, opts)?;
    if cmd == Command::Monitor {
        return Err(Error::Usage(
            "\"monitor\" cannot run in a batch (it never ends)".to_string(),
        ));
    }
    execute_with(&opts, &cmd, genl)
}

/// `-batch FILE`: run its commands in order, on one netlink socket.  The
/// first failure ends the batch with its exit status, unless `force`: then
/// every line runs and the status is 1 if any failed.  Errors name their
/// line: `handoff: line N: MESSAGE`.
pub fn run_batch(opts: Opts, file: &str, force: bool) -> i32 {
    let (input, name): (Box<dyn BufRead>, String) = if file == "-" {
        (Box::new(std::io::stdin().lock()), "standard input".into())
    } else {
        match std::fs::File::open(file) {
            Ok(f) => (Box::new(BufReader::new(f)), format!("\"{file}\"")),
            Err(e) => {
                let msg = e
                    .raw_os_error()
                    .map_or_else(|| e.to_string(), netlink::strerror);
                return report(&Error::Fail(format!("cannot open \"{file}\": {msg}")));
            }
        }
    };
    let mut lines = batch::Lines::new(input, name);
    let mut genl = None;
    let mut failed = false;
    loop {
        let line = match lines.next_line() {
            Ok(Some(line)) => line,
            Ok(None) => return i32::from(failed),
            Err(e) => return report(&e),
        };
        let res = line
            .words
            .and_then(|words| batch_line(opts, &words, &mut genl));
        if let Err(e) = res {
            let status = report(&e.at_line(line.number));
            if !force {
                return status;
            }
            failed = true;
        }
    }
}

/// The whole program: parse `args` (without the program name), switch to
/// the `-netns` namespace, run, report errors on stderr; the exit status.
///
/// The switch comes before anything that talks to the kernel or looks at
/// its interfaces (the `dev IFNAME` names are resolved when a command runs,
/// in [`request::build`]), once for a whole batch; help and the version
/// need no namespace and do not switch.
pub fn run(args: &[String]) -> i32 {
    let Cli { netns, invocation } = match args::parse_cli(args) {
        Ok(cli) => cli,
        Err(e) => return report(&e),
    };
    if let Some(netns) = netns.filter(|_| invocation.needs_kernel()) {
        if let Err(e) = enter_netns(&netns) {
            return report(&e);
        }
    }
    match invocation {
        Invocation::Command(opts, cmd) => match execute(&opts, &cmd) {
            Ok(()) => 0,
            Err(e) => report(&e),
        },
        Invocation::Batch { opts, file, force } => run_batch(opts, &file, force),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn netns_paths() {
        assert_eq!(netns_path("blue"), PathBuf::from("/run/netns/blue"));
        assert_eq!(netns_path("a.b-c"), PathBuf::from("/run/netns/a.b-c"));
        assert_eq!(
            netns_path("/proc/42/ns/net"),
            PathBuf::from("/proc/42/ns/net")
        );
        assert_eq!(netns_path("./ns/x"), PathBuf::from("./ns/x"));
        assert_eq!(netns_path("x/"), PathBuf::from("x/"));
    }

    /// A missing namespace: the open fails (as root or not), nothing is
    /// switched.
    #[test]
    fn missing_netns() {
        assert_eq!(
            enter_netns("does-not-exist-xyz"),
            Err(Error::Fail(
                "cannot open network namespace \"does-not-exist-xyz\": No such file or directory"
                    .to_string()
            ))
        );
        assert_eq!(
            enter_netns("/nonexistent/ns/net"),
            Err(Error::Fail(
                "cannot open network namespace \"/nonexistent/ns/net\": No such file or directory"
                    .to_string()
            ))
        );
    }
}
