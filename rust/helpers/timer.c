// SPDX-License-Identifier: GPL-2.0
/*
 * handoff: helpers for inline functions and macros used by rust/kernel/timer.rs
 * (see rust/helpers/net.c).
 */

#include <linux/timer.h>

int rust_helper_timer_pending(const struct timer_list *timer)
{
	return timer_pending(timer);
}
