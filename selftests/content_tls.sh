#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Content policy tls-sni on the front f: nginx with TLS on every server;
# the server name a.example goes to b1, b.example to b2, any other to the
# fallback (local: f), unless it resumes a session: its ticket (TLS 1.3 PSK
# identity) hashes to one node, every time, which resumes it (the servers
# share their ticket key). A 2 kB ClientHello (long ALPN names) crosses two
# segments: the front holds the first, parses the whole ClientHello, and
# hands both to b1.
. "$(dirname "$0")/lib.sh"

ktap_plan 8
[ -x "${HANDOFF_CLI:-}" ] || die "HANDOFF_CLI not set"
topo_setup
module_load || die "insmod"
web_setup
tls_setup
migrate_setup 443
ho f service del "$VIP:443" || die "service del"
ho f service add "$VIP:443" dev eth0 policy tls-sni match a.example node 2 match b.example node 3 \
  fallback local first-data-wait 5000 || die "service add tls-sni"

# https NAME N: the hosts that served N sequential connections to NAME.
https() {
  local urls
  urls=$(for i in $(seq "$2"); do printf 'https://%s/ ' "$1"; done)
  # shellcheck disable=SC2086
  in_ns c curl -sk --max-time 10 --resolve "$1:443:$VIP" -H 'Connection: close' $urls -w '\n' |
    awk '/^served by/ { print $3 }' | sort | uniq -c | tr '\n' ' '
}

out=$(https a.example 5)
check "SNI a.example: 5 connections all to b1 ($out)" [ "$(echo $out)" = "5 b1" ]
out=$(https b.example 5)
check "SNI b.example: 5 connections all to b2 ($out)" [ "$(echo $out)" = "5 b2" ]
out=$(https c.example 5)
check "SNI c.example (no rule): the fallback, local to f ($out)" [ "$(echo $out)" = "5 f" ]

# Resumption: a first connection to c.example (the fallback, f) gets a
# ticket; 4 connections resuming it all go where its hash says, and resume.
out=$(in_ns c python3 -S "$here/tls_get.py" "$VIP" c.example --resume 4 2>&1)
read -r first resumed_on reused <<< "$out"
check "a session's first connection (no ticket yet): the fallback, f ($out)" [ "$first" = f ]
check "4 resumptions of its ticket: all to one node ($resumed_on), all resumed ($reused)" \
  [ "$(wc -w <<< "$resumed_on")" = 1 -a "$reused" = 4 ]

# Segments as on a real link: without TSO/GSO the client's stack cuts the
# ClientHello at the MSS (veth would carry it whole).
in_ns c ethtool -K eth0 tso off gso off >/dev/null || die "ethtool"
held0=$(counter f request_held)
# Long ALPN names make a ClientHello of about 2 kB (two segments).
out=$(in_ns c python3 -S "$here/tls_get.py" "$VIP" a.example --pad-alpn)
check "2 kB ClientHello in two segments, SNI a.example: served by b1 ($out)" [ "$out" = "served by b1" ]
held=$(( $(counter f request_held) - held0 ))
check "f held its first segment (request_held +$held)" [ "$held" -ge 1 ]
check "f handed the a.example and b.example connections over (migrated $(counter f migrated))" \
  [ "$(counter f migrated)" -ge 11 ]
ktap_finish
