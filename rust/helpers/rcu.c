// SPDX-License-Identifier: GPL-2.0
/* handoff: helpers for inline functions and macros used by rust/kernel (see rust/helpers/net.c). */

#include <linux/rcupdate.h>

void rust_helper_rcu_read_lock(void)
{
	rcu_read_lock();
}

void rust_helper_rcu_read_unlock(void)
{
	rcu_read_unlock();
}

void rust_helper_rcu_read_lock_bh(void)
{
	rcu_read_lock_bh();
}

void rust_helper_rcu_read_unlock_bh(void)
{
	rcu_read_unlock_bh();
}
