// SPDX-License-Identifier: GPL-2.0
/*
 * handoff: helpers for the networking abstractions (inline functions and
 * macros of the networking headers that Rust cannot call directly).
 */

#include <linux/netdevice.h>
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
