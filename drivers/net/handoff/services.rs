// SPDX-License-Identifier: GPL-2.0

//! The services as the packet path sees them: an immutable snapshot of the
//! configuration, published with RCU after every change.

use crate::config::{self, Config, MAX_IFACES};
use crate::conntab::REQUEST_MAX;
use crate::proto::{content, select::Policy};
use crate::stats::{Counter, Counters};
use core::sync::atomic::{AtomicU64, Ordering};
use kernel::prelude::*;
use kernel::sync::Arc;

/// One service, as the ingress hook matches it.
pub(crate) struct ServiceRt {
    /// The VIP, IPv4 v4-mapped.
    pub(crate) addr: [u8; 16],
    /// The TCP port.
    pub(crate) port: u16,
    ifaces: [u32; MAX_IFACES],
    n_ifaces: usize,
    /// Lifetime of a temporary entry without request bytes (ms).
    pub(crate) syn_timeout_ms: u32,
    /// Idle timeout (ms).
    pub(crate) idle_timeout_ms: u32,
    /// At most this many of its connections in the temporary table.
    max_temporary: u32,
    /// At most this many of its connections in the forward table.
    max_forward: u32,
    /// How the node of a connection is chosen; for a content policy, its
    /// fallback (what chooses when the request names no usable node).
    pub(crate) policy: Policy,
    /// A content policy (host-uri, cookie, tls-sni) and its parameters.
    pub(crate) content: Option<KBox<ContentRt>>,
    /// Every SYN answered without state (else only under pressure).
    pub(crate) syncookies_always: bool,
    /// How long a connection waits for its first data after the handshake
    /// (ms; 0: bound at the handshake ACK).
    pub(crate) first_data_wait_ms: u32,
    /// The service's counters (the configuration's: they outlive a change
    /// of the service's settings).
    pub(crate) counters: Arc<Counters>,
    /// Connections it took (injected or adopted) when the sync channel
    /// last reported it.
    handed_mark: AtomicU64,
}

/// A service's table entry, counted in the service's gauge of that table
/// (`temporary_entries` or `forward_entries`) and against its limit for as
/// long as it exists (it lives in the entry).
pub(crate) struct ServiceSlot {
    counters: Arc<Counters>,
    gauge: Counter,
}

impl ServiceSlot {
    /// Counts a new entry in `gauge` of `counters` unless it is at `max`.
    fn reserve(counters: &Arc<Counters>, gauge: Counter, max: u32) -> Option<Self> {
        counters
            .gauge_inc_below(gauge, u64::from(max))
            .then(|| ServiceSlot {
                counters: counters.clone(),
                gauge,
            })
    }
}

/// Counts forward entries of one service (see
/// [`ServiceRt::forward_reserver`]).
#[cfg(handoff_debug)]
pub(crate) struct ForwardReserver {
    counters: Arc<Counters>,
    max: u32,
    idle_timeout_ms: u32,
}

#[cfg(handoff_debug)]
impl ForwardReserver {
    /// Counts a new forward entry; `None` at the service's `max-forward`.
    pub(crate) fn reserve(&self) -> Option<ServiceSlot> {
        ServiceSlot::reserve(&self.counters, Counter::ForwardEntries, self.max)
    }

    /// The service's idle timeout (ms).
    pub(crate) fn idle_ms(&self) -> u32 {
        self.idle_timeout_ms
    }
}

impl ServiceSlot {
    /// The counters of the slot's service.
    pub(crate) fn counters(&self) -> &Arc<Counters> {
        &self.counters
    }
}

impl Drop for ServiceSlot {
    fn drop(&mut self) {
        self.counters.gauge_dec(self.gauge);
    }
}

impl ServiceRt {
    /// Whether the service is reached on the device `ifindex`.
    fn on(&self, ifindex: i32) -> bool {
        let ifaces = self.ifaces.get(..self.n_ifaces).unwrap_or(&[]);
        ifaces.is_empty() || ifaces.iter().any(|&i| i as i32 == ifindex)
    }

    /// Counts a new temporary entry of the service; `None` if the service
    /// has its maximum already.
    pub(crate) fn reserve_temporary(&self) -> Option<ServiceSlot> {
        self.reserve(Counter::TemporaryEntries, self.max_temporary)
    }

    /// Counts a new forward entry of the service; `None` at its
    /// `max-forward`.
    pub(crate) fn reserve_forward(&self) -> Option<ServiceSlot> {
        self.reserve(Counter::ForwardEntries, self.max_forward)
    }

    /// The connections the service took (injected locally or adopted from
    /// peers) since the last call: the sync report's `handed`.
    pub(crate) fn take_handed(&self) -> u32 {
        let now = self.counters.get(Counter::Injected) + self.counters.get(Counter::Adopted);
        let before = self.handed_mark.swap(now, Ordering::Relaxed);
        u32::try_from(now.saturating_sub(before)).unwrap_or(u32::MAX)
    }

    /// Whether connections of the service may be handed to peers (its
    /// SYN-ACKs then leave room for the encapsulation in the MSS).
    pub(crate) fn may_migrate(&self) -> bool {
        self.policy != Policy::Local || self.content.is_some()
    }

    /// What counting forward entries of the service takes, for use outside
    /// the RCU section the service was found in.
    #[cfg(handoff_debug)]
    pub(crate) fn forward_reserver(&self) -> ForwardReserver {
        ForwardReserver {
            counters: self.counters.clone(),
            max: self.max_forward,
            idle_timeout_ms: self.idle_timeout_ms,
        }
    }

    fn reserve(&self, gauge: Counter, max: u32) -> Option<ServiceSlot> {
        ServiceSlot::reserve(&self.counters, gauge, max)
    }
}

/// The published services of an instance.
pub(crate) struct ServiceSet {
    list: KVec<ServiceRt>,
}

impl ServiceSet {
    /// The snapshot of `cfg`.
    pub(crate) fn of(cfg: &Config) -> Result<Self> {
        let mut list = KVec::with_capacity(cfg.services().len(), GFP_KERNEL)?;
        for (i, s) in cfg.services().iter().enumerate() {
            let addr = s.key.addr.to_mapped();
            let content = match cfg.service_view(i) {
                Some(v) => ContentRt::of(&v)?,
                None => None,
            };
            let policy = match content {
                Some(_) => select_policy(s.fallback),
                None => select_policy(s.policy),
            };
            let counters = cfg.service_counters_arc(i).ok_or(EINVAL)?.clone();
            let taken = counters.get(Counter::Injected) + counters.get(Counter::Adopted);
            let mut ifaces = [0u32; MAX_IFACES];
            let n = s.ifaces().len().min(MAX_IFACES);
            ifaces[..n].copy_from_slice(&s.ifaces()[..n]);
            list.push(
                ServiceRt {
                    addr,
                    port: s.key.port,
                    ifaces,
                    n_ifaces: n,
                    syn_timeout_ms: s.syn_timeout,
                    idle_timeout_ms: s.idle_timeout,
                    max_temporary: s.max_temporary,
                    max_forward: s.max_forward,
                    policy,
                    content,
                    syncookies_always: s.syncookies_always,
                    first_data_wait_ms: s.first_data_wait,
                    counters,
                    handed_mark: AtomicU64::new(taken),
                },
                GFP_KERNEL,
            )?;
        }
        Ok(Self { list })
    }

    /// The service for a segment to `addr:port` received on `ifindex`.
    pub(crate) fn find(&self, addr: &[u8; 16], port: u16, ifindex: i32) -> Option<&ServiceRt> {
        self.list
            .iter()
            .find(|s| s.port == port && s.addr == *addr && s.on(ifindex))
    }

    /// Every service.
    pub(crate) fn iter(&self) -> impl Iterator<Item = &ServiceRt> {
        self.list.iter()
    }

    /// The service `addr:port`, on whichever devices.
    pub(crate) fn get(&self, addr: &[u8; 16], port: u16) -> Option<&ServiceRt> {
        self.list.iter().find(|s| s.port == port && s.addr == *addr)
    }

    /// The devices the services are hooked on; `None` in the list's place
    /// means "every device" (a service without interfaces).
    pub(crate) fn ifindexes(&self, out: &mut KVec<i32>) -> Result<bool> {
        let mut all = false;
        for s in self.list.iter() {
            let ifaces = s.ifaces.get(..s.n_ifaces).unwrap_or(&[]);
            all |= ifaces.is_empty();
            for &i in ifaces {
                if !out.contains(&(i as i32)) {
                    out.push(i as i32, GFP_KERNEL)?;
                }
            }
        }
        Ok(all)
    }
}

/// The selection policy of a configured one: local, weighted, least-load or
/// hash, the ones `service add` accepts until the content policies exist
/// (it refuses the others with `EOPNOTSUPP`).
/// Which content policy a service has.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ContentKind {
    /// By the HTTP request's Host and path.
    HostUri,
    /// By an HTTP cookie naming the node.
    Cookie,
    /// By the TLS server name, else the resumed session.
    TlsSni,
}

/// A byte range of [`ContentRt`]'s string pool.
#[derive(Clone, Copy)]
struct Span(usize, usize);

/// A rule as [`ContentRt`] keeps it.
#[derive(Clone, Copy)]
struct RuleRt {
    host: Option<Span>,
    path: Option<Span>,
    node: u32,
}

/// A content policy's parameters, copied out of the configuration.
pub(crate) struct ContentRt {
    /// The policy.
    pub(crate) kind: ContentKind,
    /// The most request bytes held for a connection before choosing.
    pub(crate) request_limit: usize,
    strings: KVec<u8>,
    cookie: Span,
    rules: KVec<RuleRt>,
}

impl ContentRt {
    /// The content policy of the service `v`, if it has one.
    fn of(v: &config::ServiceView<'_>) -> Result<Option<KBox<Self>>> {
        let kind = match v.service.policy {
            config::Policy::HostUri => ContentKind::HostUri,
            config::Policy::Cookie => ContentKind::Cookie,
            config::Policy::TlsSni => ContentKind::TlsSni,
            _ => return Ok(None),
        };
        let mut strings = KVec::new();
        let mut put = |s: &[u8]| -> Result<Span> {
            let start = strings.len();
            strings.extend_from_slice(s, GFP_KERNEL)?;
            Ok(Span(start, s.len()))
        };
        let cookie = match v.service.cookie {
            Some(c) => put(v.str(c))?,
            None => Span(0, 0),
        };
        let mut rules = KVec::with_capacity(v.rules.len(), GFP_KERNEL)?;
        for r in v.rules {
            // "*" is any host, as no host.
            let host = r.host.map(|h| v.str(h)).filter(|h| *h != b"*");
            let host = host.map(&mut put).transpose()?;
            let path = r.path.map(|p| put(v.str(p))).transpose()?;
            rules.push(
                RuleRt {
                    host,
                    path,
                    node: r.node,
                },
                GFP_KERNEL,
            )?;
        }
        Ok(Some(KBox::new(
            Self {
                kind,
                request_limit: (v.service.request_limit as usize).min(REQUEST_MAX),
                strings,
                cookie,
                rules,
            },
            GFP_KERNEL,
        )?))
    }

    fn bytes(&self, s: Span) -> &[u8] {
        self.strings.get(s.0..s.0 + s.1).unwrap_or(&[])
    }

    /// The cookie name (`Cookie` only; empty otherwise).
    pub(crate) fn cookie_name(&self) -> &[u8] {
        self.bytes(self.cookie)
    }

    /// The rules, in order.
    pub(crate) fn rules(&self) -> impl Iterator<Item = content::Rule<'_>> {
        self.rules.iter().map(|r| content::Rule {
            host: r.host.map(|s| self.bytes(s)),
            path: r.path.map(|s| self.bytes(s)),
            node: r.node,
        })
    }
}

fn select_policy(p: config::Policy) -> Policy {
    match p {
        config::Policy::Weighted => Policy::Weighted,
        config::Policy::LeastLoad => Policy::LeastLoad,
        config::Policy::Hash => Policy::Hash,
        _ => Policy::Local,
    }
}
