// SPDX-License-Identifier: GPL-2.0

//! Generic netlink families.
//!
//! A family is described by a type implementing [`Family`]: its name,
//! version, attribute [policy](AttrPolicy), [operations](Op) and multicast
//! [groups](McGroup), and the handlers of its commands. A
//! [`Registration`] (a `static` of the module) registers it with
//! [`Registration::register`] and unregisters it when the returned
//! [`Registered`] guard is dropped.
//!
//! Requests are parsed by the core against the family's policy with strict
//! validation before a handler runs: a handler sees only well-formed
//! attributes of the types the policy lists, nested ones included. Handlers
//! get the request as an [`Info`] (a plain request, "do") or a [`Dump`]
//! (`NLM_F_DUMP`), both of which dereference to a [`Request`]: the
//! requesting socket's namespace, the attributes, and the extended ACK error
//! setters. A dump runs in several calls, one per message buffer the core
//! fills; its progress is a small `Copy` value ([`Family::DumpState`]) kept
//! in the core's `netlink_callback::ctx` between the calls.
//!
//! Messages are built with [`Message`] (replies and events) and
//! [`DumpMessage`] (one message of a dump); both, and [`Nest`], implement
//! [`Put`], which appends attributes.
//!
//! Every family registered here is `netnsok` (it is present in every network
//! namespace and handlers see the requester's) and `parallel_ops`: the core
//! does not serialise handlers, which is sound because handlers are safe Rust
//! and any state they share is `Sync`.
//!
//! ```ignore
//! use kernel::net::genetlink::{self, AttrPolicy, Family, Info, Op, OpKind, Put};
//!
//! static POLICY: [AttrPolicy; 3] = genetlink::policy(&[
//!     (1, AttrPolicy::u16().min(1)),  // a port: 0 is refused by the core
//!     (2, AttrPolicy::nul_string(15)),
//! ]);
//! static FAMILY: genetlink::Registration<Example> = genetlink::Registration::new();
//!
//! struct Example;
//! impl Family for Example {
//!     const NAME: &'static CStr = c_str!("example");
//!     const VERSION: u8 = 1;
//!     const POLICY: &'static [AttrPolicy] = &POLICY;
//!     const OPS: &'static [Op] = &[Op::new::<Self>(1, OpKind::Do).admin()];
//!     const MCGRPS: &'static [genetlink::McGroup] = &[];
//!     type DumpState = ();
//!
//!     fn doit(_cmd: u8, info: &Info<'_>) -> Result {
//!         let port = info
//!             .attr(1)
//!             .ok_or_else(|| info.fail_missing(None, 1, c_str!("a port is required")))?
//!             .u16()?;
//!         let mut reply = info.reply_message()?;
//!         reply.put_u16(1, port)?;
//!         info.reply(reply)
//!     }
//!
//!     fn dumpit(_: u8, _: &mut genetlink::Dump<'_>, _: &mut ()) -> Result<genetlink::DumpProgress> {
//!         Err(EINVAL)
//!     }
//! }
//! // In the module's init: `let registered = FAMILY.register(module)?;`
//! ```
//!
//! C headers: [`include/net/genetlink.h`](srctree/include/net/genetlink.h),
//! [`include/net/netlink.h`](srctree/include/net/netlink.h)

use crate::{
    alloc::{flags::GFP_ATOMIC, flags::GFP_KERNEL, Flags},
    bindings, build_assert,
    error::{code::*, to_result, Error, Result},
    ffi::{c_int, c_void},
    net::namespace::Namespace,
    str::CStr,
    sync::rcu,
    types::Opaque,
    ThisModule,
};
use core::{
    marker::PhantomData,
    mem::{align_of, size_of, ManuallyDrop},
    ops::Deref,
    ptr::{self, NonNull},
    sync::atomic::{AtomicBool, Ordering},
};

/// Length of an attribute header (`NLA_HDRLEN`).
const NLA_HDRLEN: usize = (size_of::<bindings::nlattr>() + 3) & !3;

/// The bits of `nla_type` that hold the type (`NLA_TYPE_MASK`).
const NLA_TYPE_MASK: u16 = !((bindings::NLA_F_NESTED | bindings::NLA_F_NET_BYTEORDER) as u16);

/// `-EMSGSIZE`: the message buffer is full.
fn emsgsize() -> Error {
    Error::from_errno(-(bindings::EMSGSIZE as c_int))
}

// ---------------------------------------------------------------------------
// Policies

/// The validation policy of one attribute type (`struct nla_policy`).
///
/// Policies are arrays indexed by attribute type, built in const context with
/// [`policy`]; types without an entry are rejected ("Unsupported
/// attribute") since families validate strictly.
///
/// # Invariants
///
/// The union of the wrapped `nla_policy` holds what its `type_` and
/// `validation_type` select: a pointer to a `'static` nested policy of
/// `len + 1` entries for `NLA_NESTED`, a `'static` NUL-terminated string or
/// null for `NLA_REJECT`, a `'static` range for `NLA_VALIDATE_RANGE_PTR`, a
/// validation function for `NLA_VALIDATE_FUNCTION`, non-negative bounds for
/// the other validations of unsigned types, and zero otherwise.
#[repr(transparent)]
#[derive(Clone, Copy)]
pub struct AttrPolicy(bindings::nla_policy);

// SAFETY: A policy is immutable, and everything it points to is `'static`
// and immutable too.
unsafe impl Sync for AttrPolicy {}
// SAFETY: As above: nothing in it is tied to a thread.
unsafe impl Send for AttrPolicy {}

/// Bounds of an unsigned integer attribute for [`AttrPolicy::full_range`]
/// (`struct netlink_range_validation`), meant to be a `static`.
#[repr(transparent)]
pub struct Range(bindings::netlink_range_validation);

impl Range {
    /// The values `min..=max`.
    pub const fn new(min: u64, max: u64) -> Self {
        Self(bindings::netlink_range_validation { min, max })
    }
}

/// A check of a binary attribute's payload, run by the core during policy
/// validation ([`AttrPolicy::binary_checked`]).
pub trait BinaryCheck {
    /// Checks `payload`; on failure, the message for the extended ACK.
    fn check(payload: &[u8]) -> core::result::Result<(), &'static CStr>;
}

impl AttrPolicy {
    /// A policy of type `t` without further validation.
    const fn of(t: u32) -> Self {
        // SAFETY: All-zero bytes are a valid `nla_policy`: `NLA_UNSPEC`, no
        // validation, zero/null union.
        let mut p: bindings::nla_policy = unsafe { core::mem::zeroed() };
        p.type_ = t as u8;
        Self(p)
    }

    /// An attribute type the family does not accept (the default of a
    /// [`policy`] entry): strict validation rejects it.
    pub const fn unused() -> Self {
        Self::of(bindings::NLA_UNSPEC)
    }

    /// Rejected with `msg` as the error message (e.g. an attribute only used
    /// in replies).
    pub const fn reject(msg: &'static CStr) -> Self {
        let mut p = Self::of(bindings::NLA_REJECT);
        p.0.__bindgen_anon_1.reject_message = msg.as_char_ptr();
        p
    }

    /// An `NLA_U8`.
    pub const fn u8() -> Self {
        Self::of(bindings::NLA_U8)
    }

    /// An `NLA_U16`.
    pub const fn u16() -> Self {
        Self::of(bindings::NLA_U16)
    }

    /// An `NLA_U32`.
    pub const fn u32() -> Self {
        Self::of(bindings::NLA_U32)
    }

    /// An `NLA_U64`.
    pub const fn u64() -> Self {
        Self::of(bindings::NLA_U64)
    }

    /// An `NLA_NUL_STRING` of at most `max_len` bytes before its NUL.
    pub const fn nul_string(max_len: u16) -> Self {
        let mut p = Self::of(bindings::NLA_NUL_STRING);
        p.0.len = max_len;
        p
    }

    /// An `NLA_BINARY` of at most `max_len` bytes.
    pub const fn binary(max_len: u16) -> Self {
        let mut p = Self::of(bindings::NLA_BINARY);
        p.0.len = max_len;
        p
    }

    /// An `NLA_BINARY` of at most `max_len` bytes whose payload `V` checks
    /// (`NLA_POLICY_VALIDATE_FN`): a failed check rejects the request with
    /// `V`'s message and the attribute as the offending one.
    pub const fn binary_checked<V: BinaryCheck>(max_len: u16) -> Self {
        let mut p = Self::binary(max_len);
        p.0.validation_type = bindings::nla_policy_validation_NLA_VALIDATE_FUNCTION as u8;
        p.0.__bindgen_anon_1.validate = Some(binary_check_callback::<V>);
        p
    }

    /// An `NLA_NESTED` whose attributes are validated against `policy`
    /// (`NLA_POLICY_NESTED`).
    // Inline: a build-time check must not survive in an out-of-line copy.
    #[inline]
    pub const fn nested(policy: &'static [AttrPolicy]) -> Self {
        build_assert!(!policy.is_empty() && policy.len() <= u16::MAX as usize);
        let mut p = Self::of(bindings::NLA_NESTED);
        p.0.len = (policy.len() - 1) as u16;
        p.0.__bindgen_anon_1.nested_policy = policy.as_ptr().cast();
        p
    }

    const fn is_uint(&self) -> bool {
        let t = self.0.type_ as u32;
        (t == bindings::NLA_U8
            || t == bindings::NLA_U16
            || t == bindings::NLA_U32
            || t == bindings::NLA_U64)
            && self.0.validation_type == bindings::nla_policy_validation_NLA_VALIDATE_NONE as u8
    }

    /// Values below `min` are rejected ("integer out of range",
    /// `NLA_POLICY_MIN`). Only for the unsigned integer types.
    // Inline: a build-time check must not survive in an out-of-line copy.
    #[inline]
    pub const fn min(self, min: u16) -> Self {
        build_assert!(self.is_uint() && min <= i16::MAX as u16);
        let mut p = self;
        p.0.validation_type = bindings::nla_policy_validation_NLA_VALIDATE_MIN as u8;
        p.0.__bindgen_anon_1.__bindgen_anon_1.min = min as i16;
        p
    }

    /// Values outside `min..=max` are rejected (`NLA_POLICY_RANGE`). Only
    /// for the unsigned integer types; see [`Self::full_range`] for bounds
    /// above `i16::MAX`.
    // Inline: a build-time check must not survive in an out-of-line copy.
    #[inline]
    pub const fn range(self, min: u16, max: u16) -> Self {
        build_assert!(self.is_uint() && min <= max && max <= i16::MAX as u16);
        let mut p = self;
        p.0.validation_type = bindings::nla_policy_validation_NLA_VALIDATE_RANGE as u8;
        p.0.__bindgen_anon_1.__bindgen_anon_1.min = min as i16;
        p.0.__bindgen_anon_1.__bindgen_anon_1.max = max as i16;
        p
    }

    /// Values outside `range` are rejected (`NLA_POLICY_FULL_RANGE`). Only
    /// for the unsigned integer types.
    // Inline: a build-time check must not survive in an out-of-line copy.
    #[inline]
    pub const fn full_range(self, range: &'static Range) -> Self {
        build_assert!(self.is_uint());
        let mut p = self;
        p.0.validation_type = bindings::nla_policy_validation_NLA_VALIDATE_RANGE_PTR as u8;
        p.0.__bindgen_anon_1.range = ptr::addr_of!(range.0);
        p
    }
}

/// Builds a policy of `N` entries (attribute types `0..N`, the highest one
/// being the attribute set's maximum) from `(type, policy)` pairs; other
/// types are [`AttrPolicy::unused`].
///
/// Meant for const context: a type out of range fails the build.
#[inline]
pub const fn policy<const N: usize>(entries: &[(u16, AttrPolicy)]) -> [AttrPolicy; N] {
    let mut table = [AttrPolicy::unused(); N];
    let mut i = 0;
    while i < entries.len() {
        let (t, p) = entries[i];
        build_assert!(t != 0 && (t as usize) < N);
        table[t as usize] = p;
        i += 1;
    }
    table
}

/// Runs `V`'s check for the core's policy validation.
///
/// # Safety
///
/// `attr` must be an attribute whose header and payload the core has bounds
/// checked (the core calls this only so), and `extack` valid or null.
unsafe extern "C" fn binary_check_callback<V: BinaryCheck>(
    attr: *const bindings::nlattr,
    extack: *mut bindings::netlink_ext_ack,
) -> c_int {
    // SAFETY: The core validated `attr`'s length against the message.
    let a = unsafe { Attr::from_raw(attr) };
    match V::check(a.payload()) {
        Ok(()) => 0,
        Err(msg) => {
            // SAFETY: `extack` is valid or null, and owned by the request
            // being validated on this thread.
            unsafe { set_extack(extack, msg, a.raw.as_ptr().cast(), None) };
            EINVAL.to_errno()
        }
    }
}

/// Sets an extended ACK's message and offending (or missing) attribute, as
/// `NL_SET_ERR_MSG_ATTR` and `NL_SET_ERR_ATTR_MISS` do.
///
/// # Safety
///
/// `extack` must be valid or null, and not used concurrently.
unsafe fn set_extack(
    extack: *mut bindings::netlink_ext_ack,
    msg: &'static CStr,
    bad: *const bindings::nlattr,
    missing: Option<(*const bindings::nlattr, u16)>,
) {
    // SAFETY: `msg` is a `'static` NUL-terminated string; the tracepoint
    // only reads it.
    unsafe { bindings::do_trace_netlink_extack(msg.as_char_ptr()) };
    if extack.is_null() {
        return;
    }
    // SAFETY: `extack` is valid and ours (see the safety requirements); the
    // core reads `_msg` after the handler, so it must be `'static`, which it
    // is. Attribute pointers outside the request are ignored by the core.
    unsafe {
        (*extack)._msg = msg.as_char_ptr();
        (*extack).bad_attr = bad;
        (*extack).policy = ptr::null();
        if let Some((nest, t)) = missing {
            (*extack).miss_nest = nest;
            (*extack).miss_type = t;
        }
    }
}

// ---------------------------------------------------------------------------
// Family description

/// What a command supports.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum OpKind {
    /// Plain requests only ([`Family::doit`]).
    Do,
    /// Dumps only ([`Family::dumpit`]).
    Dump,
    /// Both.
    DoDump,
}

/// A command of a family (`struct genl_ops`).
///
/// # Invariants
///
/// The callbacks are this module's trampolines for one [`Family`] type, and
/// `policy` is null (the family's policy applies).
#[repr(transparent)]
#[derive(Clone, Copy)]
pub struct Op(bindings::genl_ops);

// SAFETY: An operation is immutable; its function pointers may be called from
// any thread.
unsafe impl Sync for Op {}
// SAFETY: As above.
unsafe impl Send for Op {}

impl Op {
    /// Command `cmd` of family `T`, open to every user.
    pub const fn new<T: Family>(cmd: u8, kind: OpKind) -> Self {
        // SAFETY: All-zero bytes are a valid `genl_ops` (no callbacks, no
        // policy, no flags).
        let mut op: bindings::genl_ops = unsafe { core::mem::zeroed() };
        op.cmd = cmd;
        if !matches!(kind, OpKind::Dump) {
            op.doit = Some(doit_callback::<T>);
        }
        if !matches!(kind, OpKind::Do) {
            op.start = Some(start_callback::<T>);
            op.dumpit = Some(dumpit_callback::<T>);
            op.done = Some(done_callback::<T>);
        }
        Self(op)
    }

    /// Restricted to `CAP_NET_ADMIN` (`GENL_ADMIN_PERM`): others get
    /// `-EPERM` before the handler runs.
    pub const fn admin(self) -> Self {
        let mut op = self;
        op.0.flags |= bindings::GENL_ADMIN_PERM as u8;
        op
    }
}

/// A multicast group of a family (`struct genl_multicast_group`), open to
/// every listener.
#[repr(transparent)]
#[derive(Clone, Copy)]
pub struct McGroup(bindings::genl_multicast_group);

impl McGroup {
    /// The group `name` (at most 15 bytes).
    // Inline: a build-time check must not survive in an out-of-line copy.
    #[inline]
    pub const fn new(name: &'static CStr) -> Self {
        let bytes = name.as_bytes_with_nul();
        let mut g = bindings::genl_multicast_group {
            name: [0; bindings::GENL_NAMSIZ as usize],
            flags: 0,
        };
        build_assert!(bytes.len() <= g.name.len());
        let mut i = 0;
        while i < bytes.len() {
            g.name[i] = bytes[i] as _;
            i += 1;
        }
        Self(g)
    }
}

/// The result of one call of a dump handler.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum DumpProgress {
    /// Everything was dumped.
    Done,
    /// The message buffer is full: the handler runs again, with the state it
    /// left, once user space has read this buffer.
    More,
}

/// A generic netlink family implemented in Rust.
///
/// Handlers are associated functions: state they need is found through the
/// request (e.g. per-namespace state through [`Request::net`]) or in
/// statics.
pub trait Family: Sized + 'static {
    /// The family's name (at most 15 bytes).
    const NAME: &'static CStr;
    /// The protocol version put in every message.
    const VERSION: u8;
    /// The policy of the top-level attributes, indexed by type (see
    /// [`policy`]); its last index is the family's maximum attribute.
    const POLICY: &'static [AttrPolicy];
    /// The commands.
    const OPS: &'static [Op];
    /// The multicast groups; [`Registration::multicast`] takes an index in
    /// this list.
    const MCGRPS: &'static [McGroup];

    /// The progress of a dump, kept by the core between the calls of a dump
    /// (at most 48 bytes, 8-byte aligned).
    type DumpState: Copy + Default;

    /// Handles a plain request of command `cmd`.
    ///
    /// On error, the handler sets an extended ACK message (and the offending
    /// attribute) through [`Request`] before returning it.
    fn doit(cmd: u8, info: &Info<'_>) -> Result;

    /// Starts a dump of command `cmd`: validates the request and returns the
    /// initial state. Errors are reported in the request's ACK, with the
    /// extended ACK set here.
    fn dump_start(_cmd: u8, _req: &Request<'_>) -> Result<Self::DumpState> {
        Ok(Self::DumpState::default())
    }

    /// Puts the next messages of a dump of command `cmd` into `dump`,
    /// resuming from and updating `state`.
    fn dumpit(cmd: u8, dump: &mut Dump<'_>, state: &mut Self::DumpState) -> Result<DumpProgress>;

    /// Called when a dump ends (done, failed or abandoned by its socket).
    fn dump_done(_cmd: u8, _state: &Self::DumpState) {}
}

// ---------------------------------------------------------------------------
// Registration

/// The registration of family `T` with the generic netlink core, meant to be
/// a `static`.
///
/// # Invariants
///
/// `family` is written only while `claimed` is being taken and `live` is
/// false; while `live` is true it is registered with the core (which owns
/// its private fields) and describes `T`.
pub struct Registration<T: Family> {
    family: Opaque<bindings::genl_family>,
    claimed: AtomicBool,
    live: AtomicBool,
    _t: PhantomData<T>,
}

// SAFETY: `family` is written only in `register`, which `claimed` makes
// exclusive, while no reader uses it (`live` is false); the core
// synchronises its own accesses. `T` is only a type marker.
unsafe impl<T: Family> Sync for Registration<T> {}
// SAFETY: As above.
unsafe impl<T: Family> Send for Registration<T> {}

impl<T: Family> Default for Registration<T> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T: Family> Registration<T> {
    /// Creates the (unregistered) family.
    pub const fn new() -> Self {
        Self {
            family: Opaque::uninit(),
            claimed: AtomicBool::new(false),
            live: AtomicBool::new(false),
            _t: PhantomData,
        }
    }

    /// Registers the family: from now on user space finds it by name and its
    /// handlers run. Must be called from the module's init (`module` owns
    /// the handlers and is pinned while a dump runs).
    ///
    /// The returned guard unregisters the family when dropped.
    pub fn register(&'static self, module: &'static ThisModule) -> Result<Registered<T>> {
        let name = T::NAME.as_bytes_with_nul();
        if name.len() > bindings::GENL_NAMSIZ as usize
            || T::OPS.len() > u8::MAX as usize
            || T::MCGRPS.len() > u8::MAX as usize
        {
            return Err(EINVAL);
        }
        if self.claimed.swap(true, Ordering::AcqRel) {
            return Err(EBUSY);
        }
        // SAFETY: All-zero bytes are a valid, empty `genl_family`.
        let mut f: bindings::genl_family = unsafe { core::mem::zeroed() };
        for (d, s) in f.name.iter_mut().zip(name) {
            *d = *s as _;
        }
        f.version = T::VERSION.into();
        if let Some(max) = T::POLICY.len().checked_sub(1) {
            f.maxattr = max as u32;
            f.policy = T::POLICY.as_ptr().cast();
        }
        f.set_netnsok(1);
        f.set_parallel_ops(1);
        f.ops = T::OPS.as_ptr().cast();
        f.n_ops = T::OPS.len() as u8;
        f.mcgrps = T::MCGRPS.as_ptr().cast();
        f.n_mcgrps = T::MCGRPS.len() as u8;
        f.module = module.as_ptr();
        // SAFETY: `claimed` was false, so nothing else writes `family` and
        // the core does not know it (`live` is false).
        unsafe { self.family.get().write(f) };
        // SAFETY: `family` is a valid description in a static (it never
        // moves); the ops, groups and policies it points to are `'static`.
        if let Err(e) = to_result(unsafe { bindings::genl_register_family(self.family.get()) }) {
            self.claimed.store(false, Ordering::Release);
            return Err(e);
        }
        self.live.store(true, Ordering::Release);
        // INVARIANT: The family was just registered.
        Ok(Registered { reg: self })
    }

    /// Starts an event (notification) message of command `cmd`, to send with
    /// [`Self::multicast`]; `flags` for the buffer's allocation (e.g.
    /// `GFP_ATOMIC` in atomic context).
    pub fn event(&self, cmd: u8, flags: Flags) -> Result<Message> {
        if !self.live.load(Ordering::Acquire) {
            return Err(ENOENT);
        }
        // SAFETY: The family is registered (`live`), so its description is
        // initialised and stays valid while the module lives.
        unsafe { Message::new(self.family.get(), 0, 0, cmd, flags) }
    }

    /// Sends `msg` to the listeners of multicast group `group` (an index in
    /// [`Family::MCGRPS`]) in namespace `net`. Having no listener is not an
    /// error. May be called from atomic context.
    pub fn multicast(&self, net: &Namespace, msg: Message, group: u32) -> Result {
        if group as usize >= T::MCGRPS.len() {
            return Err(EINVAL);
        }
        // The family is not unregistered while we are in this read-side
        // section (see `Registered::drop`).
        let _rcu = rcu::read_lock();
        if !self.live.load(Ordering::Acquire) {
            return Err(ENOENT);
        }
        let skb = msg.finish();
        // SAFETY: The family is registered; `skb` is a finished message we
        // own, consumed by the call; `net` is alive. `GFP_ATOMIC` as we are
        // in an RCU read-side section.
        let ret = unsafe {
            bindings::genlmsg_multicast_netns(
                self.family.get(),
                net.as_ptr(),
                skb,
                0,
                group,
                GFP_ATOMIC.as_raw(),
            )
        };
        match ret {
            r if r == ESRCH.to_errno() => Ok(()),
            r => to_result(r),
        }
    }
}

/// A registered family; unregisters it when dropped.
///
/// # Invariants
///
/// `reg` is registered with the core, by the `register` call that created
/// this guard.
pub struct Registered<T: Family> {
    reg: &'static Registration<T>,
}

impl<T: Family> Drop for Registered<T> {
    fn drop(&mut self) {
        self.reg.live.store(false, Ordering::Release);
        // Senders of events check `live` in an RCU read-side section: once
        // they are done, the family's groups are no longer used.
        rcu::synchronize_rcu();
        // SAFETY: The family was registered by `register` (this guard exists
        // only then). Unregistering waits for running handlers; dumps in
        // progress keep the module, and so the family's ops, alive.
        unsafe { bindings::genl_unregister_family(self.reg.family.get()) };
        self.reg.claimed.store(false, Ordering::Release);
    }
}

// ---------------------------------------------------------------------------
// Received attributes

/// An attribute of a received message (or of one built here): its header
/// and payload.
///
/// # Invariants
///
/// `raw` is one whole attribute: `raw.len() >= NLA_HDRLEN` and equals the
/// header's length field.
#[derive(Clone, Copy)]
pub struct Attr<'a> {
    raw: &'a [u8],
}

impl<'a> Attr<'a> {
    /// Creates the attribute at `nla`.
    ///
    /// # Safety
    ///
    /// `nla` must point to an attribute whose header and `nla_len` bytes are
    /// readable for `'a` and unchanged meanwhile, with `nla_len >=
    /// NLA_HDRLEN` (as the core's parsing and validation guarantee).
    unsafe fn from_raw(nla: *const bindings::nlattr) -> Self {
        // SAFETY: The header is readable (safety requirements).
        let len = usize::from(unsafe { (*nla).nla_len }).max(NLA_HDRLEN);
        // SAFETY: `len` bytes are readable for `'a` (safety requirements).
        let raw = unsafe { core::slice::from_raw_parts(nla.cast::<u8>(), len) };
        Self { raw }
    }

    /// The attribute's type, without the nested and byte order flags.
    pub fn kind(&self) -> u16 {
        u16::from_ne_bytes([self.raw[2], self.raw[3]]) & NLA_TYPE_MASK
    }

    /// The payload.
    pub fn payload(&self) -> &'a [u8] {
        &self.raw[NLA_HDRLEN..]
    }

    fn fixed<const N: usize>(&self) -> Result<[u8; N]> {
        self.payload().try_into().map_err(|_| EINVAL)
    }

    /// The payload as an `NLA_U8`; `EINVAL` if its length is not 1 (which
    /// the policy rules out).
    pub fn u8(&self) -> Result<u8> {
        Ok(self.fixed::<1>()?[0])
    }

    /// The payload as an `NLA_U16` (host byte order).
    pub fn u16(&self) -> Result<u16> {
        Ok(u16::from_ne_bytes(self.fixed()?))
    }

    /// The payload as an `NLA_U32` (host byte order).
    pub fn u32(&self) -> Result<u32> {
        Ok(u32::from_ne_bytes(self.fixed()?))
    }

    /// The payload as an `NLA_U64` (host byte order).
    pub fn u64(&self) -> Result<u64> {
        Ok(u64::from_ne_bytes(self.fixed()?))
    }

    /// The payload as a string: the bytes before the first NUL (the whole
    /// payload if it has none).
    pub fn string(&self) -> &'a [u8] {
        let p = self.payload();
        let end = p.iter().position(|&b| b == 0).unwrap_or(p.len());
        &p[..end]
    }

    /// The attributes nested in this one, in order (repeated types
    /// included).
    pub fn nested(&self) -> AttrIter<'a> {
        AttrIter::new(self.payload())
    }

    /// The attributes nested in this one, by type (the last of each type;
    /// types of `N` and above are left out).
    pub fn nested_table<const N: usize>(&self) -> AttrTable<'a, N> {
        let mut slots = [None; N];
        for a in self.nested() {
            if let Some(s) = slots.get_mut(usize::from(a.kind())) {
                *s = Some(a);
            }
        }
        AttrTable { slots }
    }
}

/// Iterates over a stream of attributes (`nla_for_each_attr`), stopping at
/// the first one that does not fit.
pub struct AttrIter<'a> {
    rest: &'a [u8],
}

impl<'a> AttrIter<'a> {
    /// The attributes in `bytes`.
    pub fn new(bytes: &'a [u8]) -> Self {
        Self { rest: bytes }
    }
}

impl<'a> Iterator for AttrIter<'a> {
    type Item = Attr<'a>;

    fn next(&mut self) -> Option<Attr<'a>> {
        let hdr = self.rest.get(..NLA_HDRLEN)?;
        let len = usize::from(u16::from_ne_bytes([hdr[0], hdr[1]]));
        if len < NLA_HDRLEN || len > self.rest.len() {
            self.rest = &[];
            return None;
        }
        // INVARIANT: `len >= NLA_HDRLEN` is the header's length.
        let a = Attr {
            raw: &self.rest[..len],
        };
        let next = ((len + 3) & !3).min(self.rest.len());
        self.rest = &self.rest[next..];
        Some(a)
    }
}

/// Nested attributes by type (see [`Attr::nested_table`]).
pub struct AttrTable<'a, const N: usize> {
    slots: [Option<Attr<'a>>; N],
}

impl<'a, const N: usize> AttrTable<'a, N> {
    /// The attribute of type `kind`, if present.
    pub fn get(&self, kind: u16) -> Option<Attr<'a>> {
        self.slots.get(usize::from(kind)).copied().flatten()
    }

    /// Whether no attribute is present.
    pub fn is_empty(&self) -> bool {
        self.slots.iter().all(Option::is_none)
    }
}

// ---------------------------------------------------------------------------
// Requests

/// A request being handled (`struct genl_info`).
///
/// # Invariants
///
/// `info` is valid for `'a`: its namespace is alive, `attrs` is null or holds
/// `family.maxattr + 1` entries, each null or pointing to an attribute of the
/// request message that the core validated against the family's policy, and
/// `extack` is null or used only by the thread handling the request.
pub struct Request<'a> {
    info: *const bindings::genl_info,
    _p: PhantomData<&'a bindings::genl_info>,
}

impl<'a> Request<'a> {
    /// # Safety
    ///
    /// `info` must satisfy the type invariants for `'a`.
    unsafe fn from_raw(info: *const bindings::genl_info) -> Self {
        Self {
            info,
            _p: PhantomData,
        }
    }

    /// The namespace of the requesting socket.
    pub fn net(&self) -> &'a Namespace {
        // SAFETY: `info` is valid (invariant); its namespace is alive for
        // the request (the requesting socket holds it).
        unsafe { Namespace::from_raw(bindings::genl_info_net(self.info)) }
    }

    /// The request's command.
    pub fn cmd(&self) -> u8 {
        // SAFETY: `info` and its `genlhdr` are valid (invariant; the core
        // checked the message holds a generic netlink header).
        unsafe { (*(*self.info).genlhdr).cmd }
    }

    /// The top-level attribute of type `kind`, if present.
    pub fn attr(&self, kind: u16) -> Option<Attr<'a>> {
        // SAFETY: `info` and its family are valid (invariant).
        let (attrs, max) = unsafe { ((*self.info).attrs, (*(*self.info).family).maxattr) };
        if attrs.is_null() || kind == 0 || u32::from(kind) > max {
            return None;
        }
        // SAFETY: `attrs` has `max + 1` entries (invariant).
        let nla = unsafe { *attrs.add(usize::from(kind)) };
        if nla.is_null() {
            return None;
        }
        // SAFETY: A validated attribute of the request, which lives for `'a`.
        Some(unsafe { Attr::from_raw(nla) })
    }

    fn extack(&self) -> *mut bindings::netlink_ext_ack {
        // SAFETY: `info` is valid (invariant).
        unsafe { (*self.info).extack }
    }

    /// Sets the extended ACK message (`NL_SET_ERR_MSG`).
    pub fn set_err_msg(&self, msg: &'static CStr) {
        // SAFETY: The extack is valid or null and ours (invariant).
        unsafe { set_extack(self.extack(), msg, ptr::null(), None) };
    }

    /// Sets the extended ACK message and the offending attribute
    /// (`NL_SET_ERR_MSG_ATTR`).
    pub fn set_err_attr(&self, attr: &Attr<'_>, msg: &'static CStr) {
        // SAFETY: As in `set_err_msg`; an attribute outside the request is
        // ignored by the core.
        unsafe { set_extack(self.extack(), msg, attr.raw.as_ptr().cast(), None) };
    }

    /// Sets the extended ACK message and reports a missing attribute of type
    /// `kind`, nested in `nest` or top-level (`NL_SET_ERR_ATTR_MISS`).
    pub fn set_err_missing(&self, nest: Option<&Attr<'_>>, kind: u16, msg: &'static CStr) {
        let nest = nest.map_or(ptr::null(), |n| n.raw.as_ptr().cast());
        // SAFETY: As in `set_err_attr`.
        unsafe { set_extack(self.extack(), msg, ptr::null(), Some((nest, kind))) };
    }

    /// [`Self::set_err_msg`] and returns `err`.
    pub fn fail(&self, err: Error, msg: &'static CStr) -> Error {
        self.set_err_msg(msg);
        err
    }

    /// [`Self::set_err_attr`] and returns `err`.
    pub fn fail_attr(&self, err: Error, attr: &Attr<'_>, msg: &'static CStr) -> Error {
        self.set_err_attr(attr, msg);
        err
    }

    /// [`Self::set_err_missing`] and returns `EINVAL`.
    pub fn fail_missing(&self, nest: Option<&Attr<'_>>, kind: u16, msg: &'static CStr) -> Error {
        self.set_err_missing(nest, kind, msg);
        EINVAL
    }

    /// Whether the requesting namespace has a network device with index
    /// `ifindex` now (to validate requests naming interfaces).
    pub fn has_ifindex(&self, ifindex: u32) -> bool {
        let Ok(ifindex) = c_int::try_from(ifindex) else {
            return false;
        };
        let _rcu = rcu::read_lock();
        // SAFETY: The namespace is alive; the lookup needs the RCU read lock,
        // which is held, and the device is not used after it.
        !unsafe { bindings::dev_get_by_index_rcu(self.net().as_ptr(), ifindex) }.is_null()
    }
}

/// A plain ("do") request; see [`Request`] for what it carries.
pub struct Info<'a> {
    req: Request<'a>,
}

impl<'a> Deref for Info<'a> {
    type Target = Request<'a>;

    fn deref(&self) -> &Request<'a> {
        &self.req
    }
}

impl Info<'_> {
    /// Starts the reply: a message of the request's command addressed to the
    /// requester.
    pub fn reply_message(&self) -> Result<Message> {
        let info = self.req.info;
        // SAFETY: `info` is valid (invariant of `Request`), and so is its
        // registered family.
        unsafe {
            Message::new(
                (*info).family,
                (*info).snd_portid,
                (*info).snd_seq,
                self.cmd(),
                GFP_KERNEL,
            )
        }
    }

    /// Sends `msg` to the requester (before the ACK).
    pub fn reply(&self, msg: Message) -> Result {
        let skb = msg.finish();
        // SAFETY: `skb` is a finished message we own, consumed by the call;
        // `info` is the valid request info (a "do" request, which has a
        // requester to answer).
        to_result(unsafe { bindings::genlmsg_reply(skb, self.req.info.cast_mut()) })
    }
}

/// A dump request in progress, and the buffer its next messages go into;
/// see [`Request`] for what it carries.
///
/// # Invariants
///
/// `skb` is the dump's current message buffer and `cb` its callback, both
/// valid for `'a` and used only by this thread meanwhile.
pub struct Dump<'a> {
    req: Request<'a>,
    skb: *mut bindings::sk_buff,
    cb: *mut bindings::netlink_callback,
}

impl<'a> Deref for Dump<'a> {
    type Target = Request<'a>;

    fn deref(&self) -> &Request<'a> {
        &self.req
    }
}

impl Dump<'_> {
    /// Declares the generation of the data being dumped: when it differs
    /// between messages of one dump, the core flags the later messages with
    /// `NLM_F_DUMP_INTR` (the dump may be inconsistent). 0 means unknown.
    pub fn set_generation(&mut self, generation: u32) {
        // SAFETY: `cb` is valid and ours (invariant).
        unsafe { (*self.cb).seq = generation };
    }

    /// Starts the next message of the dump (the request's command,
    /// `NLM_F_MULTI`); `EMSGSIZE` when the buffer is full.
    pub fn message(&mut self) -> Result<DumpMessage<'_>> {
        let info = self.req.info;
        let cmd = self.cmd();
        // SAFETY: `skb` is the dump's buffer and `info` the valid request
        // info (invariants); `genlmsg_put` checks the room left.
        let hdr = unsafe {
            bindings::genlmsg_put(
                self.skb,
                (*info).snd_portid,
                (*info).snd_seq,
                (*info).family,
                bindings::NLM_F_MULTI as c_int,
                cmd,
            )
        };
        let hdr = NonNull::new(hdr).ok_or_else(emsgsize)?;
        // SAFETY: `cb` is the dump's callback and `hdr` the header just put.
        unsafe { bindings::genl_dump_check_consistent(self.cb, hdr.as_ptr()) };
        // INVARIANT: `hdr` is the message just put, the last of the buffer,
        // and the dump stays mutably borrowed as long as the message.
        Ok(DumpMessage {
            skb: self.skb,
            hdr,
            _p: PhantomData,
        })
    }
}

// ---------------------------------------------------------------------------
// Building messages

/// Appends attributes to a message being built.
///
/// # Safety
///
/// Implementers return from [`Put::skb`] a socket buffer holding a message
/// under construction that is exclusively theirs for as long as they are
/// mutably borrowed, and whose tail is where their attributes go.
pub unsafe trait Put {
    /// The socket buffer the attributes are appended to.
    fn skb(&mut self) -> *mut bindings::sk_buff;

    /// Appends an `NLA_U8`.
    fn put_u8(&mut self, kind: u16, value: u8) -> Result {
        // SAFETY: The buffer is ours to append to (trait safety); the call
        // checks the room left.
        to_result(unsafe { bindings::nla_put_u8(self.skb(), kind.into(), value) })
    }

    /// Appends an `NLA_U16` (host byte order).
    fn put_u16(&mut self, kind: u16, value: u16) -> Result {
        // SAFETY: As in `put_u8`.
        to_result(unsafe { bindings::nla_put_u16(self.skb(), kind.into(), value) })
    }

    /// Appends an `NLA_U32` (host byte order).
    fn put_u32(&mut self, kind: u16, value: u32) -> Result {
        // SAFETY: As in `put_u8`.
        to_result(unsafe { bindings::nla_put_u32(self.skb(), kind.into(), value) })
    }

    /// Appends an `NLA_U64` (host byte order), preceded by a `pad` attribute
    /// when needed to align it (`nla_put_u64_64bit`).
    fn put_u64(&mut self, kind: u16, value: u64, pad: u16) -> Result {
        // SAFETY: As in `put_u8`.
        to_result(unsafe {
            bindings::nla_put_u64_64bit(self.skb(), kind.into(), value, pad.into())
        })
    }

    /// Appends an `NLA_BINARY`.
    fn put_binary(&mut self, kind: u16, data: &[u8]) -> Result {
        let len = c_int::try_from(data.len()).map_err(|_| emsgsize())?;
        // SAFETY: As in `put_u8`; `data` is readable for `len` bytes.
        to_result(unsafe { bindings::nla_put(self.skb(), kind.into(), len, data.as_ptr().cast()) })
    }

    /// Appends an `NLA_NUL_STRING`: `s` and a terminating NUL.
    fn put_string(&mut self, kind: u16, s: &[u8]) -> Result {
        let len = c_int::try_from(s.len() + 1).map_err(|_| emsgsize())?;
        // SAFETY: As in `put_u8`; on success the attribute's `len` bytes of
        // payload are ours to write.
        unsafe {
            let nla = bindings::nla_reserve(self.skb(), kind.into(), len);
            if nla.is_null() {
                return Err(emsgsize());
            }
            let data = nla.cast::<u8>().add(NLA_HDRLEN);
            ptr::copy_nonoverlapping(s.as_ptr(), data, s.len());
            data.add(s.len()).write(0);
        }
        Ok(())
    }

    /// Opens a nested attribute (`NLA_F_NESTED`): attributes put into the
    /// returned [`Nest`] go inside it until [`Nest::end`]. A nest dropped
    /// without `end` is removed again.
    fn nest(&mut self, kind: u16) -> Result<Nest<'_>> {
        let skb = self.skb();
        // SAFETY: As in `put_u8`.
        let start = unsafe { bindings::nla_nest_start(skb, kind.into()) };
        let start = NonNull::new(start).ok_or_else(emsgsize)?;
        // INVARIANT: `start` is the nest just opened at the tail of `skb`,
        // whose owner stays mutably borrowed as long as the nest.
        Ok(Nest {
            skb,
            start,
            _p: PhantomData,
        })
    }
}

/// A nested attribute being built; see [`Put::nest`].
///
/// # Invariants
///
/// `start` is the header of an open nest at the tail of `skb`'s message, and
/// the parent it was opened in is mutably borrowed for `'a`.
pub struct Nest<'a> {
    skb: *mut bindings::sk_buff,
    start: NonNull<bindings::nlattr>,
    _p: PhantomData<&'a mut bindings::sk_buff>,
}

impl Nest<'_> {
    /// Closes the nest.
    pub fn end(self) {
        let this = ManuallyDrop::new(self);
        // SAFETY: `start` is the open nest at the tail of `skb` (invariant).
        unsafe { bindings::nla_nest_end(this.skb, this.start.as_ptr()) };
    }
}

impl Drop for Nest<'_> {
    fn drop(&mut self) {
        // SAFETY: `start` is the open nest at the tail of `skb`: trimming the
        // message back to it removes the nest.
        unsafe { bindings::nla_nest_cancel(self.skb, self.start.as_ptr()) };
    }
}

// SAFETY: `skb` is the parent's buffer, exclusively borrowed for `'a`, and
// the tail is inside this nest.
unsafe impl Put for Nest<'_> {
    fn skb(&mut self) -> *mut bindings::sk_buff {
        self.skb
    }
}

/// A generic netlink message being built, in a buffer of its own: a reply
/// ([`Info::reply_message`]) or an event ([`Registration::event`]).
///
/// # Invariants
///
/// `skb` is a socket buffer owned by this value, holding one message whose
/// user header (after the generic netlink header) is `hdr`.
pub struct Message {
    skb: NonNull<bindings::sk_buff>,
    hdr: NonNull<c_void>,
}

impl Message {
    /// Allocates a buffer of the default size and puts the headers.
    ///
    /// # Safety
    ///
    /// `family` must be a registered family.
    unsafe fn new(
        family: *const bindings::genl_family,
        portid: u32,
        seq: u32,
        cmd: u8,
        flags: Flags,
    ) -> Result<Self> {
        // SAFETY: FFI call without requirements.
        let skb = unsafe { bindings::genlmsg_new(bindings::GENLMSG_DEFAULT_SIZE, flags.as_raw()) };
        let skb = NonNull::new(skb).ok_or(ENOMEM)?;
        // SAFETY: `skb` is a fresh buffer; `family` is registered (safety
        // requirements).
        let hdr = unsafe { bindings::genlmsg_put(skb.as_ptr(), portid, seq, family, 0, cmd) };
        match NonNull::new(hdr) {
            // INVARIANT: `skb` is ours and holds one message with header `hdr`.
            Some(hdr) => Ok(Self { skb, hdr }),
            None => {
                // SAFETY: `skb` is ours and not used afterwards.
                unsafe { bindings::nlmsg_free(skb.as_ptr()) };
                Err(emsgsize())
            }
        }
    }

    /// Ends the message and hands its buffer over.
    fn finish(self) -> *mut bindings::sk_buff {
        let this = ManuallyDrop::new(self);
        // SAFETY: `hdr` is the header of the message in `skb` (invariant).
        unsafe { bindings::genlmsg_end(this.skb.as_ptr(), this.hdr.as_ptr()) };
        this.skb.as_ptr()
    }

    /// The attributes put so far (e.g. to check a message in tests).
    pub fn attrs(&self) -> AttrIter<'_> {
        // SAFETY: `skb` is ours and linear (netlink buffers are); its data
        // runs from `data` for `len` bytes, and the attributes from `hdr` to
        // the end of the data. Nothing writes it while `self` is borrowed.
        let bytes = unsafe {
            let skb = self.skb.as_ptr();
            let end = (*skb).data.add((*skb).len as usize);
            let start = self.hdr.as_ptr().cast::<u8>();
            let len = usize::try_from(end.offset_from(start)).unwrap_or(0);
            core::slice::from_raw_parts(start.cast_const(), len)
        };
        AttrIter::new(bytes)
    }
}

impl Drop for Message {
    fn drop(&mut self) {
        // SAFETY: `skb` is ours and not used afterwards.
        unsafe { bindings::nlmsg_free(self.skb.as_ptr()) };
    }
}

// SAFETY: `skb` is exclusively ours; its tail is the message's end.
unsafe impl Put for Message {
    fn skb(&mut self) -> *mut bindings::sk_buff {
        self.skb.as_ptr()
    }
}

/// One message of a dump, in the dump's buffer; see [`Dump::message`].
///
/// Dropped without [`DumpMessage::end`], it is removed from the buffer
/// (e.g. when an attribute did not fit: the entry goes into the next
/// buffer).
///
/// # Invariants
///
/// `hdr` is the user header of the last message of `skb`, the buffer of a
/// [`Dump`] mutably borrowed for `'a`.
pub struct DumpMessage<'a> {
    skb: *mut bindings::sk_buff,
    hdr: NonNull<c_void>,
    _p: PhantomData<&'a mut bindings::sk_buff>,
}

impl DumpMessage<'_> {
    /// Completes the message.
    pub fn end(self) {
        let this = ManuallyDrop::new(self);
        // SAFETY: `hdr` is the last message of `skb` (invariant).
        unsafe { bindings::genlmsg_end(this.skb, this.hdr.as_ptr()) };
    }
}

impl Drop for DumpMessage<'_> {
    fn drop(&mut self) {
        // SAFETY: `hdr` is the last message of `skb`: trimming removes it.
        unsafe { bindings::genlmsg_cancel(self.skb, self.hdr.as_ptr()) };
    }
}

// SAFETY: The dump's buffer is exclusively borrowed; its tail is this
// message's end.
unsafe impl Put for DumpMessage<'_> {
    fn skb(&mut self) -> *mut bindings::sk_buff {
        self.skb
    }
}

// ---------------------------------------------------------------------------
// Trampolines

/// The dump state of `T` in `cb`'s context area.
///
/// # Safety
///
/// `cb` must be a valid netlink callback.
unsafe fn dump_state<T: Family>(cb: *mut bindings::netlink_callback) -> *mut T::DumpState {
    const {
        assert!(size_of::<T::DumpState>() <= size_of::<bindings::netlink_callback__bindgen_ty_1>());
        assert!(
            align_of::<T::DumpState>() <= align_of::<bindings::netlink_callback__bindgen_ty_1>()
        );
    }
    // SAFETY: `cb` is valid; the context area is large and aligned enough
    // (checked above).
    unsafe { ptr::addr_of_mut!((*cb).__bindgen_anon_1.ctx).cast() }
}

/// The `doit` of every operation of `T`.
///
/// # Safety
///
/// Called by the generic netlink core only, with the request's info.
unsafe extern "C" fn doit_callback<T: Family>(
    _skb: *mut bindings::sk_buff,
    info: *mut bindings::genl_info,
) -> c_int {
    // SAFETY: The core calls with the request's info, valid for the call,
    // whose attributes it parsed and validated with the family's policy.
    let req = unsafe { Request::from_raw(info) };
    let info = Info { req };
    match T::doit(info.cmd(), &info) {
        Ok(()) => 0,
        Err(e) => e.to_errno(),
    }
}

/// The `start` of every dump operation of `T`: initialises the state.
///
/// # Safety
///
/// Called by the generic netlink core only, with the dump's callback.
unsafe extern "C" fn start_callback<T: Family>(cb: *mut bindings::netlink_callback) -> c_int {
    // SAFETY: The core calls `start` with the dump's callback, whose data is
    // the request info it parsed and validated, valid until `done`.
    let req = unsafe { Request::from_raw(bindings::genl_info_dump(cb)) };
    match T::dump_start(req.cmd(), &req) {
        Ok(state) => {
            // SAFETY: `cb` is valid; the context area is ours from now to
            // `done`, and is initialised here, before any `dumpit`.
            unsafe { dump_state::<T>(cb).write(state) };
            0
        }
        Err(e) => e.to_errno(),
    }
}

/// The `dumpit` of every dump operation of `T`.
///
/// # Safety
///
/// Called by the generic netlink core only, with the dump's buffer and
/// callback, after `start` succeeded.
unsafe extern "C" fn dumpit_callback<T: Family>(
    skb: *mut bindings::sk_buff,
    cb: *mut bindings::netlink_callback,
) -> c_int {
    // SAFETY: As in `start_callback`; `start` succeeded (else no `dumpit`),
    // so the context holds a `T::DumpState`. Calls of one dump are
    // serialised by the core, and `skb` is this call's buffer.
    let (mut dump, state) = unsafe {
        let req = Request::from_raw(bindings::genl_info_dump(cb));
        (Dump { req, skb, cb }, &mut *dump_state::<T>(cb))
    };
    match T::dumpit(dump.cmd(), &mut dump, state) {
        Ok(DumpProgress::Done) => 0,
        Ok(DumpProgress::More) => {
            // SAFETY: `skb` is valid for the call.
            let len = unsafe { (*skb).len };
            match c_int::try_from(len) {
                // Nothing fit in an empty buffer: an entry is too large to
                // ever be dumped; fail rather than loop or stop silently.
                Ok(0) | Err(_) => emsgsize().to_errno(),
                Ok(n) => n,
            }
        }
        Err(e) => e.to_errno(),
    }
}

/// The `done` of every dump operation of `T`.
///
/// # Safety
///
/// Called by the generic netlink core only, with the dump's callback, once,
/// after `start` succeeded.
unsafe extern "C" fn done_callback<T: Family>(cb: *mut bindings::netlink_callback) -> c_int {
    // SAFETY: `done` runs only for dumps whose `start` succeeded, with the
    // request info still valid and the state initialised.
    let (cmd, state) = unsafe {
        let req = Request::from_raw(bindings::genl_info_dump(cb));
        (req.cmd(), &*dump_state::<T>(cb))
    };
    T::dump_done(cmd, state);
    0
}
