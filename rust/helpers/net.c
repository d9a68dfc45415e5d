// SPDX-License-Identifier: GPL-2.0
/*
 * handoff: helpers for the networking abstractions (inline functions and
 * macros of the networking headers that Rust cannot call directly).
 */

#include <net/netns/generic.h>

void *rust_helper_net_generic(const struct net *net, unsigned int id)
{
	return net_generic(net, id);
}
