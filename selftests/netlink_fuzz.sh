#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Fuzz the handoff generic netlink family: thousands of random and mutated
# requests (random commands, attributes, nesting, lengths and flags, dumps
# included), from root and from an unprivileged user, in two namespaces.
# Then the kernel must have logged no splat (lib.sh checks on exit) and the
# module must still answer.
. "$(dirname "$0")/lib.sh"

CLI=${HANDOFF_CLI:-}
PY="python3 -S"
GENL="$PY $here/handoff_genl.py"
SEED=${HANDOFF_FUZZ_SEED:-$(date +%s)}
COUNT=${HANDOFF_FUZZ_COUNT:-3000}

ktap_plan 8
[ -n "$CLI" ] && [ -x "$CLI" ] || die "HANDOFF_CLI not set or not executable: '$CLI'"
check "insmod handoff.ko" module_load
ns_add f
ns_add g
ip -n "$(nsname f)" link add d0 type dummy
diag "seed $SEED (HANDOFF_FUZZ_SEED=$SEED reproduces this run)"
check "$COUNT requests as root" in_ns f $GENL fuzz "$COUNT" "$SEED"
check "$((COUNT / 4)) requests as nobody" \
  in_ns g setpriv --reuid=65534 --regid=65534 --clear-groups $GENL fuzz $((COUNT / 4)) $((SEED + 1))
check "$((COUNT / 4)) requests in a second namespace" in_ns g $GENL fuzz $((COUNT / 4)) $((SEED + 2))
quiet() { "$@" >/dev/null; }
check "the module still answers: node show" quiet in_ns f "$CLI" node show
check "the module still answers: service show" quiet in_ns f "$CLI" -j service show
check "the module still answers: stats -s" quiet in_ns f "$CLI" -s stats
check "configuration still works" in_ns g "$CLI" service add 10.9.9.9:80
ktap_finish
