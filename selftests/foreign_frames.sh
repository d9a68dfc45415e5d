#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Frames not addressed to the hooked device are not the module's: the front
# f (service VIP:80 on eth0, which is promiscuous) sees, through a flooding
# switch, a client's connections to another server b1 that holds the VIP
# too, and answers none of their SYNs and resets none of their segments;
# tagged frames for a VLAN device stacked on f's eth0 but moved to another
# namespace v (holding the VIP) reach v's server, and no connection is made
# in f's namespace for them; a service on every device also hooks a device
# that appears after it. Nothing is counted as dropped on f: the frames
# pass to the stack, which drops or delivers them. The kernel logs no splat
# (lib.sh).
. "$(dirname "$0")/lib.sh"

ktap_plan 12
[ -x "${HANDOFF_CLI:-}" ] || die "HANDOFF_CLI not set"
topo_setup
module_load || die "insmod"
ho f service add "$VIP:80" dev eth0 || die "service add"
out=$HANDOFF_TMP/foreign.$$
# serve NS NAME: a web server on 0.0.0.0:80 in NS answering "NAME", its
# request log in $out.NAME.log.
serve() {
  mkdir -p "$out.$2" && echo "$2" > "$out.$2/index.html"
  in_ns "$1" python3 -S -m http.server --bind 0.0.0.0 --directory "$out.$2" 80 \
    > "$out.$2.log" 2>&1 &
  wait_port "$1" 80 || die "server in $1"
}
# requests NAME: requests NAME's server logged.
requests() { grep -c '"GET ' "$out.$1.log"; }
serve f front
serve b1 b1
# f_counters: f's syn_answered, injected and the sum of its drop counters.
f_counters() {
  ho f -j stats -s | python3 -S -c '
import json, sys
for rec in json.load(sys.stdin):
    if rec.get("scope") == "global":
        print(rec["syn_answered"], rec["injected"],
              sum(v for k, v in rec.items() if k.startswith("drop_")))'
}
# dump NS in|out FILE FILTER: captures what NS receives or sends on its eth0
# into FILE (a line a packet), running when it returns.
dump_pids=()
dump() {
  in_ns "$1" tcpdump -nn -l -Q "$2" -i eth0 "$4" > "$3" 2> "$3.err" &
  dump_pids+=($!)
  for _ in $(seq 100); do grep -q listening "$3.err" && return 0; sleep 0.1; done
  die "tcpdump in $1 did not start"
}
# undump: stops the captures (after a second for the last packets).
undump() { sleep 1; kill "${dump_pids[@]}"; wait "${dump_pids[@]}" 2>/dev/null; dump_pids=(); }
# lines FILE: its number of lines.
lines() { grep -c . "$1"; }
# rx_packets NS: packets NS's eth0 received so far.
rx_packets() {
  in_ns "$1" ip -s -j link show eth0 | python3 -S -c '
import json, sys; print(json.load(sys.stdin)[0]["stats64"]["rx"]["packets"])'
}

# --- Another server's frames on a promiscuous front ------------------------
# The switch floods every frame to every port (no learning), f's eth0 takes
# them all, and the client reaches the VIP through b1.
ip -n "$(nsname s)" link set brc type bridge ageing_time 0
in_ns f ip link set eth0 promisc on
in_ns c ip route replace "$VIP/32" via 10.0.1.3
before=$(f_counters) rx0=$(rx_packets f)
dump f out "$out.f-tx" tcp
dump c in "$out.c-rst" "tcp[tcpflags] & tcp-rst != 0"
n=0
for i in $(seq 20); do
  [ "$(in_ns c curl -s --max-time 5 "http://$VIP/")" = b1 ] && n=$((n + 1))
done
undump
flooded=$(( $(rx_packets f) - rx0 ))
check "promiscuous front: 20 connections to b1 through a flooding switch all served by b1 ($n/20)" \
  [ "$n" = 20 ]
check "... and f's eth0 received their frames too (rx packets +$flooded)" [ "$flooded" -ge 100 ]
sent=$(lines "$out.f-tx")
diag "f sent $sent TCP segments on eth0"
[ "$sent" = 0 ] || head -5 "$out.f-tx" | sed 's/^/#   /'
check "f sent no TCP segment for them (no SYN-ACK, no RST)" [ "$sent" = 0 ]
check "the client got no RST ($(lines "$out.c-rst"))" [ "$(lines "$out.c-rst")" = 0 ]
after=$(f_counters)
diag "f syn_answered injected drops: before $before, after $after"
check "f answered, injected and dropped none of them (counters unchanged)" [ "$before" = "$after" ]
check "f's server got no request" [ "$(requests front)" = 0 ]
in_ns f ip link set eth0 promisc off
ip -n "$(nsname s)" link set brc type bridge ageing_time 30000
in_ns c ip route replace "$VIP/32" via 10.0.1.2

# --- A VLAN device on f's eth0, in another namespace, holding the VIP -------
# Client c2 on the same switch reaches the VIP in VLAN 100, which f's eth0
# carries up to vlan100, a device of namespace v.
ns_add c2
ns_add v
c2=$(nsname c2) v=$(nsname v)
ip link add eth0 netns "$c2" type veth peer name c2-eth0 netns "$(nsname s)" || die "veth c2"
ip -n "$(nsname s)" link set c2-eth0 master brc up
ip -n "$c2" link set eth0 up
ip -n "$c2" link add link eth0 name eth0.100 type vlan id 100
ip -n "$c2" addr add 10.0.100.1/24 dev eth0.100
ip -n "$c2" link set eth0.100 up
ip -n "$c2" route add "$VIP/32" via 10.0.100.2
in_ns f ip link add link eth0 name vlan100 type vlan id 100 || die "vlan on f's eth0"
in_ns f ip link set vlan100 netns "$v"
ip -n "$v" addr add 10.0.100.2/24 dev vlan100
ip -n "$v" addr add "$VIP/32" dev lo
ip -n "$v" link set vlan100 up
ip -n "$v" link set lo up
serve v vlan
before=$(f_counters)
n=0
for i in $(seq 10); do
  [ "$(in_ns c2 curl -s --max-time 5 "http://$VIP/")" = vlan ] && n=$((n + 1))
done
check "VLAN 100 on f's eth0 in namespace v: 10 connections served by v's server ($n/10)" [ "$n" = 10 ]
after=$(f_counters)
diag "f syn_answered injected drops: before $before, after $after"
check "none answered, injected or dropped in f's namespace (counters unchanged)" [ "$before" = "$after" ]
check "... and f's server got no request" [ "$(requests front)" = 0 ]
# f's own clients are still served by the module.
before=$(f_counters)
body=$(in_ns c curl -s --max-time 5 "http://$VIP/")
after=$(f_counters)
check "f's own client is still answered and injected by the module (${body:-nothing}; $before -> $after)" \
  [ "$body" = front -a "${after%% *}" -gt "${before%% *}" ]

# --- A service on every device hooks devices that appear later -------------
ho f service del "$VIP:80" && ho f service add "$VIP:80" || die "service on every device"
in_ns c ip link add eth5 type veth peer name eth5 netns "$(nsname f)" || die "new link"
printf '%s\n' "addr add 10.0.5.1/24 dev eth5" "link set eth5 up" "route replace $VIP/32 via 10.0.5.2" |
  ip -n "$(nsname c)" -batch - || die "client side of the new link"
printf '%s\n' "addr add 10.0.5.2/24 dev eth5" "link set eth5 up" |
  ip -n "$(nsname f)" -batch - || die "f's side of the new link"
before=$(f_counters)
body=$(in_ns c curl -s --max-time 5 "http://$VIP/")
after=$(f_counters)
check "a device created after the service (no dev): its client is served (${body:-nothing})" \
  [ "$body" = front ]
check "... and answered and injected by the module ($before -> $after)" \
  [ "${after%% *}" -gt "${before%% *}" ]
in_ns f ip link del eth5
rm -rf "$out".*
ktap_finish
