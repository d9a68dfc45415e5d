//! iproute2-style command line: `handoff [OPTIONS] OBJECT [COMMAND [ARGS]]`.
//!
//! Objects, commands, keywords, options and enum values may be abbreviated
//! to any unique prefix (`handoff serv sh` is `handoff service show`); an
//! exact match always wins, and a prefix shared by several words is an
//! "ambiguous" error listing them.  Options (`-j`, `-p`, `-s`, ...) may
//! appear before the object or wherever a keyword is expected.
//!
//! `-batch FILE` (with `-force`) replaces the command: the commands come
//! from FILE, one per line, each parsed by [`parse_line`] with the command
//! line's options.
//!
//! `-netns NETNS` (`-n`, as `ip -n`) names the network namespace to work
//! in: the command line's, for the command or the whole batch (a batch line
//! may not have its own).

use std::net::IpAddr;

use crate::addr::{check_unicast, parse_addr_port, parse_endpoint, parse_port, Port};
use crate::model::{
    Node, Peer, PolicyParams, Rule, Service, FALLBACK_NAMES, POLICY_NAMES, SYNCOOKIES_NAMES,
    TABLE_NAMES,
};
use crate::output::Format;
use crate::uapi::*;
use crate::Error;

/// The objects `handoff` knows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Object {
    Service,
    Peer,
    Node,
    Conn,
    Stats,
    Monitor,
}

impl Invocation {
    /// Whether it may talk to the kernel: anything but help and the
    /// version (a batch may).
    pub fn needs_kernel(&self) -> bool {
        !matches!(
            self,
            Invocation::Command(_, Command::Help(_) | Command::Version)
        )
    }
}

impl Object {
    pub fn name(self) -> &'static str {
        match self {
            Object::Service => "service",
            Object::Peer => "peer",
            Object::Node => "node",
            Object::Conn => "conn",
            Object::Stats => "stats",
            Object::Monitor => "monitor",
        }
    }
}

/// Global options.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Opts {
    pub format: Format,
    /// `-s`: statistics in detail (per service and per peer).
    pub details: bool,
}

/// The command line: where to run, and what.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Cli {
    /// `-netns NETNS`: the network namespace to switch to first (see
    /// [`crate::enter_netns`]).
    pub netns: Option<String>,
    pub invocation: Invocation,
}

/// What the command line asks for: one command, or a batch of them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Invocation {
    Command(Opts, Command),
    /// `-batch FILE` (`-` for standard input): run FILE's lines with
    /// `opts`; `-force` goes on after a failed line.
    Batch {
        opts: Opts,
        file: String,
        force: bool,
    },
}

/// A parsed command.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Command {
    Help(Option<Object>),
    Version,
    /// The service, and the interface names still to resolve to indexes.
    ServiceAdd(Service, Vec<String>),
    ServiceDel(Service),
    ServiceShow(Option<Service>),
    /// `service select VIP:PORT client ADDR`: the service (address and
    /// port only) and the client's address.
    ServiceSelect(Service, IpAddr),
    PeerAdd(Peer),
    PeerDel(u32),
    PeerShow(Option<u32>),
    NodeSet(Node),
    NodeShow,
    ConnShow(Option<u32>),
    ConnFlush(Option<u32>),
    Stats,
    Monitor,
}

// ---------------------------------------------------------------------------
// Keyword matching

/// Result of looking a word up in a table of keywords.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Lookup<T> {
    Found(T),
    Unknown,
    /// The names the prefix could stand for (one per distinct meaning).
    Ambiguous(Vec<&'static str>),
}

/// Look `word` up: an exact name wins, else a unique prefix.  Several names
/// with the same meaning (aliases such as `del`/`delete`) are not ambiguous.
pub fn lookup<T: Copy + PartialEq>(word: &str, table: &[(&'static str, T)]) -> Lookup<T> {
    if let Some((_, v)) = table.iter().find(|(name, _)| *name == word) {
        return Lookup::Found(*v);
    }
    if word.is_empty() {
        return Lookup::Unknown;
    }
    let mut hits: Vec<(&'static str, T)> = Vec::new();
    for (name, v) in table {
        if name.starts_with(word) && !hits.iter().any(|(_, h)| h == v) {
            hits.push((name, *v));
        }
    }
    match hits.len() {
        0 => Lookup::Unknown,
        1 => Lookup::Found(hits[0].1),
        _ => Lookup::Ambiguous(hits.into_iter().map(|(n, _)| n).collect()),
    }
}

/// Look up and turn failures into usage errors: `unknown WHAT "word" (try
/// "HINT")` / `ambiguous WHAT "word": a, b`.
fn find<T: Copy + PartialEq>(
    what: &str,
    word: &str,
    table: &[(&'static str, T)],
    hint: &str,
) -> Result<T, Error> {
    match lookup(word, table) {
        Lookup::Found(v) => Ok(v),
        Lookup::Unknown => Err(Error::Usage(format!(
            "unknown {what} \"{word}\" (try \"{hint}\")"
        ))),
        Lookup::Ambiguous(names) => Err(Error::Usage(format!(
            "ambiguous {what} \"{word}\": {}",
            names.join(", ")
        ))),
    }
}

/// Look up a named enum value (policy, table, ...).
fn find_value(
    what: &str,
    word: &str,
    names: &[(u32, &'static str)],
    hint: &str,
) -> Result<u32, Error> {
    let table: Vec<(&'static str, u32)> = names.iter().map(|(v, n)| (*n, *v)).collect();
    find(what, word, &table, hint)
}

// ---------------------------------------------------------------------------
// Scalars

/// A decimal u32 no smaller than `min`: `invalid WHAT "s"` otherwise.
pub fn parse_u32(what: &str, s: &str, min: u32) -> Result<u32, Error> {
    let digits = !s.is_empty() && s.len() <= 10 && s.bytes().all(|b| b.is_ascii_digit());
    match s.parse::<u32>() {
        Ok(v) if digits && v >= min => Ok(v),
        _ => Err(Error::Usage(format!("invalid {what} \"{s}\""))),
    }
}

/// A decimal u32 in `min..=max`: `invalid WHAT "s" (MIN..MAX UNIT)` otherwise.
fn parse_u32_in(what: &str, s: &str, min: u32, max: u32, unit: &str) -> Result<u32, Error> {
    parse_u32(what, s, min)
        .ok()
        .filter(|v| *v <= max)
        .ok_or_else(|| Error::Usage(format!("invalid {what} \"{s}\" ({min}..{max}{unit})")))
}

/// An id (node or peer): 1..=u32::MAX.
fn parse_id(what: &str, s: &str) -> Result<u32, Error> {
    parse_u32(what, s, 1)
}

/// A network namespace for `-netns`: a name (of a file under /run/netns,
/// as `ip netns` names them) or, with a '/', a path
/// (`/proc/PID/ns/net`).  The file itself is looked at when switching.
pub fn check_netns(netns: &str) -> Result<(), Error> {
    let ok = if netns.contains('/') {
        !netns.contains('\0')
    } else {
        !matches!(netns, "" | "." | "..") && !netns.contains('\0')
    };
    if ok {
        Ok(())
    } else {
        Err(Error::Usage(format!(
            "invalid network namespace \"{netns}\""
        )))
    }
}

/// An interface name as the kernel accepts it (dev_valid_name()).
pub fn check_ifname(name: &str) -> Result<(), Error> {
    let ok = !name.is_empty()
        && name.len() < libc::IFNAMSIZ
        && name != "."
        && name != ".."
        && !name
            .bytes()
            .any(|b| b == b'/' || b == b':' || b.is_ascii_whitespace() || b == 0);
    if ok {
        Ok(())
    } else {
        Err(Error::Usage(format!("invalid interface name \"{name}\"")))
    }
}

fn check_str(what: &str, s: &str, valid: impl Fn(u8) -> bool) -> Result<(), Error> {
    if s.is_empty() || s.len() >= HANDOFF_STR_MAX || !s.bytes().all(valid) {
        return Err(Error::Usage(format!("invalid {what} \"{s}\"")));
    }
    Ok(())
}

fn host_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"-._*:[]".contains(&b)
}

fn path_byte(b: u8) -> bool {
    b.is_ascii_graphic()
}

/// A cookie name is an RFC 6265 token.
fn cookie_byte(b: u8) -> bool {
    b.is_ascii_graphic() && !b"()<>@,;:\\\"/[]?={}".contains(&b)
}

/// `match` of host-uri: `HOST`, `HOST/PATH`, `/PATH`, `*`, `*/PATH`.
fn parse_uri_match(m: &str) -> Result<(Option<String>, Option<String>), Error> {
    let (host, path) = match m.find('/') {
        Some(i) => (&m[..i], Some(&m[i..])),
        None => (m, None),
    };
    let host = match host {
        "" | "*" => None,
        h => {
            check_str("host", h, host_byte)
                .map_err(|_| Error::Usage(format!("invalid host \"{h}\" in \"{m}\"")))?;
            Some(h.to_ascii_lowercase())
        }
    };
    if let Some(p) = path {
        check_str("path", p, path_byte)
            .map_err(|_| Error::Usage(format!("invalid path \"{p}\" in \"{m}\"")))?;
    }
    if m.is_empty() {
        return Err(Error::Usage("invalid match \"\"".to_string()));
    }
    Ok((host, path.map(str::to_string)))
}

/// `match` of tls-sni: a server name, `*.domain` or `*`.
fn parse_sni_match(m: &str) -> Result<Option<String>, Error> {
    if m == "*" {
        return Ok(None);
    }
    check_str("server name", m, |b| {
        b.is_ascii_alphanumeric() || b"-._*".contains(&b)
    })?;
    Ok(Some(m.to_ascii_lowercase()))
}

// ---------------------------------------------------------------------------
// The parser

const OPTIONS: &[(&str, char)] = &[
    ("json", 'j'),
    ("pretty", 'p'),
    ("statistics", 's'),
    ("stats", 's'),
    ("Version", 'V'),
    ("help", 'h'),
    ("batch", 'b'),
    ("force", 'f'),
    ("netns", 'n'),
];

const OBJECTS: &[(&str, Object)] = &[
    ("service", Object::Service),
    ("peer", Object::Peer),
    ("node", Object::Node),
    ("conn", Object::Conn),
    ("connection", Object::Conn),
    ("stats", Object::Stats),
    ("statistics", Object::Stats),
    ("monitor", Object::Monitor),
];

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Verb {
    Add,
    Del,
    Show,
    Set,
    Flush,
    Select,
    Help,
}

const SERVICE_VERBS: &[(&str, Verb)] = &[
    ("add", Verb::Add),
    ("del", Verb::Del),
    ("delete", Verb::Del),
    ("show", Verb::Show),
    ("list", Verb::Show),
    ("select", Verb::Select),
    ("help", Verb::Help),
];
const PEER_VERBS: &[(&str, Verb)] = &[
    ("add", Verb::Add),
    ("del", Verb::Del),
    ("delete", Verb::Del),
    ("show", Verb::Show),
    ("list", Verb::Show),
    ("help", Verb::Help),
];
const NODE_VERBS: &[(&str, Verb)] = &[
    ("set", Verb::Set),
    ("show", Verb::Show),
    ("list", Verb::Show),
    ("help", Verb::Help),
];
const CONN_VERBS: &[(&str, Verb)] = &[
    ("show", Verb::Show),
    ("list", Verb::Show),
    ("flush", Verb::Flush),
    ("help", Verb::Help),
];
const STATS_VERBS: &[(&str, Verb)] = &[
    ("show", Verb::Show),
    ("list", Verb::Show),
    ("help", Verb::Help),
];
const MONITOR_VERBS: &[(&str, Verb)] = &[("help", Verb::Help)];

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kw {
    Dev,
    Policy,
    Match,
    Name,
    Fallback,
    MaxTemporary,
    MaxForward,
    SynTimeout,
    IdleTimeout,
    Syncookies,
    FirstDataWait,
    RequestLimit,
    Address,
    Weight,
    Id,
    Forward,
    Sync,
    Port,
    Node,
    SyncAddress,
    SyncInterval,
    DeadIntervals,
    Client,
}

const SERVICE_ADD_KWS: &[(&str, Kw)] = &[
    ("dev", Kw::Dev),
    ("policy", Kw::Policy),
    ("match", Kw::Match),
    ("name", Kw::Name),
    ("fallback", Kw::Fallback),
    ("max-temporary", Kw::MaxTemporary),
    ("max-forward", Kw::MaxForward),
    ("syn-timeout", Kw::SynTimeout),
    ("idle-timeout", Kw::IdleTimeout),
    ("syncookies", Kw::Syncookies),
    ("first-data-wait", Kw::FirstDataWait),
    ("request-limit", Kw::RequestLimit),
];
const PEER_ADD_KWS: &[(&str, Kw)] = &[
    ("address", Kw::Address),
    ("port", Kw::Port),
    ("weight", Kw::Weight),
    ("sync-address", Kw::SyncAddress),
];
const NODE_SET_KWS: &[(&str, Kw)] = &[
    ("id", Kw::Id),
    ("forward", Kw::Forward),
    ("sync", Kw::Sync),
    ("port", Kw::Port),
    ("weight", Kw::Weight),
    ("sync-interval", Kw::SyncInterval),
    ("dead-intervals", Kw::DeadIntervals),
];
const RULE_KWS: &[(&str, Kw)] = &[("node", Kw::Node)];
const SELECT_KWS: &[(&str, Kw)] = &[("client", Kw::Client)];

/// The canonical spelling of a keyword, for messages.
fn kw_name(table: &[(&'static str, Kw)], kw: Kw) -> &'static str {
    table
        .iter()
        .find(|(_, k)| *k == kw)
        .map(|(n, _)| *n)
        .unwrap_or("?")
}

/// What the parser met where a keyword was expected.
enum Word<'a> {
    End,
    Help,
    Kw(&'a str),
}

/// Why parsing stopped early: an error, a `help` word, or the end of a
/// command line whose commands come from `-batch FILE`.
enum Stop {
    Err(Error),
    Help,
    Batch,
}

impl From<Error> for Stop {
    fn from(e: Error) -> Stop {
        Stop::Err(e)
    }
}

type R<T> = Result<T, Stop>;

struct Parser<'a> {
    args: &'a [String],
    pos: usize,
    opts: Opts,
    version: bool,
    help: bool,
    obj: Option<Object>,
    hint: String,
    /// The command line itself, where `-batch`, `-force` and `-netns` are
    /// allowed (not a line of a batch file).
    top: bool,
    /// `-batch FILE`.
    batch: Option<&'a str>,
    force: bool,
    /// `-netns NETNS`.
    netns: Option<&'a str>,
    /// The first word that is not an option: the object, or `help`.
    first: Option<&'a str>,
}

/// A command on the command line besides `-batch`.
fn with_batch(word: &str) -> Error {
    Error::Usage(format!(
        "unexpected argument \"{word}\" (with \"-batch\", the commands come from FILE)"
    ))
}

impl<'a> Parser<'a> {
    /// Apply an option word (`-j`, `--json`, `-pretty`, ...).
    fn option(&mut self, word: &str) -> Result<(), Error> {
        let name = word.trim_start_matches('-');
        let opt = match lookup(name, OPTIONS) {
            Lookup::Found(o) => o,
            Lookup::Ambiguous(n) => {
                return Err(Error::Usage(format!(
                    "ambiguous option \"{word}\": -{}",
                    n.join(", -")
                )));
            }
            Lookup::Unknown => {
                return Err(Error::Usage(format!(
                    "unknown option \"{word}\" (try \"handoff help\")"
                )))
            }
        };
        match opt {
            'j' => {
                if self.opts.format == Format::Human {
                    self.opts.format = Format::Json;
                }
            }
            'p' => self.opts.format = Format::Pretty,
            's' => self.opts.details = true,
            'V' => self.version = true,
            'b' | 'f' | 'n' if !self.top => {
                let name = match opt {
                    'b' => "batch",
                    'f' => "force",
                    _ => "netns",
                };
                return Err(Error::Usage(format!(
                    "\"-{name}\" is not allowed in a batch file"
                )));
            }
            'b' => {
                if self.batch.is_some() {
                    return Err(dup("-batch"));
                }
                let Some(file) = self.args.get(self.pos) else {
                    return Err(Error::Usage(
                        "missing argument for \"-batch\" (try \"handoff help\")".to_string(),
                    ));
                };
                self.pos += 1;
                if let Some(w) = self.first {
                    return Err(with_batch(w));
                }
                self.batch = Some(file.as_str());
            }
            'f' => self.force = true,
            'n' => {
                if self.netns.is_some() {
                    return Err(dup("-netns"));
                }
                let Some(netns) = self.args.get(self.pos) else {
                    return Err(Error::Usage(
                        "missing argument for \"-netns\" (try \"handoff help\")".to_string(),
                    ));
                };
                self.pos += 1;
                check_netns(netns)?;
                self.netns = Some(netns.as_str());
            }
            _ => self.help = true,
        }
        Ok(())
    }

    /// The next keyword position: options are applied and skipped, an exact
    /// `help` is reported as such.
    fn word_raw(&mut self) -> Result<Word<'a>, Error> {
        while let Some(w) = self.args.get(self.pos) {
            self.pos += 1;
            if w.len() > 1 && w.starts_with('-') {
                self.option(w)?;
                continue;
            }
            if self.first.is_none() {
                self.first = Some(w.as_str());
                if self.batch.is_some() {
                    return Err(with_batch(w));
                }
            }
            if w == "help" {
                return Ok(Word::Help);
            }
            return Ok(Word::Kw(w));
        }
        Ok(Word::End)
    }

    /// The next keyword, `None` at the end; `help` stops parsing.
    fn word(&mut self) -> R<Option<&'a str>> {
        match self.word_raw()? {
            Word::End => Ok(None),
            Word::Help => Err(Stop::Help),
            Word::Kw(w) => Ok(Some(w)),
        }
    }

    /// The argument of keyword `kw`, taken as it is.
    fn value(&mut self, kw: &str) -> Result<&'a str, Error> {
        match self.args.get(self.pos) {
            Some(v) => {
                self.pos += 1;
                Ok(v)
            }
            None => Err(Error::Usage(format!(
                "missing argument for \"{kw}\" (try \"{}\")",
                self.hint
            ))),
        }
    }

    fn keyword<T: Copy + PartialEq>(
        &self,
        w: &str,
        table: &[(&'static str, T)],
    ) -> Result<T, Error> {
        find("keyword", w, table, &self.hint)
    }

    /// No more arguments may follow (options aside).
    fn end(&mut self) -> R<()> {
        match self.word()? {
            None => Ok(()),
            Some(w) => Err(Error::Usage(format!(
                "unexpected argument \"{w}\" (try \"{}\")",
                self.hint
            ))
            .into()),
        }
    }
}

fn dup(kw: &str) -> Error {
    Error::Usage(format!("duplicate \"{kw}\""))
}

fn set_once<T>(slot: &mut Option<T>, v: T, kw: &str) -> Result<(), Error> {
    if slot.is_some() {
        return Err(dup(kw));
    }
    *slot = Some(v);
    Ok(())
}

/// Parse the whole command line (without the program name): one command,
/// or `-batch FILE` and no command; and `-netns NETNS`.
///
/// `-V` and `-h` win over the rest of the line; a `help` word where a
/// keyword is expected asks for the help of the object at hand.
pub fn parse_cli(args: &[String]) -> Result<Cli, Error> {
    parse_words(args, Opts::default(), true)
}

/// Parse one command, as a line of a batch file: the words of the line,
/// and the options of the command line, which the line's own add to.
/// `-batch`, `-force` and `-netns` are refused.
pub fn parse_line(args: &[String], opts: Opts) -> Result<(Opts, Command), Error> {
    match parse_words(args, opts, false)?.invocation {
        Invocation::Command(opts, cmd) => Ok((opts, cmd)),
        Invocation::Batch { .. } => unreachable!("-batch is refused in a batch line"),
    }
}

/// One command, without `-batch`: [`parse_line`] with no options given.
pub fn parse(args: &[String]) -> Result<(Opts, Command), Error> {
    parse_line(args, Opts::default())
}

fn parse_words(args: &[String], opts: Opts, top: bool) -> Result<Cli, Error> {
    let mut p = Parser {
        args,
        pos: 0,
        opts,
        version: false,
        help: false,
        obj: None,
        hint: "handoff help".into(),
        top,
        batch: None,
        force: false,
        netns: None,
        first: None,
    };
    let res = parse_inner(&mut p);
    let cli = |invocation| {
        Ok(Cli {
            netns: p.netns.map(str::to_string),
            invocation,
        })
    };
    let one = |cmd| cli(Invocation::Command(p.opts, cmd));
    if p.version {
        return one(Command::Version);
    }
    if p.help {
        return one(Command::Help(None));
    }
    match res {
        Ok(cmd) => one(cmd),
        Err(Stop::Help) => one(Command::Help(p.obj)),
        Err(Stop::Batch) => cli(Invocation::Batch {
            opts: p.opts,
            file: p.batch.expect("Stop::Batch comes with -batch").to_string(),
            force: p.force,
        }),
        Err(Stop::Err(e)) => Err(e),
    }
}

fn parse_inner(p: &mut Parser) -> R<Command> {
    let obj = match p.word_raw()? {
        Word::End => {
            if p.version || p.help {
                return Ok(Command::Help(None));
            }
            if p.batch.is_some() {
                return Err(Stop::Batch);
            }
            return Err(Error::Usage("missing object (try \"handoff help\")".to_string()).into());
        }
        Word::Help => {
            // handoff help [OBJECT]
            return match p.word_raw()? {
                Word::End | Word::Help => Ok(Command::Help(None)),
                Word::Kw(w) => Ok(Command::Help(Some(find(
                    "object",
                    w,
                    OBJECTS,
                    "handoff help",
                )?))),
            };
        }
        Word::Kw(w) => find("object", w, OBJECTS, "handoff help")?,
    };
    p.obj = Some(obj);
    p.hint = format!("handoff {} help", obj.name());
    let verbs = match obj {
        Object::Service => SERVICE_VERBS,
        Object::Peer => PEER_VERBS,
        Object::Node => NODE_VERBS,
        Object::Conn => CONN_VERBS,
        Object::Stats => STATS_VERBS,
        Object::Monitor => MONITOR_VERBS,
    };
    let verb = match p.word()? {
        None => Verb::Show,
        Some(w) => find("command", w, verbs, &p.hint)?,
    };
    let cmd = match (obj, verb) {
        (_, Verb::Help) => return Err(Stop::Help),
        (Object::Service, Verb::Add) => service_add(p)?,
        (Object::Service, Verb::Del) => {
            Command::ServiceDel(service_key(p, true)?.expect("required"))
        }
        (Object::Service, Verb::Show) => Command::ServiceShow(service_key(p, false)?),
        (Object::Service, Verb::Select) => service_select(p)?,
        (Object::Peer, Verb::Add) => peer_add(p)?,
        (Object::Peer, Verb::Del) => Command::PeerDel(peer_id(p, true)?.expect("required")),
        (Object::Peer, Verb::Show) => Command::PeerShow(peer_id(p, false)?),
        (Object::Node, Verb::Set) => node_set(p)?,
        (Object::Node, Verb::Show) => Command::NodeShow,
        (Object::Conn, Verb::Show) => Command::ConnShow(table(p)?),
        (Object::Conn, Verb::Flush) => Command::ConnFlush(table(p)?),
        (Object::Stats, Verb::Show) => Command::Stats,
        (Object::Monitor, _) => Command::Monitor,
        _ => unreachable!("verb tables only hold the object's verbs"),
    };
    p.end()?;
    Ok(cmd)
}

/// `VIP:PORT`, required or optional.
fn service_key(p: &mut Parser, required: bool) -> R<Option<Service>> {
    match p.word()? {
        Some(w) => {
            let (ip, port) = parse_vip(w)?;
            Ok(Some(Service::new(ip, port)))
        }
        None if required => {
            Err(Error::Usage(format!("missing VIP:PORT (try \"{}\")", p.hint)).into())
        }
        None => Ok(None),
    }
}

fn parse_vip(w: &str) -> Result<(IpAddr, u16), Error> {
    let (ip, port) = parse_endpoint(w)?;
    check_unicast(ip, w)?;
    Ok((ip, port))
}

/// The longest `first-data-wait` in milliseconds, as the kernel accepts it
/// (HANDOFF_A_SERVICE_FIRST_DATA_WAIT: 0..60000).
pub const FIRST_DATA_WAIT_MAX: u32 = 60_000;

/// The range of `request-limit` in bytes, as the kernel accepts it
/// (HANDOFF_A_SERVICE_REQUEST_LIMIT: 1..16384).
pub const REQUEST_LIMIT_MIN: u32 = 1;
pub const REQUEST_LIMIT_MAX: u32 = 16_384;

/// The range of `sync-interval` in milliseconds, as the kernel accepts it
/// (HANDOFF_A_NODE_SYNC_INTERVAL: 10..60000).
pub const SYNC_INTERVAL_MIN: u32 = 10;
pub const SYNC_INTERVAL_MAX: u32 = 60_000;

/// The range of `dead-intervals` (HANDOFF_A_NODE_DEAD_INTERVALS: 1..100).
pub const DEAD_INTERVALS_MIN: u32 = 1;
pub const DEAD_INTERVALS_MAX: u32 = 100;

fn service_add(p: &mut Parser) -> R<Command> {
    let mut svc = service_key(p, true)?.expect("required");
    svc.protocol = Some(libc::IPPROTO_TCP as u8);
    let mut devs: Vec<String> = Vec::new();
    let mut params = PolicyParams::default();
    let mut matches: Vec<(&str, u32)> = Vec::new();
    while let Some(w) = p.word()? {
        let kw = p.keyword(w, SERVICE_ADD_KWS)?;
        let name = kw_name(SERVICE_ADD_KWS, kw);
        let v = p.value(name)?;
        match kw {
            Kw::Dev => {
                check_ifname(v)?;
                if devs.iter().any(|d| d == v) {
                    return Err(Error::Usage(format!("duplicate interface \"{v}\"")).into());
                }
                devs.push(v.to_string());
            }
            Kw::Policy => {
                let pol = find_value("policy", v, POLICY_NAMES, &p.hint)?;
                set_once(&mut svc.policy, pol, name)?;
            }
            Kw::Match => {
                let Some(node_kw) = p.word()? else {
                    return Err(
                        Error::Usage(format!("missing \"node ID\" after \"match {v}\"")).into(),
                    );
                };
                p.keyword(node_kw, RULE_KWS)?;
                let id = parse_id("node id", p.value("node")?)?;
                matches.push((v, id));
            }
            Kw::Name => {
                check_str("cookie name", v, cookie_byte)?;
                set_once(&mut params.cookie_name, v.to_string(), name)?;
            }
            Kw::Fallback => {
                let table: Vec<(&'static str, u32)> =
                    FALLBACK_NAMES.iter().map(|(v, n)| (*n, *v)).collect();
                let Lookup::Found(f) = lookup(v, &table) else {
                    return Err(Error::Usage(format!(
                        "invalid fallback policy \"{v}\" (must be local, least-load or weighted)"
                    ))
                    .into());
                };
                set_once(&mut params.fallback, f, name)?;
            }
            Kw::MaxTemporary => set_once(&mut svc.max_temporary, parse_u32(name, v, 1)?, name)?,
            Kw::MaxForward => set_once(&mut svc.max_forward, parse_u32(name, v, 1)?, name)?,
            Kw::SynTimeout => set_once(&mut svc.syn_timeout, parse_u32(name, v, 1)?, name)?,
            Kw::IdleTimeout => set_once(&mut svc.idle_timeout, parse_u32(name, v, 1)?, name)?,
            Kw::Syncookies => {
                let table: Vec<(&'static str, u32)> =
                    SYNCOOKIES_NAMES.iter().map(|(v, n)| (*n, *v)).collect();
                let Lookup::Found(m) = lookup(v, &table) else {
                    return Err(Error::Usage(format!(
                        "invalid syncookies mode \"{v}\" (must be auto or always)"
                    ))
                    .into());
                };
                set_once(&mut svc.syncookies, m, name)?;
            }
            Kw::FirstDataWait => {
                let ms = parse_u32_in(name, v, 0, FIRST_DATA_WAIT_MAX, " ms")?;
                set_once(&mut svc.first_data_wait, ms, name)?;
            }
            Kw::RequestLimit => {
                let bytes = parse_u32_in(name, v, REQUEST_LIMIT_MIN, REQUEST_LIMIT_MAX, " bytes")?;
                set_once(&mut svc.request_limit, bytes, name)?;
            }
            _ => unreachable!("not a service keyword"),
        }
    }
    let policy = svc.policy;
    let is = |x: u32| policy == Some(x);
    let usage = |m: &str| Err(Stop::Err(Error::Usage(m.to_string())));
    if !matches.is_empty() && !is(HANDOFF_POLICY_HOST_URI) && !is(HANDOFF_POLICY_TLS_SNI) {
        return usage("\"match\" needs policy host-uri or tls-sni");
    }
    if params.cookie_name.is_some() && !is(HANDOFF_POLICY_COOKIE) {
        return usage("\"name\" needs policy cookie");
    }
    if is(HANDOFF_POLICY_COOKIE) && params.cookie_name.is_none() {
        return usage("policy cookie needs \"name COOKIE\"");
    }
    let with_fallback = [
        HANDOFF_POLICY_HOST_URI,
        HANDOFF_POLICY_TLS_SNI,
        HANDOFF_POLICY_COOKIE,
    ];
    if params.fallback.is_some() && !with_fallback.into_iter().any(is) {
        return usage("\"fallback\" needs policy host-uri, cookie or tls-sni");
    }
    for (m, node) in matches {
        let (host, path) = if is(HANDOFF_POLICY_TLS_SNI) {
            (parse_sni_match(m)?, None)
        } else {
            parse_uri_match(m)?
        };
        params.rules.push(Rule { host, path, node });
    }
    svc.params = params;
    Ok(Command::ServiceAdd(svc, devs))
}

/// `service select VIP:PORT client ADDR`: the client's address, without a
/// port (the choice follows from the address alone), of the service's
/// family.
fn service_select(p: &mut Parser) -> R<Command> {
    let svc = service_key(p, true)?.expect("required");
    let mut client = None;
    while let Some(w) = p.word()? {
        let kw = p.keyword(w, SELECT_KWS)?;
        let name = kw_name(SELECT_KWS, kw);
        let v = p.value(name)?;
        let (ip, port) = parse_addr_port(v, Port::Optional)?;
        if port.is_some() {
            return Err(Error::Usage(format!(
                "invalid client \"{v}\" (no port: the choice is by address alone)"
            ))
            .into());
        }
        check_unicast(ip, v)?;
        if ip.is_ipv4() != svc.addr.is_ipv4() {
            let (client_family, service_family) = if ip.is_ipv4() {
                ("IPv4", "IPv6")
            } else {
                ("IPv6", "IPv4")
            };
            return Err(Error::Usage(format!(
                "invalid client \"{v}\" ({client_family}, the service is {service_family})"
            ))
            .into());
        }
        set_once(&mut client, ip, name)?;
    }
    let Some(client) = client else {
        return Err(Error::Usage(format!("missing \"client ADDR\" (try \"{}\")", p.hint)).into());
    };
    Ok(Command::ServiceSelect(svc, client))
}

fn peer_id(p: &mut Parser, required: bool) -> R<Option<u32>> {
    match p.word()? {
        Some(w) => Ok(Some(parse_id("peer id", w)?)),
        None if !required => Ok(None),
        None => Err(Error::Usage(format!("missing peer ID (try \"{}\")", p.hint)).into()),
    }
}

/// Whether a word in a keyword's place is an address instead: keywords
/// have no dots, colons or brackets, every address has one of them.
fn looks_like_addr(w: &str) -> bool {
    w.starts_with('[') || w.contains(['.', ':'])
}

/// `port PORT` right after an address written without its port: the port,
/// or `None` with the next keyword left unread when it is another one.
fn port_after(p: &mut Parser, table: &[(&'static str, Kw)]) -> R<Option<u16>> {
    let at = p.pos;
    if let Some(w) = p.word()? {
        if p.keyword(w, table)? == Kw::Port {
            let v = p.value(kw_name(table, Kw::Port))?;
            return Ok(Some(parse_port(v, v)?));
        }
    }
    p.pos = at;
    Ok(None)
}

/// `port` anywhere else.
fn misplaced_port() -> Stop {
    Error::Usage("\"port\" must come right after an address without a port".to_string()).into()
}

/// `sync-address ADDR`: an address without a port, as reports go to and
/// come from the node's sync port; not followed by `port` either.
fn sync_address(p: &mut Parser, v: &str) -> R<IpAddr> {
    let (ip, port) = parse_addr_port(v, Port::Optional)?;
    if port.is_some() {
        return Err(Error::Usage(format!(
            "invalid sync-address \"{v}\" (no port: the sync port is the node's)"
        ))
        .into());
    }
    check_unicast(ip, v)?;
    let at = p.pos;
    if let Some(w) = p.word()? {
        if lookup(w, PEER_ADD_KWS) == Lookup::Found(Kw::Port) {
            return Err(Error::Usage(
                "\"port\" cannot follow \"sync-address\" (the sync port is the node's)".to_string(),
            )
            .into());
        }
    }
    p.pos = at;
    Ok(ip)
}

/// `peer add ID [address] ADDR[:PORT] [port PORT] [weight N] [sync-address
/// ADDR]`: the address bare right after the id, or anywhere after `address`.
fn peer_add(p: &mut Parser) -> R<Command> {
    let id = peer_id(p, true)?.expect("required");
    let mut peer = Peer {
        id,
        ..Default::default()
    };
    let mut first = true;
    while let Some(w) = p.word()? {
        let bare = std::mem::take(&mut first) && looks_like_addr(w);
        let kw = if bare {
            Kw::Address
        } else {
            p.keyword(w, PEER_ADD_KWS)?
        };
        let name = kw_name(PEER_ADD_KWS, kw);
        let v = if bare { w } else { p.value(name)? };
        match kw {
            Kw::Address => {
                let (ip, mut port) = parse_addr_port(v, Port::Optional)?;
                check_unicast(ip, v)?;
                if port.is_none() {
                    port = port_after(p, PEER_ADD_KWS)?;
                }
                set_once(&mut peer.addr, ip, name)?;
                peer.port = port;
            }
            Kw::Port => return Err(misplaced_port()),
            Kw::Weight => set_once(&mut peer.weight, parse_u32(name, v, 0)?, name)?,
            Kw::SyncAddress => set_once(&mut peer.sync_addr, sync_address(p, v)?, name)?,
            _ => unreachable!("not a peer keyword"),
        }
    }
    if peer.addr.is_none() {
        return Err(Error::Usage(format!("missing peer address (try \"{}\")", p.hint)).into());
    }
    Ok(Command::PeerAdd(peer))
}

/// `node set [id ID] [forward ENDPOINT] [sync ENDPOINT] [weight N]
/// [sync-interval MS] [dead-intervals N]`, an ENDPOINT being `ADDR:PORT` or
/// `ADDR port PORT`.
fn node_set(p: &mut Parser) -> R<Command> {
    let mut node = Node::default();
    while let Some(w) = p.word()? {
        let kw = p.keyword(w, NODE_SET_KWS)?;
        let name = kw_name(NODE_SET_KWS, kw);
        let v = p.value(name)?;
        match kw {
            Kw::Id => set_once(&mut node.id, parse_id("node id", v)?, name)?,
            Kw::Forward | Kw::Sync => {
                let (ip, port) = match parse_addr_port(v, Port::Optional)? {
                    (ip, Some(port)) => (ip, port),
                    (ip, None) => match port_after(p, NODE_SET_KWS)? {
                        Some(port) => (ip, port),
                        // What ADDR:PORT parsing says of a missing port.
                        None => return Err(parse_endpoint(v).expect_err("no port").into()),
                    },
                };
                let (addr_slot, port_slot) = match kw {
                    Kw::Forward => (&mut node.forward_addr, &mut node.forward_port),
                    _ => (&mut node.sync_addr, &mut node.sync_port),
                };
                set_once(addr_slot, ip, name)?;
                *port_slot = Some(port);
            }
            Kw::Port => return Err(misplaced_port()),
            Kw::Weight => set_once(&mut node.weight, parse_u32(name, v, 0)?, name)?,
            Kw::SyncInterval => {
                let ms = parse_u32_in(name, v, SYNC_INTERVAL_MIN, SYNC_INTERVAL_MAX, " ms")?;
                set_once(&mut node.sync_interval, ms, name)?;
            }
            Kw::DeadIntervals => {
                let n = parse_u32_in(name, v, DEAD_INTERVALS_MIN, DEAD_INTERVALS_MAX, "")?;
                set_once(&mut node.dead_intervals, n, name)?;
            }
            _ => unreachable!("not a node keyword"),
        }
    }
    if node.is_empty() {
        return Err(Error::Usage(format!("nothing to set (try \"{}\")", p.hint)).into());
    }
    Ok(Command::NodeSet(node))
}

fn table(p: &mut Parser) -> R<Option<u32>> {
    match p.word()? {
        Some(w) => Ok(Some(find_value("table", w, TABLE_NAMES, &p.hint)?)),
        None => Ok(None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The man page's source documents every object, command and keyword
    /// the parser knows, in bold as its synopsis writes them.
    #[test]
    fn man_page_documents_every_keyword() {
        let man = include_str!("../../../Documentation/handoff.8.rst");
        let words = OBJECTS
            .iter()
            .map(|(w, _)| *w)
            .chain(
                [
                    SERVICE_VERBS,
                    PEER_VERBS,
                    NODE_VERBS,
                    CONN_VERBS,
                    STATS_VERBS,
                    MONITOR_VERBS,
                ]
                .iter()
                .flat_map(|t| t.iter().map(|(w, _)| *w)),
            )
            .chain(
                [
                    SERVICE_ADD_KWS,
                    PEER_ADD_KWS,
                    NODE_SET_KWS,
                    RULE_KWS,
                    SELECT_KWS,
                ]
                .iter()
                .flat_map(|t| t.iter().map(|(w, _)| *w)),
            );
        // Every word of a bold span (**handoff service add** has three).
        let bold: Vec<&str> = man
            .split("**")
            .skip(1)
            .step_by(2)
            .flat_map(str::split_whitespace)
            .collect();
        let mut missing: Vec<String> = words
            .filter(|w| !bold.contains(w))
            .map(str::to_string)
            .collect();
        // Options appear as **-j**\ [son]: their first letter suffices (for
        // them only: a keyword needs its whole word).
        missing.extend(
            OPTIONS
                .iter()
                .map(|(_, letter)| format!("-{letter}"))
                .filter(|o| !bold.contains(&o.as_str())),
        );
        assert!(
            missing.is_empty(),
            "Documentation/handoff.8.rst does not mention {missing:?}"
        );
    }

    fn args(s: &str) -> Vec<String> {
        s.split_whitespace().map(str::to_string).collect()
    }

    fn ok(s: &str) -> (Opts, Command) {
        parse(&args(s)).unwrap_or_else(|e| panic!("{s}: {e:?}"))
    }

    fn cmd(s: &str) -> Command {
        ok(s).1
    }

    /// The usage error message for a command line.
    fn usage(s: &str) -> String {
        match parse(&args(s)) {
            Err(Error::Usage(m)) => m,
            other => panic!("{s}: expected a usage error, got {other:?}"),
        }
    }

    /// The invocation of a command line without `-netns`.
    fn cli(s: &str) -> Result<Invocation, Error> {
        parse_cli(&args(s)).map(|c| {
            assert_eq!(c.netns, None, "{s}");
            c.invocation
        })
    }

    fn cli_usage(s: &str) -> String {
        match cli(s) {
            Err(Error::Usage(m)) => m,
            other => panic!("{s}: expected a usage error, got {other:?}"),
        }
    }

    fn batch(format: Format, file: &str, force: bool) -> Invocation {
        Invocation::Batch {
            opts: Opts {
                format,
                details: false,
            },
            file: file.to_string(),
            force,
        }
    }

    /// `-batch FILE` and `-force`: options (abbreviated, anywhere), with no
    /// command on the command line.
    #[test]
    fn batch_option() {
        assert_eq!(cli("-batch cmds"), Ok(batch(Format::Human, "cmds", false)));
        assert_eq!(cli("-b -"), Ok(batch(Format::Human, "-", false)));
        assert_eq!(cli("--batch -j"), Ok(batch(Format::Human, "-j", false)));
        assert_eq!(
            cli("-j -force -batch cmds"),
            Ok(batch(Format::Json, "cmds", true))
        );
        assert_eq!(
            cli("-b cmds -f -p"),
            Ok(batch(Format::Pretty, "cmds", true))
        );
        let Ok(Invocation::Batch { opts, .. }) = cli("-s -b cmds") else {
            panic!("-s -b cmds")
        };
        assert!(opts.details);
        // Without -batch, -force changes nothing.
        assert_eq!(
            cli("-force node show"),
            Ok(Invocation::Command(Opts::default(), Command::NodeShow))
        );
        // -V and -h win, as over the rest of any command line.
        assert!(matches!(
            cli("-batch cmds -V"),
            Ok(Invocation::Command(_, Command::Version))
        ));
        assert!(matches!(
            cli("-h -batch"),
            Ok(Invocation::Command(_, Command::Help(None)))
        ));
    }

    #[test]
    fn batch_option_errors() {
        let cases = [
            (
                "-batch",
                "missing argument for \"-batch\" (try \"handoff help\")",
            ),
            (
                "-j -b",
                "missing argument for \"-batch\" (try \"handoff help\")",
            ),
            ("-batch a -batch b", "duplicate \"-batch\""),
            ("-batch a -b a", "duplicate \"-batch\""),
            (
                "-batch cmds node show",
                "unexpected argument \"node\" (with \"-batch\", the commands come from FILE)",
            ),
            (
                "-batch cmds -j bogus",
                "unexpected argument \"bogus\" (with \"-batch\", the commands come from FILE)",
            ),
            (
                "node show -batch cmds",
                "unexpected argument \"node\" (with \"-batch\", the commands come from FILE)",
            ),
            (
                "-batch cmds help",
                "unexpected argument \"help\" (with \"-batch\", the commands come from FILE)",
            ),
            (
                "-batch cmds -q",
                "unknown option \"-q\" (try \"handoff help\")",
            ),
        ];
        for (line, want) in cases {
            assert_eq!(cli_usage(line), want, "for {line:?}");
        }
    }

    /// The namespace and invocation of a command line.
    fn with_netns(s: &str) -> (Option<String>, Invocation) {
        let c = parse_cli(&args(s)).unwrap_or_else(|e| panic!("{s}: {e:?}"));
        (c.netns, c.invocation)
    }

    /// `-netns NETNS` and `-n NETNS`: an option with an argument, as
    /// `-batch FILE` is (abbreviated, anywhere an option may be, with the
    /// other options in any order).
    #[test]
    fn netns_option() {
        // "-n" is "-netns": no other option starts with "n".
        assert_eq!(lookup("n", OPTIONS), Lookup::Found('n'));
        let blue = || Some("blue".to_string());
        let show = Invocation::Command(Opts::default(), Command::ServiceShow(None));
        for line in [
            "-n blue service show",
            "-netns blue service show",
            "--netns blue service show",
            "-ne blue service show",
            "--n blue service show",
            "service -n blue show",
            "service show -netns blue",
            "serv -net blue sh",
        ] {
            assert_eq!(with_netns(line), (blue(), show.clone()), "{line}");
        }
        // Without it, none.
        assert_eq!(with_netns("service show"), (None, show));
        // A path: taken as it is.
        assert_eq!(
            with_netns("-n /proc/1/ns/net node show"),
            (
                Some("/proc/1/ns/net".to_string()),
                Invocation::Command(Opts::default(), Command::NodeShow)
            )
        );
        // The argument is the next word, whatever it looks like.
        assert_eq!(with_netns("-n -j node show").0.as_deref(), Some("-j"));
        assert_eq!(with_netns("-n help node show").0.as_deref(), Some("help"));
        assert_eq!(with_netns("-n node node show").0.as_deref(), Some("node"));
        // With the other options, in any order.
        let json_details = Opts {
            format: Format::Json,
            details: true,
        };
        for line in [
            "-j -n blue -s stats",
            "-s stats -n blue -j",
            "-netns blue -stats -json stats show",
            "stats -j -n blue -s",
        ] {
            assert_eq!(
                with_netns(line),
                (blue(), Invocation::Command(json_details, Command::Stats)),
                "{line}"
            );
        }
        // With -batch: for the whole batch.
        assert_eq!(
            with_netns("-n blue -batch cmds"),
            (blue(), batch(Format::Human, "cmds", false))
        );
        assert_eq!(
            with_netns("-force -b cmds -netns blue -j"),
            (blue(), batch(Format::Json, "cmds", true))
        );
        assert_eq!(
            with_netns("-b - -n /run/netns/blue"),
            (
                Some("/run/netns/blue".to_string()),
                batch(Format::Human, "-", false)
            )
        );
        // -V and -h win as ever; they, and help, need no kernel (no
        // switch), the rest does.
        let (ns, inv) = with_netns("-n blue -V");
        assert_eq!(
            (ns, &inv),
            (
                blue(),
                &Invocation::Command(Opts::default(), Command::Version)
            )
        );
        assert!(!inv.needs_kernel());
        assert!(matches!(
            with_netns("-h -n"),
            (None, Invocation::Command(_, Command::Help(None)))
        ));
        assert!(!with_netns("-n blue service help").1.needs_kernel());
        assert!(!with_netns("-n blue help").1.needs_kernel());
        assert!(with_netns("-n blue service show").1.needs_kernel());
        assert!(with_netns("-n blue monitor").1.needs_kernel());
        assert!(with_netns("-n blue -batch cmds").1.needs_kernel());
    }

    #[test]
    fn netns_option_errors() {
        let cases = [
            (
                "-n",
                "missing argument for \"-netns\" (try \"handoff help\")",
            ),
            (
                "node show -netns",
                "missing argument for \"-netns\" (try \"handoff help\")",
            ),
            (
                "-j -batch cmds -n",
                "missing argument for \"-netns\" (try \"handoff help\")",
            ),
            ("-n a -n b node show", "duplicate \"-netns\""),
            ("-n a node show -netns a", "duplicate \"-netns\""),
            ("-n . node show", "invalid network namespace \".\""),
            ("-netns .. node show", "invalid network namespace \"..\""),
            (
                "-n blue -batch cmds node show",
                "unexpected argument \"node\" (with \"-batch\", the commands come from FILE)",
            ),
            (
                "-n blue bogus",
                "unknown object \"bogus\" (try \"handoff help\")",
            ),
        ];
        for (line, want) in cases {
            assert_eq!(cli_usage(line), want, "for {line:?}");
        }
        // An empty name (a word the shell would quote).
        let words: Vec<String> = ["-n", "", "node", "show"].map(str::to_string).into();
        assert_eq!(
            parse_cli(&words),
            Err(Error::Usage("invalid network namespace \"\"".to_string()))
        );
        // A name with a "." in it, or "..": a path (with a '/'), are fine.
        assert_eq!(with_netns("-n a.b node show").0.as_deref(), Some("a.b"));
        assert_eq!(with_netns("-n ../x node show").0.as_deref(), Some("../x"));
    }

    /// A batch line: the command line's options, plus its own; no -batch,
    /// no -force, no -netns.
    #[test]
    fn batch_lines() {
        let json = Opts {
            format: Format::Json,
            details: false,
        };
        assert_eq!(
            parse_line(&args("node show"), json),
            Ok((json, Command::NodeShow))
        );
        let (opts, cmd) = parse_line(&args("-p -s stats"), json).unwrap();
        assert_eq!(
            (opts.format, opts.details, cmd),
            (Format::Pretty, true, Command::Stats)
        );
        for (line, want) in [
            ("-batch x", "\"-batch\" is not allowed in a batch file"),
            (
                "-n blue node show",
                "\"-netns\" is not allowed in a batch file",
            ),
            (
                "node show -net blue",
                "\"-netns\" is not allowed in a batch file",
            ),
            (
                "node show -b x",
                "\"-batch\" is not allowed in a batch file",
            ),
            (
                "-force node show",
                "\"-force\" is not allowed in a batch file",
            ),
        ] {
            assert_eq!(usage(line), want, "for {line:?}");
        }
        // Nothing else changes: the same commands and errors as alone.
        assert_eq!(
            parse_line(&args("monitor"), json),
            Ok((json, Command::Monitor))
        );
        assert_eq!(usage("s"), "ambiguous object \"s\": service, stats");
    }

    fn svc(ip: &str, port: u16) -> Service {
        Service::new(ip.parse().unwrap(), port)
    }

    #[test]
    fn lookup_rules() {
        let t = &[("show", 1), ("list", 1), ("set", 2), ("stop", 3)];
        assert_eq!(lookup("show", t), Lookup::Found(1));
        assert_eq!(lookup("sh", t), Lookup::Found(1));
        assert_eq!(lookup("l", t), Lookup::Found(1));
        assert_eq!(
            lookup("s", t),
            Lookup::Ambiguous(vec!["show", "set", "stop"])
        );
        assert_eq!(lookup("x", t), Lookup::Unknown);
        assert_eq!(lookup("", t), Lookup::Unknown);
        assert_eq!(lookup("shows", t), Lookup::Unknown);
        // An exact word wins over a longer one it prefixes.
        let t = &[("conn", 1), ("connection", 1), ("con", 2)];
        assert_eq!(lookup("con", t), Lookup::Found(2));
    }

    #[test]
    fn abbreviations() {
        assert_eq!(cmd("serv sh"), Command::ServiceShow(None));
        assert_eq!(
            cmd("se sh 10.0.0.1:80"),
            Command::ServiceShow(Some(svc("10.0.0.1", 80)))
        );
        assert_eq!(cmd("service"), Command::ServiceShow(None));
        assert_eq!(cmd("service list"), Command::ServiceShow(None));
        assert_eq!(cmd("p s"), Command::PeerShow(None));
        assert_eq!(cmd("pe d 3"), Command::PeerDel(3));
        assert_eq!(cmd("peer delete 3"), Command::PeerDel(3));
        assert_eq!(cmd("n sh"), Command::NodeShow);
        assert_eq!(
            cmd("c sh t"),
            Command::ConnShow(Some(HANDOFF_TABLE_TEMPORARY))
        );
        assert_eq!(
            cmd("conn f forw"),
            Command::ConnFlush(Some(HANDOFF_TABLE_FORWARD))
        );
        assert_eq!(cmd("conn flush"), Command::ConnFlush(None));
        assert_eq!(cmd("conn"), Command::ConnShow(None));
        assert_eq!(cmd("st"), Command::Stats);
        assert_eq!(cmd("m"), Command::Monitor);
        let Command::ServiceAdd(s, devs) =
            cmd("serv a 10.0.0.1:80 d eth0 po least max-t 5 max-f 6 syn-t 7 idle 8 sync al fi 9")
        else {
            panic!()
        };
        assert_eq!(devs, ["eth0"]);
        assert_eq!(s.policy, Some(HANDOFF_POLICY_LEAST_LOAD));
        assert_eq!(
            (
                s.max_temporary,
                s.max_forward,
                s.syn_timeout,
                s.idle_timeout
            ),
            (Some(5), Some(6), Some(7), Some(8))
        );
        assert_eq!(s.syncookies, Some(HANDOFF_SYNCOOKIES_ALWAYS));
        assert_eq!(s.first_data_wait, Some(9));
        assert_eq!(s.protocol, Some(6));
        // "fa" is still fallback, "fi" first-data-wait ("f" is both).
        let Command::ServiceAdd(s, _) = cmd("serv a 10.0.0.1:80 po cookie na S fa w fi 0") else {
            panic!()
        };
        assert_eq!(s.params.fallback, Some(HANDOFF_POLICY_WEIGHTED));
        assert_eq!(s.first_data_wait, Some(0));
        // "r" is request-limit, the only service keyword in r.
        let Command::ServiceAdd(s, _) = cmd("serv a 10.0.0.1:80 po host r 100 fi 0") else {
            panic!()
        };
        assert_eq!(s.policy, Some(HANDOFF_POLICY_HOST_URI));
        assert_eq!((s.request_limit, s.first_data_wait), (Some(100), Some(0)));
    }

    #[test]
    fn ambiguity_errors() {
        assert_eq!(usage("s"), "ambiguous object \"s\": service, stats");
        assert_eq!(
            usage("conn sh x"),
            "unknown table \"x\" (try \"handoff conn help\")"
        );
        assert_eq!(
            usage("service add 10.0.0.1:80 m 5"),
            "ambiguous keyword \"m\": match, max-temporary, max-forward"
        );
        assert_eq!(
            usage("service add 10.0.0.1:80 max 5"),
            "ambiguous keyword \"max\": max-temporary, max-forward"
        );
        assert_eq!(
            usage("service add 10.0.0.1:80 policy l"),
            "ambiguous policy \"l\": local, least-load"
        );
        assert_eq!(
            usage("service add 10.0.0.1:80 policy h"),
            "ambiguous policy \"h\": host-uri, hash"
        );
        assert_eq!(
            usage("service add 10.0.0.1:80 syn 5"),
            "ambiguous keyword \"syn\": syn-timeout, syncookies"
        );
        assert_eq!(
            usage("service add 10.0.0.1:80 f 5"),
            "ambiguous keyword \"f\": fallback, first-data-wait"
        );
        assert_eq!(
            usage("-x service"),
            "unknown option \"-x\" (try \"handoff help\")"
        );
        assert_eq!(usage("node s"), "ambiguous command \"s\": set, show");
    }

    #[test]
    fn service_s_is_ambiguous() {
        // "s" under service is "show" or "select"; "sh" and "se" are not
        // ambiguous.  Under peer, "s" is still only "show".
        assert_eq!(usage("service s"), "ambiguous command \"s\": show, select");
        assert_eq!(cmd("service sh"), Command::ServiceShow(None));
        assert_eq!(
            cmd("service se 10.0.0.1:80 c 10.0.0.9"),
            cmd("service select 10.0.0.1:80 client 10.0.0.9")
        );
        assert_eq!(cmd("peer s"), Command::PeerShow(None));
        assert_eq!(
            usage("peer select 2"),
            "unknown command \"select\" (try \"handoff peer help\")"
        );
    }

    /// `service select VIP:PORT client ADDR`: any address form without a
    /// port, of the service's family.
    #[test]
    fn service_select() {
        let select = |vip: &str, port: u16, client: &str| {
            Command::ServiceSelect(svc(vip, port), client.parse().unwrap())
        };
        assert_eq!(
            cmd("service select 10.0.0.1:80 client 198.51.100.7"),
            select("10.0.0.1", 80, "198.51.100.7")
        );
        assert_eq!(
            cmd("service select [2001:db8::1]:443 client 2001:db8:1::7"),
            select("2001:db8::1", 443, "2001:db8:1::7")
        );
        assert_eq!(
            cmd("service select [2001:db8::1]:443 client [2001:db8:1::7]"),
            select("2001:db8::1", 443, "2001:db8:1::7")
        );
        // Abbreviated; options anywhere; a v4-mapped client of an IPv6
        // service is an IPv6 address.
        assert_eq!(
            cmd("-j serv sel 10.0.0.1:80 -p cl 10.0.0.9"),
            select("10.0.0.1", 80, "10.0.0.9")
        );
        let (opts, _) = ok("service select 10.0.0.1:80 client 10.0.0.9 -j");
        assert_eq!(opts.format, Format::Json);
        assert_eq!(
            cmd("service select [2001:db8::1]:80 client ::ffff:10.0.0.9"),
            select("2001:db8::1", 80, "::ffff:10.0.0.9")
        );
        // help anywhere: the service usage.
        for line in [
            "service select help",
            "service select 10.0.0.1:80 help",
            "service select 10.0.0.1:80 client 10.0.0.9 help",
        ] {
            assert_eq!(cmd(line), Command::Help(Some(Object::Service)), "{line}");
        }
    }

    #[test]
    fn service_select_errors() {
        let cases = [
            (
                "service select",
                "missing VIP:PORT (try \"handoff service help\")",
            ),
            (
                "service select 10.0.0.1:80",
                "missing \"client ADDR\" (try \"handoff service help\")",
            ),
            (
                "service select 10.0.0.1:80 client",
                "missing argument for \"client\" (try \"handoff service help\")",
            ),
            (
                "service select 10.0.0.1 client 10.0.0.9",
                "missing port in \"10.0.0.1\"",
            ),
            (
                "service select 239.1.1.1:80 client 10.0.0.9",
                "invalid address \"239.1.1.1\" in \"239.1.1.1:80\" (must be a unicast address)",
            ),
            (
                "service select 10.0.0.1:80 client 10.0.0.300",
                "invalid address \"10.0.0.300\"",
            ),
            (
                "service select 10.0.0.1:80 client host9",
                "invalid address \"host9\"",
            ),
            (
                "service select 10.0.0.1:80 client 10.0.0.9:5000",
                "invalid client \"10.0.0.9:5000\" (no port: the choice is by address alone)",
            ),
            (
                "service select [2001:db8::1]:80 client [2001:db8::9]:5000",
                "invalid client \"[2001:db8::9]:5000\" (no port: the choice is by address alone)",
            ),
            (
                "service select 10.0.0.1:80 client 0.0.0.0",
                "invalid address \"0.0.0.0\" (must be a unicast address)",
            ),
            (
                "service select 10.0.0.1:80 client 255.255.255.255",
                "invalid address \"255.255.255.255\" (must be a unicast address)",
            ),
            (
                "service select [2001:db8::1]:80 client ff02::1",
                "invalid address \"ff02::1\" (must be a unicast address)",
            ),
            (
                "service select 10.0.0.1:80 client 2001:db8::9",
                "invalid client \"2001:db8::9\" (IPv6, the service is IPv4)",
            ),
            (
                "service select [2001:db8::1]:80 client 10.0.0.9",
                "invalid client \"10.0.0.9\" (IPv4, the service is IPv6)",
            ),
            (
                "service select 10.0.0.1:80 client 10.0.0.9 client 10.0.0.10",
                "duplicate \"client\"",
            ),
            (
                "service select 10.0.0.1:80 10.0.0.9",
                "unknown keyword \"10.0.0.9\" (try \"handoff service help\")",
            ),
            (
                "service select 10.0.0.1:80 client 10.0.0.9 policy hash",
                "unknown keyword \"policy\" (try \"handoff service help\")",
            ),
            (
                "service select client 10.0.0.9",
                "invalid address \"client\"",
            ),
        ];
        for (line, want) in cases {
            assert_eq!(usage(line), want, "for {line:?}");
        }
    }

    /// A batch line: `service select` as on the command line, with the
    /// command line's options.
    #[test]
    fn service_select_in_a_batch_line() {
        let json = Opts {
            format: Format::Json,
            details: false,
        };
        assert_eq!(
            parse_line(&args("service select 10.0.0.1:80 client 10.0.0.9"), json),
            Ok((
                json,
                Command::ServiceSelect(svc("10.0.0.1", 80), "10.0.0.9".parse().unwrap())
            ))
        );
    }

    #[test]
    fn options() {
        let (o, c) = ok("-j service show");
        assert_eq!((o.format, c), (Format::Json, Command::ServiceShow(None)));
        assert_eq!(ok("-p service").0.format, Format::Pretty);
        assert_eq!(ok("-j -p service").0.format, Format::Pretty);
        assert_eq!(ok("-p -j service").0.format, Format::Pretty);
        assert_eq!(ok("--json service").0.format, Format::Json);
        assert_eq!(ok("-json service").0.format, Format::Json);
        let (o, c) = ok("stats -s");
        assert!(o.details);
        assert_eq!(c, Command::Stats);
        assert!(ok("-s stats").0.details);
        assert!(ok("-stats stats").0.details);
        assert_eq!(ok("service show -j").0.format, Format::Json);
        assert_eq!(cmd("-V"), Command::Version);
        assert_eq!(cmd("-Version"), Command::Version);
        assert_eq!(cmd("-h"), Command::Help(None));
        assert_eq!(cmd("service add 10.0.0.1:80 -h"), Command::Help(None));
        assert_eq!(
            cmd("service show help"),
            Command::Help(Some(Object::Service))
        );
        assert_eq!(cmd("conn show help"), Command::Help(Some(Object::Conn)));
    }

    #[test]
    fn help_forms() {
        assert_eq!(cmd("help"), Command::Help(None));
        assert_eq!(cmd("help service"), Command::Help(Some(Object::Service)));
        assert_eq!(cmd("help pe"), Command::Help(Some(Object::Peer)));
        assert_eq!(cmd("service help"), Command::Help(Some(Object::Service)));
        assert_eq!(cmd("peer help"), Command::Help(Some(Object::Peer)));
        assert_eq!(cmd("node help"), Command::Help(Some(Object::Node)));
        assert_eq!(cmd("conn help"), Command::Help(Some(Object::Conn)));
        assert_eq!(cmd("stats help"), Command::Help(Some(Object::Stats)));
        assert_eq!(cmd("monitor help"), Command::Help(Some(Object::Monitor)));
        assert_eq!(
            cmd("service add 10.0.0.1:80 help"),
            Command::Help(Some(Object::Service))
        );
        assert_eq!(cmd("peer del 3 help"), Command::Help(Some(Object::Peer)));
        assert_eq!(
            usage("help bogus"),
            "unknown object \"bogus\" (try \"handoff help\")"
        );
    }

    #[test]
    fn service_add_full() {
        let (_, c) = ok(
            "service add [2001:db8::1]:443 dev eth0 dev eth1 policy host-uri \
             match example.com/api node 2 match /static node 3 match * node 4 fallback least-load \
             max-temporary 100 max-forward 200 syn-timeout 3000 idle-timeout 60000 syncookies auto \
             first-data-wait 1500 request-limit 8192",
        );
        let Command::ServiceAdd(s, devs) = c else {
            panic!()
        };
        assert_eq!(s.addr, "2001:db8::1".parse::<IpAddr>().unwrap());
        assert_eq!(s.port, 443);
        assert_eq!(devs, ["eth0", "eth1"]);
        assert_eq!(s.policy, Some(HANDOFF_POLICY_HOST_URI));
        assert_eq!(s.params.fallback, Some(HANDOFF_POLICY_LEAST_LOAD));
        assert_eq!(
            s.params.rules,
            vec![
                Rule {
                    host: Some("example.com".into()),
                    path: Some("/api".into()),
                    node: 2
                },
                Rule {
                    host: None,
                    path: Some("/static".into()),
                    node: 3
                },
                Rule {
                    host: None,
                    path: None,
                    node: 4
                },
            ]
        );
        assert_eq!(s.max_temporary, Some(100));
        assert_eq!(s.idle_timeout, Some(60000));
        assert_eq!(s.syncookies, Some(HANDOFF_SYNCOOKIES_AUTO));
        assert_eq!(s.first_data_wait, Some(1500));
        assert_eq!(s.request_limit, Some(8192));
    }

    #[test]
    fn service_add_first_data_wait() {
        let wait = |line: &str| {
            let Command::ServiceAdd(s, _) = cmd(line) else {
                panic!("{line}")
            };
            s.first_data_wait
        };
        assert_eq!(wait("service add 10.0.0.1:80"), None);
        // 0 (bound at the handshake ACK) and the whole range.
        for ms in [0, 1, 200, 59999, 60000] {
            assert_eq!(
                wait(&format!("service add 10.0.0.1:80 first-data-wait {ms}")),
                Some(ms)
            );
        }
        assert_eq!(
            wait("service add 10.0.0.1:80 policy weighted first 50 syncookies always"),
            Some(50)
        );
    }

    #[test]
    fn service_add_request_limit() {
        let limit = |line: &str| {
            let Command::ServiceAdd(s, _) = cmd(line) else {
                panic!("{line}")
            };
            s.request_limit
        };
        assert_eq!(limit("service add 10.0.0.1:80"), None);
        // The whole range, its ends included.
        for bytes in [1, 2, 512, 16383, 16384] {
            assert_eq!(
                limit(&format!("service add 10.0.0.1:80 request-limit {bytes}")),
                Some(bytes)
            );
        }
        // Abbreviated, among the other keywords; with any policy (those
        // without content ignore it, the kernel takes it all the same).
        assert_eq!(
            limit("service add 10.0.0.1:80 policy tls-sni req 1024 first-data-wait 50"),
            Some(1024)
        );
        assert_eq!(
            limit("service add 10.0.0.1:80 policy local request-limit 4096"),
            Some(4096)
        );
    }

    #[test]
    fn service_add_syncookies() {
        let mode = |line: &str| {
            let Command::ServiceAdd(s, _) = cmd(line) else {
                panic!("{line}")
            };
            s.syncookies
        };
        assert_eq!(mode("service add 10.0.0.1:80"), None);
        assert_eq!(
            mode("service add 10.0.0.1:80 syncookies always"),
            Some(HANDOFF_SYNCOOKIES_ALWAYS)
        );
        assert_eq!(
            mode("service add 10.0.0.1:80 syncookies auto"),
            Some(HANDOFF_SYNCOOKIES_AUTO)
        );
        // Keyword and value abbreviated; among the other keywords.
        assert_eq!(
            mode("service add 10.0.0.1:80 policy weighted sync alw idle-timeout 5"),
            Some(HANDOFF_SYNCOOKIES_ALWAYS)
        );
        assert_eq!(
            mode("service add 10.0.0.1:80 syncookies au"),
            Some(HANDOFF_SYNCOOKIES_AUTO)
        );
    }

    #[test]
    fn service_add_policies() {
        let Command::ServiceAdd(s, _) =
            cmd("service add 10.0.0.1:443 policy tls-sni match *.Example.com node 2")
        else {
            panic!()
        };
        assert_eq!(s.params.rules[0].host.as_deref(), Some("*.example.com"));
        let Command::ServiceAdd(s, _) =
            cmd("service add 10.0.0.1:80 policy cookie name SRVID fallback w")
        else {
            panic!()
        };
        assert_eq!(s.policy, Some(HANDOFF_POLICY_COOKIE));
        assert_eq!(s.params.cookie_name.as_deref(), Some("SRVID"));
        assert_eq!(s.params.fallback, Some(HANDOFF_POLICY_WEIGHTED));
        for (word, v) in [
            ("local", HANDOFF_POLICY_LOCAL),
            ("least-load", HANDOFF_POLICY_LEAST_LOAD),
            ("weighted", HANDOFF_POLICY_WEIGHTED),
            ("host-uri", HANDOFF_POLICY_HOST_URI),
            ("tls", HANDOFF_POLICY_TLS_SNI),
            ("hash", HANDOFF_POLICY_HASH),
            ("has", HANDOFF_POLICY_HASH),
            ("ho", HANDOFF_POLICY_HOST_URI),
        ] {
            let Command::ServiceAdd(s, _) = cmd(&format!("service add 10.0.0.1:80 policy {word}"))
            else {
                panic!()
            };
            assert_eq!(s.policy, Some(v), "{word}");
        }
    }

    #[test]
    fn bad_values() {
        let cases = [
            (
                "service add 10.0.0.1:0",
                "invalid port \"0\" in \"10.0.0.1:0\"",
            ),
            ("service add 10.0.0.1", "missing port in \"10.0.0.1\""),
            (
                "service add 10.0.0.300:80",
                "invalid address \"10.0.0.300\" in \"10.0.0.300:80\"",
            ),
            (
                "service add 0.0.0.0:80",
                "invalid address \"0.0.0.0\" in \"0.0.0.0:80\" (must be a unicast address)",
            ),
            (
                "service add",
                "missing VIP:PORT (try \"handoff service help\")",
            ),
            (
                "service del",
                "missing VIP:PORT (try \"handoff service help\")",
            ),
            (
                "service add 10.0.0.1:80 foo 1",
                "unknown keyword \"foo\" (try \"handoff service help\")",
            ),
            (
                "service add 10.0.0.1:80 dev",
                "missing argument for \"dev\" (try \"handoff service help\")",
            ),
            (
                "service add 10.0.0.1:80 dev eth0 dev eth0",
                "duplicate interface \"eth0\"",
            ),
            (
                "service add 10.0.0.1:80 dev a/b",
                "invalid interface name \"a/b\"",
            ),
            (
                "service add 10.0.0.1:80 dev abcdefghijklmnop",
                "invalid interface name \"abcdefghijklmnop\"",
            ),
            (
                "service add 10.0.0.1:80 policy foo",
                "unknown policy \"foo\" (try \"handoff service help\")",
            ),
            (
                "service add 10.0.0.1:80 policy local policy local",
                "duplicate \"policy\"",
            ),
            (
                "service add 10.0.0.1:80 max-temporary 0",
                "invalid max-temporary \"0\"",
            ),
            (
                "service add 10.0.0.1:80 max-forward -1",
                "invalid max-forward \"-1\"",
            ),
            (
                "service add 10.0.0.1:80 syn-timeout 1s",
                "invalid syn-timeout \"1s\"",
            ),
            (
                "service add 10.0.0.1:80 idle-timeout 4294967296",
                "invalid idle-timeout \"4294967296\"",
            ),
            (
                "service add 10.0.0.1:80 max-t 1 max-t 2",
                "duplicate \"max-temporary\"",
            ),
            (
                "service add 10.0.0.1:80 syncookies x",
                "invalid syncookies mode \"x\" (must be auto or always)",
            ),
            (
                "service add 10.0.0.1:80 syncookies sometimes",
                "invalid syncookies mode \"sometimes\" (must be auto or always)",
            ),
            (
                "service add 10.0.0.1:80 syncookies a",
                "invalid syncookies mode \"a\" (must be auto or always)",
            ),
            (
                "service add 10.0.0.1:80 syncookies 2",
                "invalid syncookies mode \"2\" (must be auto or always)",
            ),
            (
                "service add 10.0.0.1:80 syncookies",
                "missing argument for \"syncookies\" (try \"handoff service help\")",
            ),
            (
                "service add 10.0.0.1:80 syncookies always syncookies auto",
                "duplicate \"syncookies\"",
            ),
            (
                "service add 10.0.0.1:80 first-data-wait 60001",
                "invalid first-data-wait \"60001\" (0..60000 ms)",
            ),
            (
                "service add 10.0.0.1:80 first-data-wait 70000",
                "invalid first-data-wait \"70000\" (0..60000 ms)",
            ),
            (
                "service add 10.0.0.1:80 first-data-wait 4294967296",
                "invalid first-data-wait \"4294967296\" (0..60000 ms)",
            ),
            (
                "service add 10.0.0.1:80 first-data-wait -1",
                "invalid first-data-wait \"-1\" (0..60000 ms)",
            ),
            (
                "service add 10.0.0.1:80 first-data-wait 1s",
                "invalid first-data-wait \"1s\" (0..60000 ms)",
            ),
            (
                "service add 10.0.0.1:80 fi +5",
                "invalid first-data-wait \"+5\" (0..60000 ms)",
            ),
            (
                "service add 10.0.0.1:80 first-data-wait",
                "missing argument for \"first-data-wait\" (try \"handoff service help\")",
            ),
            (
                "service add 10.0.0.1:80 first-data-wait 0 first-data-wait 0",
                "duplicate \"first-data-wait\"",
            ),
            (
                "service add 10.0.0.1:80 request-limit 0",
                "invalid request-limit \"0\" (1..16384 bytes)",
            ),
            (
                "service add 10.0.0.1:80 request-limit 16385",
                "invalid request-limit \"16385\" (1..16384 bytes)",
            ),
            (
                "service add 10.0.0.1:80 request-limit 4294967296",
                "invalid request-limit \"4294967296\" (1..16384 bytes)",
            ),
            (
                "service add 10.0.0.1:80 request-limit -1",
                "invalid request-limit \"-1\" (1..16384 bytes)",
            ),
            (
                "service add 10.0.0.1:80 request-limit 4k",
                "invalid request-limit \"4k\" (1..16384 bytes)",
            ),
            (
                "service add 10.0.0.1:80 r +5",
                "invalid request-limit \"+5\" (1..16384 bytes)",
            ),
            (
                "service add 10.0.0.1:80 request-limit",
                "missing argument for \"request-limit\" (try \"handoff service help\")",
            ),
            (
                "service add 10.0.0.1:80 request-limit 1 req 16384",
                "duplicate \"request-limit\"",
            ),
            (
                "service add 10.0.0.1:80 match a.com node 1",
                "\"match\" needs policy host-uri or tls-sni",
            ),
            (
                "service add 10.0.0.1:80 policy host-uri match a.com",
                "missing \"node ID\" after \"match a.com\"",
            ),
            (
                "service add 10.0.0.1:80 policy host-uri match a.com peer 1",
                "unknown keyword \"peer\" (try \"handoff service help\")",
            ),
            (
                "service add 10.0.0.1:80 policy host-uri match a.com node 0",
                "invalid node id \"0\"",
            ),
            (
                "service add 10.0.0.1:80 policy host-uri match a\"b node 1",
                "invalid host \"a\"b\" in \"a\"b\"",
            ),
            (
                "service add 10.0.0.1:80 policy tls-sni match a.com/x node 1",
                "invalid server name \"a.com/x\"",
            ),
            (
                "service add 10.0.0.1:80 policy cookie",
                "policy cookie needs \"name COOKIE\"",
            ),
            (
                "service add 10.0.0.1:80 policy cookie name a=b",
                "invalid cookie name \"a=b\"",
            ),
            (
                "service add 10.0.0.1:80 name x",
                "\"name\" needs policy cookie",
            ),
            (
                "service add 10.0.0.1:80 policy local fallback local",
                "\"fallback\" needs policy host-uri, cookie or tls-sni",
            ),
            (
                "service add 10.0.0.1:80 policy cookie name a fallback cookie",
                "invalid fallback policy \"cookie\" (must be local, least-load or weighted)",
            ),
            (
                "service add 10.0.0.1:80 policy host-uri fallback hash",
                "invalid fallback policy \"hash\" (must be local, least-load or weighted)",
            ),
            (
                "service add 10.0.0.1:80 policy hash fallback local",
                "\"fallback\" needs policy host-uri, cookie or tls-sni",
            ),
            (
                "service add 10.0.0.1:80 policy hash match a.com node 2",
                "\"match\" needs policy host-uri or tls-sni",
            ),
            (
                "service add 10.0.0.1:80 policy hash name SRV",
                "\"name\" needs policy cookie",
            ),
            (
                "service del 10.0.0.1:80 extra",
                "unexpected argument \"extra\" (try \"handoff service help\")",
            ),
            ("service show [::1]:0", "invalid port \"0\" in \"[::1]:0\""),
            (
                "service bogus",
                "unknown command \"bogus\" (try \"handoff service help\")",
            ),
            ("bogus", "unknown object \"bogus\" (try \"handoff help\")"),
            ("", "missing object (try \"handoff help\")"),
            ("peer add", "missing peer ID (try \"handoff peer help\")"),
            ("peer add 0 address 10.0.0.2", "invalid peer id \"0\""),
            ("peer add x address 10.0.0.2", "invalid peer id \"x\""),
            (
                "peer add 2",
                "missing peer address (try \"handoff peer help\")",
            ),
            (
                "peer add 2 weight 3",
                "missing peer address (try \"handoff peer help\")",
            ),
            (
                "peer add 2 address",
                "missing argument for \"address\" (try \"handoff peer help\")",
            ),
            (
                "peer add 2 address 10.0.0.2:0",
                "invalid port \"0\" in \"10.0.0.2:0\"",
            ),
            (
                "peer add 2 address 10.0.0.2 weight x",
                "invalid weight \"x\"",
            ),
            (
                "peer add 2 address 10.0.0.2 address 10.0.0.3",
                "duplicate \"address\"",
            ),
            (
                "peer add 2 address 10.0.0.2 color red",
                "unknown keyword \"color\" (try \"handoff peer help\")",
            ),
            ("peer add 2 10.0.0.2 port x", "invalid port \"x\""),
            ("peer add 2 10.0.0.2 port 0", "invalid port \"0\""),
            (
                "peer add 2 address 10.0.0.2 port 65536",
                "invalid port \"65536\"",
            ),
            (
                "peer add 2 10.0.0.2 port",
                "missing argument for \"port\" (try \"handoff peer help\")",
            ),
            (
                "peer add 2 10.0.0.2:7000 port 7001",
                "\"port\" must come right after an address without a port",
            ),
            (
                "peer add 2 [2001:db8::2]:7000 weight 1 port 7001",
                "\"port\" must come right after an address without a port",
            ),
            (
                "peer add 2 port 7001 address 10.0.0.2",
                "\"port\" must come right after an address without a port",
            ),
            (
                "peer add 2 10.0.0.2 weight 1 port 7000",
                "\"port\" must come right after an address without a port",
            ),
            (
                "peer add 2 10.0.0.2 prot 7000",
                "unknown keyword \"prot\" (try \"handoff peer help\")",
            ),
            (
                "peer add 2 10.0.0.2 port 1 port 2",
                "\"port\" must come right after an address without a port",
            ),
            ("peer add 2 10.0.0.300", "invalid address \"10.0.0.300\""),
            (
                "peer add 2 10.0.0.2:x",
                "invalid port \"x\" in \"10.0.0.2:x\"",
            ),
            (
                "peer add 2 239.1.1.1 port 7000",
                "invalid address \"239.1.1.1\" (must be a unicast address)",
            ),
            (
                "peer add 2 [::] weight 1",
                "invalid address \"::\" in \"[::]\" (must be a unicast address)",
            ),
            (
                "peer add 2 10.0.0.2 address 10.0.0.3",
                "duplicate \"address\"",
            ),
            (
                "peer add 2 10.0.0.2 10.0.0.3",
                "unknown keyword \"10.0.0.3\" (try \"handoff peer help\")",
            ),
            (
                "peer add 2 weight 1 10.0.0.2",
                "unknown keyword \"10.0.0.2\" (try \"handoff peer help\")",
            ),
            (
                "peer add 2 localhost",
                "unknown keyword \"localhost\" (try \"handoff peer help\")",
            ),
            ("peer del", "missing peer ID (try \"handoff peer help\")"),
            ("peer show 0", "invalid peer id \"0\""),
            ("node set", "nothing to set (try \"handoff node help\")"),
            ("node set id 0", "invalid node id \"0\""),
            ("node set forward 10.0.0.1", "missing port in \"10.0.0.1\""),
            (
                "node set sync [ff02::1]:0",
                "invalid port \"0\" in \"[ff02::1]:0\"",
            ),
            (
                "node set weight",
                "missing argument for \"weight\" (try \"handoff node help\")",
            ),
            ("node set forward 10.0.0.1 port x", "invalid port \"x\""),
            ("node set forward 10.0.0.1 port 0", "invalid port \"0\""),
            (
                "node set sync 239.1.1.1 port 65536",
                "invalid port \"65536\"",
            ),
            (
                "node set forward 10.0.0.1 port",
                "missing argument for \"port\" (try \"handoff node help\")",
            ),
            (
                "node set forward 10.0.0.1 weight 3",
                "missing port in \"10.0.0.1\"",
            ),
            (
                "node set forward 10.0.0.1 weight 3 port 7000",
                "missing port in \"10.0.0.1\"",
            ),
            (
                "node set sync 2001:db8::1",
                "missing port in \"2001:db8::1\" (write IPv6 with a port as [ADDR]:PORT)",
            ),
            (
                "node set port 7000",
                "\"port\" must come right after an address without a port",
            ),
            (
                "node set id 1 port 7000",
                "\"port\" must come right after an address without a port",
            ),
            (
                "node set forward 10.0.0.1:7000 port 7001",
                "\"port\" must come right after an address without a port",
            ),
            (
                "node set sync 239.1.1.1 port 7001 port 7002",
                "\"port\" must come right after an address without a port",
            ),
            (
                "node set forward 10.0.0.300 port 7000",
                "invalid address \"10.0.0.300\"",
            ),
            (
                "node set forward 10.0.0.1 port 7000 forward 10.0.0.2 port 7000",
                "duplicate \"forward\"",
            ),
            (
                "node set forward 10.0.0.1 prot 7000",
                "unknown keyword \"prot\" (try \"handoff node help\")",
            ),
            (
                "node set sync-interval 5",
                "invalid sync-interval \"5\" (10..60000 ms)",
            ),
            (
                "node set sync-interval 9",
                "invalid sync-interval \"9\" (10..60000 ms)",
            ),
            (
                "node set sync-interval 60001",
                "invalid sync-interval \"60001\" (10..60000 ms)",
            ),
            (
                "node set sync-interval 0",
                "invalid sync-interval \"0\" (10..60000 ms)",
            ),
            (
                "node set sync-interval -100",
                "invalid sync-interval \"-100\" (10..60000 ms)",
            ),
            (
                "node set sync-interval 100ms",
                "invalid sync-interval \"100ms\" (10..60000 ms)",
            ),
            (
                "node set sync-i 4294967296",
                "invalid sync-interval \"4294967296\" (10..60000 ms)",
            ),
            (
                "node set sync-interval",
                "missing argument for \"sync-interval\" (try \"handoff node help\")",
            ),
            (
                "node set sync-interval 100 sync-interval 200",
                "duplicate \"sync-interval\"",
            ),
            (
                "node set dead-intervals 0",
                "invalid dead-intervals \"0\" (1..100)",
            ),
            (
                "node set dead-intervals 101",
                "invalid dead-intervals \"101\" (1..100)",
            ),
            (
                "node set dead-intervals three",
                "invalid dead-intervals \"three\" (1..100)",
            ),
            (
                "node set d +3",
                "invalid dead-intervals \"+3\" (1..100)",
            ),
            (
                "node set dead-intervals",
                "missing argument for \"dead-intervals\" (try \"handoff node help\")",
            ),
            (
                "node set dead-intervals 3 dead-intervals 3",
                "duplicate \"dead-intervals\"",
            ),
            ("node set s 100", "ambiguous keyword \"s\": sync, sync-interval"),
            (
                "node set sync-interval 100 port 7000",
                "\"port\" must come right after an address without a port",
            ),
            (
                "peer add 2 10.0.0.2 sync-address",
                "missing argument for \"sync-address\" (try \"handoff peer help\")",
            ),
            (
                "peer add 2 10.0.0.2 sync-address 10.0.0.300",
                "invalid address \"10.0.0.300\"",
            ),
            (
                "peer add 2 10.0.0.2 sync-address host2",
                "invalid address \"host2\"",
            ),
            (
                "peer add 2 10.0.0.2 sync-address 10.1.0.2:7001",
                "invalid sync-address \"10.1.0.2:7001\" (no port: the sync port is the node's)",
            ),
            (
                "peer add 2 10.0.0.2 sync-address [2001:db8::2]:7001",
                "invalid sync-address \"[2001:db8::2]:7001\" (no port: the sync port is the node's)",
            ),
            (
                "peer add 2 10.0.0.2 sync-address 10.1.0.2 port 7001",
                "\"port\" cannot follow \"sync-address\" (the sync port is the node's)",
            ),
            (
                "peer add 2 sync-address 10.1.0.2 p 7001 address 10.0.0.2",
                "\"port\" cannot follow \"sync-address\" (the sync port is the node's)",
            ),
            (
                "peer add 2 10.0.0.2 sync-address 239.1.1.1",
                "invalid address \"239.1.1.1\" (must be a unicast address)",
            ),
            (
                "peer add 2 10.0.0.2 sync-address 0.0.0.0",
                "invalid address \"0.0.0.0\" (must be a unicast address)",
            ),
            (
                "peer add 2 10.0.0.2 sync-address 10.1.0.2 sync-address 10.1.0.3",
                "duplicate \"sync-address\"",
            ),
            (
                "peer add 2 sync-address 10.1.0.2",
                "missing peer address (try \"handoff peer help\")",
            ),
            (
                "peer add 2 sync-address 10.1.0.2 10.0.0.2",
                "unknown keyword \"10.0.0.2\" (try \"handoff peer help\")",
            ),
            (
                "node show extra",
                "unexpected argument \"extra\" (try \"handoff node help\")",
            ),
            (
                "conn show all",
                "unknown table \"all\" (try \"handoff conn help\")",
            ),
            (
                "conn flush temporary forward",
                "unexpected argument \"forward\" (try \"handoff conn help\")",
            ),
            (
                "stats extra",
                "unknown command \"extra\" (try \"handoff stats help\")",
            ),
            (
                "monitor extra",
                "unknown command \"extra\" (try \"handoff monitor help\")",
            ),
        ];
        for (line, want) in cases {
            assert_eq!(usage(line), want, "for {line:?}");
        }
    }

    #[test]
    fn peer_and_node() {
        assert_eq!(
            cmd("peer add 2 address 10.0.0.2:7000 weight 3"),
            Command::PeerAdd(Peer {
                id: 2,
                addr: Some("10.0.0.2".parse().unwrap()),
                port: Some(7000),
                weight: Some(3),
                ..Default::default()
            })
        );
        assert_eq!(
            cmd("peer add 4 addr [2001:db8::4]"),
            Command::PeerAdd(Peer {
                id: 4,
                addr: Some("2001:db8::4".parse().unwrap()),
                ..Default::default()
            })
        );
        assert_eq!(cmd("peer show 4"), Command::PeerShow(Some(4)));
        assert_eq!(
            cmd("node set id 1 forward 10.0.0.1:7000 sync [ff02::1234]:7001 weight 0"),
            Command::NodeSet(Node {
                id: Some(1),
                forward_addr: Some("10.0.0.1".parse().unwrap()),
                forward_port: Some(7000),
                sync_addr: Some("ff02::1234".parse().unwrap()),
                sync_port: Some(7001),
                weight: Some(0),
                ..Default::default()
            })
        );
    }

    /// `peer add ID ADDR [port PORT] [weight N]`: the address bare, right
    /// after the id; the same peer as with `address`.
    #[test]
    fn peer_add_bare_address() {
        let peer = |addr: &str, port: Option<u16>, weight: Option<u32>| {
            Command::PeerAdd(Peer {
                id: 2,
                addr: Some(addr.parse().unwrap()),
                port,
                weight,
                ..Default::default()
            })
        };
        assert_eq!(cmd("peer add 2 10.0.0.2"), peer("10.0.0.2", None, None));
        assert_eq!(
            cmd("peer add 2 10.0.0.2 port 7000 weight 3"),
            peer("10.0.0.2", Some(7000), Some(3))
        );
        assert_eq!(
            cmd("peer add 2 weight 3 address 10.0.0.2 port 7000"),
            cmd("peer add 2 address 10.0.0.2:7000 weight 3")
        );
        assert_eq!(
            cmd("peer add 2 10.0.0.2:7000 weight 0"),
            peer("10.0.0.2", Some(7000), Some(0))
        );
        assert_eq!(
            cmd("peer add 2 2001:db8::2 port 7000"),
            peer("2001:db8::2", Some(7000), None)
        );
        assert_eq!(
            cmd("peer add 2 [2001:db8::2] p 7000 w 1"),
            peer("2001:db8::2", Some(7000), Some(1))
        );
        // Options may come between the address and its port.
        assert_eq!(
            cmd("peer add 2 10.0.0.2 -j port 7000"),
            peer("10.0.0.2", Some(7000), None)
        );
        assert_eq!(cmd("peer add 2 10.0.0.2 -j"), peer("10.0.0.2", None, None));
    }

    /// `node set forward ADDR port PORT`, `sync ADDR port PORT`: the same
    /// node as with `ADDR:PORT`.
    #[test]
    fn node_set_port_keyword() {
        assert_eq!(
            cmd("node set id 1 forward 10.0.0.1 port 7000 sync [ff02::1234] port 7001 weight 0"),
            cmd("node set id 1 forward 10.0.0.1:7000 sync [ff02::1234]:7001 weight 0")
        );
        assert_eq!(
            cmd("node set forward 10.0.0.1 port 7000"),
            Command::NodeSet(Node {
                forward_addr: Some("10.0.0.1".parse().unwrap()),
                forward_port: Some(7000),
                ..Default::default()
            })
        );
        assert_eq!(
            cmd("node set sync 2001:db8::1 p 7001 weight 2"),
            Command::NodeSet(Node {
                sync_addr: Some("2001:db8::1".parse().unwrap()),
                sync_port: Some(7001),
                weight: Some(2),
                ..Default::default()
            })
        );
        assert_eq!(
            cmd("node set forward 10.0.0.1:7000 sync 239.1.1.1 port 7001"),
            cmd("node set sync 239.1.1.1:7001 forward 10.0.0.1 port 7000")
        );
    }

    /// `node set sync-interval MS dead-intervals N`: the whole ranges, alone
    /// or with the other keywords; `sync` is still `sync` (exact match).
    #[test]
    fn node_set_sync_timers() {
        let node = |line: &str| {
            let Command::NodeSet(n) = cmd(line) else {
                panic!("{line}")
            };
            n
        };
        for ms in [10, 11, 100, 59999, 60000] {
            let n = node(&format!("node set sync-interval {ms}"));
            assert_eq!(
                n,
                Node {
                    sync_interval: Some(ms),
                    ..Default::default()
                }
            );
        }
        for k in [1, 3, 99, 100] {
            let n = node(&format!("node set dead-intervals {k}"));
            assert_eq!((n.dead_intervals, n.sync_interval), (Some(k), None));
        }
        let n = node(
            "node set id 1 forward 10.0.0.1 port 7000 sync 10.1.0.1 port 7001 weight 2 \
             sync-interval 250 dead-intervals 4",
        );
        assert_eq!(
            n,
            Node {
                id: Some(1),
                forward_addr: Some("10.0.0.1".parse().unwrap()),
                forward_port: Some(7000),
                sync_addr: Some("10.1.0.1".parse().unwrap()),
                sync_port: Some(7001),
                weight: Some(2),
                sync_interval: Some(250),
                dead_intervals: Some(4),
            }
        );
        // Abbreviated; right after an ENDPOINT without "port".
        assert_eq!(
            node("node set sync 10.1.0.1 p 7001 sync-i 50 de 2"),
            node("node set sync 10.1.0.1:7001 sync-interval 50 dead-intervals 2")
        );
        // "sync" exactly is the endpoint, "sync-" the interval.
        assert_eq!(node("node set sync- 20").sync_interval, Some(20));
        assert_eq!(node("node set sync 10.1.0.1:7001").sync_interval, None);
    }

    /// `peer add ID ADDR [port P] [weight W] [sync-address ADDR]`: any
    /// address form without a port, anywhere after the id but first.
    #[test]
    fn peer_add_sync_address() {
        let peer = |line: &str| {
            let Command::PeerAdd(p) = cmd(line) else {
                panic!("{line}")
            };
            p
        };
        assert_eq!(
            peer("peer add 2 10.0.0.2 port 7000 weight 3 sync-address 10.1.0.2"),
            Peer {
                id: 2,
                addr: Some("10.0.0.2".parse().unwrap()),
                port: Some(7000),
                weight: Some(3),
                sync_addr: Some("10.1.0.2".parse().unwrap()),
                ..Default::default()
            }
        );
        assert_eq!(peer("peer add 2 10.0.0.2").sync_addr, None);
        for (word, ip) in [
            ("10.1.0.2", "10.1.0.2"),
            ("2001:db8::2", "2001:db8::2"),
            ("[2001:db8::2]", "2001:db8::2"),
        ] {
            let p = peer(&format!("peer add 2 10.0.0.2 sync-address {word}"));
            assert_eq!(p.sync_addr, Some(ip.parse().unwrap()), "{word}");
        }
        // Before the address (with "address"), abbreviated, and an address
        // without its port still takes "port" right after it.
        assert_eq!(
            peer("peer add 2 s 10.1.0.2 address 10.0.0.2 port 7000"),
            peer("peer add 2 10.0.0.2:7000 sync-address 10.1.0.2")
        );
        assert_eq!(
            peer("peer add 2 10.0.0.2 sync-address 10.1.0.2 weight 0"),
            peer("peer add 2 10.0.0.2 weight 0 sync-a 10.1.0.2")
        );
        let p = peer("peer add 2 10.0.0.2 sync-address 10.1.0.2");
        assert_eq!((p.port, p.weight), (None, None));
    }
}
