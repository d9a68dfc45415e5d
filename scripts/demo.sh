#!/usr/bin/env bash
# The demonstration, run inside the VM by `make demo`: build the test
# topology (client, front server f, back-end servers b1 and b2 in network
# namespaces), start nginx on every server, make each a handoff node and
# show connections to the VIP answered by f and served by different hosts.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
. "$top/selftests/lib.sh"
trap cleanup EXIT

say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

say "kernel $(uname -r), handoff.ko from $HANDOFF_KO"
topo_setup
say "topology: client c, front f, back-ends b1 b2 (network namespaces)"
for h in c f b1 b2; do
  printf '  %-3s %s\n' "$h" "$(in_ns "$h" ip -br -4 addr show | awk '$1!="lo"{printf "%s %s  ", $1, $3}')"
done
echo "  VIP $VIP on lo of f, b1, b2; the client routes it via f (10.0.1.2)"

say "nginx on every server, each page naming its host"
web_setup big
for h in $SERVERS; do echo "  $h: $(in_ns "$h" curl -s http://127.0.0.1/)"; done

say "load handoff"
module_load && echo "  $(grep -h . /sys/module/handoff/initstate) (refcnt $(cat /sys/module/handoff/refcnt))"

say "every server a node; f hands connections to its peers (policy weighted)"
migrate_setup 80
for h in $SERVERS; do
  echo "  $h: $(ho "$h" node show | tr '\n' ' ')"
done
ho f peer show | sed 's/^/  f peer: /'
ho f service show | sed 's/^/  f service: /'

say "client -> VIP: 12 connections, weights f 1, b1 1, b2 1"
for i in $(seq 12); do in_ns c curl -s --max-time 5 "http://$VIP/"; done | sort | uniq -c | sed 's/^/  /'
echo "  (b1 and b2 answered the client directly, from the VIP: direct server return)"

say "a slow download handed to b1 (weights 0 1 0): f's forward table meanwhile"
weights 0 1 0
in_ns c curl -s -o /dev/null --limit-rate 100k --max-time 4 "http://$VIP/big" &
slow=$!
sleep 2
ho f conn show forward | sed 's/^/  /'
echo "  b1's socket for it (the client's address, the VIP as source):"
in_ns b1 ss -tn '( sport = :80 )' | sed 's/^/  /'
wait "$slow"  # (not every job: the servers run in the background too)

say "counters (non-zero), front f and back-end b1"
for h in f b1; do
  echo "  $h:"
  ho "$h" stats | sed 's/^global //' | tr ' ' '\n' | paste -d' ' - - | awk '$2 != 0' | sed 's/^/    /'
done

say "the module's KUnit suites ran at load:"
debugfs_mount
for s in /sys/kernel/debug/kunit/handoff*; do
  printf '  %s: %s\n' "$(basename "$s")" "$(grep -E '^ok|^not ok' "$s/results" | tail -1)"
done
say "done"
