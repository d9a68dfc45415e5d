//! The redistribution protocol on the wire: the UDP datagrams nodes
//! exchange to hand connections over (`include/uapi/linux/handoff.h`,
//! "Redistribution protocol").
//!
//! Every datagram is a 12-byte `struct handoff_encap_hdr` followed by
//! exactly `len` bytes of body; all multi-byte fields are big-endian:
//!
//! ```text
//! encap_hdr:  0 type  1 flags  2..4 len  4..8 conn_ref  8..12 flow_id
//! new_conn:   0 family  1 tcp_opts  2 snd_wscale  3 rcv_wscale  4..6 mss
//!             6..8 window  8..12 client_isn  12..16 local_isn
//!             16..20 ts_recent  20..24 ts_local  24..26 sport  26..28 dport
//!             28..44 saddr  44..60 daddr
//! ```
//!
//! Datagrams come from the network, so [`parse`] and [`parse_new`] treat
//! every byte as hostile: they never panic and they reject states a correct
//! origin cannot produce, so the target never builds a socket from them.
//! The encoding of an accepted `NEW` body is canonical: [`write_new`]
//! reproduces the received bytes exactly.

use super::cookie::{as_v4, v4_mapped, Tuple};
use super::packet::{put, BuildError};
use super::tcpopt::MAX_WSCALE;

/// Length of `struct handoff_encap_hdr`.
pub const ENCAP_HDR_LEN: usize = 12;
/// Length of `struct handoff_new_conn`.
pub const NEW_CONN_LEN: usize = 60;
/// Largest body the 16-bit `len` field can describe.
pub const MAX_BODY_LEN: usize = u16::MAX as usize;

/// `HANDOFF_PKT_NEW`: connection handoff, origin to target.
pub const PKT_NEW: u8 = 0x01;
/// `HANDOFF_PKT_DATA`: forwarded client packet, origin to target.
pub const PKT_DATA: u8 = 0x02;
/// `HANDOFF_PKT_MIGRATED_ACK`: handoff answer, target to origin.
pub const PKT_MIGRATED_ACK: u8 = 0x03;

/// `HANDOFF_PKT_F_REFUSED`: in a MIGRATED_ACK, the target did not take the
/// connection.
pub const F_REFUSED: u8 = 0x01;
/// `HANDOFF_PKT_F_RELAYED`: a DATA sent by a front that is not the
/// connection's origin, which took over its client route (front failover):
/// the target finds the connection by `conn_ref` and `flow_id` among those
/// it adopted from any peer.
pub const F_RELAYED: u8 = 0x02;

/// `HANDOFF_TCPOPT_SACK_PERM`: the handshake negotiated SACK.
pub const TCPOPT_SACK_PERM: u8 = 0x01;
/// `HANDOFF_TCPOPT_TIMESTAMP`: the handshake negotiated timestamps.
pub const TCPOPT_TIMESTAMP: u8 = 0x02;
/// `HANDOFF_TCPOPT_WSCALE`: the handshake negotiated window scaling.
pub const TCPOPT_WSCALE: u8 = 0x04;
/// Every defined `HANDOFF_TCPOPT_*` bit.
const TCPOPT_ALL: u8 = TCPOPT_SACK_PERM | TCPOPT_TIMESTAMP | TCPOPT_WSCALE;

/// Linux's `AF_INET`, as `handoff_new_conn.family` carries it.
pub const AF_INET: u8 = 2;
/// Linux's `AF_INET6`, as `handoff_new_conn.family` carries it.
pub const AF_INET6: u8 = 10;

/// What a DATA datagram adds to the client packet it carries when the
/// nodes talk over IPv4: outer IPv4 header (20), UDP header (8) and the
/// encapsulation header (12). The path between nodes needs this much more
/// MTU than the client path, or the datagrams get fragmented.
pub const ENCAP_OVERHEAD_V4: usize = 20 + 8 + ENCAP_HDR_LEN;
/// The same overhead when the nodes talk over IPv6 (40-byte fixed header).
pub const ENCAP_OVERHEAD_V6: usize = 40 + 8 + ENCAP_HDR_LEN;

/// Smallest MSS a NEW may carry: the IPv4 default (RFC 9293 §3.7.1). The
/// target's stack refuses smaller values, so the origin clamps to this.
pub const MIN_MSS: u16 = 536;

// Field offsets in `struct handoff_encap_hdr`.
const H_TYPE: usize = 0;
const H_FLAGS: usize = 1;
const H_LEN: usize = 2;
const H_CONN_REF: usize = 4;
const H_FLOW_ID: usize = 8;

// Field offsets in `struct handoff_new_conn`.
const N_FAMILY: usize = 0;
const N_TCP_OPTS: usize = 1;
const N_SND_WSCALE: usize = 2;
const N_RCV_WSCALE: usize = 3;
const N_MSS: usize = 4;
const N_WINDOW: usize = 6;
const N_CLIENT_ISN: usize = 8;
const N_LOCAL_ISN: usize = 12;
const N_TS_RECENT: usize = 16;
const N_TS_LOCAL: usize = 20;
const N_SPORT: usize = 24;
const N_DPORT: usize = 26;
const N_SADDR: usize = 28;
const N_DADDR: usize = 44;

/// The type of a redistribution datagram (`enum handoff_pkt_type`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum PktType {
    /// [`PKT_NEW`]: hand a connection over (origin to target).
    New,
    /// [`PKT_DATA`]: a client packet of a migrated connection (origin to
    /// target).
    Data,
    /// [`PKT_MIGRATED_ACK`]: the answer to a NEW (target to origin).
    MigratedAck,
}

impl PktType {
    /// The type of a `type` byte, or `None` for a value the UAPI does not
    /// define.
    pub const fn from_u8(v: u8) -> Option<Self> {
        match v {
            PKT_NEW => Some(PktType::New),
            PKT_DATA => Some(PktType::Data),
            PKT_MIGRATED_ACK => Some(PktType::MigratedAck),
            _ => None,
        }
    }

    /// The `type` byte of this type.
    pub const fn as_u8(self) -> u8 {
        match self {
            PktType::New => PKT_NEW,
            PktType::Data => PKT_DATA,
            PktType::MigratedAck => PKT_MIGRATED_ACK,
        }
    }
}

/// A decoded `struct handoff_encap_hdr` (without `len`, which is the
/// length of [`Datagram::body`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct EncapHdr {
    /// The datagram type.
    pub ty: PktType,
    /// `HANDOFF_PKT_F_*` bits as received, unknown ones included: the UAPI
    /// tells receivers to ignore bits they do not know, so they are kept
    /// but never acted on.
    pub flags: u8,
    /// The origin's reference of the connection; never 0 in a parsed
    /// datagram.
    pub conn_ref: u32,
    /// The target's id of the connection; 0 means "not known yet".
    pub flow_id: u32,
}

impl EncapHdr {
    /// Whether this is a MIGRATED_ACK with [`F_REFUSED`]: the target did
    /// not take the connection and the origin must reset it. The flag
    /// means nothing on other types.
    pub const fn refused(&self) -> bool {
        matches!(self.ty, PktType::MigratedAck) && self.flags & F_REFUSED != 0
    }

    /// Whether this is a DATA with [`F_RELAYED`]: sent by a front that is
    /// not the connection's origin (front failover).
    pub const fn relayed(&self) -> bool {
        matches!(self.ty, PktType::Data) && self.flags & F_RELAYED != 0
    }
}

/// Why a datagram (or a NEW body) was rejected. Each maps to a drop
/// counter through [`WireError::as_str`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum WireError {
    /// Shorter than the encapsulation header, or a NEW body shorter than
    /// `struct handoff_new_conn`.
    Truncated,
    /// A `type` the UAPI does not define.
    UnknownType,
    /// `len` claims more body bytes than the datagram holds.
    BadLength,
    /// `conn_ref` is 0, which no origin hands out.
    ZeroConnRef,
    /// A NEW whose `family` is neither `AF_INET` nor `AF_INET6`.
    BadFamily,
    /// A NEW with an address or port no real connection has (see
    /// [`parse_new`]).
    BadAddress,
    /// A NEW with undefined `tcp_opts` bits, an out-of-range window scale,
    /// or option fields filled in without their flag.
    BadOptions,
    /// A NEW whose MSS is below [`MIN_MSS`].
    BadMss,
    /// A body that does not fit the type: a MIGRATED_ACK with a body, or a
    /// DATA without one.
    BadBody,
}

impl WireError {
    /// Every error, in declaration order (for registering counters).
    pub const ALL: [WireError; 9] = [
        WireError::Truncated,
        WireError::UnknownType,
        WireError::BadLength,
        WireError::ZeroConnRef,
        WireError::BadFamily,
        WireError::BadAddress,
        WireError::BadOptions,
        WireError::BadMss,
        WireError::BadBody,
    ];

    /// A stable snake_case name, usable as a counter name.
    pub const fn as_str(self) -> &'static str {
        match self {
            WireError::Truncated => "truncated",
            WireError::UnknownType => "unknown_type",
            WireError::BadLength => "bad_length",
            WireError::ZeroConnRef => "zero_conn_ref",
            WireError::BadFamily => "bad_family",
            WireError::BadAddress => "bad_address",
            WireError::BadOptions => "bad_options",
            WireError::BadMss => "bad_mss",
            WireError::BadBody => "bad_body",
        }
    }

    /// The position of this error in [`WireError::ALL`] (a counter index).
    pub const fn index(self) -> usize {
        self as usize
    }
}

/// A parsed datagram; `body` borrows the datagram buffer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Datagram<'a> {
    /// The header.
    pub hdr: EncapHdr,
    /// Exactly `len` bytes following the header: for NEW the
    /// `struct handoff_new_conn` and the request bytes (decode it with
    /// [`parse_new`]), for DATA the client's IP packet (not checked here),
    /// for MIGRATED_ACK empty.
    pub body: &'a [u8],
}

/// `N` bytes at `off`, if the buffer has them.
fn take<const N: usize>(b: &[u8], off: usize) -> Option<[u8; N]> {
    b.get(off..)?.first_chunk::<N>().copied()
}

fn be16(b: &[u8], off: usize) -> Option<u16> {
    take::<2>(b, off).map(u16::from_be_bytes)
}

fn be32(b: &[u8], off: usize) -> Option<u32> {
    take::<4>(b, off).map(u32::from_be_bytes)
}

/// Parses a redistribution datagram (the UDP payload).
///
/// Rules, checked in this order:
/// * shorter than [`ENCAP_HDR_LEN`]: [`WireError::Truncated`];
/// * a type other than NEW, DATA, MIGRATED_ACK: [`WireError::UnknownType`];
/// * `ENCAP_HDR_LEN + len` beyond the datagram: [`WireError::BadLength`]
///   (bytes beyond it are ignored, as the UAPI says: the body is exactly
///   `len` bytes);
/// * `conn_ref` 0: [`WireError::ZeroConnRef`];
/// * a MIGRATED_ACK with a body, or a DATA without one:
///   [`WireError::BadBody`];
/// * a NEW body shorter than [`NEW_CONN_LEN`]: [`WireError::Truncated`].
///
/// Unknown flag bits are accepted and kept in [`EncapHdr::flags`]; so is a
/// non-zero `flow_id` in a NEW (the UAPI has the origin send 0, but the
/// target finds connections by source address and `conn_ref`, so the value
/// harms nothing). A NEW body is only length-checked here: [`parse_new`]
/// decodes and validates it.
pub fn parse(dgram: &[u8]) -> Result<Datagram<'_>, WireError> {
    let h: &[u8; ENCAP_HDR_LEN] = dgram.first_chunk().ok_or(WireError::Truncated)?;
    let ty = PktType::from_u8(h[H_TYPE]).ok_or(WireError::UnknownType)?;
    let len = usize::from(be16(h, H_LEN).ok_or(WireError::Truncated)?);
    // ENCAP_HDR_LEN + 65535 cannot overflow usize; checked all the same.
    let end = ENCAP_HDR_LEN.checked_add(len).ok_or(WireError::BadLength)?;
    let body = dgram.get(ENCAP_HDR_LEN..end).ok_or(WireError::BadLength)?;
    let conn_ref = be32(h, H_CONN_REF).ok_or(WireError::Truncated)?;
    if conn_ref == 0 {
        return Err(WireError::ZeroConnRef);
    }
    let flow_id = be32(h, H_FLOW_ID).ok_or(WireError::Truncated)?;
    match ty {
        PktType::MigratedAck if !body.is_empty() => return Err(WireError::BadBody),
        PktType::Data if body.is_empty() => return Err(WireError::BadBody),
        PktType::New if body.len() < NEW_CONN_LEN => return Err(WireError::Truncated),
        _ => {}
    }
    Ok(Datagram {
        hdr: EncapHdr {
            ty,
            flags: h[H_FLAGS],
            conn_ref,
            flow_id,
        },
        body,
    })
}

/// Writes the encapsulation header for a body of `body_len` bytes into
/// `out[..ENCAP_HDR_LEN]` and returns [`ENCAP_HDR_LEN`]; the caller puts
/// the body right after it (e.g. the client packet of a DATA).
///
/// `hdr.flags` is written as given: senders must clear the bits they do
/// not define. `hdr.conn_ref` must not be 0 (receivers drop such
/// datagrams). Fails with [`BuildError::TooLong`] if `body_len` exceeds
/// [`MAX_BODY_LEN`] and with [`BuildError::BufferTooSmall`] if `out` is
/// shorter than the header; nothing is written then.
pub fn write_hdr(out: &mut [u8], hdr: &EncapHdr, body_len: usize) -> Result<usize, BuildError> {
    let len = u16::try_from(body_len).map_err(|_| BuildError::TooLong)?;
    let dst: &mut [u8; ENCAP_HDR_LEN] =
        out.first_chunk_mut().ok_or(BuildError::BufferTooSmall {
            needed: ENCAP_HDR_LEN,
        })?;
    *dst = encode_hdr(hdr.ty, hdr.flags, len, hdr.conn_ref, hdr.flow_id);
    Ok(ENCAP_HDR_LEN)
}

fn encode_hdr(ty: PktType, flags: u8, len: u16, conn_ref: u32, flow_id: u32) -> [u8; 12] {
    let [l0, l1] = len.to_be_bytes();
    let [c0, c1, c2, c3] = conn_ref.to_be_bytes();
    let [f0, f1, f2, f3] = flow_id.to_be_bytes();
    [ty.as_u8(), flags, l0, l1, c0, c1, c2, c3, f0, f1, f2, f3]
}

/// The timestamp state of a handed-over connection (present when the
/// handshake negotiated timestamps).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct NewTs {
    /// `ts_recent`: the last TSval received from the client, echoed in the
    /// target's TSecr.
    pub recent: u32,
    /// `ts_local`: the TSval the origin sent in its SYN-ACK; the target
    /// keeps its own TSvals monotonic from it, or the client's PAWS check
    /// (RFC 7323 §5) would drop its segments.
    pub local: u32,
}

/// The decoded `struct handoff_new_conn`: everything the target needs to
/// build a socket equivalent to the one the origin's handshake would have
/// made.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct NewConn {
    /// The connection as the client's SYN showed it: `saddr` the client,
    /// `daddr` the service address (VIP), `sport` the client's port, `dport`
    /// the service port (host order). IPv4 addresses are v4-mapped (see
    /// [`v4_mapped`]), as everywhere in this crate.
    pub tuple: Tuple,
    /// [`TCPOPT_SACK_PERM`]: SACK was negotiated.
    pub tcp_opts_sack: bool,
    /// [`TCPOPT_WSCALE`]: `(snd_wscale, rcv_wscale)`, the client's shift
    /// (from its SYN) and the one the origin announced in the SYN-ACK; each
    /// at most 14 (RFC 7323 §2.3). `None` without window scaling.
    pub wscale: Option<(u8, u8)>,
    /// [`TCPOPT_TIMESTAMP`]: the timestamp state, or `None` without
    /// timestamps.
    pub ts: Option<NewTs>,
    /// The MSS towards the client (the smaller of the client's and the
    /// origin's), at least [`MIN_MSS`].
    pub mss: u16,
    /// The client's last advertised window, as in its TCP header
    /// (unscaled).
    pub window: u16,
    /// The client's initial sequence number (its SYN's).
    pub client_isn: u32,
    /// The origin's initial sequence number (its SYN-ACK's).
    pub local_isn: u32,
}

/// Whether an IPv4 address can be one end of a TCP connection: not
/// unspecified (0.0.0.0), not multicast (224/4), not the limited broadcast
/// (255.255.255.255). TCP is unicast only (RFC 1122 §4.2.3.10).
fn v4_unicast(a: [u8; 4]) -> bool {
    let [b0, ..] = a;
    a != [0; 4] && b0 & 0xf0 != 0xe0 && a != [0xff; 4]
}

/// Whether an IPv6 address can be one end of a TCP connection: not
/// unspecified (::) and not multicast (ff00::/8).
fn v6_unicast(a: &[u8; 16]) -> bool {
    let [b0, ..] = *a;
    *a != [0; 16] && b0 != 0xff
}

impl NewConn {
    /// Checks the rules [`parse_new`] applies that a `NewConn` can break
    /// (the others concern raw bytes a `NewConn` cannot express), in order:
    /// * both addresses v4-mapped or neither, each unicast: not unspecified,
    ///   not multicast (224/4, ff00::/8), not 255.255.255.255
    ///   ([`WireError::BadAddress`]);
    /// * both ports non-zero ([`WireError::BadAddress`]);
    /// * window-scale shifts at most 14 ([`WireError::BadOptions`]);
    /// * MSS at least [`MIN_MSS`] ([`WireError::BadMss`]).
    ///
    /// [`write_new`] refuses a `NewConn` that fails it, so the origin never
    /// sends what every target rejects.
    pub fn check(&self) -> Result<(), WireError> {
        let t = &self.tuple;
        let addrs_ok = match (as_v4(&t.saddr), as_v4(&t.daddr)) {
            (Some(s), Some(d)) => v4_unicast(s) && v4_unicast(d),
            (None, None) => v6_unicast(&t.saddr) && v6_unicast(&t.daddr),
            _ => false,
        };
        if !addrs_ok || t.sport == 0 || t.dport == 0 {
            return Err(WireError::BadAddress);
        }
        if let Some((snd, rcv)) = self.wscale {
            if snd > MAX_WSCALE || rcv > MAX_WSCALE {
                return Err(WireError::BadOptions);
            }
        }
        if self.mss < MIN_MSS {
            return Err(WireError::BadMss);
        }
        Ok(())
    }
}

/// An address field of an `AF_INET` NEW: the IPv4 address in the first
/// four bytes, the other twelve zero (anything else is not what an origin
/// writes), returned v4-mapped.
fn unpad_v4(raw: [u8; 16]) -> Result<[u8; 16], WireError> {
    match raw {
        [a, b, c, d, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0] => Ok(v4_mapped([a, b, c, d])),
        _ => Err(WireError::BadAddress),
    }
}

/// Decodes and validates a NEW body; returns the connection and the
/// request bytes (`body[NEW_CONN_LEN..]`, possibly empty).
///
/// Every state a correct origin cannot send is rejected, so the target
/// never builds a socket from it:
/// * shorter than [`NEW_CONN_LEN`]: [`WireError::Truncated`];
/// * `family` neither [`AF_INET`] nor [`AF_INET6`]: [`WireError::BadFamily`];
/// * `AF_INET` with a non-zero byte after the first four of `saddr` or
///   `daddr` ([`WireError::BadAddress`]): the UAPI layout leaves them zero;
/// * `AF_INET6` with a v4-mapped address ([`WireError::BadAddress`]): it
///   must not appear on the wire (RFC 4291 §2.5.5.2) and would alias an
///   IPv4 tuple here;
/// * `tcp_opts` bits other than [`TCPOPT_SACK_PERM`], [`TCPOPT_TIMESTAMP`],
///   [`TCPOPT_WSCALE`] ([`WireError::BadOptions`]): an option the target
///   does not know cannot be reproduced, so the socket would differ from
///   the one the client negotiated with;
/// * without [`TCPOPT_WSCALE`], non-zero `snd_wscale` or `rcv_wscale`;
///   without [`TCPOPT_TIMESTAMP`], non-zero `ts_recent` or `ts_local`
///   ([`WireError::BadOptions`]): the origin clears fields it does not use,
///   so such a NEW is corrupt or forged;
/// * then [`NewConn::check`]: unspecified, multicast or broadcast
///   addresses and zero ports ([`WireError::BadAddress`]), a window scale
///   above 14 ([`WireError::BadOptions`]), an MSS below [`MIN_MSS`]
///   ([`WireError::BadMss`], the target's stack refuses it; the origin
///   clamps to it).
///
/// The window, both ISNs and, with the flag, both timestamps may take any
/// value. When several rules fail, the first in this order is reported.
pub fn parse_new(body: &[u8]) -> Result<(NewConn, &[u8]), WireError> {
    let h: &[u8; NEW_CONN_LEN] = body.first_chunk().ok_or(WireError::Truncated)?;
    let request = body.get(NEW_CONN_LEN..).ok_or(WireError::Truncated)?;
    let saddr = take::<16>(h, N_SADDR).ok_or(WireError::Truncated)?;
    let daddr = take::<16>(h, N_DADDR).ok_or(WireError::Truncated)?;
    let (saddr, daddr) = match h[N_FAMILY] {
        AF_INET => (unpad_v4(saddr)?, unpad_v4(daddr)?),
        AF_INET6 => {
            if as_v4(&saddr).is_some() || as_v4(&daddr).is_some() {
                return Err(WireError::BadAddress);
            }
            (saddr, daddr)
        }
        _ => return Err(WireError::BadFamily),
    };
    let opts = h[N_TCP_OPTS];
    if opts & !TCPOPT_ALL != 0 {
        return Err(WireError::BadOptions);
    }
    let (snd_ws, rcv_ws) = (h[N_SND_WSCALE], h[N_RCV_WSCALE]);
    let wscale = if opts & TCPOPT_WSCALE != 0 {
        Some((snd_ws, rcv_ws))
    } else if snd_ws != 0 || rcv_ws != 0 {
        return Err(WireError::BadOptions);
    } else {
        None
    };
    let recent = be32(h, N_TS_RECENT).ok_or(WireError::Truncated)?;
    let local = be32(h, N_TS_LOCAL).ok_or(WireError::Truncated)?;
    let ts = if opts & TCPOPT_TIMESTAMP != 0 {
        Some(NewTs { recent, local })
    } else if recent != 0 || local != 0 {
        return Err(WireError::BadOptions);
    } else {
        None
    };
    let nc = NewConn {
        tuple: Tuple {
            saddr,
            daddr,
            sport: be16(h, N_SPORT).ok_or(WireError::Truncated)?,
            dport: be16(h, N_DPORT).ok_or(WireError::Truncated)?,
        },
        tcp_opts_sack: opts & TCPOPT_SACK_PERM != 0,
        wscale,
        ts,
        mss: be16(h, N_MSS).ok_or(WireError::Truncated)?,
        window: be16(h, N_WINDOW).ok_or(WireError::Truncated)?,
        client_isn: be32(h, N_CLIENT_ISN).ok_or(WireError::Truncated)?,
        local_isn: be32(h, N_LOCAL_ISN).ok_or(WireError::Truncated)?,
    };
    nc.check()?;
    Ok((nc, request))
}

/// The 60 bytes of `struct handoff_new_conn` for `nc`, after
/// [`NewConn::check`] (its address errors as [`BuildError::BadAddress`],
/// the others as [`BuildError::BadOptions`]).
fn encode_new(nc: &NewConn) -> Result<[u8; NEW_CONN_LEN], BuildError> {
    nc.check().map_err(|e| match e {
        WireError::BadAddress | WireError::BadFamily => BuildError::BadAddress,
        _ => BuildError::BadOptions,
    })?;
    let t = &nc.tuple;
    let mut saddr = [0u8; 16];
    let mut daddr = [0u8; 16];
    let family = match (as_v4(&t.saddr), as_v4(&t.daddr)) {
        (Some(s), Some(d)) => {
            put(&mut saddr, 0, &s)?;
            put(&mut daddr, 0, &d)?;
            AF_INET
        }
        (None, None) => {
            saddr = t.saddr;
            daddr = t.daddr;
            AF_INET6
        }
        // Already refused by `check`; kept for exhaustiveness.
        _ => return Err(BuildError::BadAddress),
    };
    let mut opts = 0u8;
    if nc.tcp_opts_sack {
        opts |= TCPOPT_SACK_PERM;
    }
    let (snd_ws, rcv_ws) = match nc.wscale {
        Some(w) => {
            opts |= TCPOPT_WSCALE;
            w
        }
        None => (0, 0),
    };
    let ts = match nc.ts {
        Some(ts) => {
            opts |= TCPOPT_TIMESTAMP;
            ts
        }
        None => NewTs {
            recent: 0,
            local: 0,
        },
    };
    let mut b = [0u8; NEW_CONN_LEN];
    put(&mut b, N_FAMILY, &[family, opts, snd_ws, rcv_ws])?;
    put(&mut b, N_MSS, &nc.mss.to_be_bytes())?;
    put(&mut b, N_WINDOW, &nc.window.to_be_bytes())?;
    put(&mut b, N_CLIENT_ISN, &nc.client_isn.to_be_bytes())?;
    put(&mut b, N_LOCAL_ISN, &nc.local_isn.to_be_bytes())?;
    put(&mut b, N_TS_RECENT, &ts.recent.to_be_bytes())?;
    put(&mut b, N_TS_LOCAL, &ts.local.to_be_bytes())?;
    put(&mut b, N_SPORT, &t.sport.to_be_bytes())?;
    put(&mut b, N_DPORT, &t.dport.to_be_bytes())?;
    put(&mut b, N_SADDR, &saddr)?;
    put(&mut b, N_DADDR, &daddr)?;
    Ok(b)
}

/// The NEW body length for `request_len` request bytes, if `len` can
/// describe it.
fn new_body_len(request_len: usize) -> Result<usize, BuildError> {
    match NEW_CONN_LEN.checked_add(request_len) {
        Some(n) if n <= MAX_BODY_LEN => Ok(n),
        _ => Err(BuildError::TooLong),
    }
}

/// Writes a NEW body, `struct handoff_new_conn` followed by `request`, into
/// `out` (no encapsulation header; see [`new_datagram`]) and returns its
/// length, `NEW_CONN_LEN + request.len()`.
///
/// The family follows the tuple: both addresses v4-mapped give `AF_INET`
/// with the IPv4 address in the first four bytes and the rest zero,
/// neither gives `AF_INET6`. Option fields without their flag are written
/// as zero. The output parses back with [`parse_new`] to the same
/// `NewConn` and request.
///
/// Errors, nothing written: a `NewConn` that fails [`NewConn::check`]
/// ([`BuildError::BadAddress`] for its address and port rules, mixed
/// families included, [`BuildError::BadOptions`] for a window scale above
/// 14 or an MSS below [`MIN_MSS`]); a body longer than [`MAX_BODY_LEN`]
/// ([`BuildError::TooLong`]); `out` too short
/// ([`BuildError::BufferTooSmall`]).
pub fn write_new(out: &mut [u8], nc: &NewConn, request: &[u8]) -> Result<usize, BuildError> {
    let enc = encode_new(nc)?;
    let len = new_body_len(request.len())?;
    if out.len() < len {
        return Err(BuildError::BufferTooSmall { needed: len });
    }
    put(out, 0, &enc)?;
    put(out, NEW_CONN_LEN, request)?;
    Ok(len)
}

/// Writes a complete NEW datagram (header and body) into `out` and returns
/// its length, `ENCAP_HDR_LEN + NEW_CONN_LEN + request.len()`.
///
/// The header has type NEW, flags 0, `flow_id` 0 (the target has not
/// chosen one yet) and the origin's `conn_ref`, which must not be 0
/// (receivers drop such datagrams). Errors as [`write_new`], with
/// `needed` counting the header.
pub fn new_datagram(
    out: &mut [u8],
    conn_ref: u32,
    nc: &NewConn,
    request: &[u8],
) -> Result<usize, BuildError> {
    let enc = encode_new(nc)?;
    let body_len = new_body_len(request.len())?;
    let total = ENCAP_HDR_LEN
        .checked_add(body_len)
        .ok_or(BuildError::TooLong)?;
    if out.len() < total {
        return Err(BuildError::BufferTooSmall { needed: total });
    }
    let len = u16::try_from(body_len).map_err(|_| BuildError::TooLong)?;
    put(out, 0, &encode_hdr(PktType::New, 0, len, conn_ref, 0))?;
    put(out, ENCAP_HDR_LEN, &enc)?;
    put(out, ENCAP_HDR_LEN + NEW_CONN_LEN, request)?;
    Ok(total)
}

/// Writes a MIGRATED_ACK (a header without body) and returns its length,
/// [`ENCAP_HDR_LEN`].
///
/// `conn_ref` echoes the NEW's. Accepted: `flow_id` is the target's id of
/// the connection. Refused: [`F_REFUSED`] is set and `flow_id` is written
/// as 0 whatever is passed, as the UAPI requires.
pub fn ack_datagram(
    out: &mut [u8; ENCAP_HDR_LEN],
    conn_ref: u32,
    flow_id: u32,
    refused: bool,
) -> usize {
    *out = if refused {
        encode_hdr(PktType::MigratedAck, F_REFUSED, 0, conn_ref, 0)
    } else {
        encode_hdr(PktType::MigratedAck, 0, 0, conn_ref, flow_id)
    };
    ENCAP_HDR_LEN
}

#[cfg(test)]
mod tests {
    use super::*;

    const V6_CLIENT: [u8; 16] = [0x20, 1, 0xd, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1];
    const V6_VIP: [u8; 16] = [0x20, 1, 0xd, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x80];

    fn nc_v4() -> NewConn {
        NewConn {
            tuple: Tuple {
                saddr: v4_mapped([192, 0, 2, 1]),
                daddr: v4_mapped([198, 51, 100, 7]),
                sport: 40000,
                dport: 80,
            },
            tcp_opts_sack: true,
            wscale: Some((7, 9)),
            ts: Some(NewTs {
                recent: 0x0102_0304,
                local: 0xfffe_fdfc,
            }),
            mss: 1460,
            window: 64240,
            client_isn: 0xdead_beef,
            local_isn: 0x8000_0001,
        }
    }

    fn nc_v6() -> NewConn {
        NewConn {
            tuple: Tuple {
                saddr: V6_CLIENT,
                daddr: V6_VIP,
                sport: 1,
                dport: 443,
            },
            tcp_opts_sack: false,
            wscale: None,
            ts: None,
            mss: 1220,
            window: 0,
            client_isn: 0,
            local_isn: u32::MAX,
        }
    }

    const REQ: &[u8] = b"GET / HTTP/1.1\r\nHost: x\r\n\r\n";

    fn body(nc: &NewConn, req: &[u8]) -> ([u8; 256], usize) {
        let mut b = [0u8; 256];
        let n = write_new(&mut b, nc, req).unwrap();
        (b, n)
    }

    fn dgram(conn_ref: u32, nc: &NewConn, req: &[u8]) -> ([u8; 256], usize) {
        let mut b = [0u8; 256];
        let n = new_datagram(&mut b, conn_ref, nc, req).unwrap();
        (b, n)
    }

    #[test]
    fn constants_match_uapi() {
        assert_eq!(ENCAP_OVERHEAD_V4, 40);
        assert_eq!(ENCAP_OVERHEAD_V6, 60);
        assert_eq!(TCPOPT_ALL, 7);
        for (v, t) in [
            (1u8, PktType::New),
            (2, PktType::Data),
            (3, PktType::MigratedAck),
        ] {
            assert_eq!(PktType::from_u8(v), Some(t));
            assert_eq!(t.as_u8(), v);
        }
        for v in [0u8, 4, 0x81, 0xff] {
            assert_eq!(PktType::from_u8(v), None);
        }
        for (i, e) in WireError::ALL.iter().enumerate() {
            assert_eq!(e.index(), i);
            assert!(!e.as_str().is_empty());
            for other in &WireError::ALL[..i] {
                assert_ne!(e.as_str(), other.as_str());
            }
        }
    }

    #[test]
    fn v4_layout() {
        let (b, n) = body(&nc_v4(), b"");
        assert_eq!(n, 60);
        let expect: [u8; 60] = [
            2, 7, 7, 9, 0x05, 0xb4, 0xfa, 0xf0, 0xde, 0xad, 0xbe, 0xef, 0x80, 0, 0, 1, 1, 2, 3, 4,
            0xff, 0xfe, 0xfd, 0xfc, 0x9c, 0x40, 0, 80, 192, 0, 2, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
            0, 0, 198, 51, 100, 7, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
        ];
        assert_eq!(b[..60], expect);
    }

    #[test]
    fn v6_layout_and_datagram_header() {
        let (b, n) = dgram(0x0a0b_0c0d, &nc_v6(), b"xy");
        assert_eq!(n, 12 + 60 + 2);
        assert_eq!(b[..12], [1, 0, 0, 62, 0x0a, 0x0b, 0x0c, 0x0d, 0, 0, 0, 0]);
        let nb = &b[12..n];
        assert_eq!(nb[..4], [10, 0, 0, 0]);
        assert_eq!(nb[16..24], [0; 8]);
        assert_eq!(nb[24..28], [0, 1, 1, 0xbb]);
        assert_eq!(nb[28..44], V6_CLIENT);
        assert_eq!(nb[44..60], V6_VIP);
        assert_eq!(&nb[60..], b"xy");
    }

    #[test]
    fn new_round_trip() {
        let mut variants = [nc_v4(), nc_v6(), nc_v4(), nc_v6()];
        variants[2].wscale = Some((0, 0));
        variants[2].ts = Some(NewTs {
            recent: 0,
            local: 0,
        });
        variants[2].tcp_opts_sack = false;
        variants[3].wscale = Some((14, 14));
        variants[3].tcp_opts_sack = true;
        variants[3].mss = u16::MAX;
        for nc in variants {
            for req in [&b""[..], REQ] {
                let (b, n) = body(&nc, req);
                assert_eq!(n, 60 + req.len());
                assert_eq!(parse_new(&b[..n]), Ok((nc, req)));

                let (d, dn) = dgram(77, &nc, req);
                let p = parse(&d[..dn]).unwrap();
                assert_eq!(
                    p.hdr,
                    EncapHdr {
                        ty: PktType::New,
                        flags: 0,
                        conn_ref: 77,
                        flow_id: 0,
                    }
                );
                assert_eq!(p.body, &b[..n]);
                assert_eq!(parse_new(p.body), Ok((nc, req)));
            }
        }
    }

    #[test]
    fn hdr_round_trip() {
        for (ty, flags, body_len) in [
            (PktType::Data, 0u8, 1usize),
            (PktType::Data, 0xfe, 1500),
            (PktType::MigratedAck, F_REFUSED, 0),
            (PktType::MigratedAck, 0x80, 0),
        ] {
            let hdr = EncapHdr {
                ty,
                flags,
                conn_ref: 0xffff_ffff,
                flow_id: 0x1234_5678,
            };
            let mut b = [0xaau8; 1600];
            assert_eq!(write_hdr(&mut b, &hdr, body_len), Ok(12));
            let p = parse(&b[..12 + body_len]).unwrap();
            assert_eq!(p.hdr, hdr);
            assert_eq!(p.body.len(), body_len);
            assert_eq!(
                p.hdr.refused(),
                ty == PktType::MigratedAck && flags & 1 != 0
            );
        }
        let hdr = EncapHdr {
            ty: PktType::Data,
            flags: 0,
            conn_ref: 1,
            flow_id: 0,
        };
        let mut b = [0u8; 12];
        assert_eq!(
            write_hdr(&mut b, &hdr, MAX_BODY_LEN + 1),
            Err(BuildError::TooLong)
        );
        assert_eq!(write_hdr(&mut b, &hdr, MAX_BODY_LEN), Ok(12));
        assert_eq!(b[2..4], [0xff, 0xff]);
        assert_eq!(
            write_hdr(&mut b[..11], &hdr, 1),
            Err(BuildError::BufferTooSmall { needed: 12 })
        );
        // The flag means nothing outside MIGRATED_ACK.
        let data = EncapHdr {
            flags: F_REFUSED,
            ..hdr
        };
        assert!(!data.refused());
    }

    #[test]
    fn ack_datagrams() {
        let mut b = [0u8; ENCAP_HDR_LEN];
        assert_eq!(ack_datagram(&mut b, 5, 9, false), 12);
        assert_eq!(b, [3, 0, 0, 0, 0, 0, 0, 5, 0, 0, 0, 9]);
        let p = parse(&b).unwrap();
        assert_eq!(p.hdr.ty, PktType::MigratedAck);
        assert!(!p.hdr.refused());
        assert_eq!((p.hdr.conn_ref, p.hdr.flow_id), (5, 9));
        assert!(p.body.is_empty());
        // Refused: the flow id is forced to 0.
        assert_eq!(ack_datagram(&mut b, 5, 9, true), 12);
        assert_eq!(b, [3, 1, 0, 0, 0, 0, 0, 5, 0, 0, 0, 0]);
        let p = parse(&b).unwrap();
        assert!(p.hdr.refused());
        assert_eq!(p.hdr.flow_id, 0);
    }

    #[test]
    fn header_rules() {
        assert_eq!(parse(&[]), Err(WireError::Truncated));
        let mut ack = [0u8; 12];
        ack_datagram(&mut ack, 1, 2, false);
        for cut in 0..12 {
            assert_eq!(parse(&ack[..cut]), Err(WireError::Truncated));
        }
        // Unknown types, checked before the length.
        for t in [0u8, 4, 0x10, 0xff] {
            let mut x = ack;
            x[0] = t;
            x[2] = 0xff;
            assert_eq!(parse(&x), Err(WireError::UnknownType), "type {t}");
        }
        // len beyond the datagram.
        let mut x = ack;
        x[3] = 1;
        assert_eq!(parse(&x), Err(WireError::BadLength));
        // Zero conn_ref, checked after the length.
        let mut x = ack;
        x[7] = 0;
        assert_eq!(parse(&x), Err(WireError::ZeroConnRef));
        x[3] = 1;
        assert_eq!(parse(&x), Err(WireError::BadLength));
        // MIGRATED_ACK with a body.
        let mut x = [0u8; 13];
        x[..12].copy_from_slice(&ack);
        x[3] = 1;
        assert_eq!(parse(&x), Err(WireError::BadBody));
        // DATA without a body, then with one.
        let mut x = ack;
        x[0] = PKT_DATA;
        assert_eq!(parse(&x), Err(WireError::BadBody));
        let mut y = [0x45u8; 13];
        y[..12].copy_from_slice(&x);
        y[3] = 1;
        assert_eq!(parse(&y).unwrap().body, &[0x45]);
        // NEW with a body shorter than handoff_new_conn.
        let (d, n) = dgram(1, &nc_v4(), b"");
        for len in 0..60u16 {
            let mut x = d;
            x[2..4].copy_from_slice(&len.to_be_bytes());
            assert_eq!(parse(&x[..n]), Err(WireError::Truncated), "len {len}");
        }
        assert!(parse(&d[..n]).is_ok());
    }

    #[test]
    fn trailing_bytes_ignored() {
        let (d, n) = dgram(3, &nc_v4(), REQ);
        let mut x = [0x5au8; 300];
        x[..n].copy_from_slice(&d[..n]);
        let p = parse(&x).unwrap();
        assert_eq!(p.body.len(), 60 + REQ.len());
        assert_eq!(parse_new(p.body).unwrap().1, REQ);
        // Unknown flags are kept, not rejected.
        x[1] = 0xff;
        assert_eq!(parse(&x).unwrap().hdr.flags, 0xff);
        // A NEW with a non-zero flow_id is accepted as it is.
        x[11] = 1;
        assert_eq!(parse(&x).unwrap().hdr.flow_id, 1);
    }

    /// A valid body as bytes, to break one rule at a time.
    fn raw(nc: &NewConn) -> [u8; 60] {
        let (b, n) = body(nc, b"");
        assert_eq!(n, 60);
        b[..60].try_into().unwrap()
    }

    fn reject(b: &[u8; 60], e: WireError) {
        assert_eq!(parse_new(b).map(|(nc, _)| nc), Err(e), "{b:?}");
    }

    #[test]
    fn new_truncated() {
        let (b, n) = body(&nc_v4(), b"");
        for cut in 0..n {
            assert_eq!(parse_new(&b[..cut]), Err(WireError::Truncated));
        }
    }

    #[test]
    fn new_bad_family() {
        for f in [0u8, 1, 3, 6, 9, 11, 28, 0xff] {
            let mut b = raw(&nc_v4());
            b[0] = f;
            reject(&b, WireError::BadFamily);
        }
        // The v4 layout under AF_INET6: a v6 address 192.0.2.1::, valid.
        let mut b = raw(&nc_v4());
        b[0] = AF_INET6;
        let (nc, _) = parse_new(&b).unwrap();
        assert!(!nc.tuple.is_v4());
        assert_eq!(nc.tuple.saddr[..4], [192, 0, 2, 1]);
    }

    #[test]
    fn new_v4_padding() {
        for field in [28usize, 44] {
            for i in 4..16 {
                let mut b = raw(&nc_v4());
                b[field + i] = 1;
                reject(&b, WireError::BadAddress);
            }
            // Even the v4-mapped form is not the UAPI's layout.
            let mut b = raw(&nc_v4());
            b[field + 10] = 0xff;
            b[field + 11] = 0xff;
            reject(&b, WireError::BadAddress);
        }
    }

    #[test]
    fn new_v6_mapped() {
        for field in [28usize, 44] {
            let mut b = raw(&nc_v6());
            b[field..field + 16].copy_from_slice(&v4_mapped([10, 0, 0, 1]));
            reject(&b, WireError::BadAddress);
        }
    }

    #[test]
    fn new_unspecified_multicast_broadcast() {
        for bad in [
            [0u8, 0, 0, 0],
            [224, 0, 0, 1],
            [239, 255, 255, 250],
            [255, 255, 255, 255],
        ] {
            for field in [28usize, 44] {
                let mut b = raw(&nc_v4());
                b[field..field + 4].copy_from_slice(&bad);
                reject(&b, WireError::BadAddress);
            }
        }
        // Neighbours of the excluded ranges are fine.
        for ok in [[223u8, 255, 255, 255], [240, 0, 0, 1], [0, 0, 0, 1]] {
            let mut b = raw(&nc_v4());
            b[28..32].copy_from_slice(&ok);
            assert!(parse_new(&b).is_ok(), "{ok:?}");
        }
        let mut mcast6 = [0u8; 16];
        mcast6[0] = 0xff;
        mcast6[1] = 0x02;
        mcast6[15] = 1;
        for bad in [[0u8; 16], mcast6] {
            for field in [28usize, 44] {
                let mut b = raw(&nc_v6());
                b[field..field + 16].copy_from_slice(&bad);
                reject(&b, WireError::BadAddress);
            }
        }
        let mut ok = [0u8; 16];
        ok[0] = 0xfe;
        ok[1] = 0x80;
        ok[15] = 1;
        let mut b = raw(&nc_v6());
        b[28..44].copy_from_slice(&ok);
        assert!(parse_new(&b).is_ok());
    }

    #[test]
    fn new_zero_ports() {
        for nc in [nc_v4(), nc_v6()] {
            for off in [24usize, 26] {
                let mut b = raw(&nc);
                b[off] = 0;
                b[off + 1] = 0;
                reject(&b, WireError::BadAddress);
            }
        }
    }

    #[test]
    fn new_unknown_option_bits() {
        for bit in 3..8 {
            let mut b = raw(&nc_v4());
            b[1] |= 1 << bit;
            reject(&b, WireError::BadOptions);
        }
    }

    #[test]
    fn new_wscale_range() {
        for (snd, rcv) in [(15u8, 0u8), (0, 15), (255, 7), (7, 255)] {
            let mut b = raw(&nc_v4());
            b[2] = snd;
            b[3] = rcv;
            reject(&b, WireError::BadOptions);
        }
        let mut b = raw(&nc_v4());
        b[2] = 14;
        b[3] = 0;
        assert_eq!(parse_new(&b).unwrap().0.wscale, Some((14, 0)));
    }

    #[test]
    fn new_wscale_without_flag() {
        let mut nc = nc_v4();
        nc.wscale = None;
        let b0 = raw(&nc);
        assert_eq!(b0[1] & TCPOPT_WSCALE, 0);
        assert_eq!(b0[2..4], [0, 0]);
        for (snd, rcv) in [(1u8, 0u8), (0, 1), (14, 14)] {
            let mut b = b0;
            b[2] = snd;
            b[3] = rcv;
            reject(&b, WireError::BadOptions);
        }
    }

    #[test]
    fn new_timestamps_without_flag() {
        let mut nc = nc_v6();
        nc.ts = None;
        let b0 = raw(&nc);
        for off in 16..24 {
            let mut b = b0;
            b[off] = 0x80;
            reject(&b, WireError::BadOptions);
        }
        // With the flag any value goes, zero included.
        let mut b = b0;
        b[1] |= TCPOPT_TIMESTAMP;
        assert_eq!(
            parse_new(&b).unwrap().0.ts,
            Some(NewTs {
                recent: 0,
                local: 0
            })
        );
    }

    #[test]
    fn new_small_mss() {
        for mss in [0u16, 1, 535] {
            let mut b = raw(&nc_v4());
            b[4..6].copy_from_slice(&mss.to_be_bytes());
            reject(&b, WireError::BadMss);
        }
        let mut b = raw(&nc_v4());
        b[4..6].copy_from_slice(&536u16.to_be_bytes());
        assert_eq!(parse_new(&b).unwrap().0.mss, 536);
    }

    #[test]
    fn write_refuses_what_parse_rejects() {
        let mut out = [0u8; 256];
        let mut mixed = nc_v4();
        mixed.tuple.daddr = V6_VIP;
        let mut bcast = nc_v4();
        bcast.tuple.saddr = v4_mapped([255; 4]);
        let mut mcast = nc_v6();
        mcast.tuple.daddr[0] = 0xff;
        let mut port = nc_v6();
        port.tuple.sport = 0;
        for nc in [mixed, bcast, mcast, port] {
            assert_eq!(write_new(&mut out, &nc, b""), Err(BuildError::BadAddress));
            assert_eq!(
                new_datagram(&mut out, 1, &nc, b""),
                Err(BuildError::BadAddress)
            );
        }
        let mut ws = nc_v4();
        ws.wscale = Some((15, 0));
        let mut mss = nc_v4();
        mss.mss = 535;
        for nc in [ws, mss] {
            assert_eq!(write_new(&mut out, &nc, b""), Err(BuildError::BadOptions));
            assert_eq!(
                new_datagram(&mut out, 1, &nc, b""),
                Err(BuildError::BadOptions)
            );
        }
        assert_eq!(mixed.check(), Err(WireError::BadAddress));
        assert_eq!(ws.check(), Err(WireError::BadOptions));
        assert_eq!(mss.check(), Err(WireError::BadMss));
        assert_eq!(nc_v4().check(), Ok(()));
    }

    #[test]
    fn write_sizes() {
        let nc = nc_v4();
        // The longest body `len` can describe, and one byte more.
        let big = [7u8; MAX_BODY_LEN];
        let mut out = [0u8; MAX_BODY_LEN + ENCAP_HDR_LEN];
        let max_req = &big[..MAX_BODY_LEN - 60];
        assert_eq!(write_new(&mut out, &nc, max_req), Ok(MAX_BODY_LEN));
        assert_eq!(parse_new(&out[..MAX_BODY_LEN]).unwrap().1, max_req);
        assert_eq!(
            new_datagram(&mut out, 9, &nc, max_req),
            Ok(MAX_BODY_LEN + 12)
        );
        let p = parse(&out).unwrap();
        assert_eq!(p.body.len(), MAX_BODY_LEN);
        let too_big = &big[..MAX_BODY_LEN - 59];
        assert_eq!(write_new(&mut out, &nc, too_big), Err(BuildError::TooLong));
        assert_eq!(
            new_datagram(&mut out, 9, &nc, too_big),
            Err(BuildError::TooLong)
        );
        // Every short buffer fails cleanly, leaving it untouched.
        let (d, n) = dgram(9, &nc, REQ);
        for cap in 0..n {
            let mut small = [0xeeu8; 256];
            assert_eq!(
                new_datagram(&mut small[..cap], 9, &nc, REQ),
                Err(BuildError::BufferTooSmall { needed: n })
            );
            assert!(small.iter().all(|&b| b == 0xee));
            if cap < n - 12 {
                assert_eq!(
                    write_new(&mut small[..cap], &nc, REQ),
                    Err(BuildError::BufferTooSmall { needed: n - 12 })
                );
                assert!(small.iter().all(|&b| b == 0xee));
            }
        }
        let mut exact = [0u8; 256];
        assert_eq!(new_datagram(&mut exact[..n], 9, &nc, REQ), Ok(n));
        assert_eq!(exact[..n], d[..n]);
    }

    /// What the module relies on for an accepted datagram, and the round
    /// trip of an accepted NEW; returns whether a NEW body was accepted.
    fn check_accepted(data: &[u8]) -> bool {
        let Ok(p) = parse(data) else {
            return false;
        };
        assert_ne!(p.hdr.conn_ref, 0);
        let len = usize::from(u16::from_be_bytes([data[2], data[3]]));
        assert_eq!(p.body, &data[12..12 + len]);
        let mut h = [0u8; 12];
        write_hdr(&mut h, &p.hdr, p.body.len()).unwrap();
        assert_eq!(h, data[..12]);
        if p.hdr.ty != PktType::New {
            return false;
        }
        let Ok((nc, req)) = parse_new(p.body) else {
            return false;
        };
        assert_eq!(req, &p.body[60..]);
        let mut out = [0u8; 512];
        let n = write_new(&mut out, &nc, req).unwrap();
        // Canonical encoding: the very same bytes.
        assert_eq!(out[..n], *p.body);
        let n = new_datagram(&mut out, p.hdr.conn_ref, &nc, req).unwrap();
        let q = parse(&out[..n]).unwrap();
        assert_eq!(q.hdr.conn_ref, p.hdr.conn_ref);
        assert_eq!(parse_new(q.body), Ok((nc, req)));
        true
    }

    #[test]
    fn every_value_at_every_offset() {
        let mut seeds: std::vec::Vec<([u8; 256], usize)> = std::vec::Vec::new();
        seeds.push(dgram(0x0102_0304, &nc_v4(), REQ));
        seeds.push(dgram(1, &nc_v6(), b"x"));
        let mut d = [0u8; 256];
        let n = write_hdr(
            &mut d,
            &EncapHdr {
                ty: PktType::Data,
                flags: 0,
                conn_ref: 8,
                flow_id: 9,
            },
            3,
        )
        .unwrap();
        d[n..n + 3].copy_from_slice(&[0x45, 0, 0]);
        seeds.push((d, n + 3));
        let mut a = [0u8; 256];
        let n = ack_datagram((&mut a[..12]).try_into().unwrap(), 1, 2, true);
        seeds.push((a, n));
        let mut accepted_new = 0;
        for (seed, n) in seeds {
            assert!(parse(&seed[..n]).is_ok());
            for cut in 0..=n {
                let _ = check_accepted(&seed[..cut]);
            }
            for off in 0..n {
                for v in 0..=255u8 {
                    let mut x = seed;
                    x[off] = v;
                    if check_accepted(&x[..n]) {
                        accepted_new += 1;
                    }
                }
            }
        }
        assert!(accepted_new > 1000, "{accepted_new}");
    }
}
