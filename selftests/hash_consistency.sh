#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# The hash policy: two fronts (f and b1) with policy hash over the same
# three nodes send each of 1000 client addresses to the same node (asked
# with SELECT_GET: handoff service select), each node gets about a third,
# and a real client is served by the node named for its address. b2 goes
# down: both fronts move exactly the addresses that were b2's, to the same
# nodes, and no other address moves.
. "$(dirname "$0")/lib.sh"

ktap_plan 8
[ -x "${HANDOFF_CLI:-}" ] || die "HANDOFF_CLI not set"
topo_setup
module_load || die "insmod"
web_setup
migrate_setup 80
sync_setup 100
for h in f b1; do
  ho "$h" service del "$VIP:80" && ho "$h" service add "$VIP:80" dev eth0 policy hash \
    first-data-wait 5000 || die "hash service on $h"
done
wait_until 10 all_up || die "peers not UP"

# nodes_of NS FILE: the node of 1000 client addresses from 10.1.0.1 on.
nodes_of() {
  in_ns "$1" python3 -S "$here/handoff_genl.py" select "$VIP" 80 10.1.0.1 1000 > "$2"
}
out=$HANDOFF_TMP/hash.$$
nodes_of f "$out.f" && nodes_of b1 "$out.b1" || die "SELECT_GET"
check "f and b1 send each of 1000 addresses to the same node" cmp -s "$out.f" "$out.b1"
shares=$(awk '{ n[$2]++ } END { printf "%d %d %d", n[1], n[2], n[3] }' "$out.f")
diag "addresses per node 1 2 3: $shares"
read -r n1 n2 n3 <<< "$shares"
check "each node gets about a third ($shares)" \
  [ "$n1" -ge 250 -a "$n1" -le 420 -a "$n2" -ge 250 -a "$n2" -le 420 -a "$n3" -ge 250 -a "$n3" -le 420 ]

# The client's own address, for real: served by the node its hash names.
node=$(in_ns f python3 -S "$here/handoff_genl.py" select "$VIP" 80 10.0.1.1 1 | cut -d' ' -f2)
want=$(case $node in 1) echo f ;; 2) echo b1 ;; 3) echo b2 ;; esac)
read -r nf nb1 nb2 failed <<< "$(served_by 10 "http://$VIP/")"
diag "client 10.0.1.1 -> node $node ($want); 10 connections: f $nf, b1 $nb1, b2 $nb2, failed $failed"
got=$(case $want in f) echo "$nf" ;; b1) echo "$nb1" ;; b2) echo "$nb2" ;; esac)
check "the client's 10 connections all served by node $node ($want)" [ "${got:-0}" = 10 ]
check "handoff service select answers the same" \
  [ "$(ho f service select "$VIP:80" client 10.0.1.1)" = "node $node" ]

in_ns b2 ip link set eth1 down
wait_until 10 eval '[ "$(peer_field f 3 state)/$(peer_field b1 3 state)" = down/down ]' ||
  die "b2 not DOWN"
nodes_of f "$out.f2" && nodes_of b1 "$out.b1" || die "SELECT_GET"
check "b2 down: f and b1 still agree on every address" cmp -s "$out.f2" "$out.b1"
moved=$(paste -d' ' "$out.f" "$out.f2" | awk '$2 != $4 { m++; if ($2 != 3) bad++ } END { print m + 0, bad + 0 }')
read -r m bad <<< "$moved"
diag "moved: $m (b2 had $n3), of which not b2's: $bad"
check "only b2's addresses moved ($m of its $n3)" [ "$m" = "$n3" -a "$bad" = 0 ]
check "none is left on b2" [ "$(awk '$2 == 3' "$out.f2" | wc -l)" = 0 ]
ho f service add "$VIP:9000" dev eth0 policy weighted || die "weighted service"
err=$(ho f service select "$VIP:9000" client 10.0.1.1 2>&1)
check "service select on a weighted service: refused ($err)" \
  grep -q "only policies local and hash choose by the client alone" <<< "$err"
ktap_finish
