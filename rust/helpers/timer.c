// SPDX-License-Identifier: GPL-2.0
/* handoff: helpers for inline functions and macros used by rust/kernel (see rust/helpers/net.c). */

