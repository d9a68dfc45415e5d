#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Content policy cookie: every server's nginx sets SRV=node<its id> (lib.sh).
# Two fronts, f and b2, both with policy cookie name SRV fallback weighted.
# A client's first connection goes where the fallback sends it and gets the
# cookie of that node; its next 20 connections, 10 through f and 10 through
# b2 (the client's route moved), all reach the same node. A cookie naming
# an unknown node takes the fallback.
. "$(dirname "$0")/lib.sh"

ktap_plan 5
[ -x "${HANDOFF_CLI:-}" ] || die "HANDOFF_CLI not set"
topo_setup
module_load || die "insmod"
web_setup
migrate_setup 80
for h in f b2; do
  ho "$h" service del "$VIP:80" || die "service del in $h"
  ho "$h" service add "$VIP:80" dev eth0 policy cookie name SRV fallback weighted \
    first-data-wait 5000 || die "service add cookie in $h"
done
# f's fallback never keeps a connection: the first one goes to b1 or b2,
# so the sticky ones are handoffs.
weights 0 1 1 || die "weights"
jar=$HANDOFF_TMP/cookies.$$

# hosts N [CURL ARGS]: the hosts that served N sequential connections.
hosts() {
  local n=$1 urls
  shift
  urls=$(for i in $(seq "$n"); do printf 'http://%s/ ' "$VIP"; done)
  # shellcheck disable=SC2086
  in_ns c curl -s --max-time 10 -H 'Connection: close' "$@" $urls -w '\n' | awk '/^served by/ { print $3 }'
}

first=$(hosts 1 -c "$jar")
cookie=$(awk '$6 == "SRV" { print $7 }' "$jar" 2>/dev/null)
check "first connection: served by ${first:-nobody}, cookie SRV=${cookie:-none}" \
  [ -n "$first" -a "$first" != f -a "$cookie" = "node$(node_id "$first")" ]

via_f=$(hosts 10 -b "$jar" | sort | uniq -c | tr '\n' ' ')
check "10 connections with the cookie through f: all to $first ($via_f)" \
  [ "$(echo $via_f)" = "10 $first" ]
in_ns c ip route replace "$VIP/32" via 10.0.1.4
via_b2=$(hosts 10 -b "$jar" | sort | uniq -c | tr '\n' ' ')
check "10 more through the other front b2: all to $first ($via_b2)" \
  [ "$(echo $via_b2)" = "10 $first" ]
in_ns c ip route replace "$VIP/32" via 10.0.1.2

spread=$(hosts 30 -b SRV=node9 | sort | uniq -c | tr '\n' ' ')
n=$(awk '{ for (i = 1; i < NF; i += 2) s += $i } END { print s + 0 }' <<< "$spread")
check "cookie naming an unknown node: the fallback spreads them over b1 and b2, all served ($spread)" \
  [ "$n" = 30 -a "$(wc -w <<< "$spread")" = 4 ]
check "f handed the sticky connections over (migrated $(counter f migrated) >= 11)" \
  [ "$(counter f migrated)" -ge 11 ]
ktap_finish
