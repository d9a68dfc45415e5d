//! Deterministic mutation testing of the parsers on the stable toolchain.
//!
//! A xorshift PRNG mutates valid packets and option blocks 200,000 times per
//! parser. Nothing may panic, and whatever a parser accepts must satisfy the
//! invariants the module relies on. The cargo-fuzz targets in `fuzz/` do the
//! same with coverage guidance, on nightly.

mod common;

use handoff_proto::cookie::{v4_mapped, Tuple};
use handoff_proto::packet::{self, Segment, TcpFlags};
use handoff_proto::tcpopt;

const ITERATIONS: usize = 200_000;

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }

    fn byte(&mut self) -> u8 {
        self.next() as u8
    }
}

const INTERESTING: [u8; 12] = [0, 1, 2, 4, 5, 6, 0x0f, 0x40, 0x45, 0x50, 0x60, 0xff];

/// Applies 1 to 4 random mutations to `buf[..*len]` (capacity `buf.len()`).
fn mutate(rng: &mut Rng, buf: &mut [u8], len: &mut usize, hot: &[usize]) {
    for _ in 0..1 + rng.below(4) {
        match rng.below(8) {
            0 => {
                // Flip a bit.
                if *len > 0 {
                    let i = rng.below(*len);
                    buf[i] ^= 1 << rng.below(8);
                }
            }
            1 => {
                // Random byte.
                if *len > 0 {
                    let i = rng.below(*len);
                    buf[i] = rng.byte();
                }
            }
            2 => {
                // Interesting value anywhere.
                if *len > 0 {
                    let i = rng.below(*len);
                    buf[i] = INTERESTING[rng.below(INTERESTING.len())];
                }
            }
            3 | 4 => {
                // Length and offset fields: where the parsers can go wrong.
                let i = hot[rng.below(hot.len())];
                if i < *len {
                    buf[i] = if rng.next() & 1 == 0 {
                        rng.byte()
                    } else {
                        INTERESTING[rng.below(INTERESTING.len())]
                    };
                }
            }
            5 => *len = rng.below(*len + 1),
            6 => {
                // Grow with random bytes.
                let extra = rng.below(16);
                let new = (*len + extra).min(buf.len());
                for b in &mut buf[*len..new] {
                    *b = rng.byte();
                }
                *len = new;
            }
            _ => {
                // Swap in a whole random 16-bit word at a hot offset.
                let i = hot[rng.below(hot.len())];
                if i + 1 < *len {
                    buf[i] = rng.byte();
                    buf[i + 1] = rng.byte();
                }
            }
        }
    }
}

fn tuple(v6: bool) -> Tuple {
    if v6 {
        let mut a = [0u8; 16];
        a[0] = 0x20;
        a[1] = 0x01;
        a[15] = 1;
        let mut b = a;
        b[15] = 2;
        Tuple {
            saddr: a,
            daddr: b,
            sport: 1234,
            dport: 80,
        }
    } else {
        Tuple {
            saddr: v4_mapped([10, 0, 0, 1]),
            daddr: v4_mapped([10, 0, 0, 2]),
            sport: 1234,
            dport: 80,
        }
    }
}

const SYN_OPTS: [u8; 20] = [
    2, 4, 0x05, 0xb4, 4, 2, 8, 10, 1, 2, 3, 4, 0, 0, 0, 0, 1, 3, 3, 7,
];

fn seeds() -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    for v6 in [false, true] {
        let t = tuple(v6);
        for (flags, opts, payload) in [
            (TcpFlags::SYN, &SYN_OPTS[..], &b""[..]),
            (TcpFlags::ACK, &[][..], &b""[..]),
            (
                TcpFlags::ACK | TcpFlags::PSH,
                &[1, 1, 8, 10, 0, 0, 0, 1, 0, 0, 0, 2][..],
                &b"GET / HTTP/1.1\r\n\r\n"[..],
            ),
            (TcpFlags::RST, &[][..], &b""[..]),
            (TcpFlags::FIN | TcpFlags::ACK, &[][..], &b"x"[..]),
        ] {
            let mut buf = [0u8; 256];
            let n = packet::build_segment(
                &mut buf,
                &Segment {
                    src: t.saddr,
                    dst: t.daddr,
                    sport: t.sport,
                    dport: t.dport,
                    seq: 1000,
                    ack: 2000,
                    flags,
                    window: 65535,
                    options: opts,
                    payload,
                },
            )
            .unwrap();
            out.push(buf[..n].to_vec());
        }
    }
    out
}

#[test]
fn mutated_packets() {
    let seeds = seeds();
    let mut rng = Rng(0x0123_4567_89ab_cdef);
    // IPv4/IPv6 length, IHL, fragment, protocol and TCP data-offset bytes.
    let hot_v4 = [0, 2, 3, 6, 7, 9, 32, 33];
    let hot_v6 = [0, 4, 5, 6, 8, 18, 19, 52, 53];
    let mut accepted = 0usize;
    let mut buf = [0u8; 512];
    for i in 0..ITERATIONS {
        let seed = &seeds[i % seeds.len()];
        buf[..seed.len()].copy_from_slice(seed);
        let mut len = seed.len();
        let hot: &[usize] = if seed[0] >> 4 == 4 { &hot_v4 } else { &hot_v6 };
        mutate(&mut rng, &mut buf, &mut len, hot);
        let data = &buf[..len];
        if let Ok(p) = packet::parse(data) {
            accepted += 1;
            common::check_packet(data, &p);
        }
    }
    // The mutations must not all be fatal, or the invariants go untested.
    eprintln!("packets: {accepted} of {ITERATIONS} mutants accepted");
    assert!(accepted > ITERATIONS / 10, "accepted {accepted}");
}

#[test]
fn random_bytes_as_packets() {
    let mut rng = Rng(0xfeed_face_cafe_beef);
    let mut buf = [0u8; 128];
    for _ in 0..ITERATIONS / 4 {
        let len = rng.below(buf.len() + 1);
        for b in &mut buf[..len] {
            *b = rng.byte();
        }
        // Make the version nibble plausible half of the time.
        if len > 0 && rng.next() & 1 == 0 {
            buf[0] = if rng.next() & 1 == 0 { 0x45 } else { 0x60 };
        }
        if let Ok(p) = packet::parse(&buf[..len]) {
            common::check_packet(&buf[..len], &p);
        }
    }
}

#[test]
fn mutated_options() {
    let mut seeds: Vec<Vec<u8>> = vec![SYN_OPTS.to_vec(), Vec::new()];
    let mut sack = vec![1, 1, 5, 18];
    sack.extend_from_slice(&[0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3, 0, 0, 0, 4]);
    seeds.push(sack);
    let mut synack = [0u8; tcpopt::MAX_OPTIONS_LEN];
    let n = tcpopt::write_synack(
        &tcpopt::SynAckOptions {
            mss: 1460,
            sack_perm: true,
            timestamp: Some(tcpopt::Timestamp { val: 1, ecr: 2 }),
            wscale: Some(7),
        },
        &mut synack,
    );
    seeds.push(synack[..n].to_vec());
    let hot: Vec<usize> = (0..40).collect();
    let mut rng = Rng(0x5eed_0000_0000_0001);
    let mut buf = [0u8; 64];
    let mut accepted = 0usize;
    for i in 0..ITERATIONS {
        let seed = &seeds[i % seeds.len()];
        buf[..seed.len()].copy_from_slice(seed);
        let mut len = seed.len();
        mutate(&mut rng, &mut buf, &mut len, &hot);
        let data = &buf[..len];
        if common::check_options(data) {
            accepted += 1;
        }
    }
    eprintln!("options: {accepted} of {ITERATIONS} mutants accepted");
    assert!(accepted > ITERATIONS / 10, "accepted {accepted}");
}
