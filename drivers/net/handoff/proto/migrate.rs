//! Timing and lifecycle rules of a handoff, as pure functions of time.
//!
//! Time is a monotonic millisecond count (`u64`) that the caller reads
//! from its clock (e.g. `jiffies` converted); nothing here reads a clock
//! or arms a timer. All arithmetic saturates, so times near `u64::MAX`
//! clamp instead of wrapping into the past.
//!
//! * [`Handoff`]: when the origin retransmits a NEW and when it gives up.
//! * [`early_admit`]: how many DATA datagrams the target holds for a
//!   connection whose NEW it has not seen yet.
//! * [`Flow`]: when a forwarded (origin) or adopted (target) connection's
//!   entry may go, judged from the client packets passing through.

use super::packet::TcpFlags;

/// Interval between the first NEW and its first retransmission.
///
/// The nodes of a cluster are close (a LAN or one data centre): 100 ms is
/// many round trips, yet short against the client's own SYN/data
/// retransmission timer (1 s initial RTO, RFC 6298), so a lost NEW costs
/// the client little.
pub const NEW_RTO_INITIAL_MS: u64 = 100;

/// Largest interval between NEW retransmissions: the backoff doubles
/// (100, 200, 400, 800, 1600 ms) and then stays here, so a slow target is
/// asked about once a second and a half until the deadline.
pub const NEW_RTO_MAX_MS: u64 = 1600;

/// What the owner of a [`Handoff`] must do now.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Tick {
    /// Nothing; poll again at [`Handoff::next_event_ms`].
    Wait,
    /// Send the NEW again.
    Retransmit,
    /// The deadline passed without a MIGRATED_ACK: give up (reset the
    /// connection).
    Expired,
}

/// The retransmission schedule of one NEW, from the first transmission to
/// the MIGRATED_ACK (after which the caller drops this) or the deadline.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Handoff {
    /// When the next retransmission is due.
    next_tx_ms: u64,
    /// The wait that led to `next_tx_ms`; doubled at each retransmission.
    interval_ms: u64,
    /// When the handoff fails.
    deadline_ms: u64,
    /// Transmissions so far, the first included.
    attempts: u32,
}

impl Handoff {
    /// The schedule of a NEW sent (for the first time) at `now_ms`, which
    /// fails `timeout_ms` later (the service's SYN timeout: the client is
    /// not kept waiting longer than a local accept would).
    pub const fn new(now_ms: u64, timeout_ms: u64) -> Self {
        Handoff {
            next_tx_ms: now_ms.saturating_add(NEW_RTO_INITIAL_MS),
            interval_ms: NEW_RTO_INITIAL_MS,
            deadline_ms: now_ms.saturating_add(timeout_ms),
            attempts: 1,
        }
    }

    /// What to do at `now_ms`.
    ///
    /// [`Tick::Expired`] once `now_ms` reaches the deadline, even if a
    /// retransmission is due as well (a NEW sent then could only be
    /// answered too late), and at every later poll. Otherwise
    /// [`Tick::Retransmit`] once `now_ms` reaches the next transmission
    /// time; the caller sends the NEW, and the next transmission is set
    /// to `now_ms` plus the doubled interval (capped at
    /// [`NEW_RTO_MAX_MS`]). Counting from `now_ms` rather than from the
    /// scheduled time means a late poll (timer slack, a busy CPU) yields
    /// one retransmission, never a burst to catch up. Otherwise
    /// [`Tick::Wait`].
    pub fn poll(&mut self, now_ms: u64) -> Tick {
        if now_ms >= self.deadline_ms {
            return Tick::Expired;
        }
        if now_ms < self.next_tx_ms {
            return Tick::Wait;
        }
        self.interval_ms = self.interval_ms.saturating_mul(2).min(NEW_RTO_MAX_MS);
        self.next_tx_ms = now_ms.saturating_add(self.interval_ms);
        self.attempts = self.attempts.saturating_add(1);
        Tick::Retransmit
    }

    /// Transmissions so far: 1 after [`Handoff::new`], one more per
    /// [`Tick::Retransmit`].
    pub const fn attempts(&self) -> u32 {
        self.attempts
    }

    /// When the next retransmission is due or the deadline falls, whichever
    /// is earlier: the time to arm the timer for.
    pub fn next_event_ms(&self) -> u64 {
        self.next_tx_ms.min(self.deadline_ms)
    }

    /// When the handoff fails.
    pub const fn deadline_ms(&self) -> u64 {
        self.deadline_ms
    }
}

/// Most client packets the target queues for a connection whose NEW has
/// not arrived yet (DATA overtook it, or the NEW was lost and will be
/// retransmitted). A real client sends at most its initial window (10
/// segments, RFC 6928) before it hears from the server, so 16 covers it
/// with room for retransmissions.
pub const EARLY_QUEUE_MAX_PKTS: usize = 16;

/// Most bytes (of client packets, counted as the caller likes, e.g. DATA
/// bodies) in one early queue: bounds what a peer, or a forger of its
/// datagrams, can pin in memory per unknown connection.
pub const EARLY_QUEUE_MAX_BYTES: usize = 64 * 1024;

/// Whether a packet of `len` bytes may join an early queue that already
/// holds `queued_pkts` packets of `queued_bytes` bytes in total: both
/// limits must hold after adding it. A refused packet is dropped; the
/// client retransmits it once the connection exists.
pub fn early_admit(queued_pkts: usize, queued_bytes: usize, len: usize) -> bool {
    queued_pkts < EARLY_QUEUE_MAX_PKTS
        && queued_bytes
            .checked_add(len)
            .is_some_and(|b| b <= EARLY_QUEUE_MAX_BYTES)
}

/// How long a forwarded or adopted connection lingers after the client's
/// FIN when no packets follow.
///
/// The linger runs from the last client packet, not from the FIN: after a
/// client FIN the server may go on sending (a half-close, RFC 9293 §3.6),
/// and the client's ACKs of that data must still reach the target, so
/// every packet restarts it. Once the server has closed too, the client's
/// last ACK is the last packet and the entry goes 10 s later; a FIN
/// retransmitted after a lost ACK arrives well within that.
pub const FIN_LINGER_MS: u64 = 10_000;

/// What the caller does with a flow after a client packet.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum FlowStep {
    /// Deliver the packet and keep the entry.
    Continue,
    /// Deliver the packet (the reset must still reach the server), then
    /// remove the entry.
    End,
}

/// The lifecycle of a forwarded (origin side) or adopted (target side)
/// connection, seen from the client packets that pass through.
///
/// Only the client direction is visible: the target answers the client
/// directly (direct server return), so the server's FIN never crosses the
/// origin. The entry therefore ends on a client RST or by expiry: after
/// `idle_timeout` without packets while open, after
/// `min(idle_timeout, FIN_LINGER_MS)` once the client sent a FIN
/// ([`Flow::expiry_ms`], measured by the caller from the last packet).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Flow {
    fin_seen: bool,
    ended: bool,
}

impl Flow {
    /// An open flow: no FIN, no RST seen.
    pub const fn new() -> Self {
        Flow {
            fin_seen: false,
            ended: false,
        }
    }

    /// Accounts for one client segment with TCP flags `flags`.
    ///
    /// A RST ends the flow at once: [`FlowStep::End`], and the caller
    /// delivers the packet, then removes the entry (a later packet of the
    /// tuple has nowhere to go: the server's socket is gone). A FIN marks
    /// the flow "FIN seen" (shorter expiry) and continues. A flow that
    /// ended answers `End` to every later segment too, should the caller
    /// still hold it. Anything else continues.
    pub fn on_client_segment(&mut self, flags: TcpFlags) -> FlowStep {
        if self.ended || flags.contains(TcpFlags::RST) {
            self.ended = true;
            return FlowStep::End;
        }
        if flags.contains(TcpFlags::FIN) {
            self.fin_seen = true;
        }
        FlowStep::Continue
    }

    /// Whether the client sent a FIN.
    pub const fn fin_seen(&self) -> bool {
        self.fin_seen
    }

    /// How long after the last client packet the entry expires:
    /// `idle_timeout_ms` while open, `min(idle_timeout_ms, FIN_LINGER_MS)`
    /// once a FIN was seen (see [`FIN_LINGER_MS`] for why the linger
    /// restarts with every packet).
    pub fn expiry_ms(&self, idle_timeout_ms: u64) -> u64 {
        if self.fin_seen {
            idle_timeout_ms.min(FIN_LINGER_MS)
        } else {
            idle_timeout_ms
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Polls every millisecond from `from` to `to` (exclusive) and returns
    /// the times of retransmissions and of the first expiry.
    fn run(h: &mut Handoff, from: u64, to: u64) -> (std::vec::Vec<u64>, Option<u64>) {
        let mut tx = std::vec::Vec::new();
        for t in from..to {
            match h.poll(t) {
                Tick::Wait => {}
                Tick::Retransmit => tx.push(t),
                Tick::Expired => return (tx, Some(t)),
            }
        }
        (tx, None)
    }

    #[test]
    fn schedule_and_cap() {
        let t0 = 5_000;
        let mut h = Handoff::new(t0, 60_000);
        assert_eq!(h.attempts(), 1);
        assert_eq!(h.next_event_ms(), t0 + 100);
        let (tx, exp) = run(&mut h, t0, t0 + 10_000);
        assert_eq!(exp, None);
        // Intervals 100, 200, 400, 800, then 1600 for ever.
        let rel: std::vec::Vec<u64> = tx.iter().map(|t| t - t0).collect();
        assert_eq!(
            rel,
            [100, 300, 700, 1500, 3100, 4700, 6300, 7900, 9500].to_vec()
        );
        assert_eq!(h.attempts(), 10);
        assert_eq!(h.next_event_ms(), t0 + 9500 + 1600);
    }

    #[test]
    fn waits_between() {
        let mut h = Handoff::new(0, 1000);
        assert_eq!(h.poll(0), Tick::Wait);
        assert_eq!(h.poll(99), Tick::Wait);
        assert_eq!(h.poll(100), Tick::Retransmit);
        assert_eq!(h.poll(100), Tick::Wait);
        assert_eq!(h.next_event_ms(), 300);
        assert_eq!(h.attempts(), 2);
    }

    #[test]
    fn late_poll_does_not_burst() {
        let mut h = Handoff::new(0, 100_000);
        // Polled 1 s late: one retransmission, then the next interval.
        assert_eq!(h.poll(1_100), Tick::Retransmit);
        assert_eq!(h.poll(1_100), Tick::Wait);
        assert_eq!(h.next_event_ms(), 1_300);
        assert_eq!(h.attempts(), 2);
    }

    #[test]
    fn deadline_precedence() {
        // The deadline coincides with a retransmission: expiry wins.
        let mut h = Handoff::new(0, 300);
        assert_eq!(h.poll(100), Tick::Retransmit);
        assert_eq!(h.next_event_ms(), 300);
        assert_eq!(h.poll(300), Tick::Expired);
        assert_eq!(h.poll(301), Tick::Expired);
        assert_eq!(h.poll(1_000_000), Tick::Expired);
        assert_eq!(h.attempts(), 2);
        // The deadline before the first retransmission.
        let mut h = Handoff::new(10, 50);
        assert_eq!(h.next_event_ms(), 60);
        assert_eq!(h.deadline_ms(), 60);
        assert_eq!(h.poll(59), Tick::Wait);
        assert_eq!(h.poll(60), Tick::Expired);
        // Zero timeout: expired at once.
        let mut h = Handoff::new(10, 0);
        assert_eq!(h.poll(10), Tick::Expired);
        // A 3 s SYN timeout: 5 transmissions (0, 100, 300, 700, 1500),
        // then the next would be at 3100.
        let mut h = Handoff::new(0, 3000);
        let (tx, exp) = run(&mut h, 0, 10_000);
        assert_eq!(tx, [100, 300, 700, 1500].to_vec());
        assert_eq!(exp, Some(3000));
        assert_eq!(h.attempts(), 5);
    }

    #[test]
    fn no_overflow_near_max() {
        let mut h = Handoff::new(u64::MAX - 50, u64::MAX);
        assert_eq!(h.deadline_ms(), u64::MAX);
        assert_eq!(h.next_event_ms(), u64::MAX);
        assert_eq!(h.poll(u64::MAX - 1), Tick::Wait);
        assert_eq!(h.poll(u64::MAX), Tick::Expired);
        let mut h = Handoff::new(u64::MAX - 150, 1000);
        assert_eq!(h.next_event_ms(), u64::MAX - 50);
        assert_eq!(h.poll(u64::MAX - 50), Tick::Retransmit);
        assert_eq!(h.next_event_ms(), u64::MAX);
        assert_eq!(h.poll(u64::MAX - 1), Tick::Wait);
        assert_eq!(h.poll(u64::MAX), Tick::Expired);
        // The interval stays capped however long it runs.
        let mut h = Handoff::new(0, u64::MAX);
        for i in 0..100u64 {
            let t = h.next_event_ms();
            assert_eq!(h.poll(t), Tick::Retransmit, "{i}");
        }
        assert_eq!(h.attempts(), 101);
        let t = h.next_event_ms();
        h.poll(t);
        assert_eq!(h.next_event_ms() - t, NEW_RTO_MAX_MS);
    }

    #[test]
    fn attempts_saturate() {
        let mut h = Handoff::new(0, u64::MAX);
        h.attempts = u32::MAX;
        assert_eq!(h.poll(100), Tick::Retransmit);
        assert_eq!(h.attempts(), u32::MAX);
    }

    #[test]
    fn early_queue_bounds() {
        assert!(early_admit(0, 0, 0));
        assert!(early_admit(0, 0, 1500));
        assert!(early_admit(15, 0, 1500));
        assert!(!early_admit(16, 0, 1));
        assert!(!early_admit(usize::MAX, 0, 1));
        assert!(early_admit(0, 0, EARLY_QUEUE_MAX_BYTES));
        assert!(!early_admit(0, 0, EARLY_QUEUE_MAX_BYTES + 1));
        assert!(early_admit(3, 60_000, 65_536 - 60_000));
        assert!(!early_admit(3, 60_000, 65_537 - 60_000));
        assert!(!early_admit(1, usize::MAX, 1));
        assert!(!early_admit(1, 1, usize::MAX));
        // Filling a queue with 1500-byte packets stops at the packet limit.
        let (mut n, mut bytes) = (0, 0);
        while early_admit(n, bytes, 1500) {
            n += 1;
            bytes += 1500;
        }
        assert_eq!(n, EARLY_QUEUE_MAX_PKTS);
        // With 9000-byte packets at the byte limit.
        let (mut n, mut bytes) = (0, 0);
        while early_admit(n, bytes, 9000) {
            n += 1;
            bytes += 9000;
        }
        assert_eq!(n, 7);
    }

    #[test]
    fn flow_rst_ends() {
        for flags in [
            TcpFlags::RST,
            TcpFlags::RST | TcpFlags::ACK,
            TcpFlags::RST | TcpFlags::FIN,
        ] {
            let mut f = Flow::new();
            assert_eq!(f.on_client_segment(flags), FlowStep::End);
            // Still ended if the caller asks again.
            assert_eq!(f.on_client_segment(TcpFlags::ACK), FlowStep::End);
        }
        let mut f = Flow::new();
        f.on_client_segment(TcpFlags::FIN | TcpFlags::ACK);
        assert_eq!(f.on_client_segment(TcpFlags::RST), FlowStep::End);
    }

    #[test]
    fn flow_fin_lingers() {
        let mut f = Flow::default();
        assert_eq!(f, Flow::new());
        assert!(!f.fin_seen());
        assert_eq!(f.expiry_ms(300_000), 300_000);
        for flags in [TcpFlags::ACK, TcpFlags::ACK | TcpFlags::PSH, TcpFlags::SYN] {
            assert_eq!(f.on_client_segment(flags), FlowStep::Continue);
            assert!(!f.fin_seen());
        }
        assert_eq!(
            f.on_client_segment(TcpFlags::FIN | TcpFlags::ACK),
            FlowStep::Continue
        );
        assert!(f.fin_seen());
        assert_eq!(f.expiry_ms(300_000), FIN_LINGER_MS);
        // A short idle timeout stays the shorter one.
        assert_eq!(f.expiry_ms(2_000), 2_000);
        // ACKs of a half-closed connection continue, still lingering.
        assert_eq!(f.on_client_segment(TcpFlags::ACK), FlowStep::Continue);
        assert!(f.fin_seen());
        assert_eq!(f.expiry_ms(u64::MAX), FIN_LINGER_MS);
    }
}
