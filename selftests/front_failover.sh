#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Front failover: two fronts, f and b2, behind the client's route (the
# router's ECMP in a real farm); f hands every connection to b1 and
# announces it on the sync channel, b2 learns it. Short connections: b2
# forgets them once f's entries end (DEL). Then 20 slow downloads through
# f; f dies (its links down) and the client's route moves to b2, which
# relays the downloads' packets to b1: they complete, checksums intact.
. "$(dirname "$0")/lib.sh"

ktap_plan 8
[ -x "${HANDOFF_CLI:-}" ] || die "HANDOFF_CLI not set"
topo_setup
module_load || die "insmod"
web_setup
migrate_setup 80
weights 0 1 0   # f hands every connection to b1
sync_setup 100
wait_until 20 all_up || die "peers not up"
# 3 MiB at 40 kB/s: over a minute per download (curl bursts above the rate at
# first), long enough to kill f midway.
head -c $((3 * 1024 * 1024)) /dev/urandom > "$(www b1)/mid"
want=$(sha256sum < "$(www b1)/mid" | cut -d' ' -f1)

relay_entries() { counter b2 relay_entries; }

# Short connections: announced (ADD), then forgotten when they end on f
# (client FIN, linger time, DEL).
read -r nf nb1 nb2 failed <<< "$(served_by 5 "http://$VIP/")"
check "5 connections through f served by b1 ($nb1, failed $failed)" [ "$nb1" = 5 -a "$failed" = 0 ]
wait_until 5 eval '[ "$(relay_entries)" -ge 5 ]'
n=$(relay_entries)
check "b2 learned them from f's announcements (relay_entries $n)" [ "$n" -ge 5 ]
wait_until 20 eval '[ "$(relay_entries)" = 0 ]'
check "... and forgot them once f's entries ended ($(relay_entries) left, announce_received $(counter b2 announce_received))" \
  [ "$(relay_entries)" = 0 ]

# The downloads.
pids=()
for i in $(seq 20); do
  in_ns c curl -s --limit-rate 40k --max-time 180 -o "$HANDOFF_TMP/dl.$i" "http://$VIP/mid" &
  pids+=($!)
done
wait_until 30 eval '[ "$(relay_entries)" -ge 20 ]'
n=$(relay_entries) fwd=$(counter f forward_entries)
check "20 downloads handed to b1 through f, announced to b2 (f forward_entries $fwd, b2 relay_entries $n)" \
  [ "$n" -ge 20 ]

# f dies; the client's route moves to the other front.
in_ns f ip link set eth0 down
in_ns f ip link set eth1 down
in_ns c ip route replace "$VIP/32" via 10.0.1.4
# (Counted after the move: a download that ended before it closed through f.)
running=0
for p in "${pids[@]}"; do kill -0 "$p" 2>/dev/null && running=$((running + 1)); done
diag "f down, client route to the VIP via b2 at $(date +%T), $running downloads running"
ok=0
for i in $(seq 20); do
  wait "${pids[$((i - 1))]}" && [ "$(sha256sum < "$HANDOFF_TMP/dl.$i" | cut -d' ' -f1)" = "$want" ] &&
    ok=$((ok + 1))
done
diag "downloads done at $(date +%T)"
check "all 20 downloads completed, $running of them through b2, checksums match ($ok)" [ "$ok" = 20 -a "$running" -ge 15 ]
relayed=$(counter b2 relayed)
check "b2 relayed their packets to b1 (relayed $relayed)" [ "$relayed" -gt 0 ]
from_b2=$(ho b1 -s stats | awk '$1 == "peer" && $2 == 3 {
  for (i = 3; i < NF; i++) if ($i == "received") print $(i + 1) }')
check "b1 delivered DATA from b2 (received ${from_b2:-0}), none malformed ($(counter b1 dgram_malformed))" \
  [ "${from_b2:-0}" -gt 0 -a "$(counter b1 dgram_malformed)" = 0 ]
# The clients closed: b2's entries of the downloads that ended through it
# end with them (FIN, linger); a download that ended through f before it
# died leaves its entry to the idle timeout.
wait_until 25 eval '[ "$(relay_entries)" -le $((20 - running)) ]'
check "b2's relay entries ended with the connections ($(relay_entries) left, at most $((20 - running)))" \
  [ "$(relay_entries)" -le $((20 - running)) ]
ho b2 -s stats | head -1 | sed 's/^/#   b2 /'
ho b1 -s stats | head -1 | sed 's/^/#   b1 /'
in_ns c ss -tanH "dst $VIP" | sed 's/^/#   c: /' | head -5
in_ns b1 ss -tanH "src $VIP" | sed 's/^/#   b1: /' | head -5
ktap_finish
