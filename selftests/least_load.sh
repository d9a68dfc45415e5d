#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# The least-load policy: b1 holds 50 long-lived connections, b2 none. f
# (weight 0: it serves none itself) hands 60 new connections with
# least-load: each is the better of two random nodes by (load + 1) / weight,
# with only b1 and b2 to choose from always both, so b2 gets them until its
# load (its report plus what f handed it since, a report every 100 ms)
# comes near b1's 50: all or nearly all to b2. With b1 weighted 100 and b2
# 1, b1's 50 connections weigh less than b2's few: nearly all to b1.
. "$(dirname "$0")/lib.sh"

ktap_plan 7
[ -x "${HANDOFF_CLI:-}" ] || die "HANDOFF_CLI not set"
topo_setup
module_load || die "insmod"
web_setup
migrate_setup
sync_setup 100
ho f service del "$VIP:80" && ho f service add "$VIP:80" dev eth0 policy least-load \
  first-data-wait 5000 || die "least-load service"
ho f node set weight 0
wait_until 10 all_up || die "peers not UP"

# b1's 50 connections, straight to its own address, kept open.
in_ns c python3 -S -c '
import socket, sys, time
held = []
for _ in range(50):
    s = socket.create_connection(("10.0.1.3", 80), timeout=10)
    s.sendall(b"GET / HTTP/1.1\r\nHost: b1\r\n\r\n")
    s.recv(4096)
    held.append(s)
print("ready", flush=True)
time.sleep(300)
' > "$HANDOFF_TMP/held.$$" &
holder=$!
wait_until 60 grep -q ready "$HANDOFF_TMP/held.$$" || die "b1's connections"
sleep 0.5
l1=$(peer_field f 2 load) l2=$(peer_field f 3 load)
check "f sees b1 loaded ($l1 >= 50) and b2 not ($l2 < 10)" [ "${l1:-0}" -ge 50 -a "${l2:-99}" -lt 10 ]

read -r nf n1 n2 failed <<< "$(served_by 60 "http://$VIP/")"
diag "60 connections: f $nf, b1 $n1, b2 $n2, failed $failed"
check "least-load: every connection served" [ "$failed" = 0 ]
check "least-load: b2 gets nearly all (b2 $n2 >= 57, b1 $n1)" [ "$n2" -ge 57 ]
check "f, of weight 0, keeps none ($nf)" [ "$nf" = 0 ]

weights 0 100 1 || die "weights"
wait_until 10 eval '[ "$(peers_in f up)" = 2 ]' || die "peers not UP after the change"
sleep 0.3
read -r nf n1 n2 failed <<< "$(served_by 40 "http://$VIP/")"
diag "weights b1 100, b2 1: f $nf, b1 $n1, b2 $n2, failed $failed"
check "weights respected: b1 (weight 100) gets nearly all ($n1 >= 38)" [ "$n1" -ge 38 ]
check "... every connection served" [ "$failed" = 0 ]
check "f counted the handoffs (migrated $(counter f migrated) >= 100)" [ "$(counter f migrated)" -ge 100 ]
kill "$holder" 2>/dev/null
ktap_finish
