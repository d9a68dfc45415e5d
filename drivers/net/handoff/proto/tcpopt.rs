//! TCP options: parsing a segment's option area and building a SYN-ACK's.
//!
//! Option kinds and lengths are from RFC 9293 (EOL, NOP, MSS), RFC 7323
//! (window scale, timestamps) and RFC 2018 (SACK).

/// End of option list.
pub const KIND_EOL: u8 = 0;
/// No-operation (padding).
pub const KIND_NOP: u8 = 1;
/// Maximum segment size.
pub const KIND_MSS: u8 = 2;
/// Window scale.
pub const KIND_WSCALE: u8 = 3;
/// SACK permitted.
pub const KIND_SACK_PERM: u8 = 4;
/// SACK blocks.
pub const KIND_SACK: u8 = 5;
/// Timestamps.
pub const KIND_TIMESTAMP: u8 = 8;

/// Largest window-scale shift allowed by RFC 7323 §2.3; larger offers are
/// clamped to it.
pub const MAX_WSCALE: u8 = 14;

/// Largest TCP option area (data offset 15 words minus the 5-word header).
pub const MAX_OPTIONS_LEN: usize = 40;

/// Most SACK blocks that fit in an option area.
pub const MAX_SACK_BLOCKS: usize = 4;

const LEN_MSS: u8 = 4;
const LEN_WSCALE: u8 = 3;
const LEN_SACK_PERM: u8 = 2;
/// Length of the timestamps option (RFC 7323).
pub const LEN_TIMESTAMP: u8 = 10;

/// Why an option area was rejected.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OptError {
    /// An option's length byte is missing, or its length runs past the end
    /// of the option area.
    Truncated {
        /// The option kind.
        kind: u8,
    },
    /// An option's length is below 2, so it would not even cover its own
    /// kind and length bytes.
    LengthTooShort {
        /// The option kind.
        kind: u8,
        /// The length byte found.
        len: u8,
    },
    /// A known option with a length its definition does not allow.
    WrongLength {
        /// The option kind.
        kind: u8,
        /// The length byte found.
        len: u8,
    },
}

/// The timestamps option (RFC 7323 §3).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Timestamp {
    /// TSval: the sender's clock.
    pub val: u32,
    /// TSecr: the echoed TSval of the peer.
    pub ecr: u32,
}

/// One SACK block: the octets `[left, right)` were received (RFC 2018).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SackBlock {
    /// First sequence number of the block.
    pub left: u32,
    /// Sequence number just after the block.
    pub right: u32,
}

/// Up to [`MAX_SACK_BLOCKS`] SACK blocks, without allocation.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SackBlocks {
    blocks: [SackBlock; MAX_SACK_BLOCKS],
    len: u8,
}

impl SackBlocks {
    /// The blocks present, in option order.
    pub fn as_slice(&self) -> &[SackBlock] {
        self.blocks.get(..usize::from(self.len)).unwrap_or(&[])
    }

    /// Whether there are no blocks.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
}

/// The options of one segment.
///
/// When a kind appears more than once the last occurrence wins, as in
/// Linux.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TcpOptions {
    /// MSS option value as sent (0 is possible; see [`Self::effective_mss`]).
    pub mss: Option<u16>,
    /// Window-scale shift, already clamped to [`MAX_WSCALE`].
    pub wscale: Option<u8>,
    /// SACK-permitted option present.
    pub sack_perm: bool,
    /// Timestamps option.
    pub timestamp: Option<Timestamp>,
    /// SACK blocks (normally absent on a SYN).
    pub sack: SackBlocks,
}

impl TcpOptions {
    /// The MSS to use towards the peer: its MSS option, or `default` when it
    /// sent none or sent 0 (RFC 9293 §3.7.1: 536 for IPv4, 1220 for IPv6).
    pub fn effective_mss(&self, default: u16) -> u16 {
        match self.mss {
            Some(m) if m != 0 => m,
            _ => default,
        }
    }
}

/// Parses an option area strictly: any malformed option is an error.
///
/// Parsing stops at EOL; NOPs are skipped; unknown kinds are skipped by
/// their length. Errors: length byte missing or option past the end
/// ([`OptError::Truncated`]), length below 2 ([`OptError::LengthTooShort`]),
/// and a wrong length for MSS, window scale, SACK-permitted, timestamps or
/// SACK ([`OptError::WrongLength`]). A window scale above 14 is not an
/// error; it is clamped to 14 (RFC 7323 §2.3).
pub fn parse(opts: &[u8]) -> Result<TcpOptions, OptError> {
    parse_inner(opts, true)
}

/// Parses an option area the way Linux does, never failing.
///
/// Parsing stops silently at a length below 2 or an option running past
/// the end (what was parsed before is kept), and known options with a wrong
/// length are ignored. Use it where dropping the segment would be harsher
/// than the local stack.
pub fn parse_lenient(opts: &[u8]) -> TcpOptions {
    // Lenient mode never fails; the default is only a formality.
    parse_inner(opts, false).unwrap_or_default()
}

fn be32(b: [u8; 4]) -> u32 {
    u32::from_be_bytes(b)
}

fn parse_inner(opts: &[u8], strict: bool) -> Result<TcpOptions, OptError> {
    let mut out = TcpOptions::default();
    let mut rest = opts;
    while let Some((&kind, tail)) = rest.split_first() {
        match kind {
            KIND_EOL => break,
            KIND_NOP => {
                rest = tail;
                continue;
            }
            _ => {}
        }
        let Some(&len) = tail.first() else {
            if strict {
                return Err(OptError::Truncated { kind });
            }
            break;
        };
        if len < 2 {
            if strict {
                return Err(OptError::LengthTooShort { kind, len });
            }
            break;
        }
        // `split_at_checked` is newer than the kernel's minimum Rust (1.78).
        let (Some(opt), Some(next)) = (rest.get(..usize::from(len)), rest.get(usize::from(len)..))
        else {
            if strict {
                return Err(OptError::Truncated { kind });
            }
            break;
        };
        rest = next;
        // `opt` holds at least the kind and length bytes (len >= 2).
        let body = match opt {
            [_, _, body @ ..] => body,
            _ => &[],
        };
        let known_ok = match (kind, body) {
            (KIND_MSS, &[a, b]) => {
                out.mss = Some(u16::from_be_bytes([a, b]));
                true
            }
            (KIND_WSCALE, &[shift]) => {
                out.wscale = Some(shift.min(MAX_WSCALE));
                true
            }
            (KIND_SACK_PERM, &[]) => {
                out.sack_perm = true;
                true
            }
            (KIND_TIMESTAMP, &[a, b, c, d, e, f, g, h]) => {
                out.timestamp = Some(Timestamp {
                    val: be32([a, b, c, d]),
                    ecr: be32([e, f, g, h]),
                });
                true
            }
            (KIND_SACK, blocks) => match parse_sack(blocks) {
                Some(s) => {
                    out.sack = s;
                    true
                }
                None => false,
            },
            (KIND_MSS | KIND_WSCALE | KIND_SACK_PERM | KIND_TIMESTAMP, _) => false,
            // Unknown kinds are skipped by their length.
            _ => true,
        };
        if !known_ok && strict {
            return Err(OptError::WrongLength { kind, len });
        }
    }
    Ok(out)
}

/// SACK blocks: 1 to 4 pairs of 32-bit edges.
fn parse_sack(body: &[u8]) -> Option<SackBlocks> {
    if body.is_empty() || body.len() % 8 != 0 || body.len() / 8 > MAX_SACK_BLOCKS {
        return None;
    }
    let mut s = SackBlocks::default();
    for (slot, chunk) in s.blocks.iter_mut().zip(body.chunks_exact(8)) {
        if let &[a, b, c, d, e, f, g, h] = chunk {
            *slot = SackBlock {
                left: be32([a, b, c, d]),
                right: be32([e, f, g, h]),
            };
            s.len = s.len.saturating_add(1);
        }
    }
    Some(s)
}

/// What a SYN-ACK carries in its option area.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SynAckOptions {
    /// Our MSS (always sent).
    pub mss: u16,
    /// Whether to send SACK-permitted.
    pub sack_perm: bool,
    /// Timestamps to send (TSval ours, TSecr the client's TSval).
    pub timestamp: Option<Timestamp>,
    /// Our window-scale shift, if we send the option (clamped to 14).
    pub wscale: Option<u8>,
}

impl SynAckOptions {
    /// The reply to a SYN carrying `syn`: SACK-permitted, timestamps and
    /// window scale are each sent only when the client offered them (RFC
    /// 2018 §2, RFC 7323 §2.2 and §3.2). `our_wscale` is our receive shift
    /// and `tsval` our TSval; TSecr echoes the client's TSval.
    pub fn reply_to(syn: &TcpOptions, mss: u16, our_wscale: u8, tsval: u32) -> Self {
        SynAckOptions {
            mss,
            sack_perm: syn.sack_perm,
            timestamp: syn.timestamp.map(|t| Timestamp {
                val: tsval,
                ecr: t.val,
            }),
            wscale: syn.wscale.map(|_| our_wscale.min(MAX_WSCALE)),
        }
    }
}

/// Appends `bytes` at `*at`; the caller sizes the buffer, so nothing is
/// ever cut, but a short buffer would only lose bytes, never panic.
fn put(out: &mut [u8], at: &mut usize, bytes: &[u8]) {
    if let Some(dst) = out.get_mut(*at..) {
        for (d, s) in dst.iter_mut().zip(bytes) {
            *d = *s;
        }
    }
    *at = at.saturating_add(bytes.len());
}

/// Writes a SYN-ACK option area into `out` and returns its length (a
/// multiple of 4, at most 20).
///
/// The layout is the one Linux uses, so captures look familiar:
/// `02 04 <mss>`, then `04 02 08 0a <tsval> <tsecr>` when both SACK-permitted
/// and timestamps are sent (`01 01 08 0a ...` for timestamps alone,
/// `01 01 04 02` for SACK-permitted alone), then `01 03 03 <shift>`.
pub fn write_synack(opts: &SynAckOptions, out: &mut [u8; MAX_OPTIONS_LEN]) -> usize {
    let mut at = 0;
    let [m0, m1] = opts.mss.to_be_bytes();
    put(out, &mut at, &[KIND_MSS, LEN_MSS, m0, m1]);
    match (opts.timestamp, opts.sack_perm) {
        (Some(ts), sack) => {
            // SACK-permitted rides in the two bytes NOPs would otherwise pad.
            let lead = if sack {
                [KIND_SACK_PERM, LEN_SACK_PERM]
            } else {
                [KIND_NOP, KIND_NOP]
            };
            put(out, &mut at, &lead);
            put(out, &mut at, &[KIND_TIMESTAMP, LEN_TIMESTAMP]);
            put(out, &mut at, &ts.val.to_be_bytes());
            put(out, &mut at, &ts.ecr.to_be_bytes());
        }
        (None, true) => put(
            out,
            &mut at,
            &[KIND_NOP, KIND_NOP, KIND_SACK_PERM, LEN_SACK_PERM],
        ),
        (None, false) => {}
    }
    if let Some(shift) = opts.wscale {
        put(
            out,
            &mut at,
            &[KIND_NOP, KIND_WSCALE, LEN_WSCALE, shift.min(MAX_WSCALE)],
        );
    }
    at
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A typical Linux client SYN: MSS 1460, SACK_PERM, TS, NOP, WS 7.
    const LINUX_SYN: [u8; 20] = [
        2, 4, 0x05, 0xb4, 4, 2, 8, 10, 0x11, 0x22, 0x33, 0x44, 0, 0, 0, 0, 1, 3, 3, 7,
    ];

    #[test]
    fn parses_linux_syn() {
        let o = parse(&LINUX_SYN).unwrap();
        assert_eq!(o.mss, Some(1460));
        assert_eq!(o.wscale, Some(7));
        assert!(o.sack_perm);
        assert_eq!(
            o.timestamp,
            Some(Timestamp {
                val: 0x1122_3344,
                ecr: 0
            })
        );
        assert!(o.sack.is_empty());
        assert_eq!(parse_lenient(&LINUX_SYN), o);
    }

    #[test]
    fn empty_and_padding() {
        assert_eq!(parse(&[]), Ok(TcpOptions::default()));
        assert_eq!(parse(&[1, 1, 1, 1]), Ok(TcpOptions::default()));
        // Anything after EOL is padding, even garbage.
        assert_eq!(parse(&[0, 2, 0xff]), Ok(TcpOptions::default()));
        let o = parse(&[2, 4, 1, 0, 0, 9, 9, 9]).unwrap();
        assert_eq!(o.mss, Some(256));
    }

    #[test]
    fn unknown_kinds_skipped() {
        // Kind 30 (MPTCP) with 6 bytes, kind 99 with 2, then MSS.
        let o = parse(&[30, 6, 1, 2, 3, 4, 99, 2, 2, 4, 0x02, 0x18]).unwrap();
        assert_eq!(o.mss, Some(536));
    }

    #[test]
    fn wscale_clamped() {
        assert_eq!(parse(&[3, 3, 14]).unwrap().wscale, Some(14));
        assert_eq!(parse(&[3, 3, 15]).unwrap().wscale, Some(14));
        assert_eq!(parse(&[3, 3, 255]).unwrap().wscale, Some(14));
        assert_eq!(parse(&[3, 3, 0]).unwrap().wscale, Some(0));
    }

    #[test]
    fn length_too_short() {
        assert_eq!(
            parse(&[2, 0, 0, 0]),
            Err(OptError::LengthTooShort { kind: 2, len: 0 })
        );
        assert_eq!(
            parse(&[77, 1]),
            Err(OptError::LengthTooShort { kind: 77, len: 1 })
        );
    }

    #[test]
    fn truncated() {
        assert_eq!(parse(&[2]), Err(OptError::Truncated { kind: 2 }));
        assert_eq!(parse(&[2, 4, 5]), Err(OptError::Truncated { kind: 2 }));
        assert_eq!(
            parse(&[1, 1, 8, 10, 0]),
            Err(OptError::Truncated { kind: 8 })
        );
        assert_eq!(parse(&[99, 40]), Err(OptError::Truncated { kind: 99 }));
    }

    #[test]
    fn wrong_fixed_lengths() {
        for (bytes, kind, len) in [
            (&[2u8, 3, 0][..], 2u8, 3u8),
            (&[2, 5, 0, 0, 0], 2, 5),
            (&[3, 2], 3, 2),
            (&[3, 4, 1, 1], 3, 4),
            (&[4, 3, 0], 4, 3),
            (&[8, 6, 0, 0, 0, 0], 8, 6),
            (&[8, 2], 8, 2),
            (&[5, 2], 5, 2),
            (&[5, 6, 0, 0, 0, 0], 5, 6),
        ] {
            assert_eq!(
                parse(bytes),
                Err(OptError::WrongLength { kind, len }),
                "{bytes:?}"
            );
        }
    }

    #[test]
    fn sack_blocks() {
        let mut b = [0u8; 2 + 16];
        b[0] = 5;
        b[1] = 18;
        b[2..6].copy_from_slice(&10u32.to_be_bytes());
        b[6..10].copy_from_slice(&20u32.to_be_bytes());
        b[10..14].copy_from_slice(&30u32.to_be_bytes());
        b[14..18].copy_from_slice(&40u32.to_be_bytes());
        let o = parse(&b).unwrap();
        assert_eq!(
            o.sack.as_slice(),
            &[
                SackBlock {
                    left: 10,
                    right: 20
                },
                SackBlock {
                    left: 30,
                    right: 40
                }
            ]
        );
        // Five blocks do not fit a real header; reject them all the same.
        let mut five = [0u8; 42];
        five[0] = 5;
        five[1] = 42;
        assert_eq!(
            parse(&five),
            Err(OptError::WrongLength { kind: 5, len: 42 })
        );
        assert!(parse_lenient(&five).sack.is_empty());
    }

    #[test]
    fn last_occurrence_wins() {
        let o = parse(&[2, 4, 0, 100, 2, 4, 0, 200]).unwrap();
        assert_eq!(o.mss, Some(200));
    }

    #[test]
    fn lenient_like_linux() {
        // Wrong-length MSS ignored, parsing continues.
        let o = parse_lenient(&[2, 3, 0, 3, 3, 5]);
        assert_eq!(o.mss, None);
        assert_eq!(o.wscale, Some(5));
        // Silly length stops parsing but keeps what came before.
        let o = parse_lenient(&[3, 3, 5, 2, 1, 2, 4, 5, 0xb4]);
        assert_eq!(o.wscale, Some(5));
        assert_eq!(o.mss, None);
        // Partial option stops parsing.
        let o = parse_lenient(&[4, 2, 8, 10, 0, 0]);
        assert!(o.sack_perm);
        assert_eq!(o.timestamp, None);
    }

    #[test]
    fn effective_mss() {
        let mut o = TcpOptions::default();
        assert_eq!(o.effective_mss(536), 536);
        o.mss = Some(0);
        assert_eq!(o.effective_mss(1220), 1220);
        o.mss = Some(1400);
        assert_eq!(o.effective_mss(536), 1400);
    }

    fn build(o: &SynAckOptions) -> ([u8; MAX_OPTIONS_LEN], usize) {
        let mut buf = [0u8; MAX_OPTIONS_LEN];
        let n = write_synack(o, &mut buf);
        (buf, n)
    }

    #[test]
    fn synack_full_layout_matches_linux() {
        let o = SynAckOptions {
            mss: 1460,
            sack_perm: true,
            timestamp: Some(Timestamp {
                val: 0xaabb_ccdd,
                ecr: 0x1122_3344,
            }),
            wscale: Some(7),
        };
        let (b, n) = build(&o);
        assert_eq!(
            &b[..n],
            &[
                2, 4, 0x05, 0xb4, 4, 2, 8, 10, 0xaa, 0xbb, 0xcc, 0xdd, 0x11, 0x22, 0x33, 0x44, 1,
                3, 3, 7
            ]
        );
    }

    #[test]
    fn synack_partial_layouts() {
        let ts = Some(Timestamp { val: 1, ecr: 2 });
        let (b, n) = build(&SynAckOptions {
            mss: 536,
            sack_perm: false,
            timestamp: ts,
            wscale: None,
        });
        assert_eq!(
            &b[..n],
            &[2, 4, 2, 0x18, 1, 1, 8, 10, 0, 0, 0, 1, 0, 0, 0, 2]
        );
        let (b, n) = build(&SynAckOptions {
            mss: 536,
            sack_perm: true,
            timestamp: None,
            wscale: Some(20),
        });
        assert_eq!(&b[..n], &[2, 4, 2, 0x18, 1, 1, 4, 2, 1, 3, 3, 14]);
        let (b, n) = build(&SynAckOptions {
            mss: 1220,
            ..SynAckOptions::default()
        });
        assert_eq!(&b[..n], &[2, 4, 0x04, 0xc4]);
    }

    #[test]
    fn synack_lengths_and_round_trip() {
        for bits in 0u8..16 {
            let o = SynAckOptions {
                mss: 1000 + u16::from(bits),
                sack_perm: bits & 1 != 0,
                timestamp: (bits & 2 != 0).then_some(Timestamp {
                    val: 0xdead_beef,
                    ecr: u32::from(bits),
                }),
                wscale: (bits & 4 != 0).then_some(bits),
            };
            let (b, n) = build(&o);
            assert_eq!(n % 4, 0);
            assert!(n <= 20);
            let p = parse(&b[..n]).unwrap();
            assert_eq!(p.mss, Some(o.mss));
            assert_eq!(p.sack_perm, o.sack_perm);
            assert_eq!(p.timestamp, o.timestamp);
            assert_eq!(p.wscale, o.wscale.map(|w| w.min(MAX_WSCALE)));
            // Zero padding after the block parses as EOL.
            assert_eq!(parse(&b).unwrap(), p);
        }
    }

    #[test]
    fn reply_echoes_only_offered() {
        let none = TcpOptions::default();
        let r = SynAckOptions::reply_to(&none, 1460, 7, 99);
        assert_eq!(
            r,
            SynAckOptions {
                mss: 1460,
                sack_perm: false,
                timestamp: None,
                wscale: None
            }
        );
        let (b, n) = build(&r);
        assert_eq!(&b[..n], &[2, 4, 0x05, 0xb4]);

        let syn = parse(&LINUX_SYN).unwrap();
        let r = SynAckOptions::reply_to(&syn, 1400, 9, 5);
        assert!(r.sack_perm);
        assert_eq!(
            r.timestamp,
            Some(Timestamp {
                val: 5,
                ecr: 0x1122_3344
            })
        );
        assert_eq!(r.wscale, Some(9));
        assert_eq!(SynAckOptions::reply_to(&syn, 1400, 200, 5).wscale, Some(14));
    }

    #[test]
    fn put_never_overruns() {
        let mut small = [0u8; 3];
        let mut at = 2;
        put(&mut small, &mut at, &[1, 2, 3]);
        assert_eq!(small, [0, 0, 1]);
        assert_eq!(at, 5);
        put(&mut small, &mut at, &[9]);
        assert_eq!(small, [0, 0, 1]);
    }
}
