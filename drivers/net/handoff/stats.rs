// SPDX-License-Identifier: GPL-2.0

//! Counters of a handoff instance.
//!
//! Every packet the module consumes, answers or drops is counted here under a
//! stable name; the names are the keys the control interface reports. The
//! counters are those of `enum handoff_stats_attr`, in its order: counter `i`
//! is reported as attribute `HANDOFF_A_STATS_SYN_ANSWERED + i` (checked by the
//! KUnit suite and, against the CLI's names, by `tools/handoff`'s tests). The
//! `drop_*` counters follow `DropReason::ALL`, then `drop_peer_down`; the
//! `*_entries` counters are gauges.

use core::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

macro_rules! counters {
    ($($(#[$doc:meta])* $var:ident = $name:literal,)+) => {
        /// A counter of a handoff instance.
        #[derive(Clone, Copy, Debug, PartialEq, Eq)]
        #[allow(dead_code)]
        pub(crate) enum Counter {
            $($(#[$doc])* $var,)+
        }

        impl Counter {
            /// Every counter, in reporting order.
            pub(crate) const ALL: &'static [Counter] = &[$(Counter::$var,)+];

            /// The counter's stable name.
            pub(crate) const fn name(self) -> &'static str {
                match self {
                    $(Counter::$var => $name,)+
                }
            }

            /// The counter's attribute in `HANDOFF_A_STATS`.
            #[allow(dead_code)]
            pub(crate) const fn attr(self) -> u16 {
                crate::uapi::HANDOFF_A_STATS_SYN_ANSWERED + self as u16
            }
        }
    };
}

counters! {
    /// SYNs answered with the module's own SYN-ACK.
    SynAnswered = "syn_answered",
    /// Retransmitted SYNs answered again.
    SynRetransmit = "syn_retransmit",
    /// Handshake ACKs validated against the module's ISN.
    CookiesChecked = "cookies_checked",
    /// Handshake ACKs whose ISN check failed.
    CookiesFailed = "cookies_failed",
    /// Segments consumed silently in the temporary table.
    AcksAbsorbed = "acks_absorbed",
    /// Connections injected into the local stack.
    Injected = "injected",
    /// Injections the local stack refused.
    InjectFailed = "inject_failed",
    /// Connections handed off to a peer.
    Migrated = "migrated",
    /// Handoffs refused by the peer or unanswered in time.
    MigrateFailed = "migrate_failed",
    /// Client packets forwarded to a peer.
    Forwarded = "forwarded",
    /// Connections received from a peer and established locally.
    Adopted = "adopted",
    /// Forwarded packets received from a peer and delivered locally.
    Received = "received",
    /// Entries removed by the SYN or idle timeout.
    Timeouts = "timeouts",
    /// Dropped: the packet, its options or its encapsulation failed to parse.
    DropMalformed = "drop_malformed",
    /// Dropped: bad TCP or IPv4 header checksum.
    DropBadChecksum = "drop_bad_checksum",
    /// Dropped: a packet shape not handled.
    DropUnsupported = "drop_unsupported",
    /// Dropped: no local listener for a connection to hand over.
    DropNoListener = "drop_no_listener",
    /// Dropped: the accept queue or a handoff queue was full.
    DropQueueFull = "drop_queue_full",
    /// Dropped: the table was full.
    DropTableFull = "drop_table_full",
    /// Dropped: a segment for a tuple not in the table.
    DropUnknownConn = "drop_unknown_conn",
    /// Dropped: a handshake ACK whose cookie does not verify.
    DropBadCookie = "drop_bad_cookie",
    /// Dropped: a cookie or entry too old.
    DropExpired = "drop_expired",
    /// Dropped: an unacceptable acknowledgment number.
    DropBadAck = "drop_bad_ack",
    /// Dropped: a sequence number outside the receive window.
    DropOutOfWindow = "drop_out_of_window",
    /// Dropped: in the window but not at the next expected byte.
    DropOutOfOrder = "drop_out_of_order",
    /// Dropped: a SYN with another ISN on a half-open tuple.
    DropSynMismatch = "drop_syn_mismatch",
    /// Dropped: a SYN after the handshake completed.
    DropUnexpectedSyn = "drop_unexpected_syn",
    /// Dropped: too many SYN-ACK retransmissions for one entry.
    DropRateLimited = "drop_rate_limited",
    /// Dropped: a RST in the window but not at the next expected byte.
    DropRstInWindow = "drop_rst_in_window",
    /// Dropped: an event that makes no sense in the entry's state.
    DropBadEvent = "drop_bad_event",
    /// Dropped: a handoff failed transiently.
    DropInjectRetry = "drop_inject_retry",
    /// Dropped: a handoff failed for good.
    DropInjectFailed = "drop_inject_failed",
    /// Dropped: packets of forward entries whose peer is down.
    DropPeerDown = "drop_peer_down",
    /// Gauge: entries in the temporary table now.
    TemporaryEntries = "temporary_entries",
    /// Gauge: entries in the forward table now.
    ForwardEntries = "forward_entries",
    /// Replies (SYN-ACK, RST) the device did not take.
    XmitFailed = "xmit_failed",
    /// Origin: connections offered to a peer (first NEW sent).
    NewSent = "new_sent",
    /// Origin: NEW sent again for want of a MIGRATED_ACK.
    NewRetransmit = "new_retransmit",
    /// Origin: handoffs the peer refused.
    NewRefused = "new_refused",
    /// Origin: handoffs unanswered by the deadline.
    NewTimeout = "new_timeout",
    /// Origin: timed-out handoffs bound to the local stack instead.
    FallbackLocal = "fallback_local",
    /// Target: DATA held until its connection was injected.
    DataEarly = "data_early",
    /// DATA not sent (origin) or not delivered (target).
    DataDropped = "data_dropped",
    /// Datagrams from an address and port that is no peer.
    DgramNotPeer = "dgram_not_peer",
    /// Datagrams from a peer that failed to parse.
    DgramMalformed = "dgram_malformed",
    /// Target: NEW refused.
    Refused = "refused",
    /// Forward and adopted entries ended by the client's RST or FIN.
    FlowsEnded = "flows_ended",
    /// Gauge: connections adopted from peers, still tracked.
    AdoptedEntries = "adopted_entries",
    /// SYNs answered without state (a cookie SYN-ACK).
    SyncookiesSent = "syncookies_sent",
    /// Sync reports sent.
    SyncSent = "sync_sent",
    /// Sync reports received and taken.
    SyncReceived = "sync_received",
    /// Sync datagrams not from a peer's sync address and port, or naming
    /// another node.
    SyncNotPeer = "sync_not_peer",
    /// Sync datagrams that failed to parse.
    SyncMalformed = "sync_malformed",
    /// Sync reports older than or repeating the last one taken.
    SyncReplay = "sync_replay",
    /// Front failover: announcement entries sent.
    AnnounceSent = "announce_sent",
    /// Front failover: announcement entries received and applied.
    AnnounceReceived = "announce_received",
    /// Front failover: announcements not sent (queue full) or not stored
    /// (relay table full).
    AnnounceDropped = "announce_dropped",
    /// Front failover: packets of another front's connections relayed.
    Relayed = "relayed",
    /// Gauge: connections peers announced, in the relay table.
    RelayEntries = "relay_entries",
    /// Content policies: segments of an incomplete request held.
    RequestHeld = "request_held",
    /// Gauge: request bytes held now.
    RequestBytes = "request_bytes",
}

/// The counters of one instance, updated locklessly from the packet path.
pub(crate) struct Counters {
    values: [AtomicU64; Counter::ALL.len()],
    /// When (jiffies) a SYN was last answered without state: for so long
    /// after it, ACKs of unknown connections are checked as cookies. Kept
    /// with the counters, which outlive changes of a service's settings.
    cookie_at: AtomicUsize,
}

impl Counters {
    /// All counters at zero.
    pub(crate) const fn new() -> Self {
        Self {
            values: [const { AtomicU64::new(0) }; Counter::ALL.len()],
            cookie_at: AtomicUsize::new(0),
        }
    }

    /// Notes that a SYN was answered with a cookie at `now` (jiffies).
    pub(crate) fn cookie_sent(&self, now: usize) {
        // Written once per jiffy at most: a flood does not bounce the line.
        if self.cookie_at.load(Ordering::Relaxed) != now {
            self.cookie_at.store(now, Ordering::Relaxed);
        }
    }

    /// Whether a cookie was sent within `window` jiffies before `now`.
    pub(crate) fn cookie_sent_within(&self, now: usize, window: usize) -> bool {
        let at = self.cookie_at.load(Ordering::Relaxed);
        at != 0 && now.wrapping_sub(at) <= window
    }

    /// Adds `n` to `c`.
    #[allow(dead_code)]
    pub(crate) fn add(&self, c: Counter, n: u64) {
        self.values[c as usize].fetch_add(n, Ordering::Relaxed);
    }

    /// Adds one to `c`.
    #[allow(dead_code)]
    pub(crate) fn inc(&self, c: Counter) {
        self.add(c, 1);
    }

    /// Raises the gauge `c` by one unless it is at `max` already; returns
    /// whether it did.
    pub(crate) fn gauge_inc_below(&self, c: Counter, max: u64) -> bool {
        self.values[c as usize]
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |v| {
                (v < max).then_some(v + 1)
            })
            .is_ok()
    }

    /// Raises the gauge `c` by `n` unless that takes it past `max`; returns
    /// whether it did.
    pub(crate) fn gauge_add_within(&self, c: Counter, n: u64, max: u64) -> bool {
        self.values[c as usize]
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |v| {
                v.checked_add(n).filter(|s| *s <= max)
            })
            .is_ok()
    }

    /// Lowers the gauge `c` by `n`.
    pub(crate) fn gauge_sub(&self, c: Counter, n: u64) {
        self.values[c as usize].fetch_sub(n, Ordering::Relaxed);
    }

    /// Lowers the gauge `c` by one.
    pub(crate) fn gauge_dec(&self, c: Counter) {
        self.values[c as usize].fetch_sub(1, Ordering::Relaxed);
    }

    /// Sets the gauge `c`.
    pub(crate) fn set(&self, c: Counter, v: u64) {
        self.values[c as usize].store(v, Ordering::Relaxed);
    }

    /// Counts a packet dropped for `reason` (the `drop_*` counters follow
    /// [`DropReason::ALL`]).
    pub(crate) fn dropped(&self, reason: crate::proto::conn::DropReason) {
        const _: () = assert!(
            Counter::DropMalformed as usize + crate::proto::conn::DropReason::ALL.len()
                == Counter::DropPeerDown as usize
        );
        self.inc(Counter::ALL[Counter::DropMalformed as usize + reason.index()]);
    }

    /// Returns the current value of `c`.
    #[allow(dead_code)]
    pub(crate) fn get(&self, c: Counter) -> u64 {
        self.values[c as usize].load(Ordering::Relaxed)
    }
}
