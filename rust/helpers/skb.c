// SPDX-License-Identifier: GPL-2.0
/*
 * handoff: helpers for the socket buffer abstraction (rust/kernel/net/skb.rs):
 * inline functions of <linux/skbuff.h> and friends that Rust cannot call
 * directly, and accessors of sk_buff fields that live in anonymous unions or
 * bitfields, where bindgen's generated paths would depend on the
 * configuration. The accessors have a handoff_ prefix: no kernel function of
 * that name exists.
 */

#include <linux/if_vlan.h>
#include <linux/netdevice.h>
#include <linux/skbuff.h>
#include <net/dst.h>
#include <net/sock.h>

struct sk_buff *rust_helper_alloc_skb(unsigned int size, gfp_t priority)
{
	return alloc_skb(size, priority);
}

void rust_helper_kfree_skb_reason(struct sk_buff *skb,
				  enum skb_drop_reason reason)
{
	kfree_skb_reason(skb, reason);
}

void rust_helper_skb_reserve(struct sk_buff *skb, int len)
{
	skb_reserve(skb, len);
}

unsigned int rust_helper_skb_headroom(const struct sk_buff *skb)
{
	return skb_headroom(skb);
}

int rust_helper_skb_tailroom(const struct sk_buff *skb)
{
	return skb_tailroom(skb);
}

unsigned int rust_helper_skb_headlen(const struct sk_buff *skb)
{
	return skb_headlen(skb);
}

bool rust_helper_skb_is_nonlinear(const struct sk_buff *skb)
{
	return skb_is_nonlinear(skb);
}

int rust_helper_skb_cloned(const struct sk_buff *skb)
{
	return skb_cloned(skb);
}

int rust_helper_skb_shared(const struct sk_buff *skb)
{
	return skb_shared(skb);
}

unsigned char *rust_helper_skb_network_header(const struct sk_buff *skb)
{
	return skb_network_header(skb);
}

int rust_helper_skb_network_offset(const struct sk_buff *skb)
{
	return skb_network_offset(skb);
}

void rust_helper_skb_reset_network_header(struct sk_buff *skb)
{
	skb_reset_network_header(skb);
}

int rust_helper_skb_mac_header_was_set(const struct sk_buff *skb)
{
	return skb_mac_header_was_set(skb);
}

unsigned char *rust_helper_skb_mac_header(const struct sk_buff *skb)
{
	return skb_mac_header(skb);
}

int rust_helper_skb_mac_offset(const struct sk_buff *skb)
{
	return skb_mac_offset(skb);
}

void rust_helper_skb_reset_mac_header(struct sk_buff *skb)
{
	skb_reset_mac_header(skb);
}

void rust_helper_skb_reset_transport_header(struct sk_buff *skb)
{
	skb_reset_transport_header(skb);
}

unsigned char *rust_helper_skb_tail_pointer(const struct sk_buff *skb)
{
	return skb_tail_pointer(skb);
}

unsigned int rust_helper_skb_end_offset(const struct sk_buff *skb)
{
	return skb_end_offset(skb);
}

bool rust_helper_pskb_may_pull(struct sk_buff *skb, unsigned int len)
{
	return pskb_may_pull(skb, len);
}

int rust_helper_pskb_trim_rcsum(struct sk_buff *skb, unsigned int len)
{
	return pskb_trim_rcsum(skb, len);
}

int rust_helper_skb_linearize(struct sk_buff *skb)
{
	return skb_linearize(skb);
}

int rust_helper_skb_cow_head(struct sk_buff *skb, unsigned int headroom)
{
	return skb_cow_head(skb, headroom);
}

void rust_helper_skb_orphan(struct sk_buff *skb)
{
	skb_orphan(skb);
}

void rust_helper_skb_dst_drop(struct sk_buff *skb)
{
	skb_dst_drop(skb);
}

void rust_helper_nf_reset_ct(struct sk_buff *skb)
{
	nf_reset_ct(skb);
}

void rust_helper_skb_gso_reset(struct sk_buff *skb)
{
	skb_gso_reset(skb);
}

void rust_helper_skb_clear_tstamp(struct sk_buff *skb)
{
	skb_clear_tstamp(skb);
}

bool rust_helper_skb_sk_is_prefetched(struct sk_buff *skb)
{
	return skb_sk_is_prefetched(skb);
}

int rust_helper_dev_queue_xmit(struct sk_buff *skb)
{
	return dev_queue_xmit(skb);
}

/* Field accessors (anonymous unions and bitfields of struct sk_buff). */

struct net_device *rust_helper_handoff_skb_dev(const struct sk_buff *skb)
{
	return skb->dev;
}

void rust_helper_handoff_skb_set_dev(struct sk_buff *skb,
				     struct net_device *dev)
{
	skb->dev = dev;
}

__be16 rust_helper_handoff_skb_protocol(const struct sk_buff *skb)
{
	return skb->protocol;
}

void rust_helper_handoff_skb_set_protocol(struct sk_buff *skb, __be16 proto)
{
	skb->protocol = proto;
}

u32 rust_helper_handoff_skb_mark(const struct sk_buff *skb)
{
	return skb->mark;
}

void rust_helper_handoff_skb_set_mark(struct sk_buff *skb, u32 mark)
{
	skb->mark = mark;
}

u8 rust_helper_handoff_skb_pkt_type(const struct sk_buff *skb)
{
	return skb->pkt_type;
}

bool rust_helper_handoff_skb_vlan_tag_present(const struct sk_buff *skb)
{
	return skb_vlan_tag_present(skb);
}

void rust_helper_handoff_skb_set_pkt_type(struct sk_buff *skb, u8 type)
{
	skb->pkt_type = type;
}

void rust_helper_handoff_skb_set_csum_none(struct sk_buff *skb)
{
	skb->ip_summed = CHECKSUM_NONE;
	skb->csum_valid = 0;
	skb->csum_level = 0;
}

/* What bpf_sk_assign() does: the skb carries @sk to the socket lookup. */
void rust_helper_handoff_skb_set_prefetched_sk(struct sk_buff *skb,
					       struct sock *sk)
{
	skb->sk = sk;
	skb->destructor = sock_pfree;
}

int rust_helper_skb_csum_unnecessary(const struct sk_buff *skb)
{
	return skb_csum_unnecessary(skb);
}
