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

use args::{Command, Invocation, Opts};
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

/// Interface name to index (`if_nametoindex`).
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

/// The whole program: parse `args` (without the program name), run, report
/// errors on stderr; the exit status.
pub fn run(args: &[String]) -> i32 {
    match args::parse_cli(args) {
        Ok(Invocation::Command(opts, cmd)) => match execute(&opts, &cmd) {
            Ok(()) => 0,
            Err(e) => report(&e),
        },
        Ok(Invocation::Batch { opts, file, force }) => run_batch(opts, &file, force),
        Err(e) => report(&e),
    }
}
