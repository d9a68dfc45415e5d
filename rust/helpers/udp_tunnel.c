// SPDX-License-Identifier: GPL-2.0
/*
 * handoff: helpers for the IPv4 routing and UDP tunnel abstractions
 * (rust/kernel/net/route.rs, rust/kernel/net/udp_tunnel.rs): inline functions
 * and macros of <net/route.h> and <net/udp_tunnel.h>, and the setup of the
 * configuration structures of a tunnel socket, whose unions and bitfields
 * depend on the configuration (IPv6). The handoff_ prefix marks functions
 * that have no kernel counterpart of that name.
 */

#include <linux/netdevice.h>
#include <linux/skbuff.h>
#include <net/inet_sock.h>
#include <net/route.h>
#include <net/sock.h>
#include <net/udp_tunnel.h>

/*
 * Looks up the output route of an IPv4 flow, as a socket of protocol @proto
 * (@sk, optional: its mark, bound device, uid and security label apply) would
 * for a datagram @saddr:@sport -> @daddr:@dport. On success the chosen source
 * address is written back to @saddr. Returns a referenced route or an
 * ERR_PTR().
 */
struct rtable *rust_helper_handoff_ip_route_output(struct net *net,
						   const struct sock *sk,
						   __be32 daddr, __be32 *saddr,
						   __be16 dport, __be16 sport,
						   u8 proto, u8 tos, int oif,
						   u32 mark)
{
	struct flowi4 fl4;
	struct rtable *rt;

	if (sk) {
		rt = ip_route_output_ports(net, &fl4, sk, daddr, *saddr, dport,
					   sport, proto, RT_TOS(tos),
					   oif ?: READ_ONCE(sk->sk_bound_dev_if));
	} else {
		memset(&fl4, 0, sizeof(fl4));
		flowi4_init_output(&fl4, oif, mark, RT_TOS(tos),
				   RT_SCOPE_UNIVERSE, proto, 0, daddr, *saddr,
				   dport, sport, sock_net_uid(net, NULL));
		rt = ip_route_output_key(net, &fl4);
	}
	if (!IS_ERR(rt))
		*saddr = fl4.saddr;
	return rt;
}

void rust_helper_ip_rt_put(struct rtable *rt)
{
	ip_rt_put(rt);
}

int rust_helper_ip4_dst_hoplimit(const struct dst_entry *dst)
{
	return ip4_dst_hoplimit(dst);
}

/* The link-layer headroom the route's device wants (LL_RESERVED_SPACE). */
unsigned int rust_helper_handoff_rt_ll_reserved_space(const struct rtable *rt)
{
	return LL_RESERVED_SPACE(rt->dst.dev);
}

void rust_helper_skb_dst_set(struct sk_buff *skb, struct dst_entry *dst)
{
	skb_dst_set(skb, dst);
}

int rust_helper_udp_tunnel_handle_offloads(struct sk_buff *skb, bool udp_csum)
{
	return udp_tunnel_handle_offloads(skb, udp_csum);
}

/*
 * Creates a kernel UDP socket in @net bound to @addr:@port (network byte
 * order), with UDP checksums on transmission.
 */
int rust_helper_handoff_udp_sock_create4(struct net *net, __be32 addr,
					 __be16 port, struct socket **sockp)
{
	struct udp_port_cfg cfg;

	memset(&cfg, 0, sizeof(cfg));
	cfg.family = AF_INET;
	cfg.local_ip.s_addr = addr;
	cfg.local_udp_port = port;
	cfg.use_udp_checksums = 1;
	return udp_sock_create4(net, &cfg, sockp);
}

/*
 * Turns @sock into a tunnel socket: every datagram goes to @encap_rcv, which
 * finds @user_data with rcu_dereference_sk_user_data().
 */
void rust_helper_handoff_setup_udp_tunnel_sock(struct net *net,
					       struct socket *sock,
					       void *user_data, u8 encap_type,
					       udp_tunnel_encap_rcv_t encap_rcv)
{
	struct udp_tunnel_sock_cfg cfg;

	memset(&cfg, 0, sizeof(cfg));
	cfg.sk_user_data = user_data;
	cfg.encap_type = encap_type;
	cfg.encap_rcv = encap_rcv;
	setup_udp_tunnel_sock(net, sock, &cfg);
}

void *rust_helper_rcu_dereference_sk_user_data(const struct sock *sk)
{
	return rcu_dereference_sk_user_data(sk);
}

struct sock *rust_helper_handoff_socket_sk(const struct socket *sock)
{
	return sock->sk;
}

struct net *rust_helper_sock_net(const struct sock *sk)
{
	return sock_net(sk);
}

/* The address and port (network byte order) a socket is bound to. */
void rust_helper_handoff_sock_local_v4(const struct sock *sk, __be32 *addr,
				       __be16 *port)
{
	*addr = sk->sk_rcv_saddr;
	*port = inet_sk(sk)->inet_sport;
}
