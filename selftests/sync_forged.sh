#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Forged datagrams at f's sync port: replays of b1's reports (the same
# datagram, an older sequence number, an older epoch), malformed ones (cut,
# another type, a bad length), another node's id from b1's address, a
# well-formed report from a non-peer, and random datagrams from b1's
# address: each dropped and counted, no peer changes state, b1's real
# reports are still taken, no oops.
. "$(dirname "$0")/lib.sh"

ktap_plan 8
[ -x "${HANDOFF_CLI:-}" ] || die "HANDOFF_CLI not set"
topo_setup
module_load || die "insmod"
migrate_setup
sync_setup 200
wait_until 10 all_up || die "peers not UP"
states0=$(ho f peer show | cut -d' ' -f1-8)
for c in sync_replay sync_malformed sync_not_peer; do eval "${c}0=\$(counter f $c)"; done
taken0=$(ho f -s stats | awk '$1 == "peer" && $2 == 2 { for (i = 3; i < NF; i++) if ($i == "sync_received") print $(i + 1) }')

N=2000
out=$(in_ns b1 python3 -S "$here/sync_forge.py" --dev eth1 --dst 10.0.2.2 --port $SYNC_PORT \
  --random $N peer) || die "forging from b1"
diag "from b1: $out"
# The client network is not the sync network: f is reached through eth0.
in_ns c ip route add 10.0.2.0/24 via 10.0.1.2
out2=$(in_ns c python3 -S "$here/sync_forge.py" --dst 10.0.2.2 --port $SYNC_PORT stranger) ||
  die "forging from c"
diag "from c: $out2"
sleep 1
d() { echo $(( $(counter f "$1") - $2 )); }
replay=$(d sync_replay "$sync_replay0") malformed=$(d sync_malformed "$sync_malformed0")
notpeer=$(d sync_not_peer "$sync_not_peer0")
diag "f counted: sync_replay +$replay, sync_malformed +$malformed, sync_not_peer +$notpeer"
check "replays dropped as replays (3)" [ "$replay" = 3 ]
check "malformed ones dropped as malformed (at least 3)" [ "$malformed" -ge 3 ]
check "another node's id and a non-peer dropped as not a peer (at least 2)" [ "$notpeer" -ge 2 ]
check "every forged datagram dropped and counted ($((replay + malformed + notpeer)) of $((8 + N)))" \
  [ $((replay + malformed + notpeer)) = $((8 + N)) ]
check "no peer changed state" [ "$(ho f peer show | cut -d' ' -f1-8)" = "$states0" ]
taken=$(ho f -s stats | awk '$1 == "peer" && $2 == 2 { for (i = 3; i < NF; i++) if ($i == "sync_received") print $(i + 1) }')
check "b1's real reports still taken ($taken0 -> $taken)" [ "${taken:-0}" -gt "${taken0:-0}" ]
check "f's view of b1 is fresh (report-age $(peer_field f 2 report-age) ms)" \
  [ "$(peer_field f 2 report-age)" -lt 600 ]
check "b1 and b2 still see f UP" [ "$(peer_field b1 1 state)/$(peer_field b2 1 state)" = up/up ]
ktap_finish
