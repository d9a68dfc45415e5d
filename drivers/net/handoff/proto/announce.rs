//! Front failover announcements on the sync channel.
//!
//! A front node that handed a connection to a target keeps forwarding the
//! client's packets to it. If that front dies and the client's route moves
//! to another front, the new front has no forward entry and the connection
//! would break. So each front announces the connections it forwards to its
//! peers on the sync channel, in `SYNC_CONNS` datagrams: an ADD once the
//! target owns a connection (and again while it lives, so that receivers'
//! entries do not age out), a DEL when the front stops forwarding it. A
//! peer keeps the announced entries aside and forwards the connection's
//! packets to the target itself if they ever reach it.
//!
//! # The announcement datagram
//!
//! The same 28-byte `struct handoff_sync_hdr` as a report (see
//! [`super::sync`]; every rule of [`SyncHdr::check`] applies) with `type`
//! [`SYNC_CONNS`] and `len` the number of body bytes, followed by exactly
//! `len` bytes of `struct handoff_sync_conn` entries, 56 bytes each. All
//! multi-byte fields are big-endian:
//!
//! ```text
//! sync_hdr:   0 type (SYNC_CONNS)  1 flags  2..4 len  4..8 node_id
//!             8..12 epoch  12..16 seq  16..20 interval_ms  20..24 conns
//!             24..28 weight
//! sync_conn:  0..16 client addr  16..32 service addr  32..34 client port
//!             34..36 service port  36 family  37 op  38..40 reserved
//!             40..44 target  44..48 conn_ref  48..52 flow_id
//!             52..56 idle_ms
//! ```
//!
//! Addresses are in the wire layout of `struct handoff_sync_load`: an
//! `AF_INET` address in the first four bytes with zeros after them, an
//! `AF_INET6` address as is (never v4-mapped). [`Announce`] holds them in
//! this crate's form instead (IPv4 v4-mapped, as in [`Tuple`]).
//!
//! An entry names the connection (client and service address and port),
//! says what the sender did with it (`op` 1 ADD: it forwards the connection
//! to `target`; 2 DEL: it stopped) and carries what another front needs to
//! forward the client's packets in the sender's place: the target node, the
//! sender's `conn_ref` and the target's `flow_id` (what the target knows
//! the connection by; announced only once the target acknowledged it, so
//! the flow id is never 0), and the idle timeout the sender applies to the
//! connection (`idle_ms`), so a receiver's entry ages as the sender's would.
//!
//! A full datagram ([`MAX_CONNS`] entries, [`MAX_CONNS_LEN`] = 1372 bytes)
//! stays below 1400 bytes of UDP payload, like a full report. Entries with
//! the same tuple may appear in one datagram (an ADD then a DEL of a short
//! connection); receivers apply them in order.
//!
//! Announcements come from the network: [`parse_conns`] treats every byte
//! as hostile, never panics and rejects what a correct sender cannot
//! produce. The encoding of an accepted datagram is canonical: with `flags`
//! and `reserved` zero (as senders write them), [`write_conns`] reproduces
//! the received bytes exactly.
//!
//! The header is numbered like the sender's reports (same `node_id`,
//! `epoch` and `seq` counter), so a receiver may check it against the
//! sender's [`super::sync::Liveness`] or not; that is its policy, not the
//! format's. [`sync_type`] tells the two kinds of sync datagram apart.

use super::cookie::{as_v4, v4_mapped, Tuple};
use super::packet::{put, BuildError};
use super::sync::{self, be16, be32, take, SyncError, SyncHdr, SYNC_HDR_LEN};
use super::wire::{AF_INET, AF_INET6};

/// `HANDOFF_SYNC_CONNS`: a datagram of connection announcements.
pub const SYNC_CONNS: u8 = 0x11;
/// Length of one `struct handoff_sync_conn`.
pub const SYNC_CONN_LEN: usize = 56;
/// Most entries in one datagram: a full one stays below 1400 bytes of UDP
/// payload, so it is never fragmented on common paths.
pub const MAX_CONNS: usize = 24;
/// Length of a datagram with [`MAX_CONNS`] entries.
pub const MAX_CONNS_LEN: usize = SYNC_HDR_LEN + MAX_CONNS * SYNC_CONN_LEN;
/// Largest `idle_ms` an entry may carry (one day); the smallest is 1.
pub const MAX_IDLE_MS: u32 = 86_400_000;

const _: () = assert!(MAX_CONNS_LEN < 1400);
// The body length must fit the u16 `len` field.
const _: () = assert!(MAX_CONNS * SYNC_CONN_LEN <= u16::MAX as usize);

// Field offsets in `struct handoff_sync_conn`.
const C_CLIENT: usize = 0;
const C_SERVICE: usize = 16;
const C_CPORT: usize = 32;
const C_SPORT: usize = 34;
const C_FAMILY: usize = 36;
const C_OP: usize = 37;
const C_TARGET: usize = 40;
const C_CONN_REF: usize = 44;
const C_FLOW_ID: usize = 48;
const C_IDLE: usize = 52;

// `handoff_sync_conn.op` values.
const OP_ADD: u8 = 1;
const OP_DEL: u8 = 2;

/// What the sender did with a connection (`handoff_sync_conn.op`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ConnOp {
    /// The sender forwards the connection to the entry's target (op 1).
    Add,
    /// The sender stopped forwarding it (op 2).
    Del,
}

/// One decoded `struct handoff_sync_conn`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Announce {
    /// ADD or DEL.
    pub op: ConnOp,
    /// The connection: the client is `saddr`:`sport`, the service
    /// `daddr`:`dport`; IPv4 addresses v4-mapped.
    pub tuple: Tuple,
    /// The node the sender forwards the connection to; never 0.
    pub target: u32,
    /// The sender's reference of the connection (what its DATA datagrams to
    /// the target carry); never 0.
    pub conn_ref: u32,
    /// The target's flow id of the connection; never 0.
    pub flow_id: u32,
    /// The connection's idle timeout on the sender, in ms,
    /// `1..=MAX_IDLE_MS`.
    pub idle_ms: u32,
}

impl Announce {
    /// The entry rules of [`parse_conns`] that the decoded form can break,
    /// in order: addresses ([`AnnounceError::Addr`]: one v4-mapped and the
    /// other not; on the wire such a tuple is an `AF_INET6` entry with a
    /// v4-mapped address, which receivers reject with the same error),
    /// ports ([`AnnounceError::Port`]: either 0), `target`
    /// ([`AnnounceError::Target`]: 0), `conn_ref`
    /// ([`AnnounceError::ConnRef`]: 0), `flow_id`
    /// ([`AnnounceError::FlowId`]: 0), `idle_ms` ([`AnnounceError::Idle`]:
    /// 0 or above [`MAX_IDLE_MS`]).
    ///
    /// Family and op are always valid here: the family follows the
    /// addresses and [`ConnOp`] has no invalid value.
    pub fn check(&self) -> Result<(), AnnounceError> {
        let t = &self.tuple;
        if as_v4(&t.saddr).is_some() != as_v4(&t.daddr).is_some() {
            return Err(AnnounceError::Addr);
        }
        if t.sport == 0 || t.dport == 0 {
            return Err(AnnounceError::Port);
        }
        if self.target == 0 {
            return Err(AnnounceError::Target);
        }
        if self.conn_ref == 0 {
            return Err(AnnounceError::ConnRef);
        }
        if self.flow_id == 0 {
            return Err(AnnounceError::FlowId);
        }
        if self.idle_ms == 0 || self.idle_ms > MAX_IDLE_MS {
            return Err(AnnounceError::Idle);
        }
        Ok(())
    }
}

/// Why an announcement datagram was rejected. Each maps to a drop counter
/// through [`AnnounceError::as_str`].
///
/// Header problems use the variants (and names) of [`SyncError`] rather
/// than wrapping it, so every error is one flat counter; `From<SyncError>`
/// maps each `SyncError` to the variant of the same name.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum AnnounceError {
    /// Shorter than the header, or than the header and `len` bytes.
    Short,
    /// A `type` other than [`SYNC_CONNS`].
    Type,
    /// `len` is not a multiple of [`SYNC_CONN_LEN`].
    Length,
    /// More than [`MAX_CONNS`] entries.
    TooMany,
    /// `node_id` is 0.
    NodeId,
    /// `interval_ms` is 0 or above [`super::sync::MAX_INTERVAL_MS`].
    Interval,
    /// An entry whose family is neither `AF_INET` nor `AF_INET6`.
    Family,
    /// An entry whose addresses do not fit its family: an `AF_INET` entry
    /// with a non-zero byte after the first four of either address, an
    /// `AF_INET6` one with a v4-mapped address (see also
    /// [`Announce::check`]).
    Addr,
    /// An entry with client or service port 0.
    Port,
    /// An entry whose `op` is neither ADD (1) nor DEL (2).
    Op,
    /// An entry with target 0.
    Target,
    /// An entry with conn_ref 0.
    ConnRef,
    /// An entry with flow_id 0.
    FlowId,
    /// An entry with `idle_ms` 0 or above [`MAX_IDLE_MS`].
    Idle,
}

impl AnnounceError {
    /// Every error, in declaration order (for registering counters).
    pub const ALL: [AnnounceError; 14] = [
        AnnounceError::Short,
        AnnounceError::Type,
        AnnounceError::Length,
        AnnounceError::TooMany,
        AnnounceError::NodeId,
        AnnounceError::Interval,
        AnnounceError::Family,
        AnnounceError::Addr,
        AnnounceError::Port,
        AnnounceError::Op,
        AnnounceError::Target,
        AnnounceError::ConnRef,
        AnnounceError::FlowId,
        AnnounceError::Idle,
    ];

    /// A stable snake_case name, usable as a counter name; the header
    /// errors have the names of their [`SyncError`] counterparts.
    pub const fn as_str(self) -> &'static str {
        match self {
            AnnounceError::Short => "short",
            AnnounceError::Type => "type",
            AnnounceError::Length => "length",
            AnnounceError::TooMany => "too_many",
            AnnounceError::NodeId => "node_id",
            AnnounceError::Interval => "interval",
            AnnounceError::Family => "family",
            AnnounceError::Addr => "addr",
            AnnounceError::Port => "port",
            AnnounceError::Op => "op",
            AnnounceError::Target => "target",
            AnnounceError::ConnRef => "conn_ref",
            AnnounceError::FlowId => "flow_id",
            AnnounceError::Idle => "idle",
        }
    }

    /// The position of this error in [`AnnounceError::ALL`] (a counter
    /// index).
    pub const fn index(self) -> usize {
        self as usize
    }
}

impl From<SyncError> for AnnounceError {
    /// The variant of the same name ([`SyncHdr::check`] only returns
    /// `NodeId` and `Interval`; the mapping is total all the same).
    fn from(e: SyncError) -> Self {
        match e {
            SyncError::Short => AnnounceError::Short,
            SyncError::Type => AnnounceError::Type,
            SyncError::Length => AnnounceError::Length,
            SyncError::TooMany => AnnounceError::TooMany,
            SyncError::NodeId => AnnounceError::NodeId,
            SyncError::Interval => AnnounceError::Interval,
            SyncError::Family => AnnounceError::Family,
            SyncError::Addr => AnnounceError::Addr,
            SyncError::Port => AnnounceError::Port,
        }
    }
}

/// The `type` of a sync datagram, to choose its parser
/// ([`super::sync::SYNC_REPORT`]: [`super::sync::parse_report`];
/// [`SYNC_CONNS`]: [`parse_conns`]); `None` when `buf` is shorter than the
/// header, which both parsers reject as `Short`.
pub fn sync_type(buf: &[u8]) -> Option<u8> {
    // `type` is the header's first byte.
    buf.first_chunk::<SYNC_HDR_LEN>().map(|h| h[0])
}

/// A parsed announcement datagram; its entries borrow the datagram buffer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Conns<'a> {
    /// The header.
    pub hdr: SyncHdr,
    /// The entries, `len` bytes, all validated.
    body: &'a [u8],
}

impl<'a> Conns<'a> {
    /// The entries, in datagram order (the order to apply them in).
    /// [`parse_conns`] validated every one, so none is skipped.
    pub fn iter(&self) -> impl Iterator<Item = Announce> + 'a {
        self.body
            .chunks_exact(SYNC_CONN_LEN)
            .filter_map(|c| c.first_chunk::<SYNC_CONN_LEN>())
            .filter_map(|c| decode_conn(c).ok())
    }

    /// The number of entries.
    pub fn len(&self) -> usize {
        self.body.len() / SYNC_CONN_LEN
    }

    /// Whether the datagram has no entries (valid, if of little use).
    pub fn is_empty(&self) -> bool {
        self.body.is_empty()
    }
}

/// An address of an entry in this crate's form, by the entry's family;
/// [`AnnounceError::Addr`] if it does not fit the family.
fn decode_addr(family: u8, a: [u8; 16]) -> Result<[u8; 16], AnnounceError> {
    match (family, a) {
        (AF_INET, [a, b, c, d, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]) => Ok(v4_mapped([a, b, c, d])),
        // A v4-mapped AF_INET6 address would alias an IPv4 one once in
        // this crate's form.
        (AF_INET6, _) if as_v4(&a).is_none() => Ok(a),
        _ => Err(AnnounceError::Addr),
    }
}

/// An address in the wire layout, from this crate's form.
fn encode_addr(a: &[u8; 16]) -> [u8; 16] {
    match as_v4(a) {
        Some([a, b, c, d]) => [a, b, c, d, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0],
        None => *a,
    }
}

/// One entry, checked: the entry rules of [`parse_conns`] in order.
fn decode_conn(b: &[u8; SYNC_CONN_LEN]) -> Result<Announce, AnnounceError> {
    let family = b[C_FAMILY];
    if family != AF_INET && family != AF_INET6 {
        return Err(AnnounceError::Family);
    }
    let saddr = decode_addr(family, take::<16>(b, C_CLIENT).unwrap_or([0; 16]))?;
    let daddr = decode_addr(family, take::<16>(b, C_SERVICE).unwrap_or([0; 16]))?;
    let tuple = Tuple {
        saddr,
        daddr,
        sport: be16(b, C_CPORT),
        dport: be16(b, C_SPORT),
    };
    // Ports come before op in the rule order, so check them here rather
    // than leave them to `Announce::check`, which needs a decoded op.
    if tuple.sport == 0 || tuple.dport == 0 {
        return Err(AnnounceError::Port);
    }
    let op = match b[C_OP] {
        OP_ADD => ConnOp::Add,
        OP_DEL => ConnOp::Del,
        _ => return Err(AnnounceError::Op),
    };
    let a = Announce {
        op,
        tuple,
        target: be32(b, C_TARGET),
        conn_ref: be32(b, C_CONN_REF),
        flow_id: be32(b, C_FLOW_ID),
        idle_ms: be32(b, C_IDLE),
    };
    // The addresses and ports pass again; target to idle are checked here.
    a.check()?;
    Ok(a)
}

/// Parses a sync datagram (the UDP payload) as connection announcements.
///
/// Rules, checked in this order (the first that fails is reported):
/// * shorter than [`SYNC_HDR_LEN`]: [`AnnounceError::Short`];
/// * `type` other than [`SYNC_CONNS`]: [`AnnounceError::Type`];
/// * `len` not a multiple of [`SYNC_CONN_LEN`]: [`AnnounceError::Length`];
/// * more than [`MAX_CONNS`] entries: [`AnnounceError::TooMany`];
/// * fewer than `len` bytes after the header: [`AnnounceError::Short`]
///   (bytes beyond them are ignored: the body is exactly `len` bytes);
/// * [`SyncHdr::check`]: `node_id` 0 ([`AnnounceError::NodeId`]),
///   `interval_ms` out of range ([`AnnounceError::Interval`]);
/// * each entry in order, all rules of one entry before the next entry:
///   family ([`AnnounceError::Family`]), addresses
///   ([`AnnounceError::Addr`]), ports ([`AnnounceError::Port`]), op
///   ([`AnnounceError::Op`]), target ([`AnnounceError::Target`]),
///   conn_ref ([`AnnounceError::ConnRef`]), flow_id
///   ([`AnnounceError::FlowId`]), idle_ms ([`AnnounceError::Idle`]).
///
/// `flags` and each entry's `reserved` bytes are ignored (senders write 0;
/// later versions may define them). Entries with the same tuple are
/// allowed; they are applied in order.
pub fn parse_conns(buf: &[u8]) -> Result<Conns<'_>, AnnounceError> {
    let (hdr, body) = sync::parse_hdr(buf, SYNC_CONNS, SYNC_CONN_LEN, MAX_CONNS)?;
    for c in body.chunks_exact(SYNC_CONN_LEN) {
        let c: &[u8; SYNC_CONN_LEN] = c.first_chunk().ok_or(AnnounceError::Short)?;
        decode_conn(c)?;
    }
    Ok(Conns { hdr, body })
}

/// Writes an announcement datagram into `out` and returns its length,
/// `SYNC_HDR_LEN + conns.len() * SYNC_CONN_LEN`; `flags` and `reserved`
/// are written as 0.
///
/// What every receiver would reject is refused, so a sender never sends
/// it: more than [`MAX_CONNS`] entries ([`BuildError::TooLong`]), a header
/// failing [`SyncHdr::check`] ([`BuildError::BadOptions`]), an entry
/// failing [`Announce::check`] ([`BuildError::BadAddress`]). `out` too
/// short: [`BuildError::BufferTooSmall`]. Nothing is written on error. The
/// output parses back with [`parse_conns`] to the same header and entries.
pub fn write_conns(out: &mut [u8], hdr: &SyncHdr, conns: &[Announce]) -> Result<usize, BuildError> {
    if conns.len() > MAX_CONNS {
        return Err(BuildError::TooLong);
    }
    hdr.check().map_err(|_| BuildError::BadOptions)?;
    for c in conns {
        c.check().map_err(|_| BuildError::BadAddress)?;
    }
    // At most MAX_CONNS * 56 = 1344: fits the u16 `len`.
    let body = conns.len() * SYNC_CONN_LEN;
    let total = SYNC_HDR_LEN + body;
    if out.len() < total {
        return Err(BuildError::BufferTooSmall { needed: total });
    }
    let len = u16::try_from(body).map_err(|_| BuildError::TooLong)?;
    put(out, 0, &sync::encode_hdr(SYNC_CONNS, len, hdr)?)?;
    let mut off = SYNC_HDR_LEN;
    for c in conns {
        let t = &c.tuple;
        let family = if as_v4(&t.saddr).is_some() {
            AF_INET
        } else {
            AF_INET6
        };
        let op = match c.op {
            ConnOp::Add => OP_ADD,
            ConnOp::Del => OP_DEL,
        };
        let mut e = [0u8; SYNC_CONN_LEN];
        put(&mut e, C_CLIENT, &encode_addr(&t.saddr))?;
        put(&mut e, C_SERVICE, &encode_addr(&t.daddr))?;
        put(&mut e, C_CPORT, &t.sport.to_be_bytes())?;
        put(&mut e, C_SPORT, &t.dport.to_be_bytes())?;
        // `reserved` (bytes 38..40) stays 0.
        put(&mut e, C_FAMILY, &[family, op])?;
        put(&mut e, C_TARGET, &c.target.to_be_bytes())?;
        put(&mut e, C_CONN_REF, &c.conn_ref.to_be_bytes())?;
        put(&mut e, C_FLOW_ID, &c.flow_id.to_be_bytes())?;
        put(&mut e, C_IDLE, &c.idle_ms.to_be_bytes())?;
        put(out, off, &e)?;
        off += SYNC_CONN_LEN;
    }
    Ok(total)
}

#[cfg(test)]
mod tests {
    use super::super::sync::{parse_report, write_report, MAX_INTERVAL_MS, SYNC_REPORT};
    use super::*;
    use std::vec::Vec;

    const CLIENT6: [u8; 16] = [0x20, 1, 0xd, 0xb8, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x42];
    const SERVICE6: [u8; 16] = [0x20, 1, 0xd, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x80];

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

    fn conn_v4() -> Announce {
        Announce {
            op: ConnOp::Add,
            tuple: Tuple {
                saddr: v4_mapped([192, 0, 2, 10]),
                daddr: v4_mapped([198, 51, 100, 7]),
                sport: 40000,
                dport: 80,
            },
            target: 7,
            conn_ref: 0x0a0b_0c0d,
            flow_id: 0x1122_3344,
            idle_ms: 300_000,
        }
    }

    fn conn_v6() -> Announce {
        Announce {
            op: ConnOp::Del,
            tuple: Tuple {
                saddr: CLIENT6,
                daddr: SERVICE6,
                sport: 0xffff,
                dport: 443,
            },
            target: u32::MAX,
            conn_ref: 1,
            flow_id: u32::MAX,
            idle_ms: MAX_IDLE_MS,
        }
    }

    fn datagram(h: &SyncHdr, conns: &[Announce]) -> Vec<u8> {
        let mut b = std::vec![0u8; MAX_CONNS_LEN + 8];
        let n = write_conns(&mut b, h, conns).unwrap();
        b.truncate(n);
        b
    }

    fn with_len(b: &[u8], len: u16) -> Vec<u8> {
        let mut b = b.to_vec();
        b[2..4].copy_from_slice(&len.to_be_bytes());
        b
    }

    /// What the module relies on for an accepted datagram; returns whether
    /// it was accepted.
    fn check_any(data: &[u8]) -> bool {
        let Ok(c) = parse_conns(data) else {
            return false;
        };
        assert_eq!(sync_type(data), Some(SYNC_CONNS));
        assert_eq!(c.hdr.check(), Ok(()));
        let conns: Vec<Announce> = c.iter().collect();
        assert_eq!(conns.len(), c.len());
        assert!(c.len() <= MAX_CONNS);
        assert_eq!(c.is_empty(), conns.is_empty());
        for a in &conns {
            assert_eq!(a.check(), Ok(()));
        }
        let n = SYNC_HDR_LEN + c.len() * SYNC_CONN_LEN;
        let mut out = [0u8; MAX_CONNS_LEN];
        assert_eq!(write_conns(&mut out, &c.hdr, &conns), Ok(n));
        // Canonical, once the ignored bytes are cleared.
        let mut want = data[..n].to_vec();
        want[1] = 0;
        for e in want[SYNC_HDR_LEN..].chunks_exact_mut(SYNC_CONN_LEN) {
            e[38..40].fill(0);
        }
        assert_eq!(out[..n], want[..]);
        let back = parse_conns(&out[..n]).unwrap();
        assert_eq!(back.hdr, c.hdr);
        assert!(back.iter().eq(conns.iter().copied()));
        true
    }

    #[test]
    fn constants() {
        assert_eq!(MAX_CONNS_LEN, 1372);
        assert_eq!((SYNC_CONNS, SYNC_CONN_LEN, MAX_CONNS), (0x11, 56, 24));
        assert_ne!(SYNC_CONNS, SYNC_REPORT);
        assert_eq!(MAX_IDLE_MS, 24 * 3600 * 1000);
        for (i, e) in AnnounceError::ALL.iter().enumerate() {
            assert_eq!(e.index(), i);
            assert!(!e.as_str().is_empty());
            for other in &AnnounceError::ALL[..i] {
                assert_ne!(e.as_str(), other.as_str());
            }
        }
        // Header errors keep the names (counters) of the report's.
        for s in SyncError::ALL {
            assert_eq!(AnnounceError::from(s).as_str(), s.as_str());
        }
    }

    #[test]
    fn layout() {
        let b = datagram(&hdr(), &[conn_v4(), conn_v6()]);
        assert_eq!(b.len(), 28 + 112);
        assert_eq!(
            b[..28],
            [
                0x11, 0, 0, 112, 1, 2, 3, 4, 0x66, 0x50, 0, 0, 0xff, 0xff, 0xff, 0xfe, 0, 0, 0,
                100, 0, 0, 0x04, 0xd2, 0, 0, 0, 3
            ]
        );
        let e = &b[28..84];
        assert_eq!(e[..16], [192, 0, 2, 10, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
        assert_eq!(
            e[16..32],
            [198, 51, 100, 7, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]
        );
        assert_eq!(
            e[32..],
            [
                0x9c, 0x40, 0, 80, 2, 1, 0, 0, 0, 0, 0, 7, 0x0a, 0x0b, 0x0c, 0x0d, 0x11, 0x22,
                0x33, 0x44, 0, 0x04, 0x93, 0xe0
            ]
        );
        let e = &b[84..140];
        assert_eq!(e[..16], CLIENT6);
        assert_eq!(e[16..32], SERVICE6);
        assert_eq!(
            e[32..],
            [
                0xff, 0xff, 1, 0xbb, 10, 2, 0, 0, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 1, 0xff, 0xff,
                0xff, 0xff, 0x05, 0x26, 0x5c, 0x00
            ]
        );
    }

    #[test]
    fn header_as_in_reports() {
        // The same header encoding as a report; only the type differs.
        let mut r = [0u8; SYNC_HDR_LEN];
        assert_eq!(write_report(&mut r, &hdr(), &[]), Ok(SYNC_HDR_LEN));
        let c = datagram(&hdr(), &[]);
        assert_eq!(c[0], SYNC_CONNS);
        assert_eq!(c[1..], r[1..]);
        // Neither parser takes the other's datagrams.
        assert_eq!(parse_report(&c), Err(SyncError::Type));
        assert_eq!(parse_conns(&r), Err(AnnounceError::Type));
    }

    #[test]
    fn sync_type_dispatch() {
        let c = datagram(&hdr(), &[conn_v4()]);
        let mut r = [0u8; SYNC_HDR_LEN];
        write_report(&mut r, &hdr(), &[]).unwrap();
        assert_eq!(sync_type(&c), Some(SYNC_CONNS));
        assert_eq!(sync_type(&r), Some(SYNC_REPORT));
        assert_eq!(sync_type(&c[..SYNC_HDR_LEN]), Some(SYNC_CONNS));
        for cut in 0..SYNC_HDR_LEN {
            assert_eq!(sync_type(&c[..cut]), None);
        }
        // Any type byte is returned, for the caller to count.
        let mut x = c.clone();
        x[0] = 0xff;
        assert_eq!(sync_type(&x), Some(0xff));
    }

    #[test]
    fn round_trip() {
        let mut mixed = [conn_v4(), conn_v6(), conn_v4()];
        mixed[2].op = ConnOp::Del;
        let full = [conn_v6(); MAX_CONNS];
        let cases: [&[Announce]; 5] = [&[], &[conn_v4()], &[conn_v6()], &mixed, &full];
        for conns in cases {
            let b = datagram(&hdr(), conns);
            assert_eq!(b.len(), SYNC_HDR_LEN + conns.len() * SYNC_CONN_LEN);
            let c = parse_conns(&b).unwrap();
            assert_eq!(c.hdr, hdr());
            assert_eq!(c.len(), conns.len());
            assert_eq!(c.is_empty(), conns.is_empty());
            assert!(c.iter().eq(conns.iter().copied()));
            assert!(check_any(&b));
            // Bytes beyond `len` are ignored.
            let mut longer = b.clone();
            longer.extend_from_slice(&[0xaa; 60]);
            assert_eq!(parse_conns(&longer), Ok(c));
        }
    }

    #[test]
    fn full_datagram() {
        // 24 distinct entries, alternating families and ops.
        let mut conns = [conn_v4(); MAX_CONNS];
        for (i, a) in conns.iter_mut().enumerate() {
            let i = i as u32;
            if i % 2 == 1 {
                *a = conn_v6();
                a.tuple.saddr[15] = i as u8;
            } else {
                a.tuple.saddr = v4_mapped([10, 0, 0, i as u8]);
            }
            a.tuple.sport = 1000 + i as u16;
            a.op = if i % 3 == 0 { ConnOp::Del } else { ConnOp::Add };
            a.target = i + 1;
            a.conn_ref = 100 + i;
            a.flow_id = 200 + i;
            a.idle_ms = 1 + i;
        }
        let b = datagram(&hdr(), &conns);
        assert_eq!(b.len(), MAX_CONNS_LEN);
        assert_eq!(b[2..4], 1344u16.to_be_bytes());
        let c = parse_conns(&b).unwrap();
        assert!(c.iter().eq(conns.iter().copied()));
        assert!(check_any(&b));
        // The buffer exactly as long as needed, and one entry more refused.
        let mut exact = [0u8; MAX_CONNS_LEN];
        assert_eq!(write_conns(&mut exact, &hdr(), &conns), Ok(MAX_CONNS_LEN));
        assert_eq!(exact[..], b[..]);
    }

    #[test]
    fn same_tuple_in_order() {
        let add = conn_v4();
        let del = Announce {
            op: ConnOp::Del,
            ..add
        };
        let again = Announce {
            conn_ref: 9,
            flow_id: 10,
            ..add
        };
        let conns = [add, del, again, add];
        let b = datagram(&hdr(), &conns);
        let c = parse_conns(&b).unwrap();
        assert!(c.iter().eq(conns.iter().copied()));
    }

    #[test]
    fn flags_and_reserved_ignored() {
        let mut b = datagram(&hdr(), &[conn_v4(), conn_v6()]);
        let clean = parse_conns(&b).unwrap();
        let want = (clean.hdr, clean.iter().collect::<Vec<_>>());
        b[1] = 0xff;
        b[28 + 38] = 0x5a;
        b[28 + 39] = 0xa5;
        b[84 + 38..84 + 40].fill(0xff);
        let c = parse_conns(&b).unwrap();
        assert_eq!((c.hdr, c.iter().collect::<Vec<_>>()), want);
        assert!(check_any(&b));
    }

    // ---- Rejections: one test per rule, each also checking that the
    // rule comes before every later one.

    /// Breaks rule `i` of [`parse_conns`] (in order) in `b`, a datagram of
    /// `good()`: faults of entries go to the first entry (AF_INET).
    fn fault(i: usize, b: &mut Vec<u8>) {
        const E: usize = SYNC_HDR_LEN;
        match i {
            0 => b.truncate(SYNC_HDR_LEN - 1),
            1 => b[0] = SYNC_REPORT,
            2 => b[2..4].copy_from_slice(&57u16.to_be_bytes()),
            3 => b[2..4].copy_from_slice(&((MAX_CONNS as u16 + 1) * 56).to_be_bytes()),
            4 => {
                b.pop();
            }
            5 => b[4..8].fill(0),
            6 => b[16..20].fill(0),
            7 => b[E + 36] = 3,
            8 => b[E + 20] = 1,
            9 => b[E + 34..E + 36].fill(0),
            10 => b[E + 37] = 0,
            11 => b[E + 40..E + 44].fill(0),
            12 => b[E + 44..E + 48].fill(0),
            13 => b[E + 48..E + 52].fill(0),
            14 => b[E + 52..E + 56].fill(0),
            _ => unreachable!(),
        }
    }

    /// The error of each rule, in order.
    const RULES: [AnnounceError; 15] = [
        AnnounceError::Short,
        AnnounceError::Type,
        AnnounceError::Length,
        AnnounceError::TooMany,
        AnnounceError::Short,
        AnnounceError::NodeId,
        AnnounceError::Interval,
        AnnounceError::Family,
        AnnounceError::Addr,
        AnnounceError::Port,
        AnnounceError::Op,
        AnnounceError::Target,
        AnnounceError::ConnRef,
        AnnounceError::FlowId,
        AnnounceError::Idle,
    ];

    fn good() -> Vec<u8> {
        datagram(&hdr(), &[conn_v4(), conn_v6()])
    }

    /// `good()` with rule `i` and every later rule broken: rule `i`'s error.
    fn first_of(i: usize) {
        let mut b = good();
        // Later faults first, so that an earlier one sharing their bytes
        // (`len`, the truncations) wins.
        for j in (i..RULES.len()).rev() {
            fault(j, &mut b);
        }
        assert_eq!(parse_conns(&b).map(|c| c.len()), Err(RULES[i]), "rule {i}");
        // Alone, it is rejected the same way.
        let mut b = good();
        fault(i, &mut b);
        assert_eq!(parse_conns(&b).map(|c| c.len()), Err(RULES[i]), "rule {i}");
    }

    fn with(off: usize, bytes: &[u8]) -> Result<usize, AnnounceError> {
        let mut b = good();
        b[off..off + bytes.len()].copy_from_slice(bytes);
        parse_conns(&b).map(|c| c.len())
    }

    #[test]
    fn good_is_good() {
        assert_eq!(parse_conns(&good()).map(|c| c.len()), Ok(2));
    }

    #[test]
    fn rejects_short_header() {
        first_of(0);
        let b = good();
        for cut in 0..SYNC_HDR_LEN {
            assert_eq!(parse_conns(&b[..cut]), Err(AnnounceError::Short));
        }
    }

    #[test]
    fn rejects_type() {
        first_of(1);
        for ty in [0u8, 1, 0x0f, SYNC_REPORT, 0x12, 0xff] {
            assert_eq!(with(0, &[ty]), Err(AnnounceError::Type));
        }
    }

    #[test]
    fn rejects_length() {
        first_of(2);
        for len in [1u16, 55, 57, 111, 113, 0xffff] {
            assert_eq!(with(2, &len.to_be_bytes()), Err(AnnounceError::Length));
        }
    }

    #[test]
    fn rejects_too_many() {
        first_of(3);
        // 25 entries, and the largest multiple of 56 in a u16.
        assert_eq!(with(2, &1400u16.to_be_bytes()), Err(AnnounceError::TooMany));
        let most = (u16::MAX / 56) * 56;
        assert_eq!(with(2, &most.to_be_bytes()), Err(AnnounceError::TooMany));
        // Checked before the body is looked for: a header alone says so.
        let h = with_len(&good()[..SYNC_HDR_LEN], 1400);
        assert_eq!(parse_conns(&h), Err(AnnounceError::TooMany));
    }

    #[test]
    fn rejects_short_body() {
        first_of(4);
        // 3 entries claimed, 2 present.
        assert_eq!(with(2, &168u16.to_be_bytes()), Err(AnnounceError::Short));
        // Fewer entries claimed than present: the rest is ignored.
        assert_eq!(parse_conns(&with_len(&good(), 56)).unwrap().len(), 1);
        assert_eq!(parse_conns(&with_len(&good(), 0)).unwrap().len(), 0);
    }

    #[test]
    fn rejects_node_id() {
        first_of(5);
        assert_eq!(with(4, &[0; 4]), Err(AnnounceError::NodeId));
        assert!(with(4, &[0, 0, 0, 1]).is_ok());
    }

    #[test]
    fn rejects_interval() {
        first_of(6);
        for bad in [0, MAX_INTERVAL_MS + 1, u32::MAX] {
            assert_eq!(with(16, &bad.to_be_bytes()), Err(AnnounceError::Interval));
        }
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

    #[test]
    fn rejects_family() {
        first_of(7);
        for fam in [0u8, 1, 3, 9, 11, 28, 0xff] {
            assert_eq!(with(28 + 36, &[fam]), Err(AnnounceError::Family));
            assert_eq!(with(84 + 36, &[fam]), Err(AnnounceError::Family));
        }
    }

    #[test]
    fn rejects_addr() {
        first_of(8);
        // AF_INET (first entry): a non-zero byte after the first four of
        // either address.
        for off in (4..16).chain(20..32) {
            assert_eq!(with(28 + off, &[1]), Err(AnnounceError::Addr), "byte {off}");
        }
        // AF_INET6 (second entry): either address v4-mapped.
        let mapped = v4_mapped([192, 0, 2, 1]);
        assert_eq!(with(84, &mapped), Err(AnnounceError::Addr));
        assert_eq!(with(84 + 16, &mapped), Err(AnnounceError::Addr));
        assert_eq!(
            with(84, &[mapped, mapped].concat()),
            Err(AnnounceError::Addr)
        );
        // Any other IPv6 address is fine, even all zero or almost mapped.
        assert!(with(84, &[0; 32]).is_ok());
        let mut almost = mapped;
        almost[9] = 1;
        assert!(with(84 + 16, &almost).is_ok());
        // The v4 entry as v6: its addresses are not v4-mapped, so it is
        // fine (a different connection).
        assert!(with(28 + 36, &[AF_INET6]).is_ok());
    }

    #[test]
    fn rejects_port() {
        first_of(9);
        for e in [28, 84] {
            assert_eq!(with(e + 32, &[0, 0]), Err(AnnounceError::Port));
            assert_eq!(with(e + 34, &[0, 0]), Err(AnnounceError::Port));
            assert!(with(e + 32, &[0, 1]).is_ok());
            assert!(with(e + 34, &[0, 1]).is_ok());
        }
    }

    #[test]
    fn rejects_op() {
        first_of(10);
        for op in [0u8, 3, 4, 0x81, 0xff] {
            assert_eq!(with(28 + 37, &[op]), Err(AnnounceError::Op));
            assert_eq!(with(84 + 37, &[op]), Err(AnnounceError::Op));
        }
        for (op, want) in [(1u8, ConnOp::Add), (2, ConnOp::Del)] {
            let mut b = good();
            b[28 + 37] = op;
            assert_eq!(parse_conns(&b).unwrap().iter().next().unwrap().op, want);
        }
    }

    #[test]
    fn rejects_target() {
        first_of(11);
        assert_eq!(with(84 + 40, &[0; 4]), Err(AnnounceError::Target));
        assert!(with(84 + 40, &[0, 0, 0, 1]).is_ok());
    }

    #[test]
    fn rejects_conn_ref() {
        first_of(12);
        assert_eq!(with(84 + 44, &[0; 4]), Err(AnnounceError::ConnRef));
        assert!(with(84 + 44, &[0xff; 4]).is_ok());
    }

    #[test]
    fn rejects_flow_id() {
        first_of(13);
        assert_eq!(with(84 + 48, &[0; 4]), Err(AnnounceError::FlowId));
        assert!(with(84 + 48, &[0, 0, 0, 1]).is_ok());
    }

    #[test]
    fn rejects_idle() {
        first_of(14);
        for bad in [0, MAX_IDLE_MS + 1, u32::MAX] {
            assert_eq!(with(84 + 52, &bad.to_be_bytes()), Err(AnnounceError::Idle));
        }
        for ok in [1u32, 1000, MAX_IDLE_MS] {
            assert!(with(84 + 52, &ok.to_be_bytes()).is_ok());
        }
    }

    #[test]
    fn entries_checked_in_order() {
        // A late rule broken in the first entry wins over an early rule
        // broken in the second: one entry at a time.
        let mut b = good();
        b[28 + 52..28 + 56].fill(0);
        b[84 + 36] = 7;
        assert_eq!(parse_conns(&b), Err(AnnounceError::Idle));
        // Reversed.
        let mut b = good();
        b[28 + 36] = 7;
        b[84 + 52..84 + 56].fill(0);
        assert_eq!(parse_conns(&b), Err(AnnounceError::Family));
    }

    #[test]
    fn mixed_family_rejected() {
        // Crate form: one address v4-mapped, the other not, either way.
        let mut a = conn_v4();
        a.tuple.daddr = SERVICE6;
        let mut b = conn_v6();
        b.tuple.daddr = v4_mapped([198, 51, 100, 7]);
        let mut out = [0xeeu8; 200];
        for x in [a, b] {
            assert_eq!(x.check(), Err(AnnounceError::Addr));
            assert_eq!(
                write_conns(&mut out, &hdr(), &[conn_v4(), x]),
                Err(BuildError::BadAddress)
            );
        }
        assert!(out.iter().all(|&b| b == 0xee));
        // Wire form: the same tuples, either family.
        let mut w = good();
        w[84..100].copy_from_slice(&v4_mapped([192, 0, 2, 10]));
        assert_eq!(parse_conns(&w), Err(AnnounceError::Addr));
        let mut w = good();
        w[28 + 16..28 + 32].copy_from_slice(&SERVICE6);
        assert_eq!(parse_conns(&w), Err(AnnounceError::Addr));
        // Both v4-mapped is an IPv4 tuple; neither, an IPv6 one.
        assert_eq!(conn_v4().check(), Ok(()));
        assert_eq!(conn_v6().check(), Ok(()));
    }

    #[test]
    fn check_rules() {
        let base = conn_v6();
        let cases = [
            (
                Announce {
                    tuple: Tuple {
                        sport: 0,
                        ..base.tuple
                    },
                    ..base
                },
                AnnounceError::Port,
            ),
            (
                Announce {
                    tuple: Tuple {
                        dport: 0,
                        ..base.tuple
                    },
                    ..base
                },
                AnnounceError::Port,
            ),
            (Announce { target: 0, ..base }, AnnounceError::Target),
            (
                Announce {
                    conn_ref: 0,
                    ..base
                },
                AnnounceError::ConnRef,
            ),
            (Announce { flow_id: 0, ..base }, AnnounceError::FlowId),
            (Announce { idle_ms: 0, ..base }, AnnounceError::Idle),
            (
                Announce {
                    idle_ms: MAX_IDLE_MS + 1,
                    ..base
                },
                AnnounceError::Idle,
            ),
        ];
        for (a, e) in cases {
            assert_eq!(a.check(), Err(e), "{a:?}");
        }
        // In order: everything broken reports the addresses.
        let all = Announce {
            op: ConnOp::Add,
            tuple: Tuple {
                saddr: v4_mapped([1, 2, 3, 4]),
                daddr: [0; 16],
                sport: 0,
                dport: 0,
            },
            target: 0,
            conn_ref: 0,
            flow_id: 0,
            idle_ms: 0,
        };
        assert_eq!(all.check(), Err(AnnounceError::Addr));
        let all = Announce {
            tuple: Tuple {
                daddr: v4_mapped([1, 2, 3, 5]),
                ..all.tuple
            },
            ..all
        };
        assert_eq!(all.check(), Err(AnnounceError::Port));
    }

    #[test]
    fn every_truncation() {
        let b = datagram(&hdr(), &[conn_v4(); MAX_CONNS]);
        for cut in 0..b.len() {
            // Short header, or fewer bytes than `len` promises.
            assert_eq!(
                parse_conns(&b[..cut]),
                Err(AnnounceError::Short),
                "cut {cut}"
            );
            // With `len` matching the cut, whole entries parse.
            if cut >= SYNC_HDR_LEN && (cut - SYNC_HDR_LEN) % SYNC_CONN_LEN == 0 {
                let fixed = with_len(&b[..cut], (cut - SYNC_HDR_LEN) as u16);
                assert_eq!(
                    parse_conns(&fixed).unwrap().len(),
                    (cut - SYNC_HDR_LEN) / SYNC_CONN_LEN
                );
            }
        }
        assert!(parse_conns(&b).is_ok());
    }

    #[test]
    fn write_refuses_what_receivers_reject() {
        let mut out = [0xeeu8; MAX_CONNS_LEN + 64];
        let too_many = [conn_v4(); MAX_CONNS + 1];
        assert_eq!(
            write_conns(&mut out, &hdr(), &too_many),
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
                write_conns(&mut out, &h, &[conn_v4()]),
                Err(BuildError::BadOptions)
            );
        }
        let mut bad = [conn_v4(); 7];
        bad[0].tuple.daddr = CLIENT6;
        bad[1].tuple.sport = 0;
        bad[2].tuple.dport = 0;
        bad[3].target = 0;
        bad[4].conn_ref = 0;
        bad[5].flow_id = 0;
        bad[6].idle_ms = MAX_IDLE_MS + 1;
        for a in bad {
            assert_eq!(
                write_conns(&mut out, &hdr(), &[conn_v6(), a]),
                Err(BuildError::BadAddress)
            );
        }
        assert!(out.iter().all(|&b| b == 0xee));
        // Every short buffer fails cleanly, leaving it untouched.
        let conns = [conn_v4(), conn_v6(), conn_v4()];
        let full = datagram(&hdr(), &conns);
        for cap in 0..full.len() {
            let mut small = [0xeeu8; 256];
            assert_eq!(
                write_conns(&mut small[..cap], &hdr(), &conns),
                Err(BuildError::BufferTooSmall { needed: full.len() })
            );
            assert!(small.iter().all(|&b| b == 0xee));
        }
        let mut exact = std::vec![0u8; full.len()];
        assert_eq!(write_conns(&mut exact, &hdr(), &conns), Ok(full.len()));
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
        let mut buf = [0u8; MAX_CONNS_LEN + 60];
        let mut accepted = 0;
        for _ in 0..50_000 {
            let n = (rng.next() % buf.len() as u64) as usize;
            for b in buf.iter_mut().take(n) {
                *b = rng.next() as u8;
            }
            // Give some a plausible header and entries so that every rule
            // runs, and some datagrams pass.
            if rng.next() % 2 == 0 && n >= SYNC_HDR_LEN {
                buf[0] = SYNC_CONNS;
                let entries = (n - SYNC_HDR_LEN) / SYNC_CONN_LEN;
                let len = (entries.min(MAX_CONNS) * SYNC_CONN_LEN) as u16;
                buf[2..4].copy_from_slice(&len.to_be_bytes());
                buf[16..20].copy_from_slice(&100u32.to_be_bytes());
                for e in buf[SYNC_HDR_LEN..n].chunks_exact_mut(SYNC_CONN_LEN) {
                    if rng.next() % 16 != 0 {
                        e[36] = if rng.next() % 2 == 0 { 2 } else { 10 };
                        if e[36] == 2 {
                            e[4..16].fill(0);
                            e[20..32].fill(0);
                        }
                        e[37] = 1 + (rng.next() % 2) as u8;
                        e[52] = 0;
                        e[53] = (rng.next() % 4) as u8;
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
        let b = good();
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
        assert!(accepted > 20_000, "{accepted}");
    }
}
