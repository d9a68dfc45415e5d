#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# The sync channel: three servers report to each other every 200 ms and
# see each other UP, with fresh reports and their load; b2's links go down
# (a frozen server): f and b1 mark it DOWN within the dead time (3
# intervals) and one interval, which handoff monitor shows; its links back
# up, it is UP again.
. "$(dirname "$0")/lib.sh"

ktap_plan 10
[ -x "${HANDOFF_CLI:-}" ] || die "HANDOFF_CLI not set"
topo_setup
module_load || die "insmod"
migrate_setup
I=200 DEAD=3
mon=$HANDOFF_TMP/monitor.$$
# Not through a shell function: $! must be the CLI itself, to stop it.
ip netns exec "$(nsname f)" "$HANDOFF_CLI" monitor > "$mon" 2>&1 < /dev/null 3>&- 4>&- &
monpid=$!
sleep 1  # the monitor subscribes asynchronously
sync_setup $I $DEAD

wait_until 10 all_up
check "every server sees its two peers UP" all_up
ages=$(for h in $SERVERS; do for p in 1 2 3; do
  [ "$(node_id "$h")" = "$p" ] || peer_field "$h" "$p" report-age; done; done)
max=$(sort -n <<< "$ages" | tail -1)
diag "report ages (ms): $(echo $ages)"
check "last reports younger than 3 intervals (oldest $max ms < $((3 * I)))" \
  [ "$(wc -l <<< "$ages")" = 6 -a "${max:-99999}" -lt $((3 * I)) ]
load=$(peer_field f 2 load)
check "f knows b1's load (${load:-none}: b1 serves nothing)" [ "$load" = 0 ]
sent=$(counter f sync_sent) received=$(counter f sync_received)
check "f sent and took reports (sent $sent, received $received)" [ "$sent" -gt 0 -a "$received" -gt 0 ]

# b2 freezes: nothing from it any more.
in_ns b2 ip link set eth1 down
in_ns b2 ip link set eth0 down
wait_until 10 eval '[ "$(peer_field f 3 state)" = down ] && [ "$(peer_field b1 3 state)" = down ]'
check "f and b1 mark b2 DOWN" [ "$(peer_field f 3 state)/$(peer_field b1 3 state)" = down/down ]
check "f keeps b1 UP" [ "$(peer_field f 2 state)" = up ]
# The event carries the silence at the moment of the change: at least the
# dead time, below the dead time and one interval (the timer runs every
# interval; 50 ms of slack for a late timer under TCG).
ev=$(grep -m1 "^peer-down peer 3 " "$mon")
diag "event: $ev"
age=$(awk '{ for (i = 1; i < NF; i++) if ($i == "report-age") print $(i + 1) }' <<< "$ev")
check "monitor: PEER_DOWN for b2, after ${age:-?} ms of silence ($((DEAD * I))..$((DEAD * I + I)) ms)" \
  [ "${age:-0}" -ge $((DEAD * I)) -a "${age:-0}" -le $((DEAD * I + I + 50)) ]

# b2 back.
in_ns b2 ip link set eth0 up
in_ns b2 ip link set eth1 up
wait_until 10 all_up
check "b2 back: every server sees its two peers UP again" all_up
sleep 0.5
kill "$monpid" 2>/dev/null; wait "$monpid" 2>/dev/null
diag "$(grep -c . "$mon") events: $(cut -d' ' -f1-3 "$mon" | tr '\n' ',')"
check "monitor: PEER_UP for b2 before and after" [ "$(grep -c "^peer-up peer 3 " "$mon")" -ge 2 ]
check "no sync datagram dropped (malformed, replay, not a peer)" \
  [ "$(counter f sync_malformed)/$(counter f sync_replay)/$(counter f sync_not_peer)" = 0/0/0 ]
ktap_finish
