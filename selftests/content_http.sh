#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Content policy host-uri on the front f: /static to b1, /api to b2, the host
# a.example to f itself, anything else by the fallback (weighted over f, b1,
# b2). Requests as curl sends them, HTTP pipelining of three requests in one
# segment, and a request without a Host header.
. "$(dirname "$0")/lib.sh"

ktap_plan 10
[ -x "${HANDOFF_CLI:-}" ] || die "HANDOFF_CLI not set"
topo_setup
module_load || die "insmod"
web_setup httpd
migrate_setup 80 9000
ho f service del "$VIP:80" && ho f service del "$VIP:9000" || die "service del"
ho f service add "$VIP:80" dev eth0 policy host-uri match /static node 2 match /api node 3 \
  match a.example node 1 fallback weighted first-data-wait 5000 || die "service add host-uri"
ho f service add "$VIP:9000" dev eth0 policy host-uri match /pad node 3 first-data-wait 5000 ||
  die "service add host-uri :9000"
diag "$(ho f service show "$VIP:80")"

# served URL N [CURL ARGS]: "f b1 b2 failed" over N sequential connections.
served() {
  local url=$1 n=$2 urls
  shift 2
  urls=$(for i in $(seq "$n"); do printf '%s ' "$url"; done)
  # shellcheck disable=SC2086
  in_ns c curl -s --max-time 10 -H 'Connection: close' "$@" $urls -w '\n' |
    awk -v n="$n" '/^served by/ { c[$3]++; ok++ } END { printf "%d %d %d %d\n", c["f"], c["b1"], c["b2"], n - ok }'
}

read -r nf nb1 nb2 failed <<< "$(served "http://$VIP/static/" 10)"
check "/static/: 10 connections all to b1 (f $nf, b1 $nb1, b2 $nb2, failed $failed)" [ "$nb1" = 10 ]
read -r nf nb1 nb2 failed <<< "$(served "http://$VIP/api/" 10)"
check "/api/: 10 connections all to b2 (f $nf, b1 $nb1, b2 $nb2, failed $failed)" [ "$nb2" = 10 ]
read -r nf nb1 nb2 failed <<< "$(served "http://$VIP/" 10 -H 'Host: a.example')"
check "host a.example: 10 connections all to f (f $nf, b1 $nb1, b2 $nb2, failed $failed)" [ "$nf" = 10 ]
read -r nf nb1 nb2 failed <<< "$(served "http://$VIP/" 30)"
check "no rule matches: the fallback spreads 30 connections (f $nf, b1 $nb1, b2 $nb2, failed $failed)" \
  [ "$failed" = 0 -a "$nf" -gt 0 -a "$nb1" -gt 0 -a "$nb2" -gt 0 ]

# Three requests in one segment (pipelining): chosen by the first, all
# three answered by b1's nginx in order.
out=$(in_ns c python3 -S -c '
import socket, sys
s = socket.create_connection((sys.argv[1], 80), timeout=10)
s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
req = b"GET /static/ HTTP/1.1\r\nHost: x\r\n\r\n"
s.sendall(req * 2 + req.replace(b"\r\n\r\n", b"\r\nConnection: close\r\n\r\n"))
data = b""
while chunk := s.recv(65536):
    data += chunk
print(data.count(b"served by b1"), data.count(b"HTTP/1.1 200"))
' "$VIP")
check "3 pipelined requests in one segment all served by b1 ($out)" [ "$out" = "3 3" ]

# HTTP/1.0 without Host: the path rule still applies.
out=$(in_ns c python3 -S -c '
import socket, sys
s = socket.create_connection((sys.argv[1], 80), timeout=10)
s.sendall(b"GET /api/ HTTP/1.0\r\n\r\n")
data = b""
while chunk := s.recv(65536):
    data += chunk
print(data.split(b"\r\n\r\n", 1)[-1].decode().strip())
' "$VIP")
check "HTTP/1.0 request without Host to /api/: b2 ($out)" [ "$out" = "served by b2" ]
# 15 kB of headers in four segments: the front holds the first three
# (acknowledged), chooses at the end of the headers, and b2's application
# gets every header intact.
# pad_request: 15 kB of headers to /pad on :9000 in four segments (0.3 s
# apart); prints the head's length and "ok" if the application that
# answered got every header intact, named in the answer ("served by HOST").
pad_request() {
  in_ns c python3 -S -c '
import hashlib, socket, sys, time
vals = [(b"%02d" % i) * 490 for i in range(15)]
head = b"GET /pad HTTP/1.1\r\nHost: x\r\n"
head += b"".join(b"X-Pad-%02d: %s\r\n" % (i, v) for i, v in enumerate(vals))
head += b"Connection: close\r\n\r\n"
s = socket.create_connection((sys.argv[1], 9000), timeout=20)
s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
for i in range(0, len(head), 4000):
    s.sendall(head[i:i + 4000])
    time.sleep(0.3)
data = b""
while chunk := s.recv(65536):
    data += chunk
body = data.split(b"\r\n\r\n", 1)[-1].decode().strip()
want = "pad 15 " + hashlib.sha256(b"".join(vals)).hexdigest()
print(len(head), "ok" if body.endswith(want) else "got " + body, body.split(" pad")[0])
' "$VIP"
}
out=$(pad_request)
check "15 kB of headers in four segments: chosen by path (b2), every header intact ($out)" \
  [ "${out#* }" = "ok served by b2" ]
check "f held the first segments (request_held $(counter f request_held)), holds nothing now ($(counter f request_bytes))" \
  [ "$(counter f request_held)" -ge 3 -a "$(counter f request_bytes)" = 0 ]
check "f counted handoffs and local binds (migrated $(counter f migrated), injected $(counter f injected))" \
  [ "$(counter f migrated)" -ge 20 -a "$(counter f injected)" -ge 10 ]
# With request-limit 2000 the front chooses with the first 2000 bytes: no
# whole head, so the fallback (local) takes it, with every byte.
ho f service del "$VIP:9000" && ho f service add "$VIP:9000" dev eth0 policy host-uri \
  match /pad node 3 first-data-wait 5000 request-limit 2000 || die "service request-limit"
out=$(pad_request)
check "request-limit 2000: chosen with part of the head, by the fallback (f), every header intact ($out)" \
  [ "${out#* }" = "ok served by f" ]
ktap_finish
