//! The sync channel: the load reports nodes exchange, and the liveness of a
//! peer derived from them.
//!
//! # The report datagram
//!
//! Every interval (100 ms by default) each node sends every peer one UDP
//! datagram on the sync port: a 28-byte `struct handoff_sync_hdr` followed
//! by exactly `len` bytes of `struct handoff_sync_load` entries, 32 bytes
//! each. All multi-byte fields are big-endian:
//!
//! ```text
//! sync_hdr:   0 type (SYNC_REPORT)  1 flags  2..4 len  4..8 node_id
//!             8..12 epoch  12..16 seq  16..20 interval_ms  20..24 conns
//!             24..28 weight
//! sync_load:  0..16 addr  16..18 port  18 family  19 reserved
//!             20..24 handed  24..28 queue_len  28..32 queue_max
//! ```
//!
//! Reports come from the network, so [`parse_report`] treats every byte as
//! hostile: it never panics and rejects what a correct sender cannot
//! produce. The encoding of an accepted report is canonical: with `flags`
//! and `reserved` zero (as senders write them), [`write_report`] reproduces
//! the received bytes exactly.
//!
//! # Liveness and replay protection of one peer ([`Liveness`])
//!
//! A peer is UNKNOWN until its first report is accepted, then UP, and DOWN
//! once it stops reporting. Each peer has an instance `epoch` (taken from a
//! clock when it starts, so a restart moves it forward) and numbers its
//! reports with `seq`, +1 per datagram. "After" below is serial-number
//! order (RFC 1982, 32 bits): `a` is after `b` when `a - b` mod 2^32 lies in
//! `1 .. 2^31`; at exactly 2^31 apart the order is undefined and neither is
//! after the other.
//!
//! * UNKNOWN: any report is accepted and the peer becomes UP.
//! * UP, same epoch: accepted only if its seq is after the last accepted
//!   one; otherwise (an exact duplicate included) it is a replay.
//! * UP, another epoch: accepted only if the epoch is after the stored one
//!   (the peer restarted); an older epoch is a replay.
//! * DOWN, same epoch: accepted only if its seq is after the last accepted
//!   one. Another epoch, older or newer, is accepted: the peer restarted
//!   while it was down, perhaps with its clock set back. Accepting makes
//!   the peer UP again.
//! * Accepting stores the report's epoch and seq and the time it arrived.
//! * A peer is DOWN after `dead_intervals` missed intervals: an UP peer
//!   whose last accepted report is `interval_ms * dead_intervals` or more
//!   old becomes DOWN ([`Liveness::on_tick`]). An UNKNOWN peer stays
//!   UNKNOWN until it reports.
//!
//! Replays are dropped without changing anything. A replayed report cannot
//! revive a DOWN peer whose epoch is unchanged, nor make an UP peer look
//! alive longer. Accepting restarts with a clock set back has a price: a
//! report of an older epoch revives a DOWN peer, and once the peer runs
//! with the older epoch, reports of the one before count as newer. These
//! rules order reports; they do not authenticate them.

use super::cookie::{as_v4, v4_mapped};
use super::packet::{put, BuildError};
use super::seq;
use super::wire::{AF_INET, AF_INET6};

/// Length of `struct handoff_sync_hdr`.
pub const SYNC_HDR_LEN: usize = 28;
/// Length of one `struct handoff_sync_load`.
pub const SYNC_LOAD_LEN: usize = 32;
/// `HANDOFF_SYNC_REPORT`: the only sync datagram type so far.
pub const SYNC_REPORT: u8 = 0x10;
/// Most load entries in one report: a full report (1308 bytes) stays below
/// 1400 bytes of UDP payload, so it is never fragmented on common paths.
pub const MAX_LOADS: usize = 40;
/// Length of a report with [`MAX_LOADS`] entries.
pub const MAX_REPORT_LEN: usize = SYNC_HDR_LEN + MAX_LOADS * SYNC_LOAD_LEN;
/// Largest `interval_ms` a report may carry (one minute); the smallest is 1.
pub const MAX_INTERVAL_MS: u32 = 60_000;

const _: () = assert!(MAX_REPORT_LEN < 1400);

// Field offsets in `struct handoff_sync_hdr`.
const H_TYPE: usize = 0;
const H_LEN: usize = 2;
const H_NODE_ID: usize = 4;
const H_EPOCH: usize = 8;
const H_SEQ: usize = 12;
const H_INTERVAL: usize = 16;
const H_CONNS: usize = 20;
const H_WEIGHT: usize = 24;

// Field offsets in `struct handoff_sync_load`.
const L_ADDR: usize = 0;
const L_PORT: usize = 16;
const L_FAMILY: usize = 18;
const L_HANDED: usize = 20;
const L_QUEUE_LEN: usize = 24;
const L_QUEUE_MAX: usize = 28;

/// The decoded `struct handoff_sync_hdr` (without `type`, `flags` and
/// `len`: the type is always [`SYNC_REPORT`], flags carry nothing yet and
/// `len` is the number of entries of [`Report`]).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct SyncHdr {
    /// The sender's node id; never 0 in a valid report.
    pub node_id: u32,
    /// The sender's instance epoch: changes (forward, normally) when it
    /// restarts, so its `seq` may start over.
    pub epoch: u32,
    /// The sender's report number, +1 per datagram within an epoch.
    pub seq: u32,
    /// How often the sender reports, in ms, `1..=MAX_INTERVAL_MS`: the
    /// receiver's dead time for it is a multiple of this.
    pub interval_ms: u32,
    /// The sender's connections, node-wide.
    pub conns: u32,
    /// The sender's capacity weight.
    pub weight: u32,
}

/// The decoded `struct handoff_sync_load`: the sender's load for one
/// service.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Load {
    /// [`AF_INET`] or [`AF_INET6`].
    pub family: u8,
    /// The service address (VIP) in the wire layout: an IPv6 address, or an
    /// IPv4 address in the first four bytes and zeros after them (not
    /// v4-mapped; see [`Load::vip`] for that form).
    pub addr: [u8; 16],
    /// The service port, never 0.
    pub port: u16,
    /// Connections the sender took for this service in its last interval,
    /// injected locally or adopted from a peer.
    pub handed: u32,
    /// The length of the sender's listener accept queue.
    pub queue_len: u32,
    /// The limit of that accept queue.
    pub queue_max: u32,
}

impl Load {
    /// A load entry for the service `vip`:`port`, counters zero; `vip` in
    /// this crate's form (IPv4 v4-mapped, as in [`super::cookie::Tuple`]),
    /// so the family follows the address.
    pub fn new(vip: &[u8; 16], port: u16) -> Self {
        let (family, addr) = match as_v4(vip) {
            Some([a, b, c, d]) => (AF_INET, [a, b, c, d, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]),
            None => (AF_INET6, *vip),
        };
        Load {
            family,
            addr,
            port,
            handed: 0,
            queue_len: 0,
            queue_max: 0,
        }
    }

    /// The service address in this crate's form: IPv4 v4-mapped, IPv6 as
    /// is; what services are matched against.
    pub fn vip(&self) -> [u8; 16] {
        match self.addr {
            [a, b, c, d, ..] if self.family == AF_INET => v4_mapped([a, b, c, d]),
            _ => self.addr,
        }
    }

    /// The entry rules of [`parse_report`], in order: family
    /// ([`SyncError::Family`]), address ([`SyncError::Addr`]: an `AF_INET`
    /// entry with a non-zero byte after the first four, or an `AF_INET6`
    /// one with a v4-mapped address, which would alias an IPv4 VIP in
    /// [`Load::vip`]), port ([`SyncError::Port`]).
    pub fn check(&self) -> Result<(), SyncError> {
        let addr_ok = match self.family {
            AF_INET => matches!(self.addr, [_, _, _, _, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]),
            AF_INET6 => as_v4(&self.addr).is_none(),
            _ => return Err(SyncError::Family),
        };
        if !addr_ok {
            return Err(SyncError::Addr);
        }
        if self.port == 0 {
            return Err(SyncError::Port);
        }
        Ok(())
    }
}

impl SyncHdr {
    /// The header rules of [`parse_report`]: `node_id` not 0
    /// ([`SyncError::NodeId`]), `interval_ms` in `1..=MAX_INTERVAL_MS`
    /// ([`SyncError::Interval`]).
    pub fn check(&self) -> Result<(), SyncError> {
        if self.node_id == 0 {
            return Err(SyncError::NodeId);
        }
        if self.interval_ms == 0 || self.interval_ms > MAX_INTERVAL_MS {
            return Err(SyncError::Interval);
        }
        Ok(())
    }
}

/// Why a sync datagram was rejected. Each maps to a drop counter through
/// [`SyncError::as_str`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SyncError {
    /// Shorter than the header, or than the header and `len` bytes.
    Short,
    /// A `type` other than [`SYNC_REPORT`].
    Type,
    /// `len` is not a multiple of [`SYNC_LOAD_LEN`].
    Length,
    /// More than [`MAX_LOADS`] entries.
    TooMany,
    /// `node_id` is 0.
    NodeId,
    /// `interval_ms` is 0 or above [`MAX_INTERVAL_MS`].
    Interval,
    /// An entry whose family is neither `AF_INET` nor `AF_INET6`.
    Family,
    /// An entry whose address does not fit its family (see
    /// [`Load::check`]).
    Addr,
    /// An entry with port 0.
    Port,
}

impl SyncError {
    /// Every error, in declaration order (for registering counters).
    pub const ALL: [SyncError; 9] = [
        SyncError::Short,
        SyncError::Type,
        SyncError::Length,
        SyncError::TooMany,
        SyncError::NodeId,
        SyncError::Interval,
        SyncError::Family,
        SyncError::Addr,
        SyncError::Port,
    ];

    /// A stable snake_case name, usable as a counter name.
    pub const fn as_str(self) -> &'static str {
        match self {
            SyncError::Short => "short",
            SyncError::Type => "type",
            SyncError::Length => "length",
            SyncError::TooMany => "too_many",
            SyncError::NodeId => "node_id",
            SyncError::Interval => "interval",
            SyncError::Family => "family",
            SyncError::Addr => "addr",
            SyncError::Port => "port",
        }
    }

    /// The position of this error in [`SyncError::ALL`] (a counter index).
    pub const fn index(self) -> usize {
        self as usize
    }
}

/// A parsed report; its entries borrow the datagram buffer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Report<'a> {
    /// The header.
    pub hdr: SyncHdr,
    /// The entries, `len` bytes, all validated.
    loads: &'a [u8],
}

impl<'a> Report<'a> {
    /// The load entries, in datagram order. [`parse_report`] validated
    /// every one, so none is skipped.
    pub fn loads(&self) -> impl Iterator<Item = Load> + 'a {
        self.loads
            .chunks_exact(SYNC_LOAD_LEN)
            .filter_map(|c| c.first_chunk::<SYNC_LOAD_LEN>())
            .map(decode_load)
    }

    /// The number of load entries.
    pub fn len(&self) -> usize {
        self.loads.len() / SYNC_LOAD_LEN
    }

    /// Whether the report has no load entries (a node serving nothing
    /// still reports, for liveness).
    pub fn is_empty(&self) -> bool {
        self.loads.is_empty()
    }
}

/// `N` bytes at `off`, if the buffer has them.
pub(super) fn take<const N: usize>(b: &[u8], off: usize) -> Option<[u8; N]> {
    b.get(off..)?.first_chunk::<N>().copied()
}

/// Big-endian u16 at `off` of a fixed-size record; 0 if out of range,
/// which the callers' constant offsets rule out.
pub(super) fn be16(b: &[u8], off: usize) -> u16 {
    take::<2>(b, off).map_or(0, u16::from_be_bytes)
}

/// Big-endian u32 at `off`, as [`be16`].
pub(super) fn be32(b: &[u8], off: usize) -> u32 {
    take::<4>(b, off).map_or(0, u32::from_be_bytes)
}

/// The fields of one entry, unchecked.
fn decode_load(b: &[u8; SYNC_LOAD_LEN]) -> Load {
    Load {
        family: b[L_FAMILY],
        addr: take::<16>(b, L_ADDR).unwrap_or([0; 16]),
        port: be16(b, L_PORT),
        handed: be32(b, L_HANDED),
        queue_len: be32(b, L_QUEUE_LEN),
        queue_max: be32(b, L_QUEUE_MAX),
    }
}

/// Parses a sync datagram (the UDP payload) as a report.
///
/// Rules, checked in this order (the first that fails is reported):
/// * shorter than [`SYNC_HDR_LEN`]: [`SyncError::Short`];
/// * `type` other than [`SYNC_REPORT`]: [`SyncError::Type`];
/// * `len` not a multiple of [`SYNC_LOAD_LEN`]: [`SyncError::Length`];
/// * more than [`MAX_LOADS`] entries: [`SyncError::TooMany`];
/// * fewer than `len` bytes after the header: [`SyncError::Short`] (bytes
///   beyond them are ignored: the body is exactly `len` bytes);
/// * [`SyncHdr::check`]: `node_id` 0, `interval_ms` out of range;
/// * [`Load::check`] on each entry in order: family, address, port.
///
/// `flags` and each entry's `reserved` byte are ignored (senders write 0;
/// later versions may define them).
pub fn parse_report(buf: &[u8]) -> Result<Report<'_>, SyncError> {
    let (hdr, loads) = parse_hdr(buf, SYNC_REPORT, SYNC_LOAD_LEN, MAX_LOADS)?;
    let report = Report { hdr, loads };
    for l in report.loads() {
        l.check()?;
    }
    Ok(report)
}

/// The header rules every sync datagram follows, for the type `ty` whose
/// body holds up to `max` entries of `entry_len` bytes: the header and the
/// body (exactly `len` bytes), or the first rule that fails, in the order
/// [`parse_report`] documents (short, type, length, too many, short body,
/// [`SyncHdr::check`]).
pub(super) fn parse_hdr(
    buf: &[u8],
    ty: u8,
    entry_len: usize,
    max: usize,
) -> Result<(SyncHdr, &[u8]), SyncError> {
    let h: &[u8; SYNC_HDR_LEN] = buf.first_chunk().ok_or(SyncError::Short)?;
    if h[H_TYPE] != ty {
        return Err(SyncError::Type);
    }
    let len = usize::from(be16(h, H_LEN));
    if len % entry_len != 0 {
        return Err(SyncError::Length);
    }
    if len / entry_len > max {
        return Err(SyncError::TooMany);
    }
    // At most SYNC_HDR_LEN + 65535: no overflow; checked all the same.
    let end = SYNC_HDR_LEN.checked_add(len).ok_or(SyncError::Short)?;
    let body = buf.get(SYNC_HDR_LEN..end).ok_or(SyncError::Short)?;
    let hdr = SyncHdr {
        node_id: be32(h, H_NODE_ID),
        epoch: be32(h, H_EPOCH),
        seq: be32(h, H_SEQ),
        interval_ms: be32(h, H_INTERVAL),
        conns: be32(h, H_CONNS),
        weight: be32(h, H_WEIGHT),
    };
    hdr.check()?;
    Ok((hdr, body))
}

/// The header of a sync datagram of type `ty` with a body of `body_len`
/// bytes (`flags` 0).
pub(super) fn encode_hdr(
    ty: u8,
    body_len: u16,
    hdr: &SyncHdr,
) -> Result<[u8; SYNC_HDR_LEN], BuildError> {
    let mut h = [0u8; SYNC_HDR_LEN];
    put(&mut h, H_TYPE, &[ty, 0])?;
    put(&mut h, H_LEN, &body_len.to_be_bytes())?;
    put(&mut h, H_NODE_ID, &hdr.node_id.to_be_bytes())?;
    put(&mut h, H_EPOCH, &hdr.epoch.to_be_bytes())?;
    put(&mut h, H_SEQ, &hdr.seq.to_be_bytes())?;
    put(&mut h, H_INTERVAL, &hdr.interval_ms.to_be_bytes())?;
    put(&mut h, H_CONNS, &hdr.conns.to_be_bytes())?;
    put(&mut h, H_WEIGHT, &hdr.weight.to_be_bytes())?;
    Ok(h)
}

/// Writes a report into `out` and returns its length,
/// `SYNC_HDR_LEN + loads.len() * SYNC_LOAD_LEN`; `flags` and `reserved`
/// are written as 0.
///
/// What every receiver would reject is refused, so a sender never sends
/// it: more than [`MAX_LOADS`] entries ([`BuildError::TooLong`]), a header
/// failing [`SyncHdr::check`] ([`BuildError::BadOptions`]), an entry
/// failing [`Load::check`] ([`BuildError::BadAddress`]). `out` too short:
/// [`BuildError::BufferTooSmall`]. Nothing is written on error. The output
/// parses back with [`parse_report`] to the same header and entries.
pub fn write_report(out: &mut [u8], hdr: &SyncHdr, loads: &[Load]) -> Result<usize, BuildError> {
    if loads.len() > MAX_LOADS {
        return Err(BuildError::TooLong);
    }
    hdr.check().map_err(|_| BuildError::BadOptions)?;
    for l in loads {
        l.check().map_err(|_| BuildError::BadAddress)?;
    }
    // At most MAX_LOADS * 32 = 1280: fits the u16 `len`.
    let body = loads.len() * SYNC_LOAD_LEN;
    let total = SYNC_HDR_LEN + body;
    if out.len() < total {
        return Err(BuildError::BufferTooSmall { needed: total });
    }
    let len = u16::try_from(body).map_err(|_| BuildError::TooLong)?;
    put(out, 0, &encode_hdr(SYNC_REPORT, len, hdr)?)?;
    let mut off = SYNC_HDR_LEN;
    for l in loads {
        let mut e = [0u8; SYNC_LOAD_LEN];
        put(&mut e, L_ADDR, &l.addr)?;
        put(&mut e, L_PORT, &l.port.to_be_bytes())?;
        // `reserved` (byte 19) stays 0.
        put(&mut e, L_FAMILY, &[l.family])?;
        put(&mut e, L_HANDED, &l.handed.to_be_bytes())?;
        put(&mut e, L_QUEUE_LEN, &l.queue_len.to_be_bytes())?;
        put(&mut e, L_QUEUE_MAX, &l.queue_max.to_be_bytes())?;
        put(out, off, &e)?;
        off += SYNC_LOAD_LEN;
    }
    Ok(total)
}

/// The liveness of a peer (`enum handoff_peer_state`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum PeerLive {
    /// Nothing accepted from it yet.
    Unknown,
    /// It reports; policies may choose it.
    Up,
    /// It stopped reporting; it is not chosen.
    Down,
}

/// What [`Liveness::on_report`] made of a report.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Verdict {
    /// The report is new: use its contents. `became_up` is true when the
    /// peer was UNKNOWN or DOWN before it (worth a log line or an event).
    Accepted {
        /// The peer just became UP.
        became_up: bool,
    },
    /// A duplicate, an old report or one from an older epoch: drop it
    /// (and count it); nothing changed.
    Replay,
}

/// The liveness and replay state of one peer; the rules are in the module
/// documentation. Times are milliseconds of a monotonic clock the caller
/// chooses.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Liveness {
    state: PeerLive,
    epoch: u32,
    seq: u32,
    last_ms: u64,
}

impl Default for Liveness {
    fn default() -> Self {
        Self::new()
    }
}

/// Whether `a` is after `b` in 32-bit serial-number arithmetic (RFC 1982):
/// [`seq::after`], except at exactly 2^31 apart, which RFC 1982 leaves
/// undefined and `seq::after` reports as "after" both ways; here it is not
/// after, so no report is ever accepted in both directions.
fn serial_after(a: u32, b: u32) -> bool {
    seq::after(a, b) && a.wrapping_sub(b) != 0x8000_0000
}

impl Liveness {
    /// A peer nothing was heard from: UNKNOWN.
    pub const fn new() -> Self {
        Liveness {
            state: PeerLive::Unknown,
            epoch: 0,
            seq: 0,
            last_ms: 0,
        }
    }

    /// The current state.
    pub fn state(&self) -> PeerLive {
        self.state
    }

    /// When the last accepted report arrived; `None` before the first.
    pub fn last_report_ms(&self) -> Option<u64> {
        match self.state {
            PeerLive::Unknown => None,
            PeerLive::Up | PeerLive::Down => Some(self.last_ms),
        }
    }

    /// Takes a report with `epoch` and `seq` arriving at `now_ms`: accepted
    /// (state UP, epoch, seq and time stored) or a replay (nothing
    /// changes), by the rules of the module documentation.
    pub fn on_report(&mut self, epoch: u32, seq: u32, now_ms: u64) -> Verdict {
        let same_epoch = epoch == self.epoch;
        let accept = match self.state {
            PeerLive::Unknown => true,
            PeerLive::Up if same_epoch => serial_after(seq, self.seq),
            PeerLive::Up => serial_after(epoch, self.epoch),
            PeerLive::Down if same_epoch => serial_after(seq, self.seq),
            PeerLive::Down => true,
        };
        if !accept {
            return Verdict::Replay;
        }
        let became_up = self.state != PeerLive::Up;
        *self = Liveness {
            state: PeerLive::Up,
            epoch,
            seq,
            last_ms: now_ms,
        };
        Verdict::Accepted { became_up }
    }

    /// The periodic check: an UP peer whose last accepted report is at
    /// least `interval_ms * dead_intervals` old becomes DOWN, and this
    /// returns true (once, at that transition); otherwise false.
    ///
    /// Both factors are taken as at least 1, so a zero passed by mistake
    /// cannot declare every peer dead at once. A clock reading before the
    /// last report (callers on other CPUs) counts as no time elapsed.
    pub fn on_tick(&mut self, now_ms: u64, interval_ms: u32, dead_intervals: u32) -> bool {
        if self.state != PeerLive::Up {
            return false;
        }
        let dead_ms =
            u64::from(interval_ms.max(1)).saturating_mul(u64::from(dead_intervals.max(1)));
        if now_ms.saturating_sub(self.last_ms) >= dead_ms {
            self.state = PeerLive::Down;
            return true;
        }
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::vec::Vec;

    const V6_VIP: [u8; 16] = [0x20, 1, 0xd, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x80];

    fn hdr() -> SyncHdr {
        SyncHdr {
            node_id: 0x0102_0304,
            epoch: 0x6650_0000,
            seq: 0xffff_fffe,
            interval_ms: 100,
            conns: 1234,
            weight: 3,
        }
    }

    fn load_v4() -> Load {
        Load {
            handed: 7,
            queue_len: 2,
            queue_max: 128,
            ..Load::new(&v4_mapped([198, 51, 100, 7]), 80)
        }
    }

    fn load_v6() -> Load {
        Load {
            handed: u32::MAX,
            queue_len: 0,
            queue_max: 4096,
            ..Load::new(&V6_VIP, 443)
        }
    }

    fn report(h: &SyncHdr, loads: &[Load]) -> Vec<u8> {
        let mut b = std::vec![0u8; MAX_REPORT_LEN + 8];
        let n = write_report(&mut b, h, loads).unwrap();
        b.truncate(n);
        b
    }

    /// What the module relies on for an accepted datagram; returns whether
    /// it was accepted.
    fn check_any(data: &[u8]) -> bool {
        let Ok(r) = parse_report(data) else {
            return false;
        };
        assert_eq!(r.hdr.check(), Ok(()));
        let loads: Vec<Load> = r.loads().collect();
        assert_eq!(loads.len(), r.len());
        assert!(r.len() <= MAX_LOADS);
        assert_eq!(r.is_empty(), loads.is_empty());
        for l in &loads {
            assert_eq!(l.check(), Ok(()));
            assert_eq!(Load::new(&l.vip(), l.port).addr, l.addr);
        }
        let n = SYNC_HDR_LEN + r.len() * SYNC_LOAD_LEN;
        let mut out = [0u8; MAX_REPORT_LEN];
        assert_eq!(write_report(&mut out, &r.hdr, &loads), Ok(n));
        // Canonical, once the ignored bytes are cleared.
        let mut want = data[..n].to_vec();
        want[1] = 0;
        for e in want[SYNC_HDR_LEN..].chunks_exact_mut(SYNC_LOAD_LEN) {
            e[19] = 0;
        }
        assert_eq!(out[..n], want[..]);
        true
    }

    #[test]
    fn constants() {
        assert_eq!(MAX_REPORT_LEN, 1308);
        assert_eq!((SYNC_HDR_LEN, SYNC_LOAD_LEN, SYNC_REPORT), (28, 32, 0x10));
        for (i, e) in SyncError::ALL.iter().enumerate() {
            assert_eq!(e.index(), i);
            assert!(!e.as_str().is_empty());
            for other in &SyncError::ALL[..i] {
                assert_ne!(e.as_str(), other.as_str());
            }
        }
    }

    #[test]
    fn layout() {
        let b = report(&hdr(), &[load_v4(), load_v6()]);
        assert_eq!(b.len(), 28 + 64);
        assert_eq!(
            b[..28],
            [
                0x10, 0, 0, 64, 1, 2, 3, 4, 0x66, 0x50, 0, 0, 0xff, 0xff, 0xff, 0xfe, 0, 0, 0, 100,
                0, 0, 0x04, 0xd2, 0, 0, 0, 3
            ]
        );
        assert_eq!(
            b[28..60],
            [
                198, 51, 100, 7, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 80, 2, 0, 0, 0, 0, 7, 0, 0,
                0, 2, 0, 0, 0, 128
            ]
        );
        assert_eq!(b[60..76], V6_VIP);
        assert_eq!(b[76..80], [1, 0xbb, 10, 0]);
        assert_eq!(b[80..84], [0xff; 4]);
    }

    #[test]
    fn round_trip() {
        let cases: [&[Load]; 4] = [
            &[],
            &[load_v4()],
            &[load_v6(), load_v4()],
            &[load_v4(); MAX_LOADS],
        ];
        for loads in cases {
            let b = report(&hdr(), loads);
            let r = parse_report(&b).unwrap();
            assert_eq!(r.hdr, hdr());
            assert_eq!(r.len(), loads.len());
            assert!(r.loads().eq(loads.iter().copied()));
            assert!(check_any(&b));
            // Bytes beyond `len` are ignored.
            let mut longer = b.clone();
            longer.extend_from_slice(&[0xaa; 40]);
            assert_eq!(parse_report(&longer), Ok(r));
        }
        assert_eq!(load_v4().vip(), v4_mapped([198, 51, 100, 7]));
        assert_eq!(load_v6().vip(), V6_VIP);
    }

    #[test]
    fn flags_and_reserved_ignored() {
        let mut b = report(&hdr(), &[load_v4()]);
        let clean = parse_report(&b).unwrap();
        let want = (clean.hdr, clean.loads().collect::<Vec<_>>());
        b[1] = 0xff;
        b[28 + 19] = 0x5a;
        let r = parse_report(&b).unwrap();
        assert_eq!((r.hdr, r.loads().collect::<Vec<_>>()), want);
        assert!(check_any(&b));
    }

    #[test]
    fn header_rejections() {
        let good = report(&hdr(), &[load_v4(), load_v6()]);
        let with = |off: usize, bytes: &[u8]| {
            let mut b = good.clone();
            b[off..off + bytes.len()].copy_from_slice(bytes);
            parse_report(&b).map(|r| r.len())
        };
        for ty in [0u8, 1, 0x0f, 0x11, 0xff] {
            assert_eq!(with(0, &[ty]), Err(SyncError::Type));
        }
        for len in [1u16, 31, 33, 63, 65, 0xffff] {
            assert_eq!(with(2, &len.to_be_bytes()), Err(SyncError::Length));
        }
        // 41 entries: too many, even before the body is looked for.
        assert_eq!(with(2, &[0x05, 0x20]), Err(SyncError::TooMany));
        assert_eq!(with(2, &[0xff, 0xe0]), Err(SyncError::TooMany));
        // 3 entries claimed, 2 present.
        assert_eq!(with(2, &[0, 96]), Err(SyncError::Short));
        // Fewer entries claimed than present: the rest is ignored.
        assert_eq!(parse_report(&with_len(&good, 32)).unwrap().len(), 1);
        assert_eq!(with(4, &[0; 4]), Err(SyncError::NodeId));
        assert_eq!(with(16, &[0; 4]), Err(SyncError::Interval));
        assert_eq!(
            with(16, &(MAX_INTERVAL_MS + 1).to_be_bytes()),
            Err(SyncError::Interval)
        );
        assert_eq!(with(16, &u32::MAX.to_be_bytes()), Err(SyncError::Interval));
        for ok in [1u32, MAX_INTERVAL_MS] {
            assert!(with(16, &ok.to_be_bytes()).is_ok());
        }
        // Epoch, seq, conns and weight may take any value.
        for off in [8, 12, 20, 24] {
            for v in [0u32, 1, u32::MAX] {
                assert!(with(off, &v.to_be_bytes()).is_ok());
            }
        }
    }

    fn with_len(b: &[u8], len: u16) -> Vec<u8> {
        let mut b = b.to_vec();
        b[2..4].copy_from_slice(&len.to_be_bytes());
        b
    }

    #[test]
    fn entry_rejections() {
        let good = report(&hdr(), &[load_v6(), load_v4()]);
        // The second entry (v4) starts at 60.
        let with = |off: usize, bytes: &[u8]| {
            let mut b = good.clone();
            b[off..off + bytes.len()].copy_from_slice(bytes);
            parse_report(&b).map(|r| r.len())
        };
        for fam in [0u8, 1, 3, 9, 11, 28, 0xff] {
            assert_eq!(with(28 + 18, &[fam]), Err(SyncError::Family));
            assert_eq!(with(60 + 18, &[fam]), Err(SyncError::Family));
        }
        for off in 4..16 {
            assert_eq!(with(60 + off, &[1]), Err(SyncError::Addr), "byte {off}");
        }
        // A v6 entry may have any non-v4-mapped address, even all zero.
        assert!(with(28, &[0; 16]).is_ok());
        let mut mapped = v4_mapped([192, 0, 2, 1]);
        assert_eq!(with(28, &mapped), Err(SyncError::Addr));
        mapped[9] = 1;
        assert!(with(28, &mapped).is_ok());
        // The v4 entry as v6: its address is not v4-mapped, so it is fine.
        assert!(with(60 + 18, &[AF_INET6]).is_ok());
        assert_eq!(with(28 + 16, &[0, 0]), Err(SyncError::Port));
        assert_eq!(with(60 + 16, &[0, 0]), Err(SyncError::Port));
        // Family is checked before address, address before port.
        let mut b = good.clone();
        b[60 + 4] = 1;
        b[60 + 16..60 + 18].copy_from_slice(&[0, 0]);
        assert_eq!(parse_report(&b), Err(SyncError::Addr));
        b[60 + 18] = 7;
        assert_eq!(parse_report(&b), Err(SyncError::Family));
        // Counters may take any value.
        for off in 20..32 {
            assert!(with(60 + off, &[0xff]).is_ok());
        }
    }

    #[test]
    fn every_truncation() {
        let loads = [load_v4(); MAX_LOADS];
        let b = report(&hdr(), &loads);
        for cut in 0..b.len() {
            // Short header, or fewer bytes than `len` promises.
            assert_eq!(parse_report(&b[..cut]), Err(SyncError::Short), "cut {cut}");
            // With `len` matching the cut, whole entries parse.
            if cut >= SYNC_HDR_LEN && (cut - SYNC_HDR_LEN) % SYNC_LOAD_LEN == 0 {
                let fixed = with_len(&b[..cut], (cut - SYNC_HDR_LEN) as u16);
                assert_eq!(
                    parse_report(&fixed).unwrap().len(),
                    (cut - SYNC_HDR_LEN) / 32
                );
            }
        }
        assert!(parse_report(&b).is_ok());
    }

    #[test]
    fn write_refuses_what_receivers_reject() {
        let mut out = [0xeeu8; MAX_REPORT_LEN + 64];
        let too_many = [load_v4(); MAX_LOADS + 1];
        assert_eq!(
            write_report(&mut out, &hdr(), &too_many),
            Err(BuildError::TooLong)
        );
        for h in [
            SyncHdr {
                node_id: 0,
                ..hdr()
            },
            SyncHdr {
                interval_ms: 0,
                ..hdr()
            },
            SyncHdr {
                interval_ms: MAX_INTERVAL_MS + 1,
                ..hdr()
            },
        ] {
            assert_eq!(
                write_report(&mut out, &h, &[load_v4()]),
                Err(BuildError::BadOptions)
            );
        }
        let mut bad = [load_v4(), load_v4(), load_v4(), load_v6()];
        bad[0].family = 3;
        bad[1].addr[15] = 1;
        bad[2].port = 0;
        bad[3].addr = v4_mapped([10, 0, 0, 1]);
        for l in bad {
            assert_eq!(
                write_report(&mut out, &hdr(), &[load_v6(), l]),
                Err(BuildError::BadAddress)
            );
        }
        assert!(out.iter().all(|&b| b == 0xee));
        // Every short buffer fails cleanly, leaving it untouched.
        let loads = [load_v4(), load_v6(), load_v4()];
        let full = report(&hdr(), &loads);
        for cap in 0..full.len() {
            let mut small = [0xeeu8; 200];
            assert_eq!(
                write_report(&mut small[..cap], &hdr(), &loads),
                Err(BuildError::BufferTooSmall { needed: full.len() })
            );
            assert!(small.iter().all(|&b| b == 0xee));
        }
        let mut exact = std::vec![0u8; full.len()];
        assert_eq!(write_report(&mut exact, &hdr(), &loads), Ok(full.len()));
        assert_eq!(exact, full);
    }

    struct Rng(u64);

    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0
        }
    }

    #[test]
    fn random_bytes_never_panic() {
        let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
        let mut buf = [0u8; MAX_REPORT_LEN + 40];
        let mut accepted = 0;
        for _ in 0..50_000 {
            let n = (rng.next() % buf.len() as u64) as usize;
            for b in buf.iter_mut().take(n) {
                *b = rng.next() as u8;
            }
            // Give some a plausible header so the entry checks run too.
            if rng.next() % 2 == 0 && n >= SYNC_HDR_LEN {
                buf[0] = SYNC_REPORT;
                let entries = (n - SYNC_HDR_LEN) / SYNC_LOAD_LEN;
                let len = (entries.min(MAX_LOADS) * SYNC_LOAD_LEN) as u16;
                buf[2..4].copy_from_slice(&len.to_be_bytes());
                buf[16..20].copy_from_slice(&100u32.to_be_bytes());
                for e in buf[SYNC_HDR_LEN..n].chunks_exact_mut(SYNC_LOAD_LEN) {
                    if rng.next() % 8 != 0 {
                        e[18] = if rng.next() % 2 == 0 { 2 } else { 10 };
                        if e[18] == 2 {
                            e[4..16].fill(0);
                        }
                    }
                }
            }
            if check_any(&buf[..n]) {
                accepted += 1;
            }
        }
        assert!(accepted > 1000, "{accepted}");
    }

    #[test]
    fn every_value_at_every_offset() {
        let b = report(&hdr(), &[load_v6(), load_v4()]);
        let mut accepted = 0;
        for off in 0..b.len() {
            for v in 0..=255u8 {
                let mut x = b.clone();
                x[off] = v;
                if check_any(&x) {
                    accepted += 1;
                }
            }
        }
        assert!(accepted > 10_000, "{accepted}");
    }

    // ---- Liveness.

    fn up(epoch: u32, seq: u32, now: u64) -> Liveness {
        let mut l = Liveness::new();
        assert_eq!(
            l.on_report(epoch, seq, now),
            Verdict::Accepted { became_up: true }
        );
        l
    }

    fn down(epoch: u32, seq: u32) -> Liveness {
        let mut l = up(epoch, seq, 1000);
        assert!(l.on_tick(1300, 100, 3));
        assert_eq!(l.state(), PeerLive::Down);
        l
    }

    const ACCEPTED: Verdict = Verdict::Accepted { became_up: false };
    const REVIVED: Verdict = Verdict::Accepted { became_up: true };

    #[test]
    fn unknown() {
        let mut l = Liveness::default();
        assert_eq!(l, Liveness::new());
        assert_eq!(l.state(), PeerLive::Unknown);
        assert_eq!(l.last_report_ms(), None);
        for now in [0, 1, 1_000_000, u64::MAX] {
            assert!(!l.on_tick(now, 100, 3));
            assert_eq!(l.state(), PeerLive::Unknown);
        }
        // Any first report, even epoch and seq 0.
        for (e, s) in [(0, 0), (u32::MAX, u32::MAX), (5, 0x8000_0000)] {
            let l = up(e, s, 77);
            assert_eq!(l.state(), PeerLive::Up);
            assert_eq!(l.last_report_ms(), Some(77));
        }
    }

    #[test]
    fn up_same_epoch() {
        let mut l = up(10, 100, 0);
        assert_eq!(l.on_report(10, 101, 5), ACCEPTED);
        assert_eq!(l.last_report_ms(), Some(5));
        // Duplicate and older: replays, nothing stored.
        assert_eq!(l.on_report(10, 101, 9), Verdict::Replay);
        assert_eq!(l.on_report(10, 100, 9), Verdict::Replay);
        assert_eq!(
            l.on_report(10, 101u32.wrapping_sub(0x7fff_ffff), 9),
            Verdict::Replay
        );
        assert_eq!(l.last_report_ms(), Some(5));
        // Gaps (lost datagrams) are fine, up to 2^31 - 1 ahead.
        assert_eq!(l.on_report(10, 150, 10), ACCEPTED);
        assert_eq!(l.on_report(10, 150 + 0x7fff_ffff, 11), ACCEPTED);
        // Exactly 2^31 apart: neither direction.
        let mut a = up(1, 0, 0);
        assert_eq!(a.on_report(1, 0x8000_0000, 1), Verdict::Replay);
        let mut b = up(1, 0x8000_0000, 0);
        assert_eq!(b.on_report(1, 0, 1), Verdict::Replay);
        assert_eq!(b.state(), PeerLive::Up);
    }

    #[test]
    fn seq_wraps() {
        let mut l = up(3, u32::MAX - 1, 0);
        assert_eq!(l.on_report(3, u32::MAX, 1), ACCEPTED);
        assert_eq!(l.on_report(3, 0, 2), ACCEPTED);
        assert_eq!(l.on_report(3, 1, 3), ACCEPTED);
        assert_eq!(l.on_report(3, u32::MAX, 4), Verdict::Replay);
        assert_eq!(l.on_report(3, 0, 4), Verdict::Replay);
        // The same across the wrap while DOWN.
        let mut d = down(3, u32::MAX);
        assert_eq!(d.on_report(3, u32::MAX, 5000), Verdict::Replay);
        assert_eq!(d.on_report(3, u32::MAX - 5, 5000), Verdict::Replay);
        assert_eq!(d.state(), PeerLive::Down);
        assert_eq!(d.on_report(3, 0, 5000), REVIVED);
    }

    #[test]
    fn restart_while_up() {
        let mut l = up(1000, 500, 0);
        // Newer epoch: accepted, whatever its seq.
        assert_eq!(l.on_report(1001, 0, 1), ACCEPTED);
        assert_eq!(l.on_report(1001, 1, 2), ACCEPTED);
        // Reports of the old instance are replays now, even newer seqs.
        assert_eq!(l.on_report(1000, 501, 3), Verdict::Replay);
        assert_eq!(l.on_report(1000, 0x7000_0000, 3), Verdict::Replay);
        assert_eq!(l.last_report_ms(), Some(2));
        // Epochs wrap too.
        let mut w = up(u32::MAX, 9, 0);
        assert_eq!(w.on_report(2, 0, 1), ACCEPTED);
        assert_eq!(w.on_report(u32::MAX, 10, 2), Verdict::Replay);
        // An epoch exactly 2^31 ahead is not after.
        let mut h = up(0, 9, 0);
        assert_eq!(h.on_report(0x8000_0000, 0, 1), Verdict::Replay);
    }

    #[test]
    fn restart_while_down() {
        // A newer epoch, an older one (clock set back), the same epoch.
        for (epoch, seq, want) in [
            (2000u32, 0u32, REVIVED),
            (1000, 0, REVIVED),
            (0x8000_0000 + 1500, 3, REVIVED),
            (1500, 41, REVIVED),
            (1500, 40, Verdict::Replay),
            (1500, 39, Verdict::Replay),
        ] {
            let mut l = down(1500, 40);
            assert_eq!(l.on_report(epoch, seq, 9000), want, "{epoch} {seq}");
            let (state, last) = if want == Verdict::Replay {
                (PeerLive::Down, Some(1000))
            } else {
                (PeerLive::Up, Some(9000))
            };
            assert_eq!((l.state(), l.last_report_ms()), (state, last));
        }
        // Back UP, the ordinary rules apply again, with the new epoch.
        let mut l = down(1500, 40);
        assert_eq!(l.on_report(1000, 0, 9000), REVIVED);
        assert_eq!(l.on_report(999, 41, 9001), Verdict::Replay);
        assert_eq!(l.on_report(1000, 0, 9001), Verdict::Replay);
        assert_eq!(l.on_report(1000, 1, 9002), ACCEPTED);
        // The documented price of clocks set back: the pre-restart epoch
        // now counts as newer, so its replays are accepted while UP.
        assert_eq!(l.on_report(1500, 41, 9003), ACCEPTED);
    }

    #[test]
    fn dead_time_boundary() {
        let mut l = up(1, 1, 1000);
        // 3 intervals of 100 ms: DOWN at exactly 300 ms of silence.
        assert!(!l.on_tick(1000, 100, 3));
        assert!(!l.on_tick(1299, 100, 3));
        assert_eq!(l.state(), PeerLive::Up);
        assert!(l.on_tick(1300, 100, 3));
        assert_eq!(l.state(), PeerLive::Down);
        // Only once.
        assert!(!l.on_tick(1301, 100, 3));
        assert!(!l.on_tick(u64::MAX, 100, 3));
        assert_eq!(l.last_report_ms(), Some(1000));
        // A report resets the clock.
        let mut l = up(1, 1, 1000);
        assert_eq!(l.on_report(1, 2, 1250), ACCEPTED);
        assert!(!l.on_tick(1300, 100, 3));
        assert!(!l.on_tick(1549, 100, 3));
        assert!(l.on_tick(1550, 100, 3));
        // One interval.
        let mut l = up(1, 1, 0);
        assert!(!l.on_tick(99, 100, 1));
        assert!(l.on_tick(100, 100, 1));
    }

    #[test]
    fn tick_extremes() {
        // Time going backwards: no elapsed time.
        let mut l = up(1, 1, 5000);
        assert!(!l.on_tick(0, 100, 3));
        assert!(!l.on_tick(4999, 1, 1));
        assert_eq!(l.state(), PeerLive::Up);
        // The largest factors: computed in u64 without overflow.
        let dead = u64::from(u32::MAX) * u64::from(u32::MAX);
        let mut l = up(1, 1, 0);
        assert!(!l.on_tick(dead - 1, u32::MAX, u32::MAX));
        assert!(l.on_tick(dead, u32::MAX, u32::MAX));
        let mut l = up(1, 1, u64::MAX - 10);
        assert!(!l.on_tick(u64::MAX, u32::MAX, u32::MAX));
        // Zero factors count as 1.
        let mut l = up(1, 1, 10);
        assert!(!l.on_tick(10, 0, 0));
        assert!(l.on_tick(11, 0, 0));
        // A report at u64::MAX, then a tick at 0.
        let mut l = up(1, 1, u64::MAX);
        assert!(!l.on_tick(0, 100, 3));
    }
}
