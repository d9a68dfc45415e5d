//! `handoff`: configure and inspect the handoff TCP load balancer through its
//! generic netlink family (see `include/uapi/linux/handoff.h`).

pub mod addr;
pub mod args;
pub mod attr;
pub mod help;
pub mod model;
pub mod netlink;
pub mod output;
pub mod request;
#[path = "../../../drivers/net/handoff/uapi.rs"]
pub mod uapi;

use std::ffi::{CStr, CString};
use std::fmt;
use std::io::Write;

use args::{Command, Opts};
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
    let mut genl = netlink::Genl::open()?;
    let replies = genl.request(&req)?;
    let records = request::records(cmd, &replies, &ifname)?;
    let is_show = matches!(
        cmd,
        Command::ServiceShow(_)
            | Command::PeerShow(_)
            | Command::NodeShow
            | Command::ConnShow(_)
            | Command::Stats
    );
    if is_show {
        write_out(&render(&records, opts.format))?;
    }
    Ok(())
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

/// The whole program: parse `args` (without the program name), run, report
/// errors on stderr; the exit status.
pub fn run(args: &[String]) -> i32 {
    let res = args::parse(args).and_then(|(opts, cmd)| execute(&opts, &cmd));
    match res {
        Ok(()) => 0,
        Err(e) => {
            eprintln!("handoff: {e}");
            e.exit_code()
        }
    }
}
