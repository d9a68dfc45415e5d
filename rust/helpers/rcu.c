// SPDX-License-Identifier: GPL-2.0
/*
 * handoff: helpers for inline functions and macros used by rust/kernel/sync/rcu.rs
 * and rust/kernel/sync/rcu_table.rs (see rust/helpers/net.c).
 */

#include <linux/jhash.h>
#include <linux/lockdep.h>
#include <linux/rculist.h>
#include <linux/rcupdate.h>
#include <linux/siphash.h>
#include <linux/spinlock.h>

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

/* RCU hash lists: publish (rcu_assign_pointer) and unlink for readers. */

void rust_helper_hlist_add_head_rcu(struct hlist_node *n, struct hlist_head *h)
{
	hlist_add_head_rcu(n, h);
}

void rust_helper_hlist_add_behind_rcu(struct hlist_node *n, struct hlist_node *prev)
{
	hlist_add_behind_rcu(n, prev);
}

void rust_helper_hlist_del_init_rcu(struct hlist_node *n)
{
	hlist_del_init_rcu(n);
}

/* Bucket locks: writers run in softirq and in process context. */

void rust_helper_spin_lock_bh(spinlock_t *lock)
{
	spin_lock_bh(lock);
}

void rust_helper_spin_unlock_bh(spinlock_t *lock)
{
	spin_unlock_bh(lock);
}

/*
 * Dynamic lock class keys. With CONFIG_LOCKDEP these are exported functions
 * and the bindings call them directly; without it they are empty inlines and
 * these helpers stand in.
 */

void rust_helper_lockdep_register_key(struct lock_class_key *key)
{
	lockdep_register_key(key);
}

void rust_helper_lockdep_unregister_key(struct lock_class_key *key)
{
	lockdep_unregister_key(key);
}

/* Hashing of table keys. */

u64 rust_helper_siphash(const void *data, size_t len, const siphash_key_t *key)
{
	return siphash(data, len, key);
}

u32 rust_helper_jhash(const void *key, u32 length, u32 initval)
{
	return jhash(key, length, initval);
}

u32 rust_helper_jhash2(const u32 *k, u32 length, u32 initval)
{
	return jhash2(k, length, initval);
}
