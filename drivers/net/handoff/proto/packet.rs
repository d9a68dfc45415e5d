//! Bounds-checked IPv4/IPv6 + TCP parsing, Internet checksums, and
//! builders for the segments handoff sends itself (SYN-ACK, RST).
//!
//! Everything works on byte slices starting at the network header. Parsing
//! never panics: each failure is a [`ParseError`]. Builders write into a
//! caller's buffer and fail with [`BuildError`] if it is too small.

use core::ops::BitOr;

use super::cookie::{as_v4, Tuple};
use super::tcpopt::MAX_OPTIONS_LEN;

/// IP protocol number of TCP.
pub const PROTO_TCP: u8 = 6;
/// Length of an IPv4 header without options.
pub const IPV4_HDR_LEN: usize = 20;
/// Length of the fixed IPv6 header.
pub const IPV6_HDR_LEN: usize = 40;
/// Length of a TCP header without options.
pub const TCP_HDR_LEN: usize = 20;
/// TTL / hop limit of the segments we build (Linux's default).
pub const DEFAULT_TTL: u8 = 64;

/// The network-layer protocol of a packet.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum IpVersion {
    /// IPv4.
    V4,
    /// IPv6.
    V6,
}

/// Why a packet was not accepted as a TCP segment.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ParseError {
    /// The buffer ends inside a header.
    Truncated,
    /// The IP version field is neither 4 nor 6.
    BadVersion,
    /// IPv4 header length (IHL) below 5 words.
    BadHeaderLen,
    /// IPv4 total length larger than the buffer or smaller than the header,
    /// or IPv6 payload length larger than the buffer.
    BadTotalLen,
    /// An IPv4 fragment (MF set or non-zero offset).
    Fragment,
    /// Not TCP.
    NotTcp,
    /// IPv6 with an extension header before (possibly) TCP: not handled.
    Unsupported,
    /// An IPv6 packet with a v4-mapped source or destination, which must not
    /// appear on the wire (RFC 4291 §2.5.5.2; Linux drops such SYNs too).
    BadAddress,
    /// TCP data offset below 5 words or beyond the segment.
    BadDataOffset,
}

/// The eight TCP flag bits of header byte 13.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct TcpFlags(pub u8);

impl TcpFlags {
    /// No more data from sender.
    pub const FIN: TcpFlags = TcpFlags(0x01);
    /// Synchronize sequence numbers.
    pub const SYN: TcpFlags = TcpFlags(0x02);
    /// Reset the connection.
    pub const RST: TcpFlags = TcpFlags(0x04);
    /// Push function.
    pub const PSH: TcpFlags = TcpFlags(0x08);
    /// Acknowledgment field is significant.
    pub const ACK: TcpFlags = TcpFlags(0x10);
    /// Urgent pointer field is significant.
    pub const URG: TcpFlags = TcpFlags(0x20);
    /// ECN-Echo (RFC 3168).
    pub const ECE: TcpFlags = TcpFlags(0x40);
    /// Congestion Window Reduced (RFC 3168).
    pub const CWR: TcpFlags = TcpFlags(0x80);

    /// Whether every flag of `other` is set.
    pub const fn contains(self, other: TcpFlags) -> bool {
        self.0 & other.0 == other.0
    }

    /// Whether any flag of `other` is set.
    pub const fn intersects(self, other: TcpFlags) -> bool {
        self.0 & other.0 != 0
    }
}

impl BitOr for TcpFlags {
    type Output = TcpFlags;
    fn bitor(self, rhs: TcpFlags) -> TcpFlags {
        TcpFlags(self.0 | rhs.0)
    }
}

/// A parsed TCP segment; slices borrow the packet buffer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TcpPacket<'a> {
    /// IP version.
    pub version: IpVersion,
    /// Source address (IPv4 v4-mapped).
    pub src: [u8; 16],
    /// Destination address (IPv4 v4-mapped).
    pub dst: [u8; 16],
    /// IPv4 TTL or IPv6 hop limit.
    pub ttl: u8,
    /// The IP header (IPv4 including options).
    pub ip_header: &'a [u8],
    /// Source port.
    pub sport: u16,
    /// Destination port.
    pub dport: u16,
    /// Sequence number.
    pub seq: u32,
    /// Acknowledgment number (meaningful only with ACK).
    pub ack: u32,
    /// Flags.
    pub flags: TcpFlags,
    /// Window field (unscaled).
    pub window: u16,
    /// Checksum field as received.
    pub checksum: u16,
    /// Urgent pointer.
    pub urgent: u16,
    /// Data offset in 32-bit words (5..=15).
    pub data_offset: u8,
    /// The option bytes (`data_offset * 4 - 20` of them).
    pub options: &'a [u8],
    /// The payload, up to the IP length (link padding excluded).
    pub payload: &'a [u8],
    /// The whole TCP segment: header, options and payload.
    pub segment: &'a [u8],
}

impl TcpPacket<'_> {
    /// The tuple as seen from this packet's sender (`saddr` = `src`).
    pub fn tuple(&self) -> Tuple {
        Tuple {
            saddr: self.src,
            daddr: self.dst,
            sport: self.sport,
            dport: self.dport,
        }
    }

    /// Sequence space the segment occupies: payload bytes, plus one each
    /// for SYN and FIN (RFC 9293 SEG.LEN).
    pub fn seg_len(&self) -> u32 {
        // The payload came from an IP length field, so it fits in 17 bits.
        let data = u32::try_from(self.payload.len()).unwrap_or(u32::MAX);
        let syn = u32::from(self.flags.contains(TcpFlags::SYN));
        let fin = u32::from(self.flags.contains(TcpFlags::FIN));
        data.wrapping_add(syn).wrapping_add(fin)
    }

    /// A connection request as a listener accepts it: SYN without ACK, RST
    /// or FIN (Linux discards SYN+FIN and SYN+RST in LISTEN).
    pub fn is_syn_only(&self) -> bool {
        self.flags.contains(TcpFlags::SYN)
            && !self
                .flags
                .intersects(TcpFlags::ACK | TcpFlags::RST | TcpFlags::FIN)
    }

    /// Whether the TCP checksum (over pseudo-header and segment) is right.
    pub fn tcp_checksum_ok(&self) -> bool {
        tcp_checksum(self.version, &self.src, &self.dst, self.segment) == 0
    }

    /// Whether the IPv4 header checksum is right (always true for IPv6,
    /// which has none).
    pub fn ip_checksum_ok(&self) -> bool {
        match self.version {
            IpVersion::V4 => checksum(self.ip_header) == 0,
            IpVersion::V6 => true,
        }
    }
}

/// `N` bytes at `off`, if the buffer has them.
fn take<const N: usize>(b: &[u8], off: usize) -> Option<[u8; N]> {
    b.get(off..)?.first_chunk::<N>().copied()
}

/// IPv6 next-header values of extension headers (RFC 8200 and the IANA
/// registry): hop-by-hop, routing, fragment, destination options, AH, ESP,
/// mobility, HIP, shim6, and the two experimental values.
fn is_ipv6_ext_header(nh: u8) -> bool {
    matches!(nh, 0 | 43 | 44 | 60 | 51 | 50 | 135 | 139 | 140 | 253 | 254)
}

/// Parses an IPv4 or IPv6 packet carrying TCP, starting at the IP header.
pub fn parse(buf: &[u8]) -> Result<TcpPacket<'_>, ParseError> {
    match buf.first().map(|b| b >> 4) {
        None => Err(ParseError::Truncated),
        Some(4) => parse_v4(buf),
        Some(6) => parse_v6(buf),
        Some(_) => Err(ParseError::BadVersion),
    }
}

/// Parses an IPv4 packet carrying TCP.
pub fn parse_v4(buf: &[u8]) -> Result<TcpPacket<'_>, ParseError> {
    let h: &[u8; IPV4_HDR_LEN] = buf.first_chunk().ok_or(ParseError::Truncated)?;
    if h[0] >> 4 != 4 {
        return Err(ParseError::BadVersion);
    }
    let ihl = usize::from(h[0] & 0x0f) * 4;
    if ihl < IPV4_HDR_LEN {
        return Err(ParseError::BadHeaderLen);
    }
    let total = usize::from(u16::from_be_bytes([h[2], h[3]]));
    if total > buf.len() || total < ihl {
        return Err(ParseError::BadTotalLen);
    }
    let frag = u16::from_be_bytes([h[6], h[7]]);
    // MF is 0x2000; the low 13 bits are the offset.
    if frag & 0x3fff != 0 {
        return Err(ParseError::Fragment);
    }
    if h[9] != PROTO_TCP {
        return Err(ParseError::NotTcp);
    }
    let src = take::<4>(h, 12).ok_or(ParseError::Truncated)?;
    let dst = take::<4>(h, 16).ok_or(ParseError::Truncated)?;
    let ip_header = buf.get(..ihl).ok_or(ParseError::Truncated)?;
    let segment = buf.get(ihl..total).ok_or(ParseError::BadTotalLen)?;
    parse_tcp(
        IpVersion::V4,
        super::cookie::v4_mapped(src),
        super::cookie::v4_mapped(dst),
        h[8],
        ip_header,
        segment,
    )
}

/// Parses an IPv6 packet whose next header is TCP.
pub fn parse_v6(buf: &[u8]) -> Result<TcpPacket<'_>, ParseError> {
    let h: &[u8; IPV6_HDR_LEN] = buf.first_chunk().ok_or(ParseError::Truncated)?;
    if h[0] >> 4 != 6 {
        return Err(ParseError::BadVersion);
    }
    let payload_len = usize::from(u16::from_be_bytes([h[4], h[5]]));
    let end = IPV6_HDR_LEN
        .checked_add(payload_len)
        .ok_or(ParseError::BadTotalLen)?;
    if end > buf.len() {
        return Err(ParseError::BadTotalLen);
    }
    match h[6] {
        PROTO_TCP => {}
        nh if is_ipv6_ext_header(nh) => return Err(ParseError::Unsupported),
        _ => return Err(ParseError::NotTcp),
    }
    let src = take::<16>(h, 8).ok_or(ParseError::Truncated)?;
    let dst = take::<16>(h, 24).ok_or(ParseError::Truncated)?;
    if as_v4(&src).is_some() || as_v4(&dst).is_some() {
        return Err(ParseError::BadAddress);
    }
    let segment = buf.get(IPV6_HDR_LEN..end).ok_or(ParseError::BadTotalLen)?;
    parse_tcp(IpVersion::V6, src, dst, h[7], h, segment)
}

fn parse_tcp<'a>(
    version: IpVersion,
    src: [u8; 16],
    dst: [u8; 16],
    ttl: u8,
    ip_header: &'a [u8],
    segment: &'a [u8],
) -> Result<TcpPacket<'a>, ParseError> {
    let h: &[u8; TCP_HDR_LEN] = segment.first_chunk().ok_or(ParseError::Truncated)?;
    let data_offset = h[12] >> 4;
    let hl = usize::from(data_offset) * 4;
    if hl < TCP_HDR_LEN {
        return Err(ParseError::BadDataOffset);
    }
    let options = segment
        .get(TCP_HDR_LEN..hl)
        .ok_or(ParseError::BadDataOffset)?;
    let payload = segment.get(hl..).ok_or(ParseError::BadDataOffset)?;
    Ok(TcpPacket {
        version,
        src,
        dst,
        ttl,
        ip_header,
        sport: u16::from_be_bytes([h[0], h[1]]),
        dport: u16::from_be_bytes([h[2], h[3]]),
        seq: u32::from_be_bytes([h[4], h[5], h[6], h[7]]),
        ack: u32::from_be_bytes([h[8], h[9], h[10], h[11]]),
        flags: TcpFlags(h[13]),
        window: u16::from_be_bytes([h[14], h[15]]),
        checksum: u16::from_be_bytes([h[16], h[17]]),
        urgent: u16::from_be_bytes([h[18], h[19]]),
        data_offset,
        options,
        payload,
        segment,
    })
}

// ---------------------------------------------------------------------------
// Internet checksum (RFC 1071) and incremental update (RFC 1624).

/// A running ones'-complement sum of 16-bit big-endian words.
///
/// Feed data with [`Checksum::add_bytes`]: every chunk but the last must
/// have even length, or later words would be misaligned.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Checksum {
    sum: u64,
}

impl Checksum {
    /// An empty sum.
    pub const fn new() -> Self {
        Checksum { sum: 0 }
    }

    /// Adds a value with end-around carry, so the sum never overflows.
    fn add(&mut self, v: u64) {
        let (s, carry) = self.sum.overflowing_add(v);
        self.sum = s.wrapping_add(u64::from(carry));
    }

    /// Adds one 16-bit word.
    pub fn add_u16(&mut self, v: u16) {
        self.add(u64::from(v));
    }

    /// Adds a 32-bit value as two 16-bit words.
    pub fn add_u32(&mut self, v: u32) {
        self.add(u64::from(v));
    }

    /// Adds bytes as big-endian words; an odd last byte is padded with zero.
    pub fn add_bytes(&mut self, data: &[u8]) {
        // Summing 32-bit words is equivalent and halves the iterations
        // (RFC 1071 §2, "parallel summation").
        let words = data.chunks_exact(4);
        let tail = words.remainder();
        for w in words {
            if let &[a, b, c, d] = w {
                self.add(u64::from(u32::from_be_bytes([a, b, c, d])));
            }
        }
        match *tail {
            [a] => self.add_u16(u16::from_be_bytes([a, 0])),
            [a, b] => self.add_u16(u16::from_be_bytes([a, b])),
            [a, b, c] => {
                self.add_u16(u16::from_be_bytes([a, b]));
                self.add_u16(u16::from_be_bytes([c, 0]));
            }
            _ => {}
        }
    }

    /// The sum folded to 16 bits (not complemented).
    pub fn fold(self) -> u16 {
        let mut s = self.sum;
        s = (s & 0xffff_ffff) + (s >> 32);
        s = (s & 0xffff_ffff) + (s >> 32);
        s = (s & 0xffff) + (s >> 16);
        s = (s & 0xffff) + (s >> 16);
        // The two folds above leave at most 16 bits.
        (s & 0xffff) as u16
    }

    /// The checksum to store: the complement of the folded sum. Over data
    /// that already holds a correct checksum this is 0.
    pub fn finish(self) -> u16 {
        !self.fold()
    }
}

/// The Internet checksum (RFC 1071) of `data`.
pub fn checksum(data: &[u8]) -> u16 {
    let mut c = Checksum::new();
    c.add_bytes(data);
    c.finish()
}

/// The sum of the TCP pseudo-header: for IPv4 (RFC 9293 §3.1) the two
/// addresses (the last 4 bytes of the 16 given), zero, protocol and TCP
/// length; for IPv6 (RFC 8200 §8.1) the two addresses, the 32-bit length
/// and the next header.
pub fn pseudo_header(version: IpVersion, src: &[u8; 16], dst: &[u8; 16], tcp_len: u32) -> Checksum {
    let mut c = Checksum::new();
    match version {
        IpVersion::V4 => {
            c.add_bytes(src.get(12..).unwrap_or(&[]));
            c.add_bytes(dst.get(12..).unwrap_or(&[]));
        }
        IpVersion::V6 => {
            c.add_bytes(src);
            c.add_bytes(dst);
        }
    }
    c.add_u16(u16::from(PROTO_TCP));
    // For IPv4 the length is 16 bits; adding the 32-bit value is the same
    // for every valid length.
    c.add_u32(tcp_len);
    c
}

/// The TCP checksum of `segment` (header with its checksum field as it is,
/// options, payload) under the pseudo-header. Returns the value to store if
/// the field is zero, and 0 if the field already holds the right checksum.
pub fn tcp_checksum(version: IpVersion, src: &[u8; 16], dst: &[u8; 16], segment: &[u8]) -> u16 {
    let len = u32::try_from(segment.len()).unwrap_or(u32::MAX);
    let mut c = pseudo_header(version, src, dst, len);
    c.add_bytes(segment);
    c.finish()
}

/// Updates checksum `check` for a 16-bit field changing from `old` to `new`
/// (RFC 1624 eqn. 3: `HC' = ~(~HC + ~m + m')`).
pub fn csum_update16(check: u16, old: u16, new: u16) -> u16 {
    let mut c = Checksum::new();
    c.add_u16(!check);
    c.add_u16(!old);
    c.add_u16(new);
    c.finish()
}

/// Updates checksum `check` for a 32-bit field (e.g. a sequence number or
/// an IPv4 address) changing from `old` to `new`.
pub fn csum_update32(check: u16, old: u32, new: u32) -> u16 {
    let mut c = Checksum::new();
    c.add_u16(!check);
    c.add_u32(!old);
    c.add_u32(new);
    c.finish()
}

// ---------------------------------------------------------------------------
// Builders.

/// Why a segment could not be built.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BuildError {
    /// The output buffer is shorter than the packet.
    BufferTooSmall {
        /// Bytes the packet needs.
        needed: usize,
    },
    /// The option block is longer than 40 bytes or not a multiple of 4.
    BadOptions,
    /// The packet would exceed the IP length field.
    TooLong,
    /// The addresses are neither both v4-mapped nor both IPv6.
    BadAddress,
    /// RFC 9293: a reset is never sent in reply to a reset.
    RstForRst,
}

/// A TCP segment to build, with its addresses as sent.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Segment<'a> {
    /// Source address (v4-mapped for IPv4).
    pub src: [u8; 16],
    /// Destination address (v4-mapped for IPv4).
    pub dst: [u8; 16],
    /// Source port.
    pub sport: u16,
    /// Destination port.
    pub dport: u16,
    /// Sequence number.
    pub seq: u32,
    /// Acknowledgment number.
    pub ack: u32,
    /// Flags.
    pub flags: TcpFlags,
    /// Window field.
    pub window: u16,
    /// Option bytes: a multiple of 4, at most 40.
    pub options: &'a [u8],
    /// Payload.
    pub payload: &'a [u8],
}

/// Copies `bytes` to `out[off..]`: `BufferTooSmall` if they do not fit.
pub(crate) fn put(out: &mut [u8], off: usize, bytes: &[u8]) -> Result<(), BuildError> {
    let end = off.checked_add(bytes.len()).ok_or(BuildError::TooLong)?;
    let dst = out
        .get_mut(off..end)
        .ok_or(BuildError::BufferTooSmall { needed: end })?;
    for (d, s) in dst.iter_mut().zip(bytes) {
        *d = *s;
    }
    Ok(())
}

/// The IP version of a pair of addresses: both v4-mapped, or neither.
fn family(src: &[u8; 16], dst: &[u8; 16]) -> Result<IpVersion, BuildError> {
    match (as_v4(src), as_v4(dst)) {
        (Some(_), Some(_)) => Ok(IpVersion::V4),
        (None, None) => Ok(IpVersion::V6),
        _ => Err(BuildError::BadAddress),
    }
}

/// Writes a complete IPv4/IPv6 + TCP packet into `out` and returns its
/// length. The family follows the addresses. IPv4: ID 0, DF, TTL 64;
/// IPv6: traffic class and flow label 0, hop limit 64. Both checksums are
/// filled in.
pub fn build_segment(out: &mut [u8], seg: &Segment<'_>) -> Result<usize, BuildError> {
    let opt_len = seg.options.len();
    if opt_len > MAX_OPTIONS_LEN || opt_len % 4 != 0 {
        return Err(BuildError::BadOptions);
    }
    let version = family(&seg.src, &seg.dst)?;
    let ip_len = match version {
        IpVersion::V4 => IPV4_HDR_LEN,
        IpVersion::V6 => IPV6_HDR_LEN,
    };
    let tcp_hdr_len = TCP_HDR_LEN + opt_len;
    let tcp_len = tcp_hdr_len
        .checked_add(seg.payload.len())
        .ok_or(BuildError::TooLong)?;
    let total = ip_len.checked_add(tcp_len).ok_or(BuildError::TooLong)?;
    // IPv4 counts the header in its length field, IPv6 does not.
    let ip_len_field = match version {
        IpVersion::V4 => total,
        IpVersion::V6 => tcp_len,
    };
    let ip_len_field = u16::try_from(ip_len_field).map_err(|_| BuildError::TooLong)?;
    if out.len() < total {
        return Err(BuildError::BufferTooSmall { needed: total });
    }

    let [l0, l1] = ip_len_field.to_be_bytes();
    match version {
        IpVersion::V4 => {
            let [s0, s1, s2, s3] = as_v4(&seg.src).unwrap_or_default();
            let [d0, d1, d2, d3] = as_v4(&seg.dst).unwrap_or_default();
            // ID 0 with DF set: an atomic datagram (RFC 6864).
            let mut h: [u8; IPV4_HDR_LEN] = [
                0x45,
                0,
                l0,
                l1,
                0,
                0,
                0x40,
                0,
                DEFAULT_TTL,
                PROTO_TCP,
                0,
                0,
                s0,
                s1,
                s2,
                s3,
                d0,
                d1,
                d2,
                d3,
            ];
            let [c0, c1] = checksum(&h).to_be_bytes();
            h[10] = c0;
            h[11] = c1;
            put(out, 0, &h)?;
        }
        IpVersion::V6 => {
            // Traffic class and flow label 0.
            put(out, 0, &[0x60, 0, 0, 0, l0, l1, PROTO_TCP, DEFAULT_TTL])?;
            put(out, 8, &seg.src)?;
            put(out, 24, &seg.dst)?;
        }
    }

    let [sp0, sp1] = seg.sport.to_be_bytes();
    let [dp0, dp1] = seg.dport.to_be_bytes();
    let [q0, q1, q2, q3] = seg.seq.to_be_bytes();
    let [a0, a1, a2, a3] = seg.ack.to_be_bytes();
    let [w0, w1] = seg.window.to_be_bytes();
    // tcp_hdr_len <= 60, so the data offset fits its 4 bits.
    let doff = ((tcp_hdr_len / 4) as u8) << 4;
    // Checksum and urgent pointer start as zero.
    let t: [u8; TCP_HDR_LEN] = [
        sp0,
        sp1,
        dp0,
        dp1,
        q0,
        q1,
        q2,
        q3,
        a0,
        a1,
        a2,
        a3,
        doff,
        seg.flags.0,
        w0,
        w1,
        0,
        0,
        0,
        0,
    ];
    put(out, ip_len, &t)?;
    put(out, ip_len + TCP_HDR_LEN, seg.options)?;
    put(out, ip_len + tcp_hdr_len, seg.payload)?;

    let tcp = out
        .get(ip_len..total)
        .ok_or(BuildError::BufferTooSmall { needed: total })?;
    let c = tcp_checksum(version, &seg.src, &seg.dst, tcp);
    put(out, ip_len + 16, &c.to_be_bytes())?;
    Ok(total)
}

/// What a SYN-ACK answers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SynAck<'a> {
    /// The tuple of the client's SYN (`saddr` = client); the reply swaps it.
    pub tuple: Tuple,
    /// Our initial sequence number.
    pub isn: u32,
    /// The client's initial sequence number (the SYN's seq).
    pub client_isn: u32,
    /// Our receive window (never scaled in a SYN-ACK, RFC 7323 §2.2).
    pub window: u16,
    /// Option block from [`super::tcpopt::write_synack`].
    pub options: &'a [u8],
}

/// Writes the SYN-ACK answering a SYN: addresses and ports swapped,
/// seq = our ISN, ack = client ISN + 1. Returns the packet length.
pub fn build_synack(out: &mut [u8], p: &SynAck<'_>) -> Result<usize, BuildError> {
    build_segment(
        out,
        &Segment {
            src: p.tuple.daddr,
            dst: p.tuple.saddr,
            sport: p.tuple.dport,
            dport: p.tuple.sport,
            seq: p.isn,
            ack: p.client_isn.wrapping_add(1),
            flags: TcpFlags::SYN | TcpFlags::ACK,
            window: p.window,
            options: p.options,
            payload: &[],
        },
    )
}

/// A reset towards the peer of `tuple` (`saddr` = peer, as in its
/// segments). With `ack: Some(a)` the RST carries ACK and `a`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Rst {
    /// The tuple as the peer sends it; the reset swaps it.
    pub tuple: Tuple,
    /// Sequence number of the reset.
    pub seq: u32,
    /// Acknowledgment number, if the reset carries ACK.
    pub ack: Option<u32>,
}

/// Writes a reset from explicit fields (e.g. from a table entry, when no
/// offending segment is at hand). Returns the packet length.
pub fn build_rst_to(out: &mut [u8], p: &Rst) -> Result<usize, BuildError> {
    let (flags, ack) = match p.ack {
        Some(a) => (TcpFlags::RST | TcpFlags::ACK, a),
        None => (TcpFlags::RST, 0),
    };
    build_segment(
        out,
        &Segment {
            src: p.tuple.daddr,
            dst: p.tuple.saddr,
            sport: p.tuple.dport,
            dport: p.tuple.sport,
            seq: p.seq,
            ack,
            flags,
            window: 0,
            options: &[],
            payload: &[],
        },
    )
}

/// The reset RFC 9293 §3.10.7.1 prescribes in reply to `seg`: if it had
/// ACK, the reset's seq is its ack and no ACK is set; otherwise seq is 0,
/// ACK is set, and ack = seg.seq + SEG.LEN (SYN and FIN count one each).
pub fn rst_for(seg: &TcpPacket<'_>) -> Result<Rst, BuildError> {
    if seg.flags.contains(TcpFlags::RST) {
        return Err(BuildError::RstForRst);
    }
    let tuple = seg.tuple();
    Ok(if seg.flags.contains(TcpFlags::ACK) {
        Rst {
            tuple,
            seq: seg.ack,
            ack: None,
        }
    } else {
        Rst {
            tuple,
            seq: 0,
            ack: Some(seg.seq.wrapping_add(seg.seg_len())),
        }
    })
}

/// Writes the reset answering `seg` (see [`rst_for`]). Returns the packet
/// length.
pub fn build_rst(out: &mut [u8], seg: &TcpPacket<'_>) -> Result<usize, BuildError> {
    build_rst_to(out, &rst_for(seg)?)
}

#[cfg(test)]
mod tests {
    use super::super::cookie::v4_mapped;
    use super::super::tcpopt;
    use super::*;

    const V6_A: [u8; 16] = [0x20, 1, 0xd, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1];
    const V6_B: [u8; 16] = [0x20, 1, 0xd, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2];
    const LINUX_SYN_OPTS: [u8; 20] = [
        2, 4, 0x05, 0xb4, 4, 2, 8, 10, 0, 0, 0x10, 0, 0, 0, 0, 0, 1, 3, 3, 7,
    ];

    fn client_v4() -> Tuple {
        Tuple {
            saddr: v4_mapped([192, 0, 2, 1]),
            daddr: v4_mapped([198, 51, 100, 7]),
            sport: 40000,
            dport: 80,
        }
    }

    fn client_v6() -> Tuple {
        Tuple {
            saddr: V6_A,
            daddr: V6_B,
            sport: 50000,
            dport: 443,
        }
    }

    fn seg<'a>(t: &Tuple, flags: TcpFlags, opts: &'a [u8], payload: &'a [u8]) -> Segment<'a> {
        Segment {
            src: t.saddr,
            dst: t.daddr,
            sport: t.sport,
            dport: t.dport,
            seq: 0x0102_0304,
            ack: 0x0a0b_0c0d,
            flags,
            window: 64240,
            options: opts,
            payload,
        }
    }

    fn built(s: &Segment<'_>) -> ([u8; 256], usize) {
        let mut buf = [0u8; 256];
        let n = build_segment(&mut buf, s).unwrap();
        (buf, n)
    }

    #[test]
    fn v4_round_trip() {
        let s = seg(&client_v4(), TcpFlags::SYN, &LINUX_SYN_OPTS, &[]);
        let (b, n) = built(&s);
        assert_eq!(n, 60);
        let p = parse(&b[..n]).unwrap();
        assert_eq!(p.version, IpVersion::V4);
        assert_eq!(p.tuple(), client_v4());
        assert_eq!(p.seq, s.seq);
        assert_eq!(p.ack, s.ack);
        assert_eq!(p.flags, TcpFlags::SYN);
        assert!(p.is_syn_only());
        assert_eq!(p.window, 64240);
        assert_eq!(p.data_offset, 10);
        assert_eq!(p.options, &LINUX_SYN_OPTS);
        assert!(p.payload.is_empty());
        assert_eq!(p.ttl, 64);
        assert_eq!(p.seg_len(), 1);
        assert!(p.tcp_checksum_ok());
        assert!(p.ip_checksum_ok());
        assert_eq!(checksum(&b[..20]), 0);
        // ID 0, DF.
        assert_eq!(&b[4..8], &[0, 0, 0x40, 0]);
        // Link-layer padding after the IP length is ignored.
        let p2 = parse(&b[..n + 6]).unwrap();
        assert_eq!(p2, p);
    }

    #[test]
    fn v6_round_trip_with_payload() {
        let s = seg(
            &client_v6(),
            TcpFlags::ACK | TcpFlags::PSH | TcpFlags::FIN,
            &[],
            b"GET / HTTP/1.1\r\n\r\n",
        );
        let (b, n) = built(&s);
        assert_eq!(n, 40 + 20 + 18);
        let p = parse(&b[..n]).unwrap();
        assert_eq!(p.version, IpVersion::V6);
        assert_eq!(p.tuple(), client_v6());
        assert_eq!(p.payload, b"GET / HTTP/1.1\r\n\r\n");
        assert_eq!(p.seg_len(), 19);
        assert!(!p.is_syn_only());
        assert!(p.tcp_checksum_ok());
        assert!(p.ip_checksum_ok());
        assert_eq!(p.ip_header.len(), 40);
    }

    #[test]
    fn odd_payload_checksum() {
        for len in 0..9 {
            let pl = [0xa5u8; 9];
            for t in [client_v4(), client_v6()] {
                let (b, n) = built(&seg(&t, TcpFlags::ACK, &[], &pl[..len]));
                let p = parse(&b[..n]).unwrap();
                assert!(p.tcp_checksum_ok(), "len {len}");
            }
        }
    }

    #[test]
    fn checksum_detects_corruption() {
        let (mut b, n) = built(&seg(&client_v4(), TcpFlags::SYN, &LINUX_SYN_OPTS, &[]));
        b[25] ^= 0x10; // a TCP header byte
        let p = parse(&b[..n]).unwrap();
        assert!(!p.tcp_checksum_ok());
        assert!(p.ip_checksum_ok());
        b[25] ^= 0x10;
        b[8] ^= 1; // TTL
        let p = parse(&b[..n]).unwrap();
        assert!(!p.ip_checksum_ok());
    }

    #[test]
    fn rfc1071_example() {
        // RFC 1071 §3: words 0001 f203 f4f5 f6f7 sum to ddf2 (folded).
        let mut c = Checksum::new();
        c.add_bytes(&[0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7]);
        assert_eq!(c.fold(), 0xddf2);
        assert_eq!(c.finish(), !0xddf2);
        // Odd length pads with zero.
        assert_eq!(checksum(&[0xab]), !0xab00);
        assert_eq!(checksum(&[]), 0xffff);
    }

    #[test]
    fn checksum_word_size_equivalence() {
        // 16-bit summation by hand equals the 32-bit path for all lengths.
        let data: [u8; 37] = core::array::from_fn(|i| (i as u8).wrapping_mul(37).wrapping_add(200));
        for len in 0..=data.len() {
            let mut s: u32 = 0;
            for ch in data[..len].chunks(2) {
                let w = u32::from(ch[0]) << 8 | u32::from(*ch.get(1).unwrap_or(&0));
                s += w;
            }
            while s > 0xffff {
                s = (s & 0xffff) + (s >> 16);
            }
            assert_eq!(checksum(&data[..len]), !(s as u16), "len {len}");
        }
    }

    #[test]
    fn checksum_large_sums_do_not_overflow() {
        let big = [0xffu8; 4096];
        let mut c = Checksum::new();
        for _ in 0..64 {
            c.add_bytes(&big);
        }
        assert_eq!(c.fold(), 0xffff);
        let mut c = Checksum { sum: u64::MAX - 1 };
        c.add_u32(u32::MAX);
        let _ = c.fold();
    }

    #[test]
    fn incremental_update_matches_recompute() {
        let mut x: u32 = 0x1234_5678;
        let mut rnd = || {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            x
        };
        for _ in 0..2000 {
            let mut data = [0u8; 24];
            for w in data.chunks_mut(4) {
                w.copy_from_slice(&rnd().to_be_bytes());
            }
            let before = checksum(&data);
            // 16-bit field at offset 6.
            let old16 = u16::from_be_bytes([data[6], data[7]]);
            let new16 = rnd() as u16;
            data[6..8].copy_from_slice(&new16.to_be_bytes());
            assert_eq!(csum_update16(before, old16, new16), checksum(&data));
            // 32-bit field at offset 12.
            let before = checksum(&data);
            let old32 = u32::from_be_bytes(data[12..16].try_into().unwrap());
            let new32 = rnd();
            data[12..16].copy_from_slice(&new32.to_be_bytes());
            assert_eq!(csum_update32(before, old32, new32), checksum(&data));
        }
    }

    #[test]
    fn incremental_update_on_packet() {
        // Rewrite a sequence number in a built segment: the checksum stays
        // valid, as the module would do when it changes a field in flight.
        let (mut b, n) = built(&seg(&client_v4(), TcpFlags::ACK, &[], b"x"));
        let old = u32::from_be_bytes(b[24..28].try_into().unwrap());
        let new = old.wrapping_add(0x8000_0001);
        b[24..28].copy_from_slice(&new.to_be_bytes());
        let c = u16::from_be_bytes([b[36], b[37]]);
        b[36..38].copy_from_slice(&csum_update32(c, old, new).to_be_bytes());
        assert!(parse(&b[..n]).unwrap().tcp_checksum_ok());
    }

    #[test]
    fn every_truncation_rejected() {
        for t in [client_v4(), client_v6()] {
            let (b, n) = built(&seg(&t, TcpFlags::SYN, &LINUX_SYN_OPTS, b"abc"));
            assert!(parse(&b[..n]).is_ok());
            for cut in 0..n {
                assert!(parse(&b[..cut]).is_err(), "cut {cut}");
            }
        }
    }

    fn v4_packet() -> ([u8; 256], usize) {
        built(&seg(&client_v4(), TcpFlags::SYN, &LINUX_SYN_OPTS, &[]))
    }

    #[test]
    fn v4_header_errors() {
        let (b, n) = v4_packet();
        let mut x = b;
        x[0] = 0x44;
        assert_eq!(parse(&x[..n]), Err(ParseError::BadHeaderLen));
        x[0] = 0x40;
        assert_eq!(parse(&x[..n]), Err(ParseError::BadHeaderLen));
        x[0] = 0x55;
        assert_eq!(parse(&x[..n]), Err(ParseError::BadVersion));
        assert_eq!(parse_v4(&x[..n]), Err(ParseError::BadVersion));
        assert_eq!(parse_v6(&b[..n]), Err(ParseError::BadVersion));
        // Total length beyond the buffer, and below the header.
        let mut x = b;
        x[2..4].copy_from_slice(&((n + 1) as u16).to_be_bytes());
        assert_eq!(parse(&x[..n]), Err(ParseError::BadTotalLen));
        x[2..4].copy_from_slice(&19u16.to_be_bytes());
        assert_eq!(parse(&x[..n]), Err(ParseError::BadTotalLen));
        // IHL beyond the total length.
        let mut x = b;
        x[0] = 0x4f;
        x[2..4].copy_from_slice(&40u16.to_be_bytes());
        assert_eq!(parse(&x[..n]), Err(ParseError::BadTotalLen));
        // Fragments.
        let mut x = b;
        x[6] = 0x20; // MF
        assert_eq!(parse(&x[..n]), Err(ParseError::Fragment));
        x[6] = 0x40;
        x[7] = 1; // offset 8 with DF
        assert_eq!(parse(&x[..n]), Err(ParseError::Fragment));
        x[6] = 0x00;
        x[7] = 0;
        assert!(parse(&x[..n]).is_ok());
        // Not TCP.
        let mut x = b;
        x[9] = 17;
        assert_eq!(parse(&x[..n]), Err(ParseError::NotTcp));
    }

    #[test]
    fn v4_with_ip_options() {
        let (b, n) = v4_packet();
        // Insert 4 bytes of IP options (NOPs) after the 20-byte header.
        let mut x = [0u8; 256];
        x[..20].copy_from_slice(&b[..20]);
        x[20..24].copy_from_slice(&[1, 1, 1, 0]);
        x[24..n + 4].copy_from_slice(&b[20..n]);
        x[0] = 0x46;
        x[2..4].copy_from_slice(&((n + 4) as u16).to_be_bytes());
        let p = parse(&x[..n + 4]).unwrap();
        assert_eq!(p.ip_header.len(), 24);
        assert_eq!(p.options, &LINUX_SYN_OPTS);
        assert!(p.tcp_checksum_ok());
    }

    #[test]
    fn tcp_offset_errors() {
        let (b, n) = v4_packet();
        let mut x = b;
        x[32] = 0x40; // doff 4
        assert_eq!(parse(&x[..n]), Err(ParseError::BadDataOffset));
        x[32] = 0xf0; // doff 15 > 40 available bytes
        assert_eq!(parse(&x[..n]), Err(ParseError::BadDataOffset));
        x[32] = 0x50; // doff 5: options become payload
        let p = parse(&x[..n]).unwrap();
        assert!(p.options.is_empty());
        assert_eq!(p.payload.len(), 20);
        // IP length cutting into the TCP header.
        let mut x = b;
        x[2..4].copy_from_slice(&39u16.to_be_bytes());
        assert_eq!(parse(&x[..n]), Err(ParseError::Truncated));
    }

    #[test]
    fn v6_errors() {
        let (b, n) = built(&seg(&client_v6(), TcpFlags::SYN, &[], &[]));
        let mut x = b;
        x[6] = 0; // hop-by-hop
        assert_eq!(parse(&x[..n]), Err(ParseError::Unsupported));
        x[6] = 44; // fragment
        assert_eq!(parse(&x[..n]), Err(ParseError::Unsupported));
        x[6] = 17;
        assert_eq!(parse(&x[..n]), Err(ParseError::NotTcp));
        let mut x = b;
        x[4..6].copy_from_slice(&21u16.to_be_bytes());
        assert_eq!(parse(&x[..n]), Err(ParseError::BadTotalLen));
        x[4..6].copy_from_slice(&19u16.to_be_bytes());
        assert_eq!(parse(&x[..n]), Err(ParseError::Truncated));
        let mut x = b;
        x[8..24].copy_from_slice(&v4_mapped([1, 2, 3, 4]));
        assert_eq!(parse(&x[..n]), Err(ParseError::BadAddress));
        let mut x = b;
        x[24..40].copy_from_slice(&v4_mapped([1, 2, 3, 4]));
        assert_eq!(parse(&x[..n]), Err(ParseError::BadAddress));
        assert_eq!(parse(&[]), Err(ParseError::Truncated));
        assert_eq!(parse(&[0x70]), Err(ParseError::BadVersion));
    }

    #[test]
    fn synack_reply() {
        for client in [client_v4(), client_v6()] {
            let (b, n) = built(&seg(&client, TcpFlags::SYN, &LINUX_SYN_OPTS, &[]));
            let syn = parse(&b[..n]).unwrap();
            let copts = tcpopt::parse(syn.options).unwrap();
            let mut ob = [0u8; tcpopt::MAX_OPTIONS_LEN];
            let olen = tcpopt::write_synack(
                &tcpopt::SynAckOptions::reply_to(&copts, 1460, 9, 777),
                &mut ob,
            );
            let mut out = [0u8; 128];
            let len = build_synack(
                &mut out,
                &SynAck {
                    tuple: syn.tuple(),
                    isn: 0xffff_ffff,
                    client_isn: syn.seq,
                    window: 65535,
                    options: &ob[..olen],
                },
            )
            .unwrap();
            let r = parse(&out[..len]).unwrap();
            assert_eq!(r.version, syn.version);
            assert_eq!(r.src, syn.dst);
            assert_eq!(r.dst, syn.src);
            assert_eq!(r.sport, syn.dport);
            assert_eq!(r.dport, syn.sport);
            assert_eq!(r.seq, 0xffff_ffff);
            assert_eq!(r.ack, syn.seq.wrapping_add(1));
            assert_eq!(r.flags, TcpFlags::SYN | TcpFlags::ACK);
            assert_eq!(r.window, 65535);
            assert_eq!(r.ttl, 64);
            assert!(r.tcp_checksum_ok());
            assert!(r.ip_checksum_ok());
            let ro = tcpopt::parse(r.options).unwrap();
            assert_eq!(ro.mss, Some(1460));
            assert_eq!(ro.wscale, Some(9));
            assert!(ro.sack_perm);
            assert_eq!(
                ro.timestamp,
                Some(tcpopt::Timestamp {
                    val: 777,
                    ecr: 0x1000
                })
            );
            // Too small a buffer fails cleanly at every size.
            for cap in 0..len {
                let mut small = [0u8; 128];
                assert_eq!(
                    build_synack(
                        &mut small[..cap],
                        &SynAck {
                            tuple: syn.tuple(),
                            isn: 1,
                            client_isn: 2,
                            window: 3,
                            options: &ob[..olen],
                        }
                    ),
                    Err(BuildError::BufferTooSmall { needed: len })
                );
            }
        }
    }

    #[test]
    fn rst_after_ack() {
        // The offending segment had ACK: RST seq = its ack, no ACK flag.
        let (b, n) = built(&seg(&client_v4(), TcpFlags::ACK, &[], b"hello"));
        let bad = parse(&b[..n]).unwrap();
        let mut out = [0u8; 128];
        let len = build_rst(&mut out, &bad).unwrap();
        let r = parse(&out[..len]).unwrap();
        assert_eq!(r.flags, TcpFlags::RST);
        assert_eq!(r.seq, bad.ack);
        assert_eq!(r.ack, 0);
        assert_eq!(r.window, 0);
        assert_eq!(r.src, bad.dst);
        assert_eq!(r.dport, bad.sport);
        assert!(r.tcp_checksum_ok() && r.ip_checksum_ok());
    }

    #[test]
    fn rst_without_ack() {
        // No ACK: seq 0, ACK set, ack = seq + SEG.LEN.
        for (flags, payload, extra) in [
            (TcpFlags::SYN, &b""[..], 1u32),
            (TcpFlags::SYN | TcpFlags::FIN, &b""[..], 2),
            (TcpFlags::PSH, &b"abcd"[..], 4),
            (TcpFlags::FIN, &b"ab"[..], 3),
        ] {
            let (b, n) = built(&seg(&client_v6(), flags, &[], payload));
            let bad = parse(&b[..n]).unwrap();
            let mut out = [0u8; 128];
            let len = build_rst(&mut out, &bad).unwrap();
            let r = parse(&out[..len]).unwrap();
            assert_eq!(r.flags, TcpFlags::RST | TcpFlags::ACK);
            assert_eq!(r.seq, 0);
            assert_eq!(r.ack, bad.seq.wrapping_add(extra));
            assert!(r.tcp_checksum_ok());
        }
        // Wrapping.
        let mut s = seg(&client_v4(), TcpFlags::SYN, &[], &[]);
        s.seq = u32::MAX;
        let (b, n) = built(&s);
        let rst = rst_for(&parse(&b[..n]).unwrap()).unwrap();
        assert_eq!(rst.ack, Some(0));
    }

    #[test]
    fn no_rst_for_rst() {
        let (b, n) = built(&seg(&client_v4(), TcpFlags::RST | TcpFlags::ACK, &[], &[]));
        let bad = parse(&b[..n]).unwrap();
        let mut out = [0u8; 128];
        assert_eq!(build_rst(&mut out, &bad), Err(BuildError::RstForRst));
    }

    #[test]
    fn build_errors() {
        let mut out = [0u8; 256];
        let t = client_v4();
        assert_eq!(
            build_segment(&mut out, &seg(&t, TcpFlags::ACK, &[1, 1, 1], &[])),
            Err(BuildError::BadOptions)
        );
        assert_eq!(
            build_segment(&mut out, &seg(&t, TcpFlags::ACK, &[1; 44], &[])),
            Err(BuildError::BadOptions)
        );
        let mut mixed = t;
        mixed.daddr = V6_B;
        assert_eq!(
            build_segment(&mut out, &seg(&mixed, TcpFlags::ACK, &[], &[])),
            Err(BuildError::BadAddress)
        );
        let huge = [0u8; 70000];
        assert_eq!(
            build_segment(&mut out, &seg(&t, TcpFlags::ACK, &[], &huge)),
            Err(BuildError::TooLong)
        );
        assert_eq!(
            build_segment(&mut out, &seg(&client_v6(), TcpFlags::ACK, &[], &huge)),
            Err(BuildError::TooLong)
        );
        let rst = Rst {
            tuple: t,
            seq: 5,
            ack: Some(6),
        };
        let len = build_rst_to(&mut out, &rst).unwrap();
        let r = parse(&out[..len]).unwrap();
        assert_eq!((r.seq, r.ack), (5, 6));
        assert_eq!(r.flags, TcpFlags::RST | TcpFlags::ACK);
    }

    #[test]
    fn flags_helpers() {
        let f = TcpFlags::SYN | TcpFlags::ACK;
        assert!(f.contains(TcpFlags::SYN));
        assert!(!f.contains(TcpFlags::SYN | TcpFlags::FIN));
        assert!(f.intersects(TcpFlags::SYN | TcpFlags::FIN));
        assert!(!f.intersects(TcpFlags::RST));
    }
}
