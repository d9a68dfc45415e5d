//! Deterministic mutation testing of the redistribution datagram parser on
//! the stable toolchain: the body of the `wire` cargo-fuzz target run over
//! 200,000 mutants of valid datagrams, so `cargo test` exercises it without
//! libFuzzer.

#[path = "common/wire.rs"]
mod wire_check;

use handoff_proto::cookie::{v4_mapped, Tuple};
use handoff_proto::wire::{self, EncapHdr, NewConn, NewTs, PktType};
use wire_check::{check_datagram, Outcome};

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

/// Values at the edges of the rules: families, option bits, window
/// scales around 14, address bytes around multicast and broadcast.
const INTERESTING: [u8; 16] = [
    0, 1, 2, 3, 4, 7, 8, 10, 14, 15, 0x7f, 0x80, 0xe0, 0xef, 0xf0, 0xff,
];

/// Header fields and the `handoff_new_conn` fields the rules look at
/// (offsets in the datagram).
const HOT: [usize; 24] = [
    0, 1, 2, 3, 7, 11, 12, 13, 14, 15, 16, 17, 28, 32, 36, 37, 38, 39, 40, 43, 44, 52, 56, 70,
];

/// Applies 1 to 4 random mutations to `buf[..*len]` (capacity `buf.len()`).
fn mutate(rng: &mut Rng, buf: &mut [u8], len: &mut usize) {
    for _ in 0..1 + rng.below(4) {
        match rng.below(9) {
            0 => {
                if *len > 0 {
                    let i = rng.below(*len);
                    buf[i] ^= 1 << rng.below(8);
                }
            }
            1 => {
                if *len > 0 {
                    let i = rng.below(*len);
                    buf[i] = rng.byte();
                }
            }
            2 => {
                if *len > 0 {
                    let i = rng.below(*len);
                    buf[i] = INTERESTING[rng.below(INTERESTING.len())];
                }
            }
            3 | 4 => {
                let i = HOT[rng.below(HOT.len())];
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
                let extra = rng.below(32);
                let new = (*len + extra).min(buf.len());
                for b in &mut buf[*len..new] {
                    *b = rng.byte();
                }
                *len = new;
            }
            7 => {
                // Make `len` agree with the datagram again, so that length
                // changes reach the body checks.
                if *len >= wire::ENCAP_HDR_LEN {
                    let body = (*len - wire::ENCAP_HDR_LEN).min(usize::from(u16::MAX));
                    buf[2..4].copy_from_slice(&(body as u16).to_be_bytes());
                }
            }
            _ => {
                // Clear a range: zero padding, flags and fields.
                if *len > 0 {
                    let i = rng.below(*len);
                    let end = (i + 1 + rng.below(8)).min(*len);
                    buf[i..end].fill(0);
                }
            }
        }
    }
}

fn new_conns() -> [NewConn; 4] {
    let v4 = NewConn {
        tuple: Tuple {
            saddr: v4_mapped([203, 0, 113, 9]),
            daddr: v4_mapped([198, 51, 100, 1]),
            sport: 51000,
            dport: 443,
        },
        tcp_opts_sack: true,
        wscale: Some((8, 7)),
        ts: Some(NewTs {
            recent: 123_456,
            local: 0x8000_0000,
        }),
        mss: 1448,
        window: 502,
        client_isn: 0x1234_5678,
        local_isn: 0x9abc_def0,
    };
    let mut a = [0u8; 16];
    a[0] = 0x20;
    a[1] = 0x01;
    a[2] = 0x0d;
    a[3] = 0xb8;
    a[15] = 7;
    let mut b = a;
    b[15] = 8;
    let v6 = NewConn {
        tuple: Tuple {
            saddr: a,
            daddr: b,
            sport: 1,
            dport: 80,
        },
        tcp_opts_sack: false,
        wscale: None,
        ts: Some(NewTs {
            recent: 0,
            local: 5,
        }),
        mss: 1220,
        window: 65535,
        client_isn: 0,
        local_isn: u32::MAX,
    };
    let v4_plain = NewConn {
        tcp_opts_sack: false,
        wscale: None,
        ts: None,
        mss: 536,
        ..v4
    };
    let v6_ws = NewConn {
        wscale: Some((14, 0)),
        ts: None,
        ..v6
    };
    [v4, v6, v4_plain, v6_ws]
}

fn seeds() -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    let requests: [&[u8]; 2] = [b"GET /index.html HTTP/1.1\r\nHost: example\r\n\r\n", b""];
    for (i, nc) in new_conns().iter().enumerate() {
        let mut buf = [0u8; 256];
        let req = requests[i % 2];
        let n = wire::new_datagram(&mut buf, 0x0001_0002 + i as u32, nc, req).unwrap();
        out.push(buf[..n].to_vec());
    }
    // A DATA datagram carrying a small IPv4 packet.
    let mut buf = [0u8; 64];
    let ip = [
        0x45, 0, 0, 40, 0, 0, 0x40, 0, 64, 6, 0, 0, 203, 0, 113, 9, 198, 51, 100, 1,
    ];
    let hdr = EncapHdr {
        ty: PktType::Data,
        flags: 0,
        conn_ref: 77,
        flow_id: 0xffff_0001,
    };
    let n = wire::write_hdr(&mut buf, &hdr, ip.len()).unwrap();
    buf[n..n + ip.len()].copy_from_slice(&ip);
    out.push(buf[..n + ip.len()].to_vec());
    for refused in [false, true] {
        let mut a = [0u8; wire::ENCAP_HDR_LEN];
        let n = wire::ack_datagram(&mut a, 0x8000_0000, 42, refused);
        out.push(a[..n].to_vec());
    }
    out
}

#[test]
fn seeds_are_valid() {
    let seeds = seeds();
    for (i, s) in seeds.iter().enumerate() {
        let want = if i < 4 { Outcome::New } else { Outcome::Other };
        assert_eq!(check_datagram(s), want, "seed {i}");
    }
}

#[test]
fn mutated_datagrams() {
    let seeds = seeds();
    let mut rng = Rng(0x7769_7265_0000_0001);
    let mut buf = [0u8; 512];
    let mut counts = [0usize; 4];
    for i in 0..ITERATIONS {
        let seed = &seeds[i % seeds.len()];
        buf[..seed.len()].copy_from_slice(seed);
        let mut len = seed.len();
        mutate(&mut rng, &mut buf, &mut len);
        let o = check_datagram(&buf[..len]);
        counts[o as usize] += 1;
    }
    let [rejected, other, new_rejected, new] = counts;
    eprintln!(
        "wire: {rejected} rejected, {other} DATA/ACK, {new_rejected} NEW bodies rejected, \
         {new} NEW accepted, of {ITERATIONS}"
    );
    // Every outcome must be common, or its checks go untested.
    for c in counts {
        assert!(c > ITERATIONS / 20, "{counts:?}");
    }
}

#[test]
fn random_bytes_as_datagrams() {
    let mut rng = Rng(0xdead_beef_f00d_0001);
    let mut buf = [0u8; 160];
    for _ in 0..ITERATIONS / 4 {
        let len = rng.below(buf.len() + 1);
        for b in &mut buf[..len] {
            *b = rng.byte();
        }
        // A plausible type and a matching length half of the time.
        if len >= wire::ENCAP_HDR_LEN && rng.next() & 1 == 0 {
            buf[0] = 1 + rng.below(3) as u8;
            let body = (len - wire::ENCAP_HDR_LEN) as u16;
            buf[2..4].copy_from_slice(&body.to_be_bytes());
        }
        let _ = check_datagram(&buf[..len]);
    }
}
