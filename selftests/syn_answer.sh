#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# The module, not the stack, answers SYNs for a service: the SYN-ACK carries
# the module's ISN (the one its temporary table shows) and options echoing
# the client's; the stack sees none of the handshake (nstat); a port with no
# listener still gets a SYN-ACK, and its first data an RST (counted); bad
# input is dropped or reset as a stack would, and counted; a service's
# max-temporary bounds its half-open connections, and its own counters show
# what happened to it.
. "$(dirname "$0")/lib.sh"

ktap_plan 18
[ -x "${HANDOFF_CLI:-}" ] || die "HANDOFF_CLI not set"
topo_setup
module_load || die "insmod"
ho f service add "$VIP:80" dev eth0 || die "service add :80"
ho f service add "$VIP:81" dev eth0 || die "service add :81"
spoof_setup
mkdir -p "$HANDOFF_TMP/www"; echo syn-answer > "$HANDOFF_TMP/www/index.html"
in_ns f python3 -S -m http.server --bind 0.0.0.0 --directory "$HANDOFF_TMP/www" 80 >/dev/null 2>&1 &
wait_port f 80 || die "http.server did not start"
out=$HANDOFF_TMP/syn_answer.$$

in_ns f nstat -n >/dev/null   # start counting from here
tcpraw syn --sport 40001 > "$out.syn"; rc=$?
check "SYN answered with a SYN-ACK" [ $rc = 0 ]
synack=$(grep '"SA"' "$out.syn" | head -1)
isn=$(echo "$synack" | python3 -S -c 'import json,sys; print(json.load(sys.stdin)["seq"])')
table_isn=$(ho f -j conn show temporary | python3 -S -c '
import json, sys
for e in json.load(sys.stdin):
    if e["src"].endswith(":40001"):
        print(e["local-isn"])' )
diag "SYN-ACK seq $isn, temporary table local-isn $table_isn"
check "SYN-ACK carries the module's ISN" [ -n "$isn" -a "$isn" = "$table_isn" ]
check "SYN-ACK options echo the client's (mss 1460, wscale, sack, ts echo)" \
  python3 -S -c '
import json, sys
o = json.loads(sys.argv[1])["options"]
assert o["mss"] == 1460 and "wscale" in o and o.get("sack_perm") and o["tsecr"] == 4096, o' "$synack"
check "syn_answered counted" [ "$(counter f syn_answered)" -ge 1 ]
check "retransmitted SYN gets the same SYN-ACK" tcpraw syn-twice --sport 40002
check "syn_retransmit counted" [ "$(counter f syn_retransmit)" -ge 1 ]
nst=$(in_ns f nstat -az TcpInSegs TcpOutSegs TcpExtSyncookiesSent TcpPassiveOpens)
diag "$(echo "$nst" | tr '\n' ' ')"
untouched() { echo "$nst" | awk '$1 ~ /^Tcp/ && $2 != 0 { bad = 1 } END { exit bad }'; }
check "the stack saw none of it (nstat: no TCP segments in or out)" untouched

# No listener on :81: the handshake still completes, the data gets an RST.
check "no listener: SYN still answered" tcpraw syn --dport 81
in_ns c curl -s --max-time 5 "http://$VIP:81/" >/dev/null; rc=$?
diag "curl to a service port nobody listens on: exit $rc"
check "no listener: data answered with RST (curl: connection reset)" [ $rc = 56 ]
check "drop_no_listener counted" [ "$(counter f drop_no_listener)" -ge 1 ]

# Bad input.
# both CMD...: CMD succeeded and the counter ($1 of f) moved.
both() { local c=$1; shift; "$@" >/dev/null && [ "$(counter f "$c")" -ge 1 ]; }
check "ACK with a wrong ack number: RST, counted" both drop_bad_ack tcpraw bad-ack
check "data for an unknown connection: RST, counted" both drop_unknown_conn tcpraw unknown-data
check "SYN with malformed options: dropped, counted" both drop_malformed tcpraw bad-syn-opts
body=$(in_ns c curl -s --max-time 5 "http://$VIP/")
check "a real client still works" [ "$body" = syn-answer ]

# A service's share of the temporary table: 3 half-open connections at most
# (the spoofed client never completes them), SYNs beyond it are answered
# without state (SYN cookies, syn_flood.sh); the entries expire after 15 s,
# long enough that a slow TCG run still reads them before they go.
ho f service add "$VIP:82" dev eth0 max-temporary 3 syn-timeout 15000 || die "service add :82"
# (At once: one after the other, TCG's slow start of each would let the
# first expire before the last.)
pids=()
for p in 41001 41002 41003 41004 41005; do
  { tcpraw syn --dport 82 --sport $p --timeout 2 >/dev/null && echo answered; } > "$out.limit.$p" &
  pids+=($!)
done
wait "${pids[@]}"
answered=$(cat "$out".limit.* | grep -c answered)
# svc_counter NAME: counter NAME of the service VIP:82.
svc_counter() { counter f "$1" "$VIP:82"; }
diag "max-temporary 3: $answered of 5 SYNs answered"
check "max-temporary 3: all 5 half-open SYNs answered" [ "$answered" = 5 ]
st="$(svc_counter syn_answered) $(svc_counter syncookies_sent) $(svc_counter temporary_entries)"
diag "service $VIP:82: syn_answered syncookies_sent temporary_entries = $st"
check "per-service counters: 3 answered with state, 2 with cookies, 3 entries" [ "$st" = "3 2 3" ]
# Past the SYN timeout and a sweep of the table (polled: TCG is slow).
for _ in $(seq 40); do
  [ "$(svc_counter temporary_entries)" = 0 ] && break
  sleep 1
done
check "expired half-open entries free the service's share" [ "$(svc_counter temporary_entries)" = 0 ]
check "a new SYN is answered again after expiry" tcpraw syn --dport 82 --sport 41006
kill %1 2>/dev/null
ktap_finish
