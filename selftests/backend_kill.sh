#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# A back-end dies under load: a client opens connection after connection
# through f (least-load over f, b1 and b2, reports every 100 ms, DOWN after
# 3 silent intervals); b2's links go down mid-run. f marks it DOWN, and from
# the dead time and one interval after the kill on no new connection goes to
# b2 and none fails. Connections handed to b2 just before it was marked
# DOWN get no answer from it; then their handoff ends and the clients'
# retransmissions are served by f.
. "$(dirname "$0")/lib.sh"

ktap_plan 5
[ -x "${HANDOFF_CLI:-}" ] || die "HANDOFF_CLI not set"
topo_setup
module_load || die "insmod"
web_setup
migrate_setup
I=100 DEAD=3
sync_setup $I $DEAD
ho f service del "$VIP:80" && ho f service add "$VIP:80" dev eth0 policy least-load \
  first-data-wait 5000 || die "least-load service"
wait_until 10 all_up || die "peers not UP"

log=$HANDOFF_TMP/backend_kill.$$
in_ns c python3 -S -c '
import json, socket, sys, time
vip, dur = sys.argv[1], float(sys.argv[2])
end, out = time.time() + dur, []
while time.time() < end:
    start = time.time()
    try:
        s = socket.create_connection((vip, 80), timeout=3)
        s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        data = b""
        while chunk := s.recv(4096):
            data += chunk
        s.close()
        who = data.split(b"\r\n\r\n", 1)[-1].decode().strip().removeprefix("served by ")
    except OSError:
        who = "failed"
    out.append((start, who))
print(json.dumps(out))
' "$VIP" 16 > "$log" &
client=$!
sleep 6
# The time of the kill is when the link carrying b2's reports and handoffs
# is down (starting a command takes a while under TCG).
in_ns b2 ip link set eth1 down
kill_at=$(date +%s.%N)
in_ns b2 ip link set eth0 down
wait "$client"
check "f marks b2 DOWN" [ "$(peer_field f 3 state)" = down ]
res=$(python3 -S -c '
import json, sys
log, kill, quiet = json.load(open(sys.argv[1])), float(sys.argv[2]), float(sys.argv[3])
def count(rows):
    c = {}
    for _, who in rows:
        c[who] = c.get(who, 0) + 1
    return c
before = count(r for r in log if r[0] < kill)
after = count(r for r in log if r[0] >= kill + quiet)
window = count(r for r in log if kill <= r[0] < kill + quiet)
print(json.dumps(before), json.dumps(window), json.dumps(after), sep="|")
' "$log" "$kill_at" "$(awk "BEGIN { print ($DEAD + 1) * $I / 1000 }")")
IFS='|' read -r before window after <<< "$res"
diag "before the kill: $before; within $(( (DEAD + 1) * I )) ms of it: $window; after: $after"
jget() { python3 -S -c 'import json, sys; print(json.loads(sys.argv[1]).get(sys.argv[2], 0))' "$1" "$2"; }
check "before the kill every server served some" \
  [ "$(jget "$before" f)" -gt 0 -a "$(jget "$before" b1)" -gt 0 -a "$(jget "$before" b2)" -gt 0 ]
n_after=$(python3 -S -c 'import json, sys; print(sum(json.loads(sys.argv[1]).values()))' "$after")
check "after the dead time and one interval: connections went on ($n_after)" [ "$n_after" -ge 5 ]
check "... none to b2" [ "$(jget "$after" b2)" = 0 ]
check "... none failed" [ "$(jget "$after" failed)" = 0 ]
ktap_finish
