//! SipHash-2-4 with a 128-bit key and 64-bit output (Aumasson and
//! Bernstein, "SipHash: a fast short-input PRF", 2012).
//!
//! Used as the keyed hash of the ISN cookies: fast on the 40-odd bytes of a
//! connection tuple and a good PRF under a secret key.

/// A SipHash key: 16 bytes, read as two little-endian 64-bit words.
pub type SipKey = [u8; 16];

/// Loads up to 8 bytes as a little-endian integer (missing high bytes are
/// zero), without indexing.
fn load_le(bytes: &[u8]) -> u64 {
    bytes
        .iter()
        .rev()
        .fold(0u64, |acc, &b| (acc << 8) | u64::from(b))
}

struct State {
    v0: u64,
    v1: u64,
    v2: u64,
    v3: u64,
}

impl State {
    fn new(key: &SipKey) -> Self {
        let (lo, hi) = key.split_at(8);
        let k0 = load_le(lo);
        let k1 = load_le(hi);
        // The constants spell "somepseudorandomlygeneratedbytes".
        State {
            v0: k0 ^ 0x736f_6d65_7073_6575,
            v1: k1 ^ 0x646f_7261_6e64_6f6d,
            v2: k0 ^ 0x6c79_6765_6e65_7261,
            v3: k1 ^ 0x7465_6462_7974_6573,
        }
    }

    fn round(&mut self) {
        self.v0 = self.v0.wrapping_add(self.v1);
        self.v1 = self.v1.rotate_left(13);
        self.v1 ^= self.v0;
        self.v0 = self.v0.rotate_left(32);
        self.v2 = self.v2.wrapping_add(self.v3);
        self.v3 = self.v3.rotate_left(16);
        self.v3 ^= self.v2;
        self.v0 = self.v0.wrapping_add(self.v3);
        self.v3 = self.v3.rotate_left(21);
        self.v3 ^= self.v0;
        self.v2 = self.v2.wrapping_add(self.v1);
        self.v1 = self.v1.rotate_left(17);
        self.v1 ^= self.v2;
        self.v2 = self.v2.rotate_left(32);
    }

    /// Absorbs one message word with the two compression rounds.
    fn compress(&mut self, m: u64) {
        self.v3 ^= m;
        self.round();
        self.round();
        self.v0 ^= m;
    }

    /// Four finalization rounds.
    fn finish(mut self) -> u64 {
        self.v2 ^= 0xff;
        self.round();
        self.round();
        self.round();
        self.round();
        self.v0 ^ self.v1 ^ self.v2 ^ self.v3
    }
}

/// SipHash-2-4 of `msg` under `key`.
pub fn siphash24(key: &SipKey, msg: &[u8]) -> u64 {
    let mut st = State::new(key);
    let words = msg.chunks_exact(8);
    let tail = words.remainder();
    for w in words {
        st.compress(load_le(w));
    }
    // The last word carries the message length modulo 256 in its top byte;
    // the shift drops the higher bits of the length by design.
    let len_byte = (msg.len() as u64) << 56;
    st.compress(len_byte | load_le(tail));
    st.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `vectors_sip64` of the reference implementation: key 00..0f, message
    /// 00 01 .. (n-1) for n = 0..=16, plus n = 32.
    const VECTORS: [(usize, u64); 18] = [
        (0, 0x726f_db47_dd0e_0e31),
        (1, 0x74f8_39c5_93dc_67fd),
        (2, 0x0d6c_8009_d9a9_4f5a),
        (3, 0x8567_6696_d7fb_7e2d),
        (4, 0xcf27_94e0_2771_87b7),
        (5, 0x1876_5564_cd99_a68d),
        (6, 0xcbc9_466e_58fe_e3ce),
        (7, 0xab02_00f5_8b01_d137),
        (8, 0x93f5_f579_9a93_2462),
        (9, 0x9e00_82df_0ba9_e4b0),
        (10, 0x7a5d_bbc5_94dd_b9f3),
        (11, 0xf4b3_2f46_226b_ada7),
        (12, 0x751e_8fbc_860e_e5fb),
        (13, 0x14ea_5627_c084_3d90),
        (14, 0xf723_ca90_8e7a_f2ee),
        (15, 0xa129_ca61_49be_45e5),
        (16, 0x3f2a_cc7f_57c2_9bdb),
        (32, 0x7127_512f_72f2_7cce),
    ];

    fn ref_key() -> SipKey {
        core::array::from_fn(|i| i as u8)
    }

    #[test]
    fn reference_vectors() {
        let key = ref_key();
        let msg: [u8; 64] = core::array::from_fn(|i| i as u8);
        for (n, want) in VECTORS {
            assert_eq!(siphash24(&key, &msg[..n]), want, "length {n}");
        }
    }

    #[test]
    fn paper_appendix_example() {
        // Appendix A of the paper: 15-byte message 00..0e.
        let msg: [u8; 15] = core::array::from_fn(|i| i as u8);
        assert_eq!(siphash24(&ref_key(), &msg), 0xa129_ca61_49be_45e5);
    }

    /// `core`'s deprecated `SipHasher` is SipHash-2-4 over the raw bytes
    /// given to `write`; it serves as an independent oracle for many lengths.
    #[test]
    #[allow(deprecated)]
    fn matches_core_siphasher() {
        use core::hash::Hasher;
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut next = || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        let mut buf = [0u8; 300];
        for len in 0..buf.len() {
            let mut key = [0u8; 16];
            key[..8].copy_from_slice(&next().to_le_bytes());
            key[8..].copy_from_slice(&next().to_le_bytes());
            for b in buf.iter_mut().take(len) {
                *b = next() as u8;
            }
            let k0 = u64::from_le_bytes(key[..8].try_into().unwrap());
            let k1 = u64::from_le_bytes(key[8..].try_into().unwrap());
            let mut h = core::hash::SipHasher::new_with_keys(k0, k1);
            h.write(&buf[..len]);
            assert_eq!(siphash24(&key, &buf[..len]), h.finish(), "length {len}");
        }
    }

    #[test]
    fn key_matters() {
        let mut k = ref_key();
        let a = siphash24(&k, b"tuple");
        k[15] ^= 1;
        assert_ne!(a, siphash24(&k, b"tuple"));
    }

    #[test]
    fn length_mod_256_is_in_the_padding() {
        // Messages differing only in trailing zeros hash differently.
        let z = [0u8; 300];
        let a = siphash24(&ref_key(), &z[..7]);
        let b = siphash24(&ref_key(), &z[..8]);
        let c = siphash24(&ref_key(), &z[..263]);
        assert_ne!(a, b);
        assert_ne!(a, c);
    }
}
