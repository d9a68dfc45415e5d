//! The state machine of one connection-table entry, free of I/O.
//!
//! The module classifies each segment of a known tuple into an [`Event`],
//! calls [`Conn::step`], and carries out the returned [`Action`]. Hand-off
//! results come back as events too. The machine follows RFC 9293 §3.10.7.4
//! for SYN-RECEIVED, with the RFC 5961 §3.2 reset check, and never panics.
//!
//! ```text
//! SynRecv       --Ack------------------------> Established
//! SynRecv | Established --Data | Fin (Inject)--> Established, hand-off pending
//! pending       --InjectOk-------------------> Bound
//! pending       --MigrateStart---------------> Migrating --InjectOk--> Forwarded
//! pending | Migrating --InjectFailed{retryable}--> Established
//! pending | Migrating --InjectFailed{!retryable}--> Closed (SendRst)
//! SynRecv | Established | Migrating --RST at rcv_nxt--> Closed (Remove)
//! any           --Timeout--------------------> Closed (Remove)
//! ```
//!
//! Caller contract: `Ack`, `Data` and `Fin` are segments with the ACK flag
//! (RFC 9293: a segment without ACK, SYN or RST is dropped before it gets
//! here); a segment with payload and FIN is `Data`; a SYN with ACK is not a
//! `Syn`. When [`Conn::state`] is [`State::Closed`] after a step, the
//! caller carries out the action and then removes the entry.

use super::seq;

/// Where a connection is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum State {
    /// SYN answered with a SYN-ACK; waiting for the handshake ACK.
    SynRecv,
    /// Handshake ACK validated; waiting for the first data (or a hand-off
    /// in progress, see [`Conn::handoff_pending`]).
    Established,
    /// Injected into the local TCP stack, which owns it now.
    Bound,
    /// Being migrated to a peer server.
    Migrating,
    /// Migrated; its segments are forwarded to the peer.
    Forwarded,
    /// Finished; the entry is to be removed.
    Closed,
}

/// What happened to a connection.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Event {
    /// A SYN (without ACK) with sequence number `seq`.
    Syn {
        /// The SYN's sequence number (the client's ISN).
        seq: u32,
    },
    /// A segment with ACK and no payload, SYN, FIN or RST.
    Ack {
        /// Sequence number.
        seq: u32,
        /// Acknowledgment number.
        ack: u32,
    },
    /// A segment with ACK and `len > 0` payload bytes (FIN may be set too).
    /// `len == 0` is treated as [`Event::Ack`].
    Data {
        /// Sequence number.
        seq: u32,
        /// Acknowledgment number.
        ack: u32,
        /// Payload length.
        len: u32,
    },
    /// A segment with ACK and FIN and no payload.
    Fin {
        /// Sequence number.
        seq: u32,
        /// Acknowledgment number.
        ack: u32,
    },
    /// A segment with RST.
    Rst {
        /// Sequence number.
        seq: u32,
    },
    /// The entry's timer expired.
    Timeout,
    /// The client sent no data within the service's first-data wait after
    /// the handshake (or the wait is zero): the connection is handed over
    /// without any, for protocols where the server speaks first.
    NoData,
    /// The hand-off asked for by [`Action::Inject`] succeeded.
    InjectOk,
    /// The hand-off asked for by [`Action::Inject`] failed.
    InjectFailed {
        /// Whether a later attempt may succeed (e.g. a full queue): the
        /// client's retransmission will trigger a new [`Action::Inject`].
        retryable: bool,
    },
    /// The module chose to migrate the connection (after
    /// [`Action::Inject`]) and the migration is now under way; it ends with
    /// `InjectOk` or `InjectFailed`.
    MigrateStart,
}

/// What the caller must do.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Action {
    /// Send (again) the SYN-ACK with [`Conn::iss`] and ack = irs + 1.
    SendSynAck,
    /// Consume the segment silently (for a non-segment event: nothing to
    /// do).
    Absorb,
    /// Hand the connection with this segment over: into the local stack, or
    /// start a migration ([`Event::MigrateStart`]). Report the outcome with
    /// [`Event::InjectOk`] or [`Event::InjectFailed`].
    Inject,
    /// The connection belongs to the local stack or a peer now: let the
    /// segment continue on its way (up the stack, or to the forwarder).
    Pass,
    /// Drop the segment and count the reason (for a non-segment event: the
    /// event was ignored).
    Drop(DropReason),
    /// Drop the segment, count the reason, and answer it with a reset.
    SendRst(DropReason),
    /// Drop the segment, if any, and remove the entry.
    Remove,
    /// Consume the segment and acknowledge what the front holds: ack =
    /// [`Conn::rcv_nxt`], window [`Conn::window`] (a retransmission of
    /// request bytes held already, see [`Conn::hold`]).
    SendAck,
}

/// Why a segment was dropped; [`DropReason::as_str`] names the counters.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum DropReason {
    /// The packet or its TCP options failed to parse.
    Malformed,
    /// Bad TCP or IPv4 header checksum.
    BadChecksum,
    /// A packet shape not handled (e.g. IPv6 extension headers).
    Unsupported,
    /// No local listener for a connection to hand over.
    NoListener,
    /// The local accept queue (or a hand-off queue) is full.
    QueueFull,
    /// The connection table is full.
    TableFull,
    /// A segment for a tuple not in the table (or already closed).
    UnknownConn,
    /// A handshake ACK whose cookie does not verify.
    BadCookie,
    /// A cookie or entry too old.
    Expired,
    /// An unacceptable acknowledgment number.
    BadAck,
    /// Sequence number outside the receive window.
    OutOfWindow,
    /// In the window but not at the next expected byte.
    OutOfOrder,
    /// A SYN with a different ISN on a half-open tuple.
    SynMismatch,
    /// A SYN after the handshake completed.
    UnexpectedSyn,
    /// Too many SYN-ACK retransmissions for one entry.
    RateLimited,
    /// A RST in the window but not exactly at the next expected byte
    /// (RFC 5961 §3.2 blind-reset protection).
    RstInWindow,
    /// An event that makes no sense in the current state (caller bug or a
    /// race).
    BadEvent,
    /// A hand-off failed transiently; the client will retransmit.
    InjectRetry,
    /// A hand-off failed for good.
    InjectFailed,
}

impl DropReason {
    /// Every reason, in declaration order (for registering counters).
    pub const ALL: [DropReason; 19] = [
        DropReason::Malformed,
        DropReason::BadChecksum,
        DropReason::Unsupported,
        DropReason::NoListener,
        DropReason::QueueFull,
        DropReason::TableFull,
        DropReason::UnknownConn,
        DropReason::BadCookie,
        DropReason::Expired,
        DropReason::BadAck,
        DropReason::OutOfWindow,
        DropReason::OutOfOrder,
        DropReason::SynMismatch,
        DropReason::UnexpectedSyn,
        DropReason::RateLimited,
        DropReason::RstInWindow,
        DropReason::BadEvent,
        DropReason::InjectRetry,
        DropReason::InjectFailed,
    ];

    /// A stable snake_case name, used as a counter name.
    pub const fn as_str(self) -> &'static str {
        match self {
            DropReason::Malformed => "malformed",
            DropReason::BadChecksum => "bad_checksum",
            DropReason::Unsupported => "unsupported",
            DropReason::NoListener => "no_listener",
            DropReason::QueueFull => "queue_full",
            DropReason::TableFull => "table_full",
            DropReason::UnknownConn => "unknown_conn",
            DropReason::BadCookie => "bad_cookie",
            DropReason::Expired => "expired",
            DropReason::BadAck => "bad_ack",
            DropReason::OutOfWindow => "out_of_window",
            DropReason::OutOfOrder => "out_of_order",
            DropReason::SynMismatch => "syn_mismatch",
            DropReason::UnexpectedSyn => "unexpected_syn",
            DropReason::RateLimited => "rate_limited",
            DropReason::RstInWindow => "rst_in_window",
            DropReason::BadEvent => "bad_event",
            DropReason::InjectRetry => "inject_retry",
            DropReason::InjectFailed => "inject_failed",
        }
    }

    /// The position of this reason in [`DropReason::ALL`] (a counter
    /// index).
    pub const fn index(self) -> usize {
        self as usize
    }
}

/// SYN-ACKs sent for one entry at most (the first one included). Each is
/// answered to a client SYN, so this bounds what a spoofer can reflect off
/// one entry; real clients give up after about 6 SYNs.
pub const MAX_SYNACKS: u8 = 8;

/// One connection-table entry.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Conn {
    state: State,
    iss: u32,
    irs: u32,
    rcv_wnd: u32,
    synacks: u8,
    pending: bool,
    /// Request bytes the front acknowledged and holds (see [`Conn::hold`]).
    held: u32,
}

impl Conn {
    /// An entry for a fresh SYN: `iss` is our ISN, `irs` the client's, and
    /// `rcv_wnd` the window our SYN-ACK advertises. The caller sends that
    /// first SYN-ACK; the entry starts in [`State::SynRecv`].
    pub const fn new(iss: u32, irs: u32, rcv_wnd: u32) -> Self {
        Conn {
            state: State::SynRecv,
            iss,
            irs,
            rcv_wnd,
            synacks: 1,
            pending: false,
            held: 0,
        }
    }

    /// The current state.
    pub const fn state(&self) -> State {
        self.state
    }

    /// Our initial sequence number.
    pub const fn iss(&self) -> u32 {
        self.iss
    }

    /// The client's initial sequence number.
    pub const fn irs(&self) -> u32 {
        self.irs
    }

    /// The next sequence number expected from the client: irs + 1 and the
    /// request bytes held.
    pub const fn rcv_nxt(&self) -> u32 {
        self.irs.wrapping_add(1).wrapping_add(self.held)
    }

    /// The request bytes the front holds.
    pub const fn held(&self) -> u32 {
        self.held
    }

    /// The receive window left: what the front announced, less what it
    /// holds (it never reads them).
    pub const fn window(&self) -> u32 {
        self.rcv_wnd.saturating_sub(self.held)
    }

    /// Keeps the `len` new request bytes of the segment the last
    /// [`Action::Inject`] was for, instead of handing the connection over
    /// (the request is not complete yet): the hand-off is no longer
    /// pending, and the caller acknowledges them (ack = the new
    /// [`Conn::rcv_nxt`]). `false`, and nothing changes, without a pending
    /// hand-off before any data, or if `len` does not fit the window.
    pub fn hold(&mut self, len: u32) -> bool {
        if !self.pending || self.state != State::Established || len > self.window() {
            return false;
        }
        self.pending = false;
        self.held += len;
        true
    }

    /// Our next sequence number (iss + 1: the SYN-ACK used one).
    pub const fn snd_nxt(&self) -> u32 {
        self.iss.wrapping_add(1)
    }

    /// The receive window given at creation.
    pub const fn rcv_wnd(&self) -> u32 {
        self.rcv_wnd
    }

    /// SYN-ACKs sent so far.
    pub const fn synacks(&self) -> u8 {
        self.synacks
    }

    /// Whether an [`Action::Inject`] awaits its `InjectOk`/`InjectFailed`.
    pub const fn handoff_pending(&self) -> bool {
        self.pending
    }

    /// Feeds one event and returns what to do. Transitions:
    ///
    /// * `Syn` in SynRecv with the same ISN: a retransmission, so
    ///   [`Action::SendSynAck`] (up to [`MAX_SYNACKS`], then
    ///   [`DropReason::RateLimited`]). With a different ISN:
    ///   [`DropReason::SynMismatch`]. We keep the first attempt rather than
    ///   restart, so a spoofed SYN cannot replace or kill a half-open entry;
    ///   a client that really restarted answers our SYN-ACK with a RST
    ///   (which removes the entry) or its next SYN finds the entry expired.
    ///   After the handshake: [`DropReason::UnexpectedSyn`].
    /// * `Ack`/`Data`/`Fin` in SynRecv or Established are checked in RFC
    ///   order: sequence acceptability ([`DropReason::OutOfWindow`]), then
    ///   the ACK, which must be exactly iss + 1: in SynRecv a wrong one gets
    ///   [`Action::SendRst`] with [`DropReason::BadAck`] and the entry stays
    ///   (as in Linux, so a forged ACK cannot kill it); in Established it is
    ///   dropped. A valid `Ack` moves to Established. Valid `Data` or `Fin`
    ///   must start at rcv_nxt ([`DropReason::OutOfOrder`] otherwise) and
    ///   yield [`Action::Inject`], entering Established with a hand-off
    ///   pending; while it is pending further segments are absorbed. A bare
    ///   FIN is handed over too, so the local stack closes it as a normal
    ///   listener would.
    /// * `Rst`: exactly at rcv_nxt removes the entry; elsewhere in the
    ///   window it is dropped ([`DropReason::RstInWindow`], RFC 5961 §3.2);
    ///   outside it, [`DropReason::OutOfWindow`].
    /// * `InjectOk`: Established -> Bound, Migrating -> Forwarded.
    ///   `InjectFailed { retryable: true }`: back to Established, segment
    ///   dropped ([`DropReason::InjectRetry`]); the client retransmits.
    ///   `InjectFailed { retryable: false }`: Closed with
    ///   [`Action::SendRst`] ([`DropReason::InjectFailed`]).
    ///   `MigrateStart`: Established -> Migrating. Without a pending
    ///   hand-off all three are [`DropReason::BadEvent`].
    /// * `NoData` in Established without a pending hand-off:
    ///   [`Action::Inject`] (without a segment), the hand-off pending; in
    ///   any other state or with one pending it is [`DropReason::BadEvent`]
    ///   (before the handshake ACK there is no connection to hand over).
    /// * Migrating absorbs segments (the client retransmits them to the new
    ///   owner) except an exact RST, which removes the entry.
    /// * Bound and Forwarded [`Action::Pass`] every segment.
    /// * `Timeout` in any state: Closed, [`Action::Remove`].
    /// * Closed drops segments ([`DropReason::UnknownConn`]).
    pub fn step(&mut self, ev: Event) -> Action {
        if let Event::Timeout = ev {
            self.close();
            return Action::Remove;
        }
        match self.state {
            State::SynRecv | State::Established => self.step_open(ev),
            State::Migrating => self.step_migrating(ev),
            State::Bound | State::Forwarded => match ev {
                Event::InjectOk
                | Event::InjectFailed { .. }
                | Event::MigrateStart
                | Event::NoData => Action::Drop(DropReason::BadEvent),
                _ => Action::Pass,
            },
            State::Closed => Action::Drop(DropReason::UnknownConn),
        }
    }

    fn close(&mut self) {
        self.state = State::Closed;
        self.pending = false;
    }

    /// The RFC 5961 §3.2 reset check, shared by the pre-hand-off states.
    fn on_rst(&mut self, rst_seq: u32) -> Action {
        if rst_seq == self.rcv_nxt() {
            self.close();
            Action::Remove
        } else if seq::segment_acceptable(rst_seq, 0, self.rcv_nxt(), self.rcv_wnd) {
            Action::Drop(DropReason::RstInWindow)
        } else {
            Action::Drop(DropReason::OutOfWindow)
        }
    }

    fn step_open(&mut self, ev: Event) -> Action {
        let syn_recv = self.state == State::SynRecv;
        // (seq, ack, seg_len, carries data or FIN)
        let (s, a, len, data) = match ev {
            Event::Syn { seq } => return self.on_syn(seq),
            Event::Rst { seq } => return self.on_rst(seq),
            Event::Ack { seq, ack } | Event::Data { seq, ack, len: 0 } => (seq, ack, 0, false),
            Event::Data { seq, ack, len } => (seq, ack, len, true),
            Event::Fin { seq, ack } => (seq, ack, 1, true),
            Event::InjectOk => {
                if !self.pending {
                    return Action::Drop(DropReason::BadEvent);
                }
                self.pending = false;
                self.state = State::Bound;
                return Action::Absorb;
            }
            Event::InjectFailed { retryable } => {
                if !self.pending {
                    return Action::Drop(DropReason::BadEvent);
                }
                return self.inject_failed(retryable);
            }
            Event::MigrateStart => {
                if !self.pending {
                    return Action::Drop(DropReason::BadEvent);
                }
                self.state = State::Migrating;
                return Action::Absorb;
            }
            Event::NoData => {
                if syn_recv || self.pending {
                    return Action::Drop(DropReason::BadEvent);
                }
                self.pending = true;
                return Action::Inject;
            }
            // Handled in `step`; kept for exhaustiveness.
            Event::Timeout => {
                self.close();
                return Action::Remove;
            }
        };
        // First, the sequence number (RFC 9293 §3.10.7.4).
        if !seq::segment_acceptable(s, len, self.rcv_nxt(), self.window()) {
            // Old request bytes again, all of them held already: the
            // client missed our ACK.
            if data && self.all_held(s, len) {
                return Action::SendAck;
            }
            return Action::Drop(DropReason::OutOfWindow);
        }
        // Fifth, the ACK: only iss + 1 acknowledges our SYN and nothing more.
        if a != self.snd_nxt() {
            return if syn_recv {
                Action::SendRst(DropReason::BadAck)
            } else {
                Action::Drop(DropReason::BadAck)
            };
        }
        self.state = State::Established;
        if !data || self.pending {
            // A pure ACK, or a retransmission while a hand-off is running.
            return Action::Absorb;
        }
        if s != self.rcv_nxt() {
            // Starting within what is held and going on past it (a
            // retransmission that joined segments): the caller skips
            // `rcv_nxt - seq` bytes of it.
            let overlaps =
                self.held_offset(s).is_some() && seq::after(s.wrapping_add(len), self.rcv_nxt());
            if !overlaps {
                return Action::Drop(DropReason::OutOfOrder);
            }
        }
        self.pending = true;
        Action::Inject
    }

    /// Where `s` lies in the held bytes, if it does.
    fn held_offset(&self, s: u32) -> Option<u32> {
        let off = s.wrapping_sub(self.irs.wrapping_add(1));
        (off < self.held).then_some(off)
    }

    /// Whether the `len` bytes from `s` are all held already.
    fn all_held(&self, s: u32, len: u32) -> bool {
        self.held_offset(s)
            .is_some_and(|off| off.saturating_add(len) <= self.held)
    }

    fn on_syn(&mut self, syn_seq: u32) -> Action {
        if self.state != State::SynRecv {
            return Action::Drop(DropReason::UnexpectedSyn);
        }
        if syn_seq != self.irs {
            return Action::Drop(DropReason::SynMismatch);
        }
        if self.synacks >= MAX_SYNACKS {
            return Action::Drop(DropReason::RateLimited);
        }
        self.synacks = self.synacks.saturating_add(1);
        Action::SendSynAck
    }

    fn inject_failed(&mut self, retryable: bool) -> Action {
        if retryable {
            self.pending = false;
            self.state = State::Established;
            Action::Drop(DropReason::InjectRetry)
        } else {
            self.close();
            Action::SendRst(DropReason::InjectFailed)
        }
    }

    fn step_migrating(&mut self, ev: Event) -> Action {
        match ev {
            Event::Rst { seq } => self.on_rst(seq),
            Event::Syn { .. } => Action::Drop(DropReason::UnexpectedSyn),
            Event::Ack { .. } | Event::Data { .. } | Event::Fin { .. } => Action::Absorb,
            Event::InjectOk => {
                self.pending = false;
                self.state = State::Forwarded;
                Action::Absorb
            }
            Event::InjectFailed { retryable } => self.inject_failed(retryable),
            Event::MigrateStart | Event::NoData => Action::Drop(DropReason::BadEvent),
            Event::Timeout => {
                self.close();
                Action::Remove
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ISS: u32 = 0xffff_fff0;
    const IRS: u32 = 0x7fff_fffe;
    const WND: u32 = 1000;

    fn fresh() -> Conn {
        Conn::new(ISS, IRS, WND)
    }

    fn nxt() -> u32 {
        IRS.wrapping_add(1)
    }

    fn ack_ok() -> u32 {
        ISS.wrapping_add(1)
    }

    fn good_ack() -> Event {
        Event::Ack {
            seq: nxt(),
            ack: ack_ok(),
        }
    }

    fn good_data() -> Event {
        Event::Data {
            seq: nxt(),
            ack: ack_ok(),
            len: 100,
        }
    }

    fn in_state(s: State) -> Conn {
        let mut c = fresh();
        match s {
            State::SynRecv => {}
            State::Established => {
                c.step(good_ack());
            }
            State::Bound => {
                c.step(good_data());
                c.step(Event::InjectOk);
            }
            State::Migrating => {
                c.step(good_data());
                c.step(Event::MigrateStart);
            }
            State::Forwarded => {
                c.step(good_data());
                c.step(Event::MigrateStart);
                c.step(Event::InjectOk);
            }
            State::Closed => {
                c.step(Event::Timeout);
            }
        }
        assert_eq!(c.state(), s);
        c
    }

    /// Established, then `Inject` for 100 bytes of data at rcv_nxt.
    fn with_data_pending() -> Conn {
        let mut c = fresh();
        assert_eq!(c.step(good_ack()), Action::Absorb);
        assert_eq!(c.step(good_data()), Action::Inject);
        c
    }

    #[test]
    fn hold_keeps_bytes_and_moves_rcv_nxt() {
        let mut c = with_data_pending();
        assert!(c.hold(100));
        assert_eq!(c.held(), 100);
        assert_eq!(c.rcv_nxt(), nxt().wrapping_add(100));
        assert_eq!(c.window(), WND - 100);
        assert!(!c.handoff_pending());
        assert_eq!(c.state(), State::Established);
        // Not pending any more: a second hold is refused.
        assert!(!c.hold(1));
        // The next segment, at the new rcv_nxt: handed over (or held).
        let next = Event::Data {
            seq: nxt().wrapping_add(100),
            ack: ack_ok(),
            len: 50,
        };
        assert_eq!(c.step(next), Action::Inject);
        assert!(c.hold(50));
        assert_eq!(c.rcv_nxt(), nxt().wrapping_add(150));
    }

    #[test]
    fn hold_needs_a_pending_data_hand_off_and_room() {
        let mut c = fresh();
        assert!(!c.hold(1), "no hand-off pending in SynRecv");
        assert_eq!(c.step(good_ack()), Action::Absorb);
        assert!(!c.hold(1), "established, nothing pending");
        assert_eq!(c.step(good_data()), Action::Inject);
        assert!(!c.hold(WND + 1), "past the window");
        assert!(c.handoff_pending());
        assert!(c.hold(WND));
        assert_eq!(c.window(), 0);
    }

    #[test]
    fn held_bytes_again_are_acked_not_handed_over() {
        let mut c = with_data_pending();
        assert!(c.hold(100));
        // The same segment again (our ACK was lost), or a part of it.
        assert_eq!(c.step(good_data()), Action::SendAck);
        let part = Event::Data {
            seq: nxt().wrapping_add(10),
            ack: ack_ok(),
            len: 20,
        };
        assert_eq!(c.step(part), Action::SendAck);
        assert!(!c.handoff_pending());
        // Before the first request byte: not ours to acknowledge.
        let before = Event::Data {
            seq: IRS,
            ack: ack_ok(),
            len: 1,
        };
        assert_eq!(c.step(before), Action::Drop(DropReason::OutOfWindow));
    }

    #[test]
    fn a_retransmission_joining_held_and_new_bytes_is_handed_over() {
        let mut c = with_data_pending();
        assert!(c.hold(100));
        // Bytes 50..200: the caller skips the 50 held ones.
        let joined = Event::Data {
            seq: nxt().wrapping_add(50),
            ack: ack_ok(),
            len: 150,
        };
        assert_eq!(c.step(joined), Action::Inject);
        assert!(c.hold(100));
        assert_eq!(c.held(), 200);
        // Past rcv_nxt: out of order, as before.
        let gap = Event::Data {
            seq: nxt().wrapping_add(210),
            ack: ack_ok(),
            len: 10,
        };
        assert_eq!(c.step(gap), Action::Drop(DropReason::OutOfOrder));
    }

    #[test]
    fn without_held_bytes_nothing_changes() {
        // Data starting before rcv_nxt with nothing held stays out of order.
        let mut c = fresh();
        assert_eq!(c.step(good_ack()), Action::Absorb);
        let early = Event::Data {
            seq: IRS,
            ack: ack_ok(),
            len: 10,
        };
        assert_eq!(c.step(early), Action::Drop(DropReason::OutOfOrder));
        assert_eq!(c.window(), WND);
        assert_eq!(c.rcv_nxt(), nxt());
    }

    #[test]
    fn held_bytes_across_the_sequence_wrap() {
        // IRS is near 2^31; a connection whose ISN is just below 2^32.
        let mut c = Conn::new(ISS, u32::MAX - 10, WND);
        let first = 0xffff_fff6u32;
        assert_eq!(
            c.step(Event::Ack {
                seq: first,
                ack: ack_ok()
            }),
            Action::Absorb
        );
        let d = |seq: u32, len| Event::Data {
            seq,
            ack: ack_ok(),
            len,
        };
        assert_eq!(c.step(d(first, 30)), Action::Inject);
        assert!(c.hold(30));
        assert_eq!(c.rcv_nxt(), first.wrapping_add(30));
        assert_eq!(c.step(d(first.wrapping_add(5), 10)), Action::SendAck);
        assert_eq!(c.step(d(first.wrapping_add(20), 40)), Action::Inject);
    }

    #[test]
    fn accessors() {
        let c = fresh();
        assert_eq!(c.state(), State::SynRecv);
        assert_eq!(c.iss(), ISS);
        assert_eq!(c.irs(), IRS);
        assert_eq!(c.rcv_nxt(), IRS.wrapping_add(1));
        assert_eq!(c.snd_nxt(), ISS.wrapping_add(1));
        assert_eq!(c.rcv_wnd(), WND);
        assert_eq!(c.synacks(), 1);
        assert!(!c.handoff_pending());
        // Wrapping ISNs.
        let c = Conn::new(u32::MAX, u32::MAX, 1);
        assert_eq!(c.rcv_nxt(), 0);
        assert_eq!(c.snd_nxt(), 0);
    }

    #[test]
    fn syn_retransmission_and_limit() {
        let mut c = fresh();
        for _ in 1..MAX_SYNACKS {
            assert_eq!(c.step(Event::Syn { seq: IRS }), Action::SendSynAck);
        }
        assert_eq!(c.synacks(), MAX_SYNACKS);
        assert_eq!(
            c.step(Event::Syn { seq: IRS }),
            Action::Drop(DropReason::RateLimited)
        );
        assert_eq!(c.state(), State::SynRecv);
    }

    #[test]
    fn syn_with_other_isn_dropped() {
        let mut c = fresh();
        assert_eq!(
            c.step(Event::Syn { seq: IRS ^ 1 }),
            Action::Drop(DropReason::SynMismatch)
        );
        assert_eq!(c, fresh());
    }

    #[test]
    fn syn_after_handshake() {
        for s in [State::Established, State::Migrating] {
            let mut c = in_state(s);
            assert_eq!(
                c.step(Event::Syn { seq: IRS }),
                Action::Drop(DropReason::UnexpectedSyn)
            );
            assert_eq!(c.state(), s);
        }
    }

    #[test]
    fn handshake_ack() {
        let mut c = fresh();
        assert_eq!(c.step(good_ack()), Action::Absorb);
        assert_eq!(c.state(), State::Established);
        // A duplicate ACK is absorbed.
        assert_eq!(c.step(good_ack()), Action::Absorb);
        assert_eq!(c.state(), State::Established);
    }

    #[test]
    fn bad_ack_in_syn_recv_gets_rst_and_entry_stays() {
        for ack in [ISS, ISS.wrapping_add(2), 0, ack_ok() ^ 0x8000_0000] {
            let mut c = fresh();
            assert_eq!(
                c.step(Event::Ack { seq: nxt(), ack }),
                Action::SendRst(DropReason::BadAck)
            );
            assert_eq!(c, fresh());
            assert_eq!(
                c.step(Event::Data {
                    seq: nxt(),
                    ack,
                    len: 5
                }),
                Action::SendRst(DropReason::BadAck)
            );
            assert_eq!(
                c.step(Event::Fin { seq: nxt(), ack }),
                Action::SendRst(DropReason::BadAck)
            );
            assert_eq!(c, fresh());
        }
    }

    #[test]
    fn bad_ack_in_established_dropped() {
        let mut c = in_state(State::Established);
        assert_eq!(
            c.step(Event::Ack {
                seq: nxt(),
                ack: ISS
            }),
            Action::Drop(DropReason::BadAck)
        );
        assert_eq!(c.state(), State::Established);
    }

    #[test]
    fn out_of_window_checked_before_ack() {
        let mut c = fresh();
        let far = nxt().wrapping_add(WND);
        assert_eq!(
            c.step(Event::Ack { seq: far, ack: 0 }),
            Action::Drop(DropReason::OutOfWindow)
        );
        assert_eq!(
            c.step(Event::Data {
                seq: nxt().wrapping_sub(10),
                ack: ack_ok(),
                len: 10
            }),
            Action::Drop(DropReason::OutOfWindow)
        );
        assert_eq!(c, fresh());
    }

    #[test]
    fn data_in_syn_recv_injects() {
        // The client's pure ACK was lost; its first data completes the
        // handshake.
        let mut c = fresh();
        assert_eq!(c.step(good_data()), Action::Inject);
        assert_eq!(c.state(), State::Established);
        assert!(c.handoff_pending());
        assert_eq!(c.step(Event::InjectOk), Action::Absorb);
        assert_eq!(c.state(), State::Bound);
        assert!(!c.handoff_pending());
    }

    #[test]
    fn data_in_established_injects() {
        let mut c = in_state(State::Established);
        assert_eq!(c.step(good_data()), Action::Inject);
        // Retransmission while the hand-off runs is absorbed.
        assert_eq!(c.step(good_data()), Action::Absorb);
        assert_eq!(c.step(Event::InjectOk), Action::Absorb);
        assert_eq!(c.state(), State::Bound);
    }

    #[test]
    fn zero_length_data_is_an_ack() {
        let mut c = fresh();
        assert_eq!(
            c.step(Event::Data {
                seq: nxt(),
                ack: ack_ok(),
                len: 0
            }),
            Action::Absorb
        );
        assert_eq!(c.state(), State::Established);
        assert!(!c.handoff_pending());
    }

    #[test]
    fn out_of_order_data() {
        let mut c = in_state(State::Established);
        assert_eq!(
            c.step(Event::Data {
                seq: nxt().wrapping_add(100),
                ack: ack_ok(),
                len: 100
            }),
            Action::Drop(DropReason::OutOfOrder)
        );
        assert_eq!(
            c.step(Event::Fin {
                seq: nxt().wrapping_add(1),
                ack: ack_ok()
            }),
            Action::Drop(DropReason::OutOfOrder)
        );
        assert!(!c.handoff_pending());
    }

    #[test]
    fn bare_fin_is_handed_over() {
        let mut c = fresh();
        assert_eq!(
            c.step(Event::Fin {
                seq: nxt(),
                ack: ack_ok()
            }),
            Action::Inject
        );
        assert_eq!(c.state(), State::Established);
    }

    #[test]
    fn rst_rules() {
        for s in [State::SynRecv, State::Established, State::Migrating] {
            let mut c = in_state(s);
            assert_eq!(
                c.step(Event::Rst {
                    seq: nxt().wrapping_add(1)
                }),
                Action::Drop(DropReason::RstInWindow)
            );
            assert_eq!(
                c.step(Event::Rst {
                    seq: nxt().wrapping_add(WND)
                }),
                Action::Drop(DropReason::OutOfWindow)
            );
            assert_eq!(
                c.step(Event::Rst {
                    seq: nxt().wrapping_sub(1)
                }),
                Action::Drop(DropReason::OutOfWindow)
            );
            assert_eq!(c.state(), s);
            assert_eq!(c.step(Event::Rst { seq: nxt() }), Action::Remove);
            assert_eq!(c.state(), State::Closed);
        }
    }

    #[test]
    fn timeout_everywhere() {
        for s in [
            State::SynRecv,
            State::Established,
            State::Bound,
            State::Migrating,
            State::Forwarded,
            State::Closed,
        ] {
            let mut c = in_state(s);
            assert_eq!(c.step(Event::Timeout), Action::Remove);
            assert_eq!(c.state(), State::Closed);
        }
    }

    #[test]
    fn inject_failures() {
        let mut c = in_state(State::Established);
        assert_eq!(c.step(good_data()), Action::Inject);
        assert_eq!(
            c.step(Event::InjectFailed { retryable: true }),
            Action::Drop(DropReason::InjectRetry)
        );
        assert_eq!(c.state(), State::Established);
        assert!(!c.handoff_pending());
        // The client's retransmission tries again.
        assert_eq!(c.step(good_data()), Action::Inject);
        assert_eq!(
            c.step(Event::InjectFailed { retryable: false }),
            Action::SendRst(DropReason::InjectFailed)
        );
        assert_eq!(c.state(), State::Closed);
    }

    #[test]
    fn migration() {
        let mut c = in_state(State::Established);
        assert_eq!(c.step(good_data()), Action::Inject);
        assert_eq!(c.step(Event::MigrateStart), Action::Absorb);
        assert_eq!(c.state(), State::Migrating);
        assert_eq!(c.step(good_data()), Action::Absorb);
        assert_eq!(c.step(good_ack()), Action::Absorb);
        assert_eq!(
            c.step(Event::Fin {
                seq: nxt(),
                ack: ack_ok()
            }),
            Action::Absorb
        );
        assert_eq!(
            c.step(Event::MigrateStart),
            Action::Drop(DropReason::BadEvent)
        );
        assert_eq!(c.step(Event::InjectOk), Action::Absorb);
        assert_eq!(c.state(), State::Forwarded);
        assert_eq!(c.step(good_data()), Action::Pass);

        let mut c = in_state(State::Migrating);
        assert_eq!(
            c.step(Event::InjectFailed { retryable: true }),
            Action::Drop(DropReason::InjectRetry)
        );
        assert_eq!(c.state(), State::Established);
        let mut c = in_state(State::Migrating);
        assert_eq!(
            c.step(Event::InjectFailed { retryable: false }),
            Action::SendRst(DropReason::InjectFailed)
        );
        assert_eq!(c.state(), State::Closed);
    }

    #[test]
    fn handoff_events_need_a_pending_handoff() {
        for ev in [
            Event::InjectOk,
            Event::InjectFailed { retryable: true },
            Event::InjectFailed { retryable: false },
            Event::MigrateStart,
        ] {
            for s in [
                State::SynRecv,
                State::Established,
                State::Bound,
                State::Forwarded,
            ] {
                let mut c = in_state(s);
                let before = c;
                assert_eq!(
                    c.step(ev),
                    Action::Drop(DropReason::BadEvent),
                    "{s:?} {ev:?}"
                );
                assert_eq!(c, before);
            }
        }
    }

    #[test]
    fn owned_states_pass_segments() {
        for s in [State::Bound, State::Forwarded] {
            let mut c = in_state(s);
            for ev in [
                Event::Syn { seq: 1 },
                good_ack(),
                good_data(),
                Event::Fin { seq: 0, ack: 0 },
                Event::Rst { seq: nxt() },
            ] {
                assert_eq!(c.step(ev), Action::Pass);
                assert_eq!(c.state(), s);
            }
        }
    }

    #[test]
    fn closed_drops() {
        let mut c = in_state(State::Closed);
        for ev in [
            Event::Syn { seq: IRS },
            good_ack(),
            good_data(),
            Event::Rst { seq: nxt() },
            Event::InjectOk,
        ] {
            assert_eq!(c.step(ev), Action::Drop(DropReason::UnknownConn));
            assert_eq!(c.state(), State::Closed);
        }
    }

    #[test]
    fn reason_names_stable_and_unique() {
        for (i, r) in DropReason::ALL.iter().enumerate() {
            assert_eq!(r.index(), i);
            let n = r.as_str();
            assert!(!n.is_empty());
            assert!(n.bytes().all(|b| b.is_ascii_lowercase() || b == b'_'));
            for other in &DropReason::ALL[..i] {
                assert_ne!(other.as_str(), n);
            }
        }
        assert_eq!(DropReason::BadAck.as_str(), "bad_ack");
        assert_eq!(DropReason::OutOfWindow.as_str(), "out_of_window");
    }

    /// Events around the interesting values of the entry under test.
    fn alphabet() -> [Event; 21] {
        let n = nxt();
        let a = ack_ok();
        [
            Event::Syn { seq: IRS },
            Event::Syn { seq: IRS ^ 4 },
            Event::Ack { seq: n, ack: a },
            Event::Ack {
                seq: n,
                ack: a.wrapping_add(1),
            },
            Event::Ack {
                seq: n.wrapping_add(WND),
                ack: a,
            },
            Event::Data {
                seq: n,
                ack: a,
                len: 10,
            },
            Event::Data {
                seq: n.wrapping_add(5),
                ack: a,
                len: 10,
            },
            Event::Data {
                seq: n,
                ack: ISS,
                len: 10,
            },
            Event::Data {
                seq: n,
                ack: a,
                len: u32::MAX,
            },
            Event::Data {
                seq: n,
                ack: a,
                len: 0,
            },
            Event::Fin { seq: n, ack: a },
            Event::Fin {
                seq: n.wrapping_add(3),
                ack: a,
            },
            Event::Rst { seq: n },
            Event::Rst {
                seq: n.wrapping_add(2),
            },
            Event::Rst {
                seq: n.wrapping_add(WND),
            },
            Event::Timeout,
            Event::InjectOk,
            Event::InjectFailed { retryable: true },
            Event::InjectFailed { retryable: false },
            Event::MigrateStart,
            Event::NoData,
        ]
    }

    #[test]
    fn no_data_binds_only_an_established_connection() {
        let mut c = fresh();
        // Before the handshake ACK: nothing to hand over.
        assert_eq!(c.step(Event::NoData), Action::Drop(DropReason::BadEvent));
        assert_eq!(c.state(), State::SynRecv);
        assert_eq!(
            c.step(Event::Ack {
                seq: IRS.wrapping_add(1),
                ack: ISS.wrapping_add(1)
            }),
            Action::Absorb
        );
        assert_eq!(c.step(Event::NoData), Action::Inject);
        assert!(c.handoff_pending());
        // Once pending, neither a second NoData nor the client's first data
        // starts another hand-off.
        assert_eq!(c.step(Event::NoData), Action::Drop(DropReason::BadEvent));
        assert_eq!(
            c.step(Event::Data {
                seq: IRS.wrapping_add(1),
                ack: ISS.wrapping_add(1),
                len: 10
            }),
            Action::Absorb
        );
        assert_eq!(c.step(Event::InjectOk), Action::Absorb);
        assert_eq!(c.state(), State::Bound);
        assert_eq!(c.step(Event::NoData), Action::Drop(DropReason::BadEvent));
    }

    /// Properties every single step must have.
    fn check_step(before: &Conn, ev: Event, after: &Conn, act: Action) {
        let ctx = (before.state(), ev, after.state(), act);
        if act == Action::Remove {
            assert_eq!(after.state(), State::Closed, "{ctx:?}");
        }
        if before.state() == State::Closed {
            assert_eq!(after.state(), State::Closed, "{ctx:?}");
            assert!(
                matches!(act, Action::Remove | Action::Drop(DropReason::UnknownConn)),
                "{ctx:?}"
            );
        }
        if after.state() == State::Closed && before.state() != State::Closed {
            assert!(
                matches!(
                    act,
                    Action::Remove | Action::SendRst(DropReason::InjectFailed)
                ),
                "{ctx:?}"
            );
        }
        match act {
            Action::Inject => {
                assert_eq!(after.state(), State::Established, "{ctx:?}");
                assert!(
                    after.handoff_pending() && !before.handoff_pending(),
                    "{ctx:?}"
                );
            }
            Action::SendSynAck => {
                assert_eq!(before.state(), State::SynRecv, "{ctx:?}");
                assert_eq!(after.state(), State::SynRecv, "{ctx:?}");
                assert_eq!(after.synacks(), before.synacks() + 1, "{ctx:?}");
            }
            Action::Pass => {
                assert!(
                    matches!(before.state(), State::Bound | State::Forwarded),
                    "{ctx:?}"
                );
                assert_eq!(after, before, "{ctx:?}");
            }
            // A drop changes nothing, except that a transient hand-off
            // failure ends the hand-off, and out-of-order data whose ACK is
            // valid still completes the handshake.
            Action::Drop(DropReason::InjectRetry) => {
                assert_eq!(after.state(), State::Established, "{ctx:?}");
            }
            Action::Drop(DropReason::OutOfOrder) => {
                assert_eq!(after.state(), State::Established, "{ctx:?}");
                assert_eq!(after.handoff_pending(), before.handoff_pending(), "{ctx:?}");
            }
            Action::Drop(_) => assert_eq!(after, before, "{ctx:?}"),
            _ => {}
        }
        if matches!(after.state(), State::Bound) && before.state() != State::Bound {
            assert_eq!(ev, Event::InjectOk, "{ctx:?}");
        }
        if matches!(after.state(), State::Forwarded) && before.state() != State::Forwarded {
            assert_eq!(before.state(), State::Migrating, "{ctx:?}");
            assert_eq!(ev, Event::InjectOk, "{ctx:?}");
        }
        if after.state() == State::Migrating {
            assert!(after.handoff_pending(), "{ctx:?}");
        }
        assert!(after.synacks() <= MAX_SYNACKS);
        assert_eq!((after.iss(), after.irs()), (before.iss(), before.irs()));
    }

    fn explore(c: Conn, depth: usize, alphabet: &[Event], steps: &mut u64) {
        if depth == 0 {
            return;
        }
        for &ev in alphabet {
            let mut next = c;
            let act = next.step(ev);
            *steps += 1;
            check_step(&c, ev, &next, act);
            explore(next, depth - 1, alphabet, steps);
        }
    }

    #[test]
    fn exhaustive_sequences_never_break_invariants() {
        // Every sequence of up to 5 events over the alphabet (21^5 = 4.1M),
        // from a fresh entry.
        let alphabet = alphabet();
        let mut steps = 0;
        explore(fresh(), 5, &alphabet, &mut steps);
        assert_eq!(steps, (1..=5).map(|k| 21u64.pow(k)).sum::<u64>());
    }

    #[test]
    fn every_state_event_pair() {
        // One step from each reachable state, with and without a pending
        // hand-off.
        let mut starts = [
            State::SynRecv,
            State::Established,
            State::Bound,
            State::Migrating,
            State::Forwarded,
            State::Closed,
        ]
        .map(in_state)
        .to_vec();
        let mut p = in_state(State::Established);
        p.step(good_data());
        starts.push(p);
        for c in starts {
            for ev in alphabet() {
                let mut n = c;
                let act = n.step(ev);
                check_step(&c, ev, &n, act);
            }
        }
    }

    #[test]
    fn random_walks() {
        let mut x: u64 = 0x2545_f491_4f6c_dd1d;
        let mut rnd = || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        for _ in 0..2_000 {
            let iss = rnd() as u32;
            let irs = rnd() as u32;
            let wnd = (rnd() as u32) >> (rnd() % 32);
            let mut c = Conn::new(iss, irs, wnd);
            for _ in 0..50 {
                let r = rnd();
                let near = |base: u32, r: u64| base.wrapping_add((r % 7) as u32).wrapping_sub(3);
                let s = if r & 1 == 0 {
                    near(irs.wrapping_add(1), r >> 8)
                } else {
                    (r >> 16) as u32
                };
                let a = if r & 2 == 0 {
                    near(iss.wrapping_add(1), r >> 12)
                } else {
                    (r >> 24) as u32
                };
                let ev = match (r >> 40) % 10 {
                    0 => Event::Syn {
                        seq: if r & 4 == 0 { irs } else { s },
                    },
                    1 => Event::Ack { seq: s, ack: a },
                    2 => Event::Data {
                        seq: s,
                        ack: a,
                        len: (r >> 48) as u32,
                    },
                    3 => Event::Fin { seq: s, ack: a },
                    4 => Event::Rst { seq: s },
                    5 => Event::Timeout,
                    6 => Event::InjectOk,
                    7 => Event::InjectFailed {
                        retryable: r & 8 == 0,
                    },
                    8 => Event::NoData,
                    _ => Event::MigrateStart,
                };
                let before = c;
                let act = c.step(ev);
                check_step(&before, ev, &c, act);
            }
        }
    }
}
