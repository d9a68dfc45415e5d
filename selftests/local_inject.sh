#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Connections answered by the module are injected into the local stack and
# served by unmodified applications: nginx and python3 -m http.server,
# listening on 0.0.0.0, on the VIP and on [::]; sequential, concurrent,
# large and keep-alive transfers; the injected socket has the negotiated
# window scale, SACK and timestamps.
. "$(dirname "$0")/lib.sh"

ktap_plan 15
[ -x "${HANDOFF_CLI:-}" ] || die "HANDOFF_CLI not set"
topo_setup
module_load || die "insmod"
for p in 80 81 8080 8081 8082 9000; do
  ho f service add "$VIP:$p" dev eth0 || die "service add :$p"
done

www=$HANDOFF_TMP/www-inject
mkdir -p "$www"
echo injected > "$www/index.html"
head -c $((10 * 1024 * 1024)) /dev/urandom > "$www/big"
cat > "$www/nginx.conf" <<CONF
daemon on; pid $www/nginx.pid; error_log $www/error.log; worker_processes 1;
events { worker_connections 512; }
http { access_log off; client_body_temp_path $www; proxy_temp_path $www;
       fastcgi_temp_path $www; uwsgi_temp_path $www; scgi_temp_path $www;
       keepalive_requests 1000;
       server { listen 80 backlog=512; root $www; }
       server { listen $VIP:81; root $www; } }
CONF
in_ns f nginx -c "$www/nginx.conf" -e "$www/error.log" || die "nginx"
in_ns f python3 -S -m http.server --bind "$VIP" --directory "$www" 8080 >/dev/null 2>&1 &
in_ns f python3 -S -m http.server --bind 0.0.0.0 --directory "$www" 8081 >/dev/null 2>&1 &
in_ns f python3 -S -m http.server --bind :: --directory "$www" 8082 >/dev/null 2>&1 &
in_ns f python3 -S "$here/httpd.py" 0.0.0.0 9000 >/dev/null 2>&1 &
for p in 80 81 8080 8081 8082 9000; do wait_port f $p || die "nothing listens on :$p"; done

# get_codes N URL: N sequential requests, each on a connection of its own
# (one curl, "Connection: close"); prints how many were answered 200 on a
# new connection.
get_codes() {
  local urls
  urls=$(for i in $(seq "$1"); do printf '%s ' "$2"; done)
  # shellcheck disable=SC2086
  in_ns c curl -s -o /dev/null --max-time 10 -H 'Connection: close' \
    -w '%{http_code} %{num_connects}\n' $urls | grep -c '^200 1$'
}
injected0=$(counter f injected)
n=$(get_codes 200 "http://$VIP/")
check "nginx on 0.0.0.0: 200 sequential connections ($n/200)" [ "$n" = 200 ]
# http.server listens with a backlog of 5: most of these find its accept
# queue full, their first data is dropped (drop_queue_full) and retransmitted
# with backoff by the client, as with a full queue in the stack.
n=$(in_ns c sh -c "seq 30 | xargs -P 30 -I{} curl -s -o /dev/null --max-time 60 -w '%{http_code}\n' http://$VIP:8080/" | grep -c '^200$')
check "http.server on the VIP: 30 concurrent connections ($n/30)" [ "$n" = 30 ]
n=$(get_codes 20 "http://$VIP:81/")
check "nginx on the VIP: 20 sequential connections ($n/20)" [ "$n" = 20 ]
n=$(get_codes 20 "http://$VIP:8081/")
check "http.server on 0.0.0.0: 20 sequential connections ($n/20)" [ "$n" = 20 ]
n=$(get_codes 20 "http://$VIP:8082/")
check "http.server on [::] (v4-mapped): 20 sequential connections ($n/20)" [ "$n" = 20 ]
injected=$(( $(counter f injected) - injected0 ))
check "every connection was injected by the module ($injected >= 290)" [ "$injected" -ge 290 ]

want=$(sha256sum < "$www/big" | cut -d' ' -f1)
got=$(in_ns c curl -s --max-time 120 "http://$VIP/big" | sha256sum | cut -d' ' -f1)
check "10 MiB GET from nginx: checksums match" [ "$got" = "$want" ]
head -c $((1024 * 1024)) /dev/urandom > "$HANDOFF_TMP/upload"
want=$(sha256sum < "$HANDOFF_TMP/upload" | cut -d' ' -f1)
got=$(in_ns c curl -s --max-time 60 --data-binary "@$HANDOFF_TMP/upload" "http://$VIP:9000/")
check "1 MiB POST: the server's checksum matches" [ "$got" = "$want" ]

urls=$(for i in $(seq 10); do printf 'http://%s/ ' "$VIP"; done)
out=$(in_ns c curl -s -o /dev/null --max-time 20 -w '%{http_code} %{num_connects}\n' $urls)
ok200=$(echo "$out" | grep -c '^200 ')
conns=$(echo "$out" | awk '{ s += $2 } END { print s }')
check "keep-alive: 10 requests ($ok200 ok) on $conns connection(s)" [ "$ok200" = 10 -a "$conns" = 1 ]

# A slow download keeps an injected socket open for ss to look at; its
# first data segments are captured (once under way, the transfer ends up
# waiting on the client's big receive buffer, and the wire goes quiet).
in_ns f timeout 20 tcpdump -nn -l -i eth0 -c 3 'tcp src port 80 and tcp[13] & 2 == 0 and len > 100' \
  > "$HANDOFF_TMP/ts.pcap.txt" 2>/dev/null &
dumper=$!
sleep 2
in_ns c curl -s -o /dev/null --limit-rate 200k --max-time 30 "http://$VIP/big" >/dev/null 2>&1 &
sleep 2
info=$(in_ns f ss -tin state established "( sport = :80 )")
echo "$info" | sed 's/^/#   /'
# (Debian 12's ss prints no ts/sack flags, not even for ordinary sockets:
# the server asks its own socket, TCP_INFO, and the wire is checked too.)
wait "$dumper"
dump=$(cat "$HANDOFF_TMP/ts.pcap.txt")
echo "$dump" | sed 's/^/#   /'
check "injected socket sends timestamps (tcpdump: TS on its segments)" grep -q "TS val" <<< "$dump"
check "ss -ti: injected socket has window scale 7,7" grep -q "wscale:7,7" <<< "$info"
check "ss -ti: injected socket has mss 1448 (1460 less timestamps)" grep -q "mss:1448" <<< "$info"
ti=$(in_ns c curl -s --max-time 10 "http://$VIP:9000/tcpinfo"); diag "TCP_INFO: $ti"
check "injected socket: TCP_INFO has timestamps, SACK, window scale 7/7, mss 1448" \
  [ "$ti" = "options ts,sack,wscale snd_wscale 7 rcv_wscale 7 snd_mss 1448" ]
# A client that offers neither SACK nor timestamps gets neither.
in_ns c sysctl -qw net.ipv4.tcp_sack=0 net.ipv4.tcp_timestamps=0
ti=$(in_ns c curl -s --max-time 10 "http://$VIP:9000/tcpinfo"); diag "TCP_INFO: $ti"
in_ns c sysctl -qw net.ipv4.tcp_sack=1 net.ipv4.tcp_timestamps=1
check "client without SACK and timestamps: injected socket has neither, mss 1460" \
  [ "$ti" = "options wscale snd_wscale 7 rcv_wscale 7 snd_mss 1460" ]
d=$(counter f drop_queue_full); diag "queue-full drops (retransmitted by clients): $d"
check "no unexpected drops (malformed, bad checksum, unknown)" \
  [ "$(counter f drop_malformed)" = 0 -a "$(counter f drop_bad_checksum)" = 0 -a "$(counter f drop_unknown_conn)" = 0 ]
in_ns f sh -c "kill \$(cat $www/nginx.pid)" 2>/dev/null
kill $(jobs -p) 2>/dev/null
ktap_finish
