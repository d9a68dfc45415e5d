//! TCP sequence-number arithmetic modulo 2^32 (RFC 9293 §3.4).
//!
//! Comparisons are only meaningful between numbers less than 2^31 apart; at
//! exactly 2^31 both `before(a, b)` and `before(b, a)` hold, as in every TCP
//! implementation, so windows must stay well below that (RFC 7323 caps a
//! scaled window at 2^30).

/// Whether `a` comes strictly before `b` in sequence space.
#[inline]
pub const fn before(a: u32, b: u32) -> bool {
    // The sign bit of the wrapped difference tells the direction.
    a.wrapping_sub(b) & 0x8000_0000 != 0
}

/// Whether `a` comes strictly after `b` in sequence space.
#[inline]
pub const fn after(a: u32, b: u32) -> bool {
    before(b, a)
}

/// Whether `lo <= x <= hi` in sequence space, i.e. `x` lies on the arc that
/// starts at `lo` and ends at `hi` (both inclusive).
#[inline]
pub const fn between(x: u32, lo: u32, hi: u32) -> bool {
    // Distances measured from `lo` turn the circular test into a linear one.
    hi.wrapping_sub(lo) >= x.wrapping_sub(lo)
}

/// Whether `x` lies in the half-open window `[start, start + len)`.
///
/// An empty window (`len == 0`) contains nothing.
#[inline]
pub const fn in_window(x: u32, start: u32, len: u32) -> bool {
    x.wrapping_sub(start) < len
}

/// The RFC 9293 §3.10.7.4 acceptability test of an incoming segment.
///
/// `seg_len` counts payload bytes plus one for SYN and one for FIN; `rcv_nxt`
/// and `rcv_wnd` describe the receive window. The four cases of the RFC:
///
/// | `seg_len` | `rcv_wnd` | acceptable when                                   |
/// |-----------|-----------|---------------------------------------------------|
/// | 0         | 0         | `seq == rcv_nxt`                                  |
/// | 0         | > 0       | `rcv_nxt <= seq < rcv_nxt + rcv_wnd`              |
/// | > 0       | 0         | never                                             |
/// | > 0       | > 0       | first or last octet inside the window             |
#[inline]
pub const fn segment_acceptable(seq: u32, seg_len: u32, rcv_nxt: u32, rcv_wnd: u32) -> bool {
    match (seg_len, rcv_wnd) {
        (0, 0) => seq == rcv_nxt,
        (0, _) => in_window(seq, rcv_nxt, rcv_wnd),
        (_, 0) => false,
        _ => {
            // `seg_len > 0` here, so `seg_len - 1` cannot underflow.
            let last = seq.wrapping_add(seg_len - 1);
            in_window(seq, rcv_nxt, rcv_wnd) || in_window(last, rcv_nxt, rcv_wnd)
        }
    }
}

/// Whether an acknowledgment number is acceptable: `snd_una < ack <= snd_nxt`
/// (RFC 9293 §3.10.7.4, SYN-RECEIVED and synchronized states).
#[inline]
pub const fn ack_acceptable(ack: u32, snd_una: u32, snd_nxt: u32) -> bool {
    ack != snd_una && between(ack, snd_una, snd_nxt)
}

/// A TCP sequence number; arithmetic on it wraps modulo 2^32.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Seq(pub u32);

impl Seq {
    /// The raw 32-bit value.
    #[inline]
    pub const fn get(self) -> u32 {
        self.0
    }

    /// `self + n`, wrapping.
    #[inline]
    pub const fn wrapping_add(self, n: u32) -> Seq {
        Seq(self.0.wrapping_add(n))
    }

    /// `self - n`, wrapping.
    #[inline]
    pub const fn wrapping_sub(self, n: u32) -> Seq {
        Seq(self.0.wrapping_sub(n))
    }

    /// The forward distance from `from` to `self`, wrapping.
    #[inline]
    pub const fn distance_from(self, from: Seq) -> u32 {
        self.0.wrapping_sub(from.0)
    }

    /// Whether `self` comes strictly before `other`.
    #[inline]
    pub const fn before(self, other: Seq) -> bool {
        before(self.0, other.0)
    }

    /// Whether `self` comes strictly after `other`.
    #[inline]
    pub const fn after(self, other: Seq) -> bool {
        after(self.0, other.0)
    }

    /// Whether `lo <= self <= hi` in sequence space.
    #[inline]
    pub const fn between(self, lo: Seq, hi: Seq) -> bool {
        between(self.0, lo.0, hi.0)
    }
}

impl From<u32> for Seq {
    fn from(v: u32) -> Self {
        Seq(v)
    }
}

impl From<Seq> for u32 {
    fn from(s: Seq) -> Self {
        s.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn before_after_basic() {
        assert!(before(1, 2));
        assert!(!before(2, 1));
        assert!(!before(5, 5));
        assert!(after(2, 1));
        assert!(!after(5, 5));
    }

    #[test]
    fn before_across_wrap() {
        assert!(before(0xffff_fff0, 0x10));
        assert!(after(0x10, 0xffff_fff0));
        assert!(before(u32::MAX, 0));
        assert!(after(0, u32::MAX));
    }

    #[test]
    fn half_space_edge() {
        // Within 2^31 - 1 the order is well defined.
        assert!(before(0, 0x7fff_ffff));
        assert!(!before(0x7fff_ffff, 0));
        // At exactly 2^31 both directions claim "before" (documented).
        assert!(before(0, 0x8000_0000));
        assert!(before(0x8000_0000, 0));
    }

    #[test]
    fn between_inclusive_and_wrapping() {
        assert!(between(5, 5, 10));
        assert!(between(10, 5, 10));
        assert!(between(7, 5, 10));
        assert!(!between(4, 5, 10));
        assert!(!between(11, 5, 10));
        assert!(between(0, u32::MAX - 3, 3));
        assert!(between(u32::MAX, u32::MAX - 3, 3));
        assert!(!between(4, u32::MAX - 3, 3));
        assert!(between(9, 9, 9));
        assert!(!between(8, 9, 9));
    }

    #[test]
    fn in_window_half_open() {
        assert!(in_window(100, 100, 10));
        assert!(in_window(109, 100, 10));
        assert!(!in_window(110, 100, 10));
        assert!(!in_window(99, 100, 10));
        assert!(!in_window(100, 100, 0));
        assert!(in_window(2, u32::MAX - 1, 10));
    }

    #[test]
    fn acceptability_four_cases() {
        let nxt = 1000;
        // len 0, wnd 0.
        assert!(segment_acceptable(1000, 0, nxt, 0));
        assert!(!segment_acceptable(1001, 0, nxt, 0));
        assert!(!segment_acceptable(999, 0, nxt, 0));
        // len 0, wnd > 0.
        assert!(segment_acceptable(1000, 0, nxt, 100));
        assert!(segment_acceptable(1099, 0, nxt, 100));
        assert!(!segment_acceptable(1100, 0, nxt, 100));
        assert!(!segment_acceptable(999, 0, nxt, 100));
        // len > 0, wnd 0.
        assert!(!segment_acceptable(1000, 1, nxt, 0));
        // len > 0, wnd > 0: start inside.
        assert!(segment_acceptable(1000, 500, nxt, 100));
        assert!(segment_acceptable(1099, 1, nxt, 100));
        // Start before, last octet inside (partial retransmission).
        assert!(segment_acceptable(990, 11, nxt, 100));
        assert!(!segment_acceptable(990, 10, nxt, 100));
        // Entirely after.
        assert!(!segment_acceptable(1100, 10, nxt, 100));
    }

    #[test]
    fn acceptability_wraps() {
        let nxt = u32::MAX - 5;
        assert!(segment_acceptable(2, 0, nxt, 100));
        assert!(segment_acceptable(u32::MAX - 10, 10, nxt, 100));
        assert!(!segment_acceptable(u32::MAX - 10, 5, nxt, 100));
        // Huge lengths do not overflow.
        assert!(segment_acceptable(nxt, u32::MAX, nxt, 1));
        assert!(!segment_acceptable(nxt.wrapping_add(1), u32::MAX, nxt, 1));
    }

    #[test]
    fn ack_acceptability() {
        // SYN-RECEIVED: snd_una = iss, snd_nxt = iss + 1.
        let iss = u32::MAX;
        assert!(ack_acceptable(0, iss, iss.wrapping_add(1)));
        assert!(!ack_acceptable(iss, iss, iss.wrapping_add(1)));
        assert!(!ack_acceptable(1, iss, iss.wrapping_add(1)));
        assert!(!ack_acceptable(
            iss.wrapping_sub(1),
            iss,
            iss.wrapping_add(1)
        ));
        assert!(ack_acceptable(15, 10, 20));
        assert!(ack_acceptable(20, 10, 20));
        assert!(!ack_acceptable(21, 10, 20));
    }

    #[test]
    fn seq_newtype() {
        let s = Seq(u32::MAX);
        assert_eq!(s.wrapping_add(1), Seq(0));
        assert_eq!(Seq(0).wrapping_sub(1), s);
        assert_eq!(Seq(3).distance_from(s), 4);
        assert!(s.before(Seq(3)));
        assert!(Seq(3).after(s));
        assert!(Seq(1).between(s, Seq(3)));
        assert_eq!(u32::from(Seq::from(7)).wrapping_add(0), 7);
        assert_eq!(Seq(9).get(), 9);
    }

    #[test]
    fn before_is_antisymmetric_off_the_edge() {
        // A cheap sweep over differences around the interesting points.
        let bases = [0u32, 1, 0x7fff_ffff, 0x8000_0000, u32::MAX];
        for &a in &bases {
            for d in [1u32, 2, 1000, 0x7fff_fffe, 0x7fff_ffff] {
                let b = a.wrapping_add(d);
                assert!(before(a, b), "{a} {b}");
                assert!(!before(b, a), "{a} {b}");
                assert!(after(b, a));
                assert!(between(a.wrapping_add(d / 2), a, b));
            }
        }
    }
}
