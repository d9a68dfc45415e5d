// SPDX-License-Identifier: GPL-2.0
/* handoff: helpers for inline TCP functions used by rust/kernel/net/tcp.rs. */

#include <net/request_sock.h>
#include <net/sock.h>
#include <net/tcp.h>

void rust_helper_reqsk_free(struct request_sock *req)
{
	reqsk_free(req);
}

bool rust_helper_sk_acceptq_is_full(const struct sock *sk)
{
	return sk_acceptq_is_full(sk);
}

u64 rust_helper_tcp_clock_ms(void)
{
	return tcp_clock_ms();
}

/*
 * Whether @sk, a full TCP socket, is an MPTCP subflow (the listener an MPTCP
 * socket hashes into the TCP tables included): false without CONFIG_MPTCP.
 */
bool rust_helper_sk_is_mptcp(const struct sock *sk)
{
	return sk_is_mptcp(sk);
}
