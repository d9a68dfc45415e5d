// SPDX-License-Identifier: GPL-2.0
/*
 * handoff: helpers for the networking abstractions (inline functions and
 * macros of the networking headers that Rust cannot call directly).
 */

#include <linux/if_vlan.h>
#include <linux/netdevice.h>
#include <linux/skbuff.h>
#include <net/net_namespace.h>
#include <net/netns/generic.h>

void *rust_helper_net_generic(const struct net *net, unsigned int id)
{
	return net_generic(net, id);
}

void rust_helper_dev_hold(struct net_device *dev)
{
	dev_hold(dev);
}

void rust_helper_dev_put(struct net_device *dev)
{
	dev_put(dev);
}

struct net *rust_helper_dev_net(const struct net_device *dev)
{
	return dev_net(dev);
}

struct net_device *
rust_helper_netdev_notifier_info_to_dev(const struct netdev_notifier_info *info)
{
	return netdev_notifier_info_to_dev(info);
}

bool rust_helper_check_net(const struct net *net)
{
	return check_net(net);
}

/*
 * Socket buffer helpers for the additions to rust/kernel/net/skb.rs that
 * carry packets through tunnels and into the stack (checksum completion,
 * software segmentation, the segment list, local delivery).
 */

bool rust_helper_skb_is_gso(const struct sk_buff *skb)
{
	return skb_is_gso(skb);
}

u8 rust_helper_handoff_skb_ip_summed(const struct sk_buff *skb)
{
	return skb->ip_summed;
}

int rust_helper_skb_checksum_start_offset(const struct sk_buff *skb)
{
	return skb_checksum_start_offset(skb);
}

/* skb->csum_offset shares a union with skb->csum: PARTIAL packets only. */
u16 rust_helper_handoff_skb_csum_offset(const struct sk_buff *skb)
{
	return skb->csum_offset;
}

struct sk_buff *rust_helper_handoff_skb_next(const struct sk_buff *skb)
{
	return skb->next;
}

void rust_helper_skb_mark_not_on_list(struct sk_buff *skb)
{
	skb_mark_not_on_list(skb);
}

void rust_helper_handoff_skb_clear_cb(struct sk_buff *skb)
{
	memset(skb->cb, 0, sizeof(skb->cb));
}

void rust_helper_handoff_skb_clear_vlan(struct sk_buff *skb)
{
	__vlan_hwaccel_clear_tag(skb);
}
