#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# The target is unreachable (its link to the redistribution network is
# down): NEW is never answered. When the service's SYN timeout runs out the
# handoff is given up; the client's next retransmission of its request is
# bound to the front's own stack if something listens there, else reset.
. "$(dirname "$0")/lib.sh"

ktap_plan 5
[ -x "${HANDOFF_CLI:-}" ] || die "HANDOFF_CLI not set"
topo_setup
module_load || die "insmod"
web_setup
migrate_setup 80
weights 0 1 0
# A short SYN timeout: the handoff is given up after 1.5 s.
ho f service del "$VIP:80"
ho f service add "$VIP:80" dev eth0 policy weighted syn-timeout 1500 first-data-wait 1400 || die "service"
# A service nobody listens for on f.
ho f service add "$VIP:8080" dev eth0 policy weighted syn-timeout 1500 first-data-wait 1400 || die "service 8080"
in_ns b1 ip link set eth1 down

# The fallback takes the client's first retransmission of its request
# after the deadline: how long that is depends on the client's RTO, so the
# time is reported, not judged (curl gives up after 20 s).
n=0
for i in 1 2 3; do
  t0=$(date +%s%N)
  page=$(in_ns c curl -s --max-time 20 "http://$VIP/")
  diag "connection $i: '$page' after $(( ($(date +%s%N) - t0) / 1000000 )) ms"
  [ "$page" = "served by f" ] && n=$((n + 1))
done
check "3 connections complete through the fallback on f ($n)" [ "$n" = 3 ]
diag "f: new_sent $(counter f new_sent) new_retransmit $(counter f new_retransmit) forwarded $(counter f forwarded)"
check "counted: new_timeout $(counter f new_timeout), fallback_local $(counter f fallback_local)" \
  [ "$(counter f new_timeout)" -ge 3 -a "$(counter f fallback_local)" -ge 3 ]
rc=0; in_ns c curl -s -o /dev/null --max-time 15 "http://$VIP:8080/" || rc=$?
check "no listener on f: the client is reset after the timeout (curl rc $rc: 7 or 56)" [ "$rc" = 56 -o "$rc" = 7 ]
check "counted as no listener ($(counter f drop_no_listener))" [ "$(counter f drop_no_listener)" -ge 1 ]
in_ns b1 ip link set eth1 up
sleep 1
page=$(in_ns c curl -s --max-time 10 "http://$VIP/")
check "with b1 back, connections are handed to it again ($page)" [ "$page" = "served by b1" ]
ktap_finish
