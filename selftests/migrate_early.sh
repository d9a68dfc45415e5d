#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# DATA that reaches the target before its NEW: NEW is delayed on the
# redistribution network (netem on NEW datagrams only: a prio qdisc whose
# third band has netem, chosen by a u32 filter on the first byte after the
# UDP header), so the client's next segments, forwarded at once as DATA
# with flow id 0, arrive first. The target holds them and delivers them
# after the injection: the request completes, nothing is lost.
. "$(dirname "$0")/lib.sh"

ktap_plan 5
[ -x "${HANDOFF_CLI:-}" ] || die "HANDOFF_CLI not set"
topo_setup
module_load || die "insmod"
web_setup httpd
migrate_setup
weights 0 1 0
in_ns f tc qdisc add dev eth1 root handle 1: prio || die "prio"
in_ns f tc qdisc add dev eth1 parent 1:3 handle 30: netem delay 400ms || die "netem"
# IPv4 without options: the handoff header's type byte is at offset 28.
in_ns f tc filter add dev eth1 parent 1: protocol ip prio 1 u32 \
  match ip protocol 17 0xff match ip dport "$FWD_PORT" 0xffff match u8 0x01 0xff at 28 flowid 1:3 ||
  die "u32 filter"

early0=$(counter b1 data_early)
recv0=$(counter b1 received)
head -c $((256 * 1024)) /dev/urandom > "$HANDOFF_TMP/upload"
want=$(sha256sum < "$HANDOFF_TMP/upload" | cut -d' ' -f1)
got=$(in_ns c curl -s --max-time 60 --data-binary "@$HANDOFF_TMP/upload" "http://$VIP:9000/")
check "256 KiB POST with NEW delayed 400 ms: b1's checksum matches" [ "$got" = "$want" ]
early=$(( $(counter b1 data_early) - early0 ))
check "b1 held DATA that came before its NEW ($early packets)" [ "$early" -gt 0 ]
recv=$(( $(counter b1 received) - recv0 ))
check "and delivered DATA to the connection ($recv packets)" [ "$recv" -gt "$early" ]
page=$(in_ns c curl -s --max-time 10 "http://$VIP/")
check "a plain GET with NEW delayed still gets b1's page ($page)" [ "$page" = "served by b1" ]
check "nothing held was dropped (data_dropped $(counter b1 data_dropped))" [ "$(counter b1 data_dropped)" = 0 ]
ktap_finish
