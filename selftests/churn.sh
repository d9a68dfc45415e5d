#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Configuration churn under traffic: while clients connect without pause
# (local and handed to a peer), the front's services are deleted and added
# again, its tables flushed, a back-end's namespace with a hooked device
# deleted and the module unloaded. Nothing oopses or warns (lib.sh), no
# device reference is leaked, the gauges come back to 0 once the traffic
# stops, and rmmod returns within 5 s.
. "$(dirname "$0")/lib.sh"

ktap_plan 7
[ -x "${HANDOFF_CLI:-}" ] || die "HANDOFF_CLI not set"
topo_setup
module_load || die "insmod"
web_setup httpd
migrate_setup
weights 1 1 1
# b1 forgets a connection 3 s after its last packet: a flow whose client
# was reset by f after a flush never sends b1 its FIN.
for p in 80 9000; do
  ho b1 service del "$VIP:$p" && ho b1 service add "$VIP:$p" dev eth0 idle-timeout 3000 ||
    die "b1's service :$p"
done
out=$HANDOFF_TMP/churn.$$
mkdir -p "$out"
mark="handoff-churn-$$"
echo "$mark" > /dev/kmsg

# Clients: 2 loops of short connections, one per port, until told to stop.
stop=$out/stop
clients=()
for n in 1 2; do
  in_ns c bash -c '
    n=0 ok=0
    while [ ! -e "$1" ]; do
      n=$((n + 1))
      curl -s -o /dev/null --max-time 3 "http://$2:$3/" && ok=$((ok + 1))
    done
    echo "$n $ok" > "$4"' churn "$stop" "$VIP" "$([ $((n % 2)) = 0 ] && echo 80 || echo 9000)" \
    "$out/client.$n" &
  clients+=($!)
done
sleep 3
# The churn: deletes, re-adds and flushes on f, 9 rounds.
errors=0
for r in $(seq 9); do
  ho f service del "$VIP:80" || errors=$((errors + 1))
  ho f service add "$VIP:80" dev eth0 policy weighted first-data-wait 5000 || errors=$((errors + 1))
  ho f conn flush || errors=$((errors + 1))
  [ $((r % 3)) = 0 ] && { ho f conn flush forward || errors=$((errors + 1)); }
  ho f service del "$VIP:9000" || errors=$((errors + 1))
  ho f service add "$VIP:9000" dev eth0 policy weighted first-data-wait 5000 ||
    errors=$((errors + 1))
  sleep 0.3
done
check "9 rounds of service del/add and table flushes under traffic (failed commands: $errors)" \
  [ "$errors" = 0 ]
# A back-end goes away with its hooked devices while f still hands to it
# (its servers first: they must not outlive the test).
ip netns pids "$(nsname b2)" | xargs -r kill -9
ip netns del "$(nsname b2)"
sleep 2
touch "$stop"
wait "${clients[@]}"
total=0 ok=0
for cf in "$out"/client.*; do read -r n o < "$cf"; total=$((total + n)) ok=$((ok + o)); done
diag "clients: $ok of $total connections served during the churn"
check "the clients were served throughout ($ok of $total)" [ "$ok" -gt $((total / 2)) ]
# Gauges: once the clients stop, every entry ends: f's flushed now, b1's
# adopted ones by their FIN and linger time or their idle timeout.
ho f conn flush; ho f conn flush forward
gauges() {
  local h
  for h in f b1; do
    ho "$h" stats | awk '{ for (i = 1; i < NF; i++) v[$i] = $(i + 1) }
      END { printf "%s %s %s ", v["temporary_entries"], v["forward_entries"], v["adopted_entries"] }'
  done
}
for _ in $(seq 30); do [ "$(gauges)" = "0 0 0 0 0 0 " ] && break; sleep 1; done
diag "gauges f, b1 (temporary forward adopted): $(gauges)"
check "f's gauges back to 0 after the flush, b1's once its flows ended or idled" \
  [ "$(gauges)" = "0 0 0 0 0 0 " ]
# The module goes while namespaces still have services and peers.
start=$(date +%s%N)
rmmod handoff; rc=$?
ms=$(( ($(date +%s%N) - start) / 1000000 ))
diag "rmmod took $ms ms"
check "rmmod with services, peers and sockets in place" [ $rc = 0 ]
check "... within 5 s ($ms ms)" [ "$ms" -lt 5000 ]
ns_del_all
leak=0
for _ in $(seq 30); do
  dmesg | sed -n "/$mark/,\$p" | grep -q "to become free" && { leak=1; break; }
  sleep 0.1
done
check "no device reference leaked (no 'waiting for ... to become free')" [ $leak = 0 ]
check "the module can be loaded again and serves" module_load
rm -rf "$out"
ktap_finish
