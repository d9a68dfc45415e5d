#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Handoffs over a bad redistribution network: 10% loss, 1% corruption and
# reordering on every server's link to it. NEW is retransmitted until its
# MIGRATED_ACK comes (a lost ACK makes the target answer the duplicate NEW
# again), DATA lost on the way is retransmitted by the client: every
# connection completes.
. "$(dirname "$0")/lib.sh"

ktap_plan 4
[ -x "${HANDOFF_CLI:-}" ] || die "HANDOFF_CLI not set"
topo_setup
module_load || die "insmod"
web_setup
migrate_setup 80
weights 0 1 1   # every connection to a back-end
for h in $SERVERS; do
  in_ns "$h" tc qdisc add dev eth1 root netem loss 10% corrupt 1% delay 2ms reorder 25% 50% ||
    die "netem in $h"
done
retx0=$(counter f new_retransmit)
read -r nf nb1 nb2 failed <<< "$(served_by 200 "http://$VIP/")"
diag "200 connections: f $nf, b1 $nb1, b2 $nb2, failed $failed"
check "200 connections over a lossy redistribution network all succeed" [ "$failed" = 0 ]
check "all of them were handed to the back-ends (b1 $nb1, b2 $nb2)" [ $((nb1 + nb2)) = 200 ]
retx=$(( $(counter f new_retransmit) - retx0 ))
check "NEW was retransmitted ($retx times)" [ "$retx" -gt 0 ]
check "no handoff timed out or was refused" \
  [ "$(counter f new_timeout)" = 0 -a "$(counter f new_refused)" = 0 ]
ho f -s stats | sed 's/^/#   /' | head -4
ktap_finish
