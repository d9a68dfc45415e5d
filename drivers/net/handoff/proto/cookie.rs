//! Initial sequence numbers in the style of SYN cookies.
//!
//! The ISN we send in a SYN-ACK carries enough to validate the handshake ACK
//! without any stored state, so the module can go stateless under a SYN
//! flood. Layout of the 32-bit cookie (all additions wrap):
//!
//! ```text
//! isn = H1(tuple, client_isn) + (count << 24)
//!       + ((H2(tuple, client_isn, count) + mss_index) mod 2^24)
//! ```
//!
//! `H1` and `H2` are SipHash-2-4 under the secret, domain-separated by a tag
//! byte and truncated to 32 bits. `H1` makes ISNs look random; under it the
//! top 8 bits carry the low 8 bits of a coarse clock `count` (the module
//! picks its unit; Linux uses minutes and accepts the current and the
//! previous one, i.e. `max_age = 1`). The low 24 bits hide a 2-bit
//! MSS-table index under a hash that also depends on the full 32-bit count.
//! A forged ACK passes with probability about `MSS_TABLE.len() / 2^24` per
//! guess.
//!
//! Classic SYN cookies add the client ISN instead of hashing it; then a
//! cookie made for ISN `x` also verifies for `x + 1 ..= x + 3` with another
//! MSS index. Hashing it binds the cookie to the exact client ISN, which the
//! handshake ACK provides anyway (its seq minus one).
//!
//! When the client uses timestamps, the negotiated options that a cookie
//! has no room for are carried in the low bits of our TSval ([`ts_encode`])
//! and come back in the client's TSecr ([`ts_decode`]).

use super::seq;
use super::siphash::{siphash24, SipKey};

/// The secret behind the cookies (128 bits); rotate it now and then.
pub type CookieSecret = SipKey;

/// A connection's addresses and ports, as seen in the client's SYN.
///
/// Addresses are 16 bytes; IPv4 addresses are stored v4-mapped
/// (`::ffff:a.b.c.d`, see [`v4_mapped`]). The packet parser rejects IPv6
/// packets carrying v4-mapped addresses, so the two families never collide.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Tuple {
    /// Client (source of the SYN) address.
    pub saddr: [u8; 16],
    /// Local (destination of the SYN) address.
    pub daddr: [u8; 16],
    /// Client port.
    pub sport: u16,
    /// Local port.
    pub dport: u16,
}

impl Tuple {
    /// The tuple as 36 bytes: saddr, daddr, sport, dport (ports big-endian).
    pub fn to_bytes(&self) -> [u8; 36] {
        let mut out = [0u8; 36];
        let sport = self.sport.to_be_bytes();
        let dport = self.dport.to_be_bytes();
        let src = self
            .saddr
            .iter()
            .chain(self.daddr.iter())
            .chain(sport.iter())
            .chain(dport.iter());
        for (d, s) in out.iter_mut().zip(src) {
            *d = *s;
        }
        out
    }

    /// Whether both addresses are v4-mapped, i.e. this is an IPv4 tuple.
    pub fn is_v4(&self) -> bool {
        as_v4(&self.saddr).is_some() && as_v4(&self.daddr).is_some()
    }
}

const V4_MAPPED_PREFIX: [u8; 12] = [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff];

/// The v4-mapped IPv6 form of an IPv4 address (RFC 4291 §2.5.5.2).
pub fn v4_mapped(addr: [u8; 4]) -> [u8; 16] {
    let mut out = [0u8; 16];
    for (d, s) in out
        .iter_mut()
        .zip(V4_MAPPED_PREFIX.iter().chain(addr.iter()))
    {
        *d = *s;
    }
    out
}

/// The IPv4 address inside a v4-mapped address, if it is one.
pub fn as_v4(addr: &[u8; 16]) -> Option<[u8; 4]> {
    match *addr {
        [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, a, b, c, d] => Some([a, b, c, d]),
        _ => None,
    }
}

/// MSS values a cookie can carry, smallest first. 536 is the IPv4 default
/// (RFC 9293); the others cover common tunnel and Ethernet paths.
pub const MSS_TABLE: [u16; 4] = [536, 1300, 1440, 1460];

/// Index into [`MSS_TABLE`] of the largest entry not above `mss`.
///
/// An MSS below the smallest entry still maps to index 0 (536): a client
/// announcing less is broken or hostile, and Linux does the same.
pub fn mss_index(mss: u16) -> u8 {
    let mut best = 0u8;
    for (i, &m) in (0u8..).zip(MSS_TABLE.iter()) {
        if m <= mss {
            best = i;
        }
    }
    best
}

/// The MSS for a table index, or `None` if the index is out of range.
pub fn mss_of(index: u8) -> Option<u16> {
    MSS_TABLE.get(usize::from(index)).copied()
}

const COUNT_SHIFT: u32 = 24;
const DATA_MASK: u32 = (1 << COUNT_SHIFT) - 1;
const TAG_TUPLE: u8 = 0;
const TAG_COUNT: u8 = 1;

/// SipHash of (tag, tuple, client ISN, count) truncated to 32 bits.
fn hash(secret: &CookieSecret, tuple: &Tuple, tag: u8, client_isn: u32, count: u32) -> u32 {
    let mut msg = [0u8; 45];
    let tb = tuple.to_bytes();
    let ib = client_isn.to_le_bytes();
    let cb = count.to_le_bytes();
    let src = core::iter::once(&tag)
        .chain(tb.iter())
        .chain(ib.iter())
        .chain(cb.iter());
    for (d, s) in msg.iter_mut().zip(src) {
        *d = *s;
    }
    // Truncation keeps the low 32 bits, which is all the cookie uses.
    siphash24(secret, &msg) as u32
}

/// The cookie ISN for a SYN on `tuple` with sequence number `client_isn`,
/// made at clock value `count`, carrying `mss_index` (an index into
/// [`MSS_TABLE`]; larger values are clamped to the last entry).
pub fn isn(
    secret: &CookieSecret,
    tuple: &Tuple,
    client_isn: u32,
    count: u32,
    mss_index: u8,
) -> u32 {
    let last = (MSS_TABLE.len() - 1) as u8;
    let idx = u32::from(mss_index.min(last));
    let data = hash(secret, tuple, TAG_COUNT, client_isn, count).wrapping_add(idx) & DATA_MASK;
    hash(secret, tuple, TAG_TUPLE, client_isn, 0)
        .wrapping_add(count << COUNT_SHIFT)
        .wrapping_add(data)
}

/// Checks the cookie of a handshake ACK and returns its MSS index.
///
/// `ack_minus_1` is the ACK's acknowledgment number minus one (our ISN if
/// the ACK is genuine) and `client_isn` its sequence number minus one. The
/// cookie is accepted if it was made at a count between
/// `now_count - max_age` and `now_count` inclusive (`max_age` is capped at
/// 255, the reach of the 8 count bits) and everything else matches.
pub fn check(
    secret: &CookieSecret,
    tuple: &Tuple,
    client_isn: u32,
    ack_minus_1: u32,
    now_count: u32,
    max_age: u32,
) -> Option<u8> {
    let c = ack_minus_1.wrapping_sub(hash(secret, tuple, TAG_TUPLE, client_isn, 0));
    // Age in counts, modulo 2^8; a cookie "from the future" shows as a
    // large age and is rejected like an old one.
    let age = now_count.wrapping_sub(c >> COUNT_SHIFT) & 0xff;
    if age > max_age.min(255) {
        return None;
    }
    let count = now_count.wrapping_sub(age);
    let idx = c.wrapping_sub(hash(secret, tuple, TAG_COUNT, client_isn, count)) & DATA_MASK;
    let idx = u8::try_from(idx).ok()?;
    mss_of(idx).map(|_| idx)
}

/// Negotiated options that a cookie connection must remember (the ones
/// carried in the TSval's low bits). ECN is never negotiated by handoff, so
/// it has no field; its bit stays zero.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CookieOpts {
    /// The client's window-scale shift (0..=14), or `None` if it sent none.
    pub wscale: Option<u8>,
    /// Whether the client sent SACK-permitted.
    pub sack_ok: bool,
}

/// Number of low TSval bits that carry [`CookieOpts`].
pub const TS_OPT_BITS: u32 = 6;
const TS_OPT_MASK: u32 = (1 << TS_OPT_BITS) - 1;
const TS_WSCALE_MASK: u32 = 0xf;
const TS_SACK: u32 = 1 << 4;
const TS_ECN: u32 = 1 << 5;

/// Our TSval for a cookie SYN-ACK: `ts_now` with its low
/// [`TS_OPT_BITS`] bits replaced by `opts`, as Linux does.
///
/// Rule: the result is the largest value not after `ts_now` (in sequence
/// space) whose low bits encode `opts`, so it lies in
/// `ts_now - 63 ..= ts_now`. Rounding down, never up, keeps our timestamps
/// monotonic: every later TSval, read from the same clock, is at least this
/// one, so the client's PAWS check (RFC 7323 §5) never sees our clock step
/// back. For a fixed `opts` the result is also non-decreasing in `ts_now`.
pub fn ts_encode(ts_now: u32, opts: CookieOpts) -> u32 {
    let ws = match opts.wscale {
        Some(w) => u32::from(w.min(super::tcpopt::MAX_WSCALE)),
        None => TS_WSCALE_MASK,
    };
    let sack = if opts.sack_ok { TS_SACK } else { 0 };
    let ts = (ts_now & !TS_OPT_MASK) | ws | sack;
    if seq::after(ts, ts_now) {
        ts.wrapping_sub(1 << TS_OPT_BITS)
    } else {
        ts
    }
}

/// The options encoded by [`ts_encode`], read back from the TSecr of the
/// handshake ACK; `None` if the reserved ECN bit is set (we never set it,
/// so the TSecr is not ours).
pub fn ts_decode(tsecr: u32) -> Option<CookieOpts> {
    if tsecr & TS_ECN != 0 {
        return None;
    }
    let ws = tsecr & TS_WSCALE_MASK;
    Some(CookieOpts {
        // 15 means "no window scaling"; 0..=14 are shifts.
        wscale: u8::try_from(ws)
            .ok()
            .filter(|&w| w <= super::tcpopt::MAX_WSCALE),
        sack_ok: tsecr & TS_SACK != 0,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: CookieSecret = *b"0123456789abcdef";

    fn tuple() -> Tuple {
        Tuple {
            saddr: v4_mapped([192, 0, 2, 1]),
            daddr: v4_mapped([198, 51, 100, 7]),
            sport: 40000,
            dport: 80,
        }
    }

    fn xorshift(s: &mut u64) -> u64 {
        *s ^= *s << 13;
        *s ^= *s >> 7;
        *s ^= *s << 17;
        *s
    }

    #[test]
    fn mapped_addresses() {
        let m = v4_mapped([10, 1, 2, 3]);
        assert_eq!(&m[..12], &V4_MAPPED_PREFIX);
        assert_eq!(as_v4(&m), Some([10, 1, 2, 3]));
        assert_eq!(as_v4(&[0u8; 16]), None);
        assert!(tuple().is_v4());
        let mut t = tuple();
        t.saddr = [0x20, 1, 0xd, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1];
        assert!(!t.is_v4());
    }

    #[test]
    fn tuple_bytes() {
        let b = tuple().to_bytes();
        assert_eq!(&b[..16], &tuple().saddr);
        assert_eq!(&b[16..32], &tuple().daddr);
        assert_eq!(&b[32..], &[0x9c, 0x40, 0, 80]);
    }

    #[test]
    fn mss_table_index() {
        assert_eq!(mss_index(0), 0);
        assert_eq!(mss_index(535), 0);
        assert_eq!(mss_index(536), 0);
        assert_eq!(mss_index(1299), 0);
        assert_eq!(mss_index(1300), 1);
        assert_eq!(mss_index(1439), 1);
        assert_eq!(mss_index(1440), 2);
        assert_eq!(mss_index(1459), 2);
        assert_eq!(mss_index(1460), 3);
        assert_eq!(mss_index(9000), 3);
        assert_eq!(mss_index(u16::MAX), 3);
        for (i, &m) in MSS_TABLE.iter().enumerate() {
            assert_eq!(mss_of(i as u8), Some(m));
            assert_eq!(mss_index(m), i as u8);
            assert!(mss_of(mss_index(m + 1)).unwrap() <= m + 1);
        }
        assert_eq!(mss_of(4), None);
        assert_eq!(mss_of(255), None);
    }

    #[test]
    fn round_trip_all_indices() {
        let mut s = 0x1234_5678_9abc_def0;
        for _ in 0..2000 {
            let cisn = xorshift(&mut s) as u32;
            let count = xorshift(&mut s) as u32;
            for idx in 0..4u8 {
                let c = isn(&SECRET, &tuple(), cisn, count, idx);
                assert_eq!(check(&SECRET, &tuple(), cisn, c, count, 1), Some(idx));
            }
        }
    }

    #[test]
    fn index_is_clamped() {
        let c = isn(&SECRET, &tuple(), 7, 100, 200);
        assert_eq!(check(&SECRET, &tuple(), 7, c, 100, 0), Some(3));
    }

    #[test]
    fn count_in_top_bits() {
        let c0 = isn(&SECRET, &tuple(), 0, 0x1234_5600, 0);
        let h1 = hash(&SECRET, &tuple(), TAG_TUPLE, 0, 0);
        assert_eq!(c0.wrapping_sub(h1) >> 24, 0);
        let c1 = isn(&SECRET, &tuple(), 0, 0x1234_56ab, 0);
        assert_eq!(c1.wrapping_sub(h1) >> 24, 0xab);
    }

    #[test]
    fn wrong_inputs_rejected() {
        let cisn = 0xdead_beef;
        let c = isn(&SECRET, &tuple(), cisn, 500, 2);
        assert_eq!(check(&SECRET, &tuple(), cisn, c, 500, 1), Some(2));

        let mut other = SECRET;
        other[0] ^= 1;
        assert_eq!(check(&other, &tuple(), cisn, c, 500, 1), None);
        for d in 1..=8u32 {
            assert_eq!(
                check(&SECRET, &tuple(), cisn.wrapping_add(d), c, 500, 1),
                None
            );
            assert_eq!(
                check(&SECRET, &tuple(), cisn.wrapping_sub(d), c, 500, 1),
                None
            );
        }
        assert_eq!(
            check(&SECRET, &tuple(), cisn ^ 0x8000_0000, c, 500, 1),
            None
        );
        // Nearby ACKs land on other table indices (which is why forgery
        // odds are 4 / 2^24, not 1 / 2^24) or outside the table.
        assert_eq!(
            check(&SECRET, &tuple(), cisn, c.wrapping_add(1), 500, 1),
            Some(3)
        );
        assert_eq!(
            check(&SECRET, &tuple(), cisn, c.wrapping_add(2), 500, 1),
            None
        );
        assert_eq!(
            check(&SECRET, &tuple(), cisn, c.wrapping_sub(3), 500, 1),
            None
        );
        assert_eq!(check(&SECRET, &tuple(), cisn, c ^ 0x100, 500, 1), None);
        assert_eq!(
            check(&SECRET, &tuple(), cisn, c ^ 0x0100_0000, 500, 1),
            None
        );

        let mut t = tuple();
        t.sport ^= 1;
        assert_eq!(check(&SECRET, &t, cisn, c, 500, 1), None);
        let mut t = tuple();
        t.dport = 443;
        assert_eq!(check(&SECRET, &t, cisn, c, 500, 1), None);
        let mut t = tuple();
        t.saddr[15] ^= 1;
        assert_eq!(check(&SECRET, &t, cisn, c, 500, 1), None);
        let mut t = tuple();
        t.daddr[0] ^= 0x80;
        assert_eq!(check(&SECRET, &t, cisn, c, 500, 1), None);
    }

    #[test]
    fn random_acks_rarely_pass() {
        // Expected false accepts: 20000 * 4 / 2^24, about 0.005.
        let mut s = 77;
        let mut accepted = 0;
        for _ in 0..20_000 {
            let ack = xorshift(&mut s) as u32;
            if check(&SECRET, &tuple(), 1, ack, 9, 1).is_some() {
                accepted += 1;
            }
        }
        assert!(accepted <= 1, "{accepted}");
    }

    #[test]
    fn expiry() {
        let c = isn(&SECRET, &tuple(), 1, 1000, 1);
        for max_age in 0..5u32 {
            for age in 0..=max_age {
                assert_eq!(
                    check(&SECRET, &tuple(), 1, c, 1000 + age, max_age),
                    Some(1),
                    "age {age} max {max_age}"
                );
            }
            assert_eq!(
                check(&SECRET, &tuple(), 1, c, 1001 + max_age, max_age),
                None
            );
        }
        // A cookie from the future is rejected.
        assert_eq!(check(&SECRET, &tuple(), 1, c, 999, 2), None);
        // max_age is capped at 255: a cookie 256 counts old looks fresh in
        // 8 bits but the full-count hash no longer matches.
        assert_eq!(
            check(&SECRET, &tuple(), 1, c, 1000 + 255, u32::MAX),
            Some(1)
        );
        assert_eq!(check(&SECRET, &tuple(), 1, c, 1000 + 256, u32::MAX), None);
    }

    #[test]
    fn count_wraparound() {
        // Across the 8-bit boundary of the top bits.
        let c = isn(&SECRET, &tuple(), 5, 255, 3);
        assert_eq!(check(&SECRET, &tuple(), 5, c, 256, 1), Some(3));
        assert_eq!(check(&SECRET, &tuple(), 5, c, 257, 1), None);
        assert_eq!(check(&SECRET, &tuple(), 5, c, 257, 2), Some(3));
        // Across the 32-bit wrap of the count itself.
        let c = isn(&SECRET, &tuple(), 5, u32::MAX, 0);
        assert_eq!(check(&SECRET, &tuple(), 5, c, 0, 1), Some(0));
        assert_eq!(check(&SECRET, &tuple(), 5, c, 1, 2), Some(0));
        // Same low 8 bits, 256 counts later: rejected.
        let c = isn(&SECRET, &tuple(), 5, 0x10, 2);
        assert_eq!(check(&SECRET, &tuple(), 5, c, 0x110, 1), None);
    }

    #[test]
    fn ts_round_trip_all_options() {
        let mut s = 99;
        for _ in 0..500 {
            let now = xorshift(&mut s) as u32;
            for ws in (0..=14u8).map(Some).chain(core::iter::once(None)) {
                for sack_ok in [false, true] {
                    let o = CookieOpts {
                        wscale: ws,
                        sack_ok,
                    };
                    let ts = ts_encode(now, o);
                    assert_eq!(ts_decode(ts), Some(o));
                    // Never ahead of the clock, at most 63 behind.
                    assert!(!seq::after(ts, now));
                    assert!(now.wrapping_sub(ts) < 64);
                }
            }
        }
    }

    #[test]
    fn ts_wscale_clamped_and_edges() {
        let o = ts_decode(ts_encode(
            1000,
            CookieOpts {
                wscale: Some(200),
                sack_ok: false,
            },
        ));
        assert_eq!(o.unwrap().wscale, Some(14));
        // Near zero the rounding wraps below 0.
        let ts = ts_encode(
            3,
            CookieOpts {
                wscale: None,
                sack_ok: true,
            },
        );
        assert_eq!(ts, 3u32.wrapping_sub(64) & !0x3f | 0x1f);
        assert!(seq::before(ts, 3));
        // The reserved ECN bit makes a TSecr invalid.
        assert_eq!(ts_decode(0x20), None);
        assert_eq!(
            ts_decode(0x0f),
            Some(CookieOpts {
                wscale: None,
                sack_ok: false
            })
        );
    }

    #[test]
    fn ts_monotonic_in_now() {
        for o in [
            CookieOpts {
                wscale: Some(7),
                sack_ok: true,
            },
            CookieOpts::default(),
            CookieOpts {
                wscale: None,
                sack_ok: true,
            },
        ] {
            let mut prev = ts_encode(u32::MAX - 1000, o);
            for k in 1..3000u32 {
                let now = (u32::MAX - 1000).wrapping_add(k);
                let ts = ts_encode(now, o);
                assert!(!seq::before(ts, prev), "now {now}");
                prev = ts;
            }
        }
    }
}
