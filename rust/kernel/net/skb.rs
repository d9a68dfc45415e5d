// SPDX-License-Identifier: GPL-2.0

//! Socket buffers (`struct sk_buff`): packets.
//!
//! Three types:
//!
//! - [`SkBuff`], the packet itself, only ever used by reference. `&SkBuff`
//!   reads, `&mut SkBuff` may also change the packet's bytes and length
//!   without moving its start (`skb->data`).
//! - [`Skb`], a packet lent to a netfilter hook for one invocation: it
//!   dereferences to `SkBuff` and is consumed to make the hook's verdict
//!   (see [`crate::net::netfilter`]); [`Skb::steal`] turns it into
//!   an owned packet.
//! - [`SkBuffOwned`], a packet owned by Rust: allocated, cloned or stolen. It
//!   is freed when dropped (counted as a drop) unless handed on:
//!   transmitted, received into the stack, consumed.
//!
//! Offsets and lengths named "network" count from the network header, which
//! at a device's ingress hook is where `skb->data` points (the Ethernet
//! header has been pulled).
//!
//! Operations that may reallocate the packet's buffer refuse (`EBUSY`) a
//! packet whose `sk_buff` is shared (`skb_shared`), where the kernel would
//! `BUG()`; a received packet is not shared when it reaches the ingress hook.
//!
//! C header: [`include/linux/skbuff.h`](srctree/include/linux/skbuff.h)

use crate::{
    alloc::{flags::GFP_ATOMIC, Flags},
    bindings,
    error::{code::*, to_result, Error, Result},
    net::device::{NetDevice, ETH_ALEN},
    types::Opaque,
};
use core::{marker::PhantomData, mem::ManuallyDrop, ptr::NonNull};

/// Length of an Ethernet header.
pub const ETH_HLEN: usize = bindings::ETH_HLEN as usize;

/// Packet classes (`skb->pkt_type`, `PACKET_*`).
pub mod pkt_type {
    /// To this host.
    pub const HOST: u8 = crate::bindings::PACKET_HOST as u8;
    /// To all hosts of the link.
    pub const BROADCAST: u8 = crate::bindings::PACKET_BROADCAST as u8;
    /// To a multicast group.
    pub const MULTICAST: u8 = crate::bindings::PACKET_MULTICAST as u8;
    /// To another host (seen in promiscuous mode).
    pub const OTHERHOST: u8 = crate::bindings::PACKET_OTHERHOST as u8;
    /// Sent by this host.
    pub const OUTGOING: u8 = crate::bindings::PACKET_OUTGOING as u8;
}

/// Why a packet was dropped (`enum skb_drop_reason`), for drop monitors and
/// the `kfree_skb` tracepoint.
///
/// # Invariants
///
/// The value is a core drop reason of the running kernel.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DropReason(bindings::skb_drop_reason);

impl DropReason {
    /// No specific reason.
    pub const NOT_SPECIFIED: Self = Self(bindings::skb_drop_reason_SKB_DROP_REASON_NOT_SPECIFIED);
    /// Too short or malformed packet header.
    pub const PKT_TOO_SMALL: Self = Self(bindings::skb_drop_reason_SKB_DROP_REASON_PKT_TOO_SMALL);
    /// Dropped by a netfilter hook.
    pub const NETFILTER_DROP: Self = Self(bindings::skb_drop_reason_SKB_DROP_REASON_NETFILTER_DROP);
    /// No socket (listener) for the packet.
    pub const NO_SOCKET: Self = Self(bindings::skb_drop_reason_SKB_DROP_REASON_NO_SOCKET);
    /// Wrong TCP checksum.
    pub const TCP_CSUM: Self = Self(bindings::skb_drop_reason_SKB_DROP_REASON_TCP_CSUM);
    /// TCP flags that make no sense in the connection's state.
    pub const TCP_FLAGS: Self = Self(bindings::skb_drop_reason_SKB_DROP_REASON_TCP_FLAGS);
    /// TCP sequence number outside the window.
    pub const TCP_INVALID_SEQUENCE: Self =
        Self(bindings::skb_drop_reason_SKB_DROP_REASON_TCP_INVALID_SEQUENCE);
    /// Failed to allocate memory.
    pub const NOMEM: Self = Self(bindings::skb_drop_reason_SKB_DROP_REASON_NOMEM);
}

/// A socket buffer (`struct sk_buff`).
///
/// # Invariants
///
/// - The wrapped `sk_buff` is valid for the lifetime of the reference, and a
///   `&mut SkBuff` is the only way to it for that lifetime: its holder owns
///   the packet (a hook invocation, or an [`SkBuffOwned`]).
/// - `skb->dev`, when not null, is alive for the lifetime of the reference.
/// - The bytes of the linear buffer from the lowest of the mac header (if
///   set), the network header and `skb->data` up to `skb->tail` are
///   initialised.
#[repr(transparent)]
pub struct SkBuff(Opaque<bindings::sk_buff>);

/// An error code that `kernel::error::code` does not declare in 6.12.
fn errno(code: u32) -> Error {
    Error::from_errno(-(code as i32))
}

/// The number of bytes from `skb->data` needed to cover `n` bytes from the
/// network header, or `EINVAL` when the packet is shorter.
fn covering(offset: i32, n: usize, len: u32) -> Result<u32> {
    let need = i64::from(offset)
        .checked_add(i64::try_from(n).map_err(|_| EINVAL)?)
        .ok_or(EINVAL)?;
    if need > i64::from(len) {
        return Err(EINVAL);
    }
    // `need <= len`, a `u32`; a negative need (all before `data`) needs none.
    Ok(u32::try_from(need.max(0)).unwrap_or(0))
}

impl SkBuff {
    /// Creates a reference from a raw pointer.
    ///
    /// # Safety
    ///
    /// `ptr` must be valid for `'a` and meet the type invariants, including
    /// exclusive use if the reference is used as `&mut` (only to be given by
    /// abstractions that own the packet).
    pub unsafe fn from_raw<'a>(ptr: *mut bindings::sk_buff) -> &'a mut Self {
        // SAFETY: `SkBuff` is `repr(transparent)` over the C struct; the
        // caller guarantees validity and exclusivity.
        unsafe { &mut *ptr.cast() }
    }

    /// Returns the raw pointer, for C calls.
    pub fn as_ptr(&self) -> *mut bindings::sk_buff {
        self.0.get()
    }

    /// Returns `EBUSY` if another holder shares the `sk_buff` (operations
    /// that reallocate the buffer would `BUG()`).
    fn ensure_unshared(&self) -> Result {
        // SAFETY: The skb is valid (type invariant).
        if unsafe { bindings::skb_shared(self.as_ptr()) } != 0 {
            return Err(EBUSY);
        }
        Ok(())
    }

    /// Returns the packet's length from `skb->data`, linear part and
    /// fragments.
    pub fn len(&self) -> u32 {
        // SAFETY: The skb is valid (type invariant).
        unsafe { (*self.as_ptr()).len }
    }

    /// Returns whether the packet is empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Returns the length of the linear part from `skb->data`.
    pub fn headlen(&self) -> u32 {
        // SAFETY: The skb is valid (type invariant).
        unsafe { bindings::skb_headlen(self.as_ptr()) }
    }

    /// Returns whether part of the packet lies in fragments outside the
    /// linear buffer.
    pub fn is_nonlinear(&self) -> bool {
        // SAFETY: The skb is valid (type invariant).
        unsafe { bindings::skb_is_nonlinear(self.as_ptr()) }
    }

    /// Returns whether the packet's data is shared with a clone (writes need
    /// [`SkBuff::make_writable`] first).
    pub fn is_cloned(&self) -> bool {
        // SAFETY: The skb is valid (type invariant).
        unsafe { bindings::skb_cloned(self.as_ptr()) != 0 }
    }

    /// Returns the free space before `skb->data`.
    pub fn headroom(&self) -> u32 {
        // SAFETY: The skb is valid (type invariant).
        unsafe { bindings::skb_headroom(self.as_ptr()) }
    }

    /// Returns the free space after the linear data.
    pub fn tailroom(&self) -> u32 {
        // SAFETY: The skb is valid (type invariant).
        let room = unsafe { bindings::skb_tailroom(self.as_ptr()) };
        u32::try_from(room).unwrap_or(0)
    }

    /// Returns the link-layer protocol (`skb->protocol`, an ethertype such as
    /// `ETH_P_IP`), in host byte order.
    pub fn protocol(&self) -> u16 {
        // SAFETY: The skb is valid (type invariant).
        u16::from_be(unsafe { bindings::handoff_skb_protocol(self.as_ptr()) })
    }

    /// Returns the device the packet was received on or is sent from.
    pub fn dev(&self) -> Option<&NetDevice> {
        // SAFETY: The skb is valid (type invariant).
        let dev = unsafe { bindings::handoff_skb_dev(self.as_ptr()) };
        if dev.is_null() {
            return None;
        }
        // SAFETY: By the type invariant a non-null `skb->dev` is alive for
        // the lifetime of `self`.
        Some(unsafe { NetDevice::from_raw(dev) })
    }

    /// Returns the interface index of [`SkBuff::dev`], 0 without a device.
    pub fn ifindex(&self) -> i32 {
        self.dev().map_or(0, NetDevice::ifindex)
    }

    /// Returns the packet mark (`skb->mark`).
    pub fn mark(&self) -> u32 {
        // SAFETY: The skb is valid (type invariant).
        unsafe { bindings::handoff_skb_mark(self.as_ptr()) }
    }

    /// Sets the packet mark (`skb->mark`).
    pub fn set_mark(&mut self, mark: u32) {
        // SAFETY: The skb is valid and ours (type invariant, `&mut`).
        unsafe { bindings::handoff_skb_set_mark(self.as_ptr(), mark) };
    }

    /// Returns the packet class (`skb->pkt_type`, see [`pkt_type`]).
    pub fn pkt_type(&self) -> u8 {
        // SAFETY: The skb is valid (type invariant).
        unsafe { bindings::handoff_skb_pkt_type(self.as_ptr()) }
    }

    /// Returns whether the frame carries an 802.1Q/802.1ad tag outside its
    /// data (`skb_vlan_tag_present()`): at the ingress hook, a frame for a
    /// VLAN device stacked on the receiving one, which takes it after the
    /// hook.
    pub fn vlan_tag_present(&self) -> bool {
        // SAFETY: The skb is valid (type invariant).
        unsafe { bindings::handoff_skb_vlan_tag_present(self.as_ptr()) }
    }

    /// Returns the offset of the network header from `skb->data` (0 at an
    /// ingress hook).
    pub fn network_offset(&self) -> i32 {
        // SAFETY: The skb is valid (type invariant).
        unsafe { bindings::skb_network_offset(self.as_ptr()) }
    }

    /// Returns the linear bytes from the network header to the end of the
    /// linear part. [`SkBuff::may_pull`] makes a prefix of the packet linear.
    pub fn network_data(&self) -> &[u8] {
        let skb = self.as_ptr();
        // SAFETY: The skb is valid (type invariant).
        let (nh, tail) = unsafe {
            (
                bindings::skb_network_header(skb),
                bindings::skb_tail_pointer(skb),
            )
        };
        if nh.is_null() || tail <= nh {
            return &[];
        }
        // SAFETY: Both point into the skb's linear buffer and `nh < tail`.
        let len = unsafe { tail.offset_from(nh) } as usize;
        // SAFETY: `[nh, tail)` is inside the linear buffer and initialised
        // (type invariant); `&self` keeps the buffer from being reallocated
        // or written through this skb while the slice lives, and data shared
        // with clones is never written in place.
        unsafe { core::slice::from_raw_parts(nh, len) }
    }

    /// Makes the first `n` bytes from the network header linear, so that
    /// [`SkBuff::network_data`] has at least `n` bytes (`pskb_may_pull`).
    ///
    /// `EINVAL` if the packet is shorter, `ENOMEM` if pulling failed.
    pub fn may_pull(&mut self, n: usize) -> Result {
        let need = covering(self.network_offset(), n, self.len())?;
        if need <= self.headlen() {
            return Ok(());
        }
        self.ensure_unshared()?;
        // SAFETY: The skb is ours (`&mut`) and not shared; `need <= len`.
        if unsafe { bindings::pskb_may_pull(self.as_ptr(), need) } {
            Ok(())
        } else {
            Err(ENOMEM)
        }
    }

    /// Makes the whole packet linear (`skb_linearize`).
    pub fn linearize(&mut self) -> Result {
        if !self.is_nonlinear() {
            return Ok(());
        }
        self.ensure_unshared()?;
        // SAFETY: The skb is ours (`&mut`) and not shared.
        to_result(unsafe { bindings::skb_linearize(self.as_ptr()) })
    }

    /// Makes the first `n` bytes from the network header linear and private
    /// (`skb_ensure_writable`: copied if shared with a clone) and returns
    /// them for writing.
    ///
    /// After changing bytes of a packet that goes on through the stack, call
    /// [`SkBuff::set_checksum_none`] unless the checksums are fixed up.
    /// `EINVAL` if the packet is shorter than `n`.
    pub fn make_writable(&mut self, n: usize) -> Result<&mut [u8]> {
        let need = covering(self.network_offset(), n, self.len())?;
        self.ensure_unshared()?;
        let skb = self.as_ptr();
        // SAFETY: The skb is ours (`&mut`), not shared, `need <= len`.
        to_result(unsafe { bindings::skb_ensure_writable(skb, need) })?;
        // SAFETY: The skb is valid.
        let nh = unsafe { bindings::skb_network_header(skb) };
        // SAFETY: `[data, data + need)` is now linear and private, and so is
        // the headroom before it; `[nh, nh + n)` lies within both and is
        // initialised (type invariant). `&mut self` is borrowed for the
        // slice's lifetime.
        Ok(unsafe { core::slice::from_raw_parts_mut(nh, n) })
    }

    /// Shortens the packet to `len` bytes from `skb->data`
    /// (`pskb_trim_rcsum`, which also drops a `CHECKSUM_COMPLETE` value).
    ///
    /// `EINVAL` if the packet is shorter than `len`.
    pub fn trim(&mut self, len: u32) -> Result {
        let cur = self.len();
        if len > cur {
            return Err(EINVAL);
        }
        if len == cur {
            return Ok(());
        }
        self.ensure_unshared()?;
        // SAFETY: The skb is ours (`&mut`), not shared, `len < skb->len`.
        to_result(unsafe { bindings::pskb_trim_rcsum(self.as_ptr(), len) })
    }

    /// Replaces everything from the network header on by `bytes`: the packet
    /// is made linear and private, trimmed or grown to fit, and its checksum
    /// state reset (`CHECKSUM_NONE`: `bytes` carries full checksums).
    ///
    /// This is how a handler rewrites a received packet into its answer
    /// before [`SkBuffOwned::xmit_reply`]. `EINVAL` if the network header is
    /// not within the packet's data.
    pub fn set_network_data(&mut self, bytes: &[u8]) -> Result {
        let off = u32::try_from(self.network_offset()).map_err(|_| EINVAL)?;
        let want = u32::try_from(bytes.len())
            .ok()
            .and_then(|n| n.checked_add(off))
            .ok_or(EINVAL)?;
        let cur = self.len();
        // A network header beyond the data would leave a gap of unwritten
        // bytes in the packet.
        if off > cur {
            return Err(EINVAL);
        }
        self.ensure_unshared()?;
        self.linearize()?;
        let skb = self.as_ptr();
        let grow = want.saturating_sub(cur);
        if self.is_cloned() || self.tailroom() < grow {
            let ntail = grow.saturating_sub(self.tailroom());
            let ntail = i32::try_from(ntail).map_err(|_| EINVAL)?;
            // SAFETY: The skb is ours, not shared, linear; `ntail >= 0`.
            to_result(unsafe { bindings::pskb_expand_head(skb, 0, ntail, GFP_ATOMIC.as_raw()) })?;
        }
        if want < cur {
            // SAFETY: As above; `want < skb->len`.
            to_result(unsafe { bindings::pskb_trim_rcsum(skb, want) })?;
        } else if want > cur {
            // SAFETY: The skb is linear, private and has `grow` bytes of
            // tailroom (ensured above), so `skb_put` cannot overrun.
            unsafe { bindings::skb_put(skb, grow) };
        }
        // SAFETY: The skb is valid.
        let nh = unsafe { bindings::skb_network_header(skb) };
        // SAFETY: `[nh, nh + bytes.len())` is `[data + off, data + want)`,
        // the linear, private data of the packet; `bytes` is a different
        // allocation (it cannot borrow from `self`, which is `&mut`).
        unsafe { core::ptr::copy_nonoverlapping(bytes.as_ptr(), nh, bytes.len()) };
        self.set_checksum_none();
        Ok(())
    }

    /// Marks the packet's checksums as not verified (`CHECKSUM_NONE`): the
    /// stack checks them in software, a driver sends them as they are.
    pub fn set_checksum_none(&mut self) {
        // SAFETY: The skb is ours (`&mut`).
        unsafe { bindings::handoff_skb_set_csum_none(self.as_ptr()) };
    }

    /// Returns whether the packet's transport checksum is known good (or
    /// will be computed on output), so software need not verify it:
    /// `CHECKSUM_UNNECESSARY`, a validated checksum, or `CHECKSUM_PARTIAL`
    /// (a packet from a local sender on a virtual device).
    pub fn csum_unnecessary(&self) -> bool {
        // SAFETY: The skb is valid (type invariant).
        unsafe { bindings::skb_csum_unnecessary(self.as_ptr()) != 0 }
    }

    /// Returns the link-layer header of a received frame (`mac_len` bytes at
    /// the mac header), if it was set.
    pub fn mac_header(&self) -> Option<&[u8]> {
        let skb = self.as_ptr();
        // SAFETY: The skb is valid (type invariant).
        if unsafe { bindings::skb_mac_header_was_set(skb) } == 0 {
            return None;
        }
        // SAFETY: The skb is valid; the mac header is set.
        let (mac, tail, len) = unsafe {
            (
                bindings::skb_mac_header(skb),
                bindings::skb_tail_pointer(skb),
                usize::from((*skb).mac_len),
            )
        };
        // SAFETY: Both point into the skb's linear buffer.
        let room = usize::try_from(unsafe { tail.offset_from(mac) }).ok()?;
        if len > room {
            return None;
        }
        // SAFETY: `[mac, mac + len)` is inside the linear data up to the tail
        // and initialised from the mac header on (type invariant). `&self`
        // keeps the buffer in place.
        Some(unsafe { core::slice::from_raw_parts(mac, len) })
    }

    /// Returns the source address of a received Ethernet frame.
    pub fn eth_source(&self) -> Option<[u8; ETH_ALEN]> {
        let mac = self.mac_header()?;
        mac.get(ETH_ALEN..2 * ETH_ALEN)?.try_into().ok()
    }

    /// Returns a clone (`skb_clone`): a new `sk_buff` sharing this packet's
    /// data. Either may then be made private with
    /// [`SkBuff::make_writable`].
    pub fn clone_skb(&self, flags: Flags) -> Result<SkBuffOwned> {
        // SAFETY: The skb is valid; `skb_clone` only marks it as cloned.
        let clone = unsafe { bindings::skb_clone(self.as_ptr(), flags.as_raw()) };
        let clone = NonNull::new(clone).ok_or(ENOMEM)?;
        // INVARIANT: A new `sk_buff` owned by nobody else; its `dev` is
        // this packet's, alive in the same context (an `SkBuffOwned` is not
        // `Send`), and its data is this packet's, initialised alike.
        Ok(SkBuffOwned { skb: clone })
    }

    /// Returns whether the packet carries a prefetched socket
    /// (`skb_sk_is_prefetched`), see [`SkBuff::set_prefetched_sock`].
    pub fn sk_is_prefetched(&self) -> bool {
        // SAFETY: The skb is valid (type invariant).
        unsafe { bindings::skb_sk_is_prefetched(self.as_ptr()) }
    }

    /// Attaches `sk` as the packet's prefetched socket, as
    /// `bpf_sk_assign()` does: the previous owner is released
    /// (`skb_orphan`), then `skb->sk = sk` with the `sock_pfree` destructor,
    /// so that the protocol's socket lookup (`skb_steal_sock`) delivers the
    /// packet to `sk` instead of looking one up.
    ///
    /// # Safety
    ///
    /// `sk` must be a valid socket (a full, request or timewait socket) of the
    /// packet's protocol and namespace. The caller gives the packet one
    /// reference on `sk` if `sk` is reference counted (`sk_is_refcounted`:
    /// not a `SOCK_RCU_FREE` listener); `sock_pfree` releases it when the
    /// packet is freed or orphaned. Otherwise `sk` must stay valid until then
    /// by RCU, which the packet's receive path holds.
    pub unsafe fn set_prefetched_sock(&mut self, sk: *mut bindings::sock) {
        let skb = self.as_ptr();
        // SAFETY: The skb is ours (`&mut`); orphaning runs the current
        // destructor, if any, which owns `skb->sk`.
        unsafe { bindings::skb_orphan(skb) };
        // SAFETY: The skb is ours; the caller gives the reference that
        // `sock_pfree` will release.
        unsafe { bindings::handoff_skb_set_prefetched_sk(skb, sk) };
    }
}

/// A packet lent to a netfilter hook for one invocation.
///
/// Dereferences to [`SkBuff`]; consumed to make the invocation's verdict
/// (see [`crate::net::netfilter::IngressHandler`]): accepted, dropped, or
/// stolen into an [`SkBuffOwned`].
///
/// # Invariants
///
/// `skb` is owned by the invocation `'a` of a hook, which has made no verdict
/// yet; it meets the invariants of [`SkBuff`] for `'a`.
pub struct Skb<'a> {
    skb: NonNull<SkBuff>,
    _borrow: PhantomData<&'a mut SkBuff>,
    _invocation: Invocation<'a>,
}

/// Marks a value as belonging to one hook invocation `'a`.
///
/// Invariant in `'a`, so that values of two invocations (for example of a
/// nested one, when a handler's transmission loops back) cannot be
/// exchanged.
pub(crate) type Invocation<'a> = PhantomData<fn(&'a ()) -> &'a ()>;

impl<'a> Skb<'a> {
    /// Wraps the packet of a hook invocation.
    ///
    /// # Safety
    ///
    /// `skb` must be the packet of the running invocation `'a`, valid and not
    /// used by anybody else until the invocation's verdict, which must be
    /// the one made by consuming the returned handle.
    pub(crate) unsafe fn from_raw(skb: *mut bindings::sk_buff) -> Self {
        // SAFETY: Netfilter passes a valid, hence non-null, packet.
        let skb = unsafe { NonNull::new_unchecked(skb.cast()) };
        Self {
            skb,
            _borrow: PhantomData,
            _invocation: PhantomData,
        }
    }

    /// Gives the packet up without a verdict, for the verdict's maker.
    pub(crate) fn into_raw(self) -> *mut bindings::sk_buff {
        self.skb.as_ptr().cast()
    }
}

impl core::ops::Deref for Skb<'_> {
    type Target = SkBuff;

    fn deref(&self) -> &SkBuff {
        // SAFETY: By the type invariant the packet is valid and ours.
        unsafe { self.skb.as_ref() }
    }
}

impl core::ops::DerefMut for Skb<'_> {
    fn deref_mut(&mut self) -> &mut SkBuff {
        // SAFETY: By the type invariant the packet is valid and ours alone.
        unsafe { self.skb.as_mut() }
    }
}

/// A packet owned by Rust; freed (as dropped, `kfree_skb`) when dropped,
/// unless handed on first.
///
/// Not `Send`: `skb->dev` is not reference counted by the packet, and is
/// known to be alive only in the context that produced the packet (a hook
/// invocation). A packet is built, answered or handed on where it was
/// obtained.
///
/// # Invariants
///
/// `skb` is a valid `sk_buff` that this object owns (one reference, the only
/// user of the `sk_buff` apart from clones sharing its data) and that meets
/// the invariants of [`SkBuff`] while this object lives.
pub struct SkBuffOwned {
    skb: NonNull<bindings::sk_buff>,
}

impl SkBuffOwned {
    /// Takes ownership of a packet.
    ///
    /// # Safety
    ///
    /// `skb` must be a valid packet whose reference the caller gives away,
    /// meeting the [`SkBuff`] invariants while the returned object lives (in
    /// particular a non-null `skb->dev` must stay alive for that long).
    pub unsafe fn from_raw(skb: *mut bindings::sk_buff) -> Self {
        // SAFETY: The caller gives a valid, hence non-null, packet.
        let skb = unsafe { NonNull::new_unchecked(skb) };
        Self { skb }
    }

    /// Gives the packet up to C, which becomes responsible for freeing it.
    pub fn into_raw(self) -> *mut bindings::sk_buff {
        ManuallyDrop::new(self).skb.as_ptr()
    }

    /// Allocates a packet with room for `len` bytes of data after `headroom`
    /// bytes of headroom (`alloc_skb` + `skb_reserve`). The buffer is zeroed;
    /// the network header is set at `skb->data`.
    ///
    /// Use `GFP_ATOMIC` in a hook. 14 bytes of headroom are enough for
    /// [`SkBuffOwned::xmit_ether`]; more saves a reallocation on drivers that
    /// need headroom.
    pub fn alloc(len: usize, headroom: usize, flags: Flags) -> Result<Self> {
        let size = len
            .checked_add(headroom)
            .and_then(|s| u32::try_from(s).ok())
            .ok_or(EINVAL)?;
        let headroom = i32::try_from(headroom).map_err(|_| EINVAL)?;
        // SAFETY: FFI call; the caller's context allows `flags`.
        let skb = unsafe { bindings::alloc_skb(size, flags.as_raw()) };
        let skb = NonNull::new(skb).ok_or(ENOMEM)?;
        let p = skb.as_ptr();
        // SAFETY: `p` is a new packet: `head` points to its buffer of
        // `skb_end_offset` bytes (at least `size`), which is zeroed so that
        // every byte of it is initialised; then `headroom <= size` bytes are
        // reserved.
        unsafe {
            core::ptr::write_bytes((*p).head, 0, bindings::skb_end_offset(p) as usize);
            bindings::skb_reserve(p, headroom);
            bindings::skb_reset_network_header(p);
        }
        // INVARIANT: New packet, ours alone, no device, initialised buffer.
        Ok(Self { skb })
    }

    /// Frees the packet as consumed (`consume_skb`): it served its purpose.
    pub fn consume(self) {
        // SAFETY: We own the packet and give it up.
        unsafe { bindings::consume_skb(self.into_raw()) };
    }

    /// Frees the packet as dropped for `reason` (`kfree_skb_reason`).
    pub fn drop_with_reason(self, reason: DropReason) {
        // SAFETY: We own the packet and give it up; `reason` is valid.
        unsafe { bindings::kfree_skb_reason(self.into_raw(), reason.0) };
    }

    /// Reserves `n` bytes of headroom in an empty packet (`skb_reserve`) and
    /// sets the network header there.
    ///
    /// `EINVAL` if the packet is not empty or has less tailroom than `n`.
    pub fn reserve(&mut self, n: usize) -> Result {
        let n32 = u32::try_from(n).map_err(|_| EINVAL)?;
        if !self.is_empty() || self.tailroom() < n32 {
            return Err(EINVAL);
        }
        let skb = self.as_ptr();
        // SAFETY: The packet is ours, empty, with at least `n` bytes of
        // tailroom, which are zeroed (they may be uninitialised after a
        // reallocation) before they become headroom. The network header
        // moves along to the new start of the data.
        unsafe {
            core::ptr::write_bytes(bindings::skb_tail_pointer(skb), 0, n);
            bindings::skb_reserve(skb, n32 as i32);
            bindings::skb_reset_network_header(skb);
        }
        Ok(())
    }

    /// Extends the packet by `n` zeroed bytes at its tail (`skb_put`) and
    /// returns them; reallocates if there is not enough tailroom or the data
    /// is shared with a clone.
    pub fn put(&mut self, n: usize) -> Result<&mut [u8]> {
        let n32 = u32::try_from(n).map_err(|_| EINVAL)?;
        self.ensure_unshared()?;
        self.linearize()?;
        let skb = self.as_ptr();
        if self.is_cloned() || self.tailroom() < n32 {
            let ntail = i32::try_from(n32.saturating_sub(self.tailroom())).map_err(|_| EINVAL)?;
            // SAFETY: The packet is ours, not shared; `ntail >= 0`.
            to_result(unsafe { bindings::pskb_expand_head(skb, 0, ntail, GFP_ATOMIC.as_raw()) })?;
        }
        // SAFETY: The packet is linear, private, and has `n` bytes of
        // tailroom, so `skb_put` cannot overrun; the bytes are zeroed (they
        // may be uninitialised after a reallocation) before being exposed.
        unsafe {
            let p = bindings::skb_put(skb, n32).cast::<u8>();
            core::ptr::write_bytes(p, 0, n);
            Ok(core::slice::from_raw_parts_mut(p, n))
        }
    }

    /// Appends `bytes` at the packet's tail (`skb_put_data`).
    pub fn put_data(&mut self, bytes: &[u8]) -> Result {
        let dst = self.put(bytes.len())?;
        // Same lengths; `zip` instead of `copy_from_slice` keeps panics out.
        for (d, s) in dst.iter_mut().zip(bytes) {
            *d = *s;
        }
        Ok(())
    }

    /// Extends the packet by `n` zeroed bytes at its head (`skb_push`) and
    /// returns them; reallocates if there is not enough headroom or the
    /// header is shared with a clone.
    pub fn push(&mut self, n: usize) -> Result<&mut [u8]> {
        let n32 = u32::try_from(n).map_err(|_| EINVAL)?;
        self.ensure_unshared()?;
        let skb = self.as_ptr();
        // SAFETY: The packet is ours and not shared; `skb_cow_head` makes
        // `n` bytes of private headroom.
        to_result(unsafe { bindings::skb_cow_head(skb, n32) })?;
        // SAFETY: There are `n` bytes of private headroom, so `skb_push`
        // cannot underrun; they are zeroed before being exposed.
        unsafe {
            let p = bindings::skb_push(skb, n32).cast::<u8>();
            core::ptr::write_bytes(p, 0, n);
            Ok(core::slice::from_raw_parts_mut(p, n))
        }
    }

    /// Removes `n` bytes from the packet's head (`skb_pull`), making them
    /// linear first if needed.
    ///
    /// `EINVAL` if the packet is shorter than `n`.
    pub fn pull(&mut self, n: usize) -> Result {
        let n32 = u32::try_from(n).map_err(|_| EINVAL)?;
        if n32 > self.len() {
            return Err(EINVAL);
        }
        let skb = self.as_ptr();
        if n32 > self.headlen() {
            self.ensure_unshared()?;
            // SAFETY: The packet is ours, not shared; `n <= skb->len`.
            if !unsafe { bindings::pskb_may_pull(skb, n32) } {
                return Err(ENOMEM);
            }
        }
        // SAFETY: `n` bytes are linear, so `skb_pull` keeps `len >= data_len`.
        unsafe { bindings::skb_pull(skb, n32) };
        Ok(())
    }

    /// Sets the network header at `skb->data`.
    pub fn reset_network_header(&mut self) {
        // SAFETY: The packet is ours; `data` is inside its buffer.
        unsafe { bindings::skb_reset_network_header(self.as_ptr()) };
    }

    /// Sets the link-layer protocol (`skb->protocol`), an ethertype in host
    /// byte order.
    pub fn set_protocol(&mut self, ethertype: u16) {
        // SAFETY: The packet is ours.
        unsafe { bindings::handoff_skb_set_protocol(self.as_ptr(), ethertype.to_be()) };
    }

    /// Clears what a received packet carries that must not follow it out
    /// (route, conntrack, timestamp, GSO state, owner) and marks it as an
    /// outgoing packet with full software checksums.
    fn prepare_output(&mut self) {
        let skb = self.as_ptr();
        // SAFETY: The packet is ours; each call resets state the packet owns.
        unsafe {
            bindings::skb_orphan(skb);
            bindings::skb_dst_drop(skb);
            bindings::nf_reset_ct(skb);
            bindings::skb_clear_tstamp(skb);
            bindings::skb_gso_reset(skb);
            bindings::handoff_skb_set_pkt_type(skb, pkt_type::OUTGOING);
        }
        self.set_checksum_none();
    }

    /// Queues the packet for transmission on `skb->dev` (`dev_queue_xmit`),
    /// which consumes it whatever the outcome.
    fn queue_xmit(self) -> Result {
        // SAFETY: We own the packet and give it to the device layer;
        // `skb->dev` is set and alive (type invariant).
        let rc = unsafe { bindings::dev_queue_xmit(self.into_raw()) };
        match rc {
            0 => Ok(()),
            // Congestion notification: queued, but the queue is filling.
            rc if rc == bindings::NET_XMIT_CN as i32 => Ok(()),
            rc if rc > 0 => Err(errno(bindings::ENOBUFS)),
            rc => Err(Error::from_errno(rc)),
        }
    }

    /// Sends a rewritten received frame back out of the device it came in
    /// on, like `XDP_TX`: to the frame's source, from the device's own
    /// address (`EINVAL` if it has none); the link-layer header is pushed back, and the packet is queued on
    /// the ingress device with `CHECKSUM_NONE` (the network-layer bytes,
    /// typically set by [`SkBuff::set_network_data`], carry full checksums).
    /// A VLAN tag the device stripped on reception is sent again.
    ///
    /// Consumes the packet in every case. `EINVAL` if it has no Ethernet
    /// header right before its network header at `skb->data`, or no device.
    pub fn xmit_reply(mut self) -> Result {
        let skb = self.as_ptr();
        // SAFETY: The packet is valid and ours.
        let (was_set, mac_len) = unsafe {
            (
                bindings::skb_mac_header_was_set(skb) != 0,
                usize::from((*skb).mac_len),
            )
        };
        if !was_set
            || mac_len != ETH_HLEN
            || self.network_offset() != 0
            // SAFETY: The mac header is set.
            || unsafe { bindings::skb_mac_offset(skb) } != -(ETH_HLEN as i32)
        {
            return Err(EINVAL);
        }
        let Some(own) = self.dev().map(NetDevice::dev_addr) else {
            return Err(EINVAL);
        };
        self.ensure_unshared()?;
        // The header may be shared with a clone (a packet tap's): make it
        // ours before writing it.
        // SAFETY: The packet is ours, not shared.
        to_result(unsafe { bindings::skb_cow_head(skb, 0) })?;
        // SAFETY: The mac header is set (checked; kept by reallocation) and
        // its `ETH_HLEN` bytes end at `data`, inside the private headroom.
        let mac = unsafe { bindings::skb_mac_header(skb) };
        let mut eth = [0u8; ETH_HLEN];
        // SAFETY: `mac` is valid for `ETH_HLEN` initialised bytes (above).
        unsafe { core::ptr::copy_nonoverlapping(mac, eth.as_mut_ptr(), ETH_HLEN) };
        // To the sender, from the device's own address: never the frame's
        // destination, which may be another host's (a promiscuous device).
        eth.copy_within(ETH_ALEN..2 * ETH_ALEN, 0);
        eth[ETH_ALEN..2 * ETH_ALEN].copy_from_slice(&own.ok_or(EINVAL)?);
        // SAFETY: As above, `mac` is valid for `ETH_HLEN` private bytes.
        unsafe { core::ptr::copy_nonoverlapping(eth.as_ptr(), mac, ETH_HLEN) };
        // SAFETY: The `ETH_HLEN` bytes before `data` are the header.
        unsafe {
            bindings::skb_push(skb, ETH_HLEN as u32);
            bindings::skb_reset_mac_header(skb);
        }
        self.prepare_output();
        self.queue_xmit()
    }

    /// Sends the packet, whose data is a network-layer packet of protocol
    /// `ethertype`, on `dev` in an Ethernet frame to `dst` from the device's
    /// address; checksums as they are (`CHECKSUM_NONE`).
    ///
    /// Consumes the packet in every case. `EOPNOTSUPP` if `dev` has no
    /// Ethernet address.
    pub fn xmit_ether(mut self, dev: &NetDevice, dst: [u8; ETH_ALEN], ethertype: u16) -> Result {
        let src = dev.dev_addr().ok_or_else(|| errno(bindings::EOPNOTSUPP))?;
        self.reset_network_header();
        let mut hdr = [0u8; ETH_HLEN];
        hdr[..ETH_ALEN].copy_from_slice(&dst);
        hdr[ETH_ALEN..2 * ETH_ALEN].copy_from_slice(&src);
        hdr[2 * ETH_ALEN..].copy_from_slice(&ethertype.to_be_bytes());
        for (d, s) in self.push(ETH_HLEN)?.iter_mut().zip(hdr) {
            *d = s;
        }
        let skb = self.as_ptr();
        // SAFETY: The packet is ours; `dev` is alive during this call, and
        // the packet is handed to the device layer (which handles the
        // device's unregistration) before it returns.
        unsafe {
            bindings::skb_reset_mac_header(skb);
            (*skb).mac_len = ETH_HLEN as u16;
            bindings::handoff_skb_set_dev(skb, dev.as_ptr());
        }
        self.set_protocol(ethertype);
        self.prepare_output();
        self.queue_xmit()
    }

    /// Passes an Ethernet frame to the stack as if `dev` had received it
    /// (`eth_type_trans` + `netif_receive_skb`, with BHs disabled): the
    /// device's ingress hooks, then the protocol handlers.
    ///
    /// Consumes the packet in every case; whether a protocol took it is not
    /// reported (a packet stolen by a hook counts as dropped for
    /// `netif_receive_skb`). `EINVAL` if shorter than an Ethernet header.
    pub fn receive(self, dev: &NetDevice) -> Result {
        if (self.headlen() as usize) < ETH_HLEN {
            return Err(EINVAL);
        }
        let skb = self.into_raw();
        // SAFETY: `skb` is ours, its data starts with `ETH_HLEN` linear bytes
        // (checked), and `dev` is alive during the call. The stack owns the
        // packet after `netif_receive_skb`, which must run with BHs disabled
        // (`rcu_read_lock_bh` disables them, and holds RCU as the receive
        // path expects).
        unsafe {
            bindings::handoff_skb_set_dev(skb, dev.as_ptr());
            let proto = bindings::eth_type_trans(skb, dev.as_ptr());
            bindings::handoff_skb_set_protocol(skb, proto);
            bindings::rcu_read_lock_bh();
            bindings::netif_receive_skb(skb);
            bindings::rcu_read_unlock_bh();
        }
        Ok(())
    }
}

impl core::ops::Deref for SkBuffOwned {
    type Target = SkBuff;

    fn deref(&self) -> &SkBuff {
        // SAFETY: By the type invariant the packet is valid and ours.
        unsafe { &*self.skb.as_ptr().cast::<SkBuff>() }
    }
}

impl core::ops::DerefMut for SkBuffOwned {
    fn deref_mut(&mut self) -> &mut SkBuff {
        // SAFETY: By the type invariant the packet is valid and ours alone.
        unsafe { SkBuff::from_raw(self.skb.as_ptr()) }
    }
}

impl Drop for SkBuffOwned {
    fn drop(&mut self) {
        // SAFETY: We own the packet; unless handed on (which skips `drop`),
        // it was not wanted: count it as dropped.
        unsafe {
            bindings::kfree_skb_reason(
                self.skb.as_ptr(),
                bindings::skb_drop_reason_SKB_DROP_REASON_NOT_SPECIFIED,
            )
        };
    }
}

// Carrying packets through tunnels and into the stack: access from
// `skb->data`, checksum completion, software segmentation, delivery.

/// Length of an IPv4 header without options.
const IPV4_HLEN: usize = 20;

/// The `ip_summed` value of a packet whose transport checksum is still to be
/// computed (`CHECKSUM_PARTIAL`).
const CHECKSUM_PARTIAL: u8 = bindings::CHECKSUM_PARTIAL as u8;

/// The link-layer protocol of IPv4 (`ETH_P_IP`).
const ETH_P_IP: u16 = bindings::ETH_P_IP as u16;

/// Maps the return value of a transmission (`NET_XMIT_*` or a negative
/// error) as `net_xmit_eval()` does: congestion notification is success.
fn xmit_result(rc: i32) -> Result {
    match rc {
        0 => Ok(()),
        rc if rc == bindings::NET_XMIT_CN as i32 => Ok(()),
        rc if rc > 0 => Err(errno(bindings::ENOBUFS)),
        rc => Err(Error::from_errno(rc)),
    }
}

impl SkBuff {
    /// Returns the linear bytes from `skb->data` (`skb_headlen` of them):
    /// where a tunnel's payload starts, for example. Unlike
    /// [`SkBuff::network_data`] this does not depend on the network header.
    /// [`SkBuff::may_pull_data`] makes a prefix of the packet linear.
    pub fn data(&self) -> &[u8] {
        let skb = self.as_ptr();
        // SAFETY: The skb is valid (type invariant).
        let data = unsafe { (*skb).data };
        let len = self.headlen() as usize;
        if data.is_null() || len == 0 {
            return &[];
        }
        // SAFETY: `[data, data + headlen)` is the linear data, up to the
        // tail, initialised (type invariant); `&self` keeps the buffer from
        // being reallocated or written through this skb while the slice
        // lives, and data shared with clones is never written in place.
        unsafe { core::slice::from_raw_parts(data, len) }
    }

    /// Makes the first `n` bytes from `skb->data` linear, so that
    /// [`SkBuff::data`] has at least `n` bytes (`pskb_may_pull`).
    ///
    /// [`SkBuff::may_pull`] counts from the network header instead. `EINVAL`
    /// if the packet is shorter, `ENOMEM` if pulling failed.
    pub fn may_pull_data(&mut self, n: usize) -> Result {
        let n = u32::try_from(n).map_err(|_| EINVAL)?;
        if n > self.len() {
            return Err(EINVAL);
        }
        if n <= self.headlen() {
            return Ok(());
        }
        self.ensure_unshared()?;
        // SAFETY: The skb is ours (`&mut`) and not shared; `n <= len`.
        if unsafe { bindings::pskb_may_pull(self.as_ptr(), n) } {
            Ok(())
        } else {
            Err(ENOMEM)
        }
    }

    /// Returns whether the packet is a GSO packet (`skb_is_gso`): several
    /// segments' worth of payload behind one set of headers, to be
    /// segmented on output.
    pub fn is_gso(&self) -> bool {
        // SAFETY: The skb is valid (type invariant).
        unsafe { bindings::skb_is_gso(self.as_ptr()) }
    }

    /// Returns whether the transport checksum is still to be computed
    /// (`CHECKSUM_PARTIAL`: a local sender left it to the device).
    pub fn is_checksum_partial(&self) -> bool {
        // SAFETY: The skb is valid (type invariant).
        unsafe { bindings::handoff_skb_ip_summed(self.as_ptr()) == CHECKSUM_PARTIAL }
    }

    /// Completes a checksum left to the device (`CHECKSUM_PARTIAL`) in
    /// software (`skb_checksum_help`), so that the packet can be carried
    /// inside another one: a tunnel's device computes only the outer
    /// checksum. Does nothing for other packets.
    ///
    /// `EINVAL` for a GSO packet (segment it first, [`SkBuffOwned::gso_segment`])
    /// or checksum offsets outside the packet, `ENOMEM` if the packet could
    /// not be made linear up to the checksum field or private.
    pub fn checksum_help(&mut self) -> Result {
        if !self.is_checksum_partial() {
            return Ok(());
        }
        // `skb_checksum_help` warns (a splat) for these instead of failing
        // quietly: check first.
        if self.is_gso() {
            return Err(EINVAL);
        }
        let skb = self.as_ptr();
        // SAFETY: The skb is valid; it is `CHECKSUM_PARTIAL`, so the checksum
        // start and offset (rather than `csum`) are set.
        let (start, off) = unsafe {
            (
                bindings::skb_checksum_start_offset(skb),
                bindings::handoff_skb_csum_offset(skb),
            )
        };
        let start = u32::try_from(start).map_err(|_| EINVAL)?;
        let end = start
            .checked_add(u32::from(off))
            .and_then(|e| e.checked_add(2))
            .ok_or(EINVAL)?;
        if end > self.len() {
            return Err(EINVAL);
        }
        // The checksum field must be in the linear part.
        self.may_pull_data(end as usize)?;
        self.ensure_unshared()?;
        // SAFETY: The skb is ours (`&mut`), not shared, not GSO, and its
        // checksum start and field are within the linear data (above).
        to_result(unsafe { bindings::skb_checksum_help(skb) })
    }
}

impl SkBuffOwned {
    /// Removes `n` bytes from the packet's head like [`SkBuffOwned::pull`],
    /// and takes them out of a `CHECKSUM_COMPLETE` value (`skb_pull_rcsum`).
    ///
    /// Use this rather than `pull` on a received packet whose remaining
    /// bytes go on through the stack (a tunnel's payload, for example): a
    /// `CHECKSUM_COMPLETE` value that still covers pulled bytes fails the
    /// next checksum validation (and is reported as a device checksum
    /// fault). `EINVAL` if the packet is shorter than `n`.
    pub fn pull_rcsum(&mut self, n: usize) -> Result {
        self.may_pull_data(n)?;
        let n = u32::try_from(n).map_err(|_| EINVAL)?;
        // SAFETY: The packet is ours and its first `n <= len` bytes are
        // linear (above), as `skb_pull_rcsum` needs for summing them.
        unsafe { bindings::skb_pull_rcsum(self.as_ptr(), n) };
        Ok(())
    }

    /// Makes sure there are `n` bytes of private headroom in front of
    /// `skb->data` (`skb_cow_head`), reallocating the header if there are
    /// fewer or it is shared with a clone, so that headers can be pushed.
    pub fn ensure_headroom(&mut self, n: u32) -> Result {
        self.ensure_unshared()?;
        // SAFETY: The packet is ours and not shared.
        to_result(unsafe { bindings::skb_cow_head(self.as_ptr(), n) })
    }

    /// Sets the packet class (`skb->pkt_type`, see [`pkt_type`]).
    pub fn set_pkt_type(&mut self, t: u8) {
        // SAFETY: The packet is ours.
        unsafe { bindings::handoff_skb_set_pkt_type(self.as_ptr(), t) };
    }

    /// Segments a GSO packet in software, as a tunnel does before
    /// encapsulating it (`skb_gso_segment` without device features: every
    /// segment gets its full checksums), and returns the segments; any
    /// other packet comes back as the only element of the list.
    ///
    /// The packet's data must start at its network header and
    /// `skb->protocol` name the network protocol (true at a device's
    /// ingress hook and on the IP output path); `EINVAL` otherwise.
    /// Consumes the packet in every case: on error it is dropped.
    pub fn gso_segment(self) -> Result<SkbList> {
        if !self.is_gso() {
            return Ok(SkbList::single(self));
        }
        if self.network_offset() != 0 {
            return Err(EINVAL);
        }
        // `skb_cow_head` in the segmentation would `BUG()` on a shared
        // packet.
        self.ensure_unshared()?;
        let skb = self.as_ptr();
        // SAFETY: The packet is ours, not shared, GSO, with its data at the
        // network header of protocol `skb->protocol`. Features 0: no offload
        // at all, the segments are complete packets. The function resets
        // the mac header to `data` itself.
        let segs = unsafe { bindings::__skb_gso_segment(skb, 0, true) };
        let segs = crate::error::from_err_ptr(segs)?;
        if segs.is_null() {
            // No segmentation needed after all.
            return Ok(SkbList::single(self));
        }
        if segs == skb {
            // The packet is itself the head of the list.
            // INVARIANT: The list of `self`'s packet, which we own.
            return Ok(SkbList {
                head: self.into_raw(),
            });
        }
        // The segments are new packets; the original served its purpose.
        self.consume();
        // INVARIANT: `__skb_gso_segment` returned a list of new packets,
        // ours alone; they copied the original's `dev`, alive in the same
        // context, and their bytes are initialised copies or shares of its.
        Ok(SkbList { head: segs })
    }

    /// Passes an IPv4 packet, whose bytes start at `skb->data`, to the local
    /// stack as if `dev` had received it: the device's ingress hooks, then
    /// IP, which routes it (delivering it locally or forwarding it).
    ///
    /// The packet is made to look received: `dev`, protocol `ETH_P_IP`,
    /// class [`pkt_type::HOST`], network and mac header at `skb->data`
    /// (`mac_len` 0), no route, conntrack state, extensions or VLAN tag.
    /// Its checksum state is kept, so it must describe the bytes from
    /// `skb->data` on: strip received headers with
    /// [`SkBuffOwned::pull_rcsum`], or mark it with
    /// [`SkBuff::set_checksum_none`] after changing it.
    ///
    /// Delivery is synchronous, with `netif_receive_skb_core` under
    /// `rcu_read_lock_bh` (BHs disabled, as the receive path runs), not
    /// `netif_rx` or `netif_receive_skb`: those may defer the packet to a
    /// backlog queue (RPS, or always for `netif_rx`), where the RCU read-side
    /// section the caller holds would have ended before the packet is
    /// processed, and a socket attached with
    /// [`crate::net::tcp::RequestSock::attach`] (valid only within that
    /// section) would be used after it. The packet is not treated as
    /// `pfmemalloc` (it is dropped by sockets that are not memory-reserve
    /// sockets if it is, as the stack does).
    ///
    /// Consumes the packet in every case; whether the stack took it is not
    /// reported. `EINVAL` if it is shorter than an IPv4 header.
    pub fn receive_ip(mut self, dev: &NetDevice) -> Result {
        self.may_pull_data(IPV4_HLEN)?;
        let skb = self.into_raw();
        // SAFETY: `skb` is ours, with at least an IPv4 header linear at
        // `data`; `dev` is alive during the call, and the stack owns the
        // packet after `netif_receive_skb_core`, which must run with BHs
        // disabled (`rcu_read_lock_bh` disables them; the function takes the
        // RCU read lock itself). The scrubbing keeps `skb->sk`, so a
        // prefetched socket stays attached.
        unsafe {
            bindings::skb_scrub_packet(skb, false);
            bindings::handoff_skb_clear_vlan(skb);
            bindings::handoff_skb_set_dev(skb, dev.as_ptr());
            bindings::handoff_skb_set_protocol(skb, ETH_P_IP.to_be());
            bindings::handoff_skb_set_pkt_type(skb, pkt_type::HOST);
            bindings::skb_reset_network_header(skb);
            bindings::skb_reset_mac_header(skb);
            (*skb).mac_len = 0;
            bindings::rcu_read_lock_bh();
            bindings::netif_receive_skb_core(skb);
            bindings::rcu_read_unlock_bh();
        }
        Ok(())
    }

    /// Sends an IPv4 packet built by the caller through the IP output path
    /// of `net` (`ip_local_out`), as a local socket's packet: routed by its
    /// addresses (protocol, ports, TOS and mark included), then netfilter
    /// `OUTPUT` and `POSTROUTING`, fragmentation, neighbour resolution. This
    /// is how SYNPROXY sends the packets it makes.
    ///
    /// `skb->data` must be at the IPv4 header, which must be complete; its
    /// total length and header checksum are set on the way
    /// (`__ip_local_out`), the transport checksum must be complete (or
    /// `CHECKSUM_PARTIAL`). The source address must be an address of the
    /// host (a service address on `lo` is), otherwise routing fails with
    /// `ENETUNREACH`.
    ///
    /// The packet loses what it carried from elsewhere: owner socket, route,
    /// conntrack state, extensions, timestamp, control block, device; a
    /// checksum state other than `CHECKSUM_PARTIAL` becomes
    /// `CHECKSUM_NONE`. Consumes the packet in every case. `EINVAL` for a
    /// malformed header, routing errors (`ENETUNREACH`, `EHOSTUNREACH`, ...),
    /// `ENOBUFS` if the packet was dropped on the way.
    pub fn ip_local_out(mut self, net: &crate::net::namespace::Namespace) -> Result {
        use crate::net::route::{Flow4, RouteV4, IPPROTO_TCP, IPPROTO_UDP};

        self.reset_network_header();
        self.may_pull_data(IPV4_HLEN)?;
        let h: [u8; IPV4_HLEN] = self
            .data()
            .get(..IPV4_HLEN)
            .and_then(|h| h.try_into().ok())
            .ok_or(EINVAL)?;
        if h[0] >> 4 != 4 {
            return Err(EINVAL);
        }
        let ihl = usize::from(h[0] & 0xf) * 4;
        let first_fragment = u16::from_be_bytes([h[6], h[7]]) & 0x1fff == 0;
        let mut flow = Flow4 {
            daddr: [h[16], h[17], h[18], h[19]],
            saddr: [h[12], h[13], h[14], h[15]],
            proto: h[9],
            tos: h[1],
            mark: self.mark(),
            ..Flow4::default()
        };
        if !(IPV4_HLEN..=self.len() as usize).contains(&ihl) {
            return Err(EINVAL);
        }
        // Ports for policy routing and multipath hashing, when there are.
        if first_fragment
            && (flow.proto == IPPROTO_TCP || flow.proto == IPPROTO_UDP)
            && self.may_pull_data(ihl + 4).is_ok()
        {
            let ports: Option<[u8; 4]> = self
                .data()
                .get(ihl..ihl + 4)
                .and_then(|p| p.try_into().ok());
            if let Some(p) = ports {
                flow.sport = u16::from_be_bytes([p[0], p[1]]);
                flow.dport = u16::from_be_bytes([p[2], p[3]]);
            }
        }
        let rt = RouteV4::output(net, &flow)?;
        // `__ip_local_out` writes the header (length, checksum): make it
        // private if it is shared with a clone.
        self.make_writable(ihl)?;
        let partial = self.is_checksum_partial();
        let skb = self.as_ptr();
        // SAFETY: The packet is ours; each call resets state the packet owns
        // (the owner's destructor runs, references are dropped). The
        // control block is IP's from here on, and must start out zeroed.
        unsafe {
            bindings::skb_orphan(skb);
            bindings::skb_scrub_packet(skb, false);
            bindings::skb_clear_tstamp(skb);
            bindings::handoff_skb_clear_cb(skb);
            bindings::handoff_skb_set_dev(skb, core::ptr::null_mut());
        }
        if !partial {
            self.set_checksum_none();
        }
        let skb = self.into_raw();
        // SAFETY: `skb` is ours, its data an IPv4 header, private; the route
        // reference goes to the packet (`dst` is the first member of
        // `rtable`), and the packet to `ip_local_out`, which consumes it.
        // No socket sends it.
        let rc = unsafe {
            bindings::skb_dst_set(skb, rt.into_raw().cast::<bindings::dst_entry>());
            bindings::ip_local_out(net.as_ptr(), core::ptr::null_mut(), skb)
        };
        xmit_result(rc)
    }
}

/// Packets handed out one by one: the segments of
/// [`SkBuffOwned::gso_segment`]. The packets not taken are freed (as
/// dropped) with the list.
///
/// Not `Send`, as [`SkBuffOwned`].
///
/// # Invariants
///
/// `head` is null or the first of a list of packets linked by `skb->next`
/// (the last one's null), each owned by this object and meeting the
/// invariants of [`SkBuffOwned`] while this object lives.
pub struct SkbList {
    head: *mut bindings::sk_buff,
}

impl SkbList {
    /// A list of one packet.
    fn single(skb: SkBuffOwned) -> Self {
        let head = skb.into_raw();
        // SAFETY: `head` is ours; a packet that is not on a list may still
        // have a stale `next` (the field is shared with other uses), which
        // the list must not follow.
        unsafe { bindings::skb_mark_not_on_list(head) };
        // INVARIANT: One owned packet, `next` null.
        Self { head }
    }

    /// Returns whether no packet is left.
    pub fn is_empty(&self) -> bool {
        self.head.is_null()
    }
}

impl Iterator for SkbList {
    type Item = SkBuffOwned;

    fn next(&mut self) -> Option<SkBuffOwned> {
        let skb = self.head;
        if skb.is_null() {
            return None;
        }
        // SAFETY: `skb` is the first packet of our list (type invariant).
        // Unlinking it leaves the rest a list.
        unsafe {
            self.head = bindings::handoff_skb_next(skb);
            bindings::skb_mark_not_on_list(skb);
        }
        // SAFETY: The packet was owned by the list and is given away now,
        // meeting the invariants of `SkBuffOwned` (type invariant).
        Some(unsafe { SkBuffOwned::from_raw(skb) })
    }
}

impl Drop for SkbList {
    fn drop(&mut self) {
        // Each packet is freed as dropped when its `SkBuffOwned` drops.
        self.by_ref().for_each(drop);
    }
}
