// SPDX-License-Identifier: GPL-2.0

//! Placeholder: filled in by the handoff abstraction that owns this module.
