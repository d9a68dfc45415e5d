#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Clients at the edges of TCP get what the stack would give them: a small
# MSS (500, and 40, below the stack's floor of 48) is honoured, not a hang;
# SYN+FIN is not answered; a corrupted segment of no connection is dropped,
# not reset; an old duplicate of a connection's first segment, after the
# application aborted the connection, never reaches the application again;
# the namespace's tcp_sack, tcp_timestamps and tcp_window_scaling shape the
# SYN-ACK, and with tcp_syncookies=0 (no injection possible) the stack
# itself does the handshake and serves the client. The kernel logs no splat
# (lib.sh).
. "$(dirname "$0")/lib.sh"

ktap_plan 13
[ -x "${HANDOFF_CLI:-}" ] || die "HANDOFF_CLI not set"
topo_setup
module_load || die "insmod"
ho f service add "$VIP:80" dev eth0 || die "service add :80"
ho f service add "$VIP:83" dev eth0 || die "service add :83"
spoof_setup
out=$HANDOFF_TMP/client_edges.$$
mkdir -p "$out.www"
head -c 20000 /dev/urandom | base64 > "$out.www/index.html"
in_ns f python3 -S -m http.server --bind 0.0.0.0 --directory "$out.www" 80 >/dev/null 2>&1 &
# :83 answers each request and aborts the connection (SO_LINGER 0: RST,
# the socket gone at once); one line per connection accepted.
in_ns f python3 -S -c '
import socket, struct, sys
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("0.0.0.0", 83)); s.listen(16)
log = open(sys.argv[1], "a", buffering=1)
while True:
    c, peer = s.accept()
    log.write("accepted %s:%d\n" % peer)
    c.settimeout(5)
    try:
        c.recv(4096)
        c.sendall(b"HTTP/1.0 200 OK\r\n\r\naborted\n")
    except OSError:
        pass
    c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    c.close()' "$out.accepts" >/dev/null 2>&1 &
wait_port f 80 && wait_port f 83 || die "servers did not start"

# --- MSS -----------------------------------------------------------------
# Segmentation offloads off on f's side: the capture sees each segment as
# sent on the wire, not a GSO packet.
in_ns f ethtool -K eth0 tso off gso off >/dev/null 2>&1 || die "ethtool -K"
# request MSS: one request with the SYN's MSS option MSS; the largest reply
# segment printed.
largest() {
  tcpraw request --mss "$1" --expect-mss "$2" --timeout 3 > "$out.mss$1"; local rc=$?
  diag "MSS $1: $(grep reply_bytes "$out.mss$1")"
  return $rc
}
check "client MSS 500: served, no reply segment larger than 500" largest 500 500
check "client MSS 40: served with the stack's floor (no segment above 48)" largest 40 48
in_ns f ethtool -K eth0 tso on gso on >/dev/null 2>&1

# --- Odd segments ----------------------------------------------------------
d0=$(counter f drop_malformed)
check "SYN+FIN: no answer" tcpraw syn-fin
check "... dropped and counted (drop_malformed +$(( $(counter f drop_malformed) - d0 )))" \
  [ "$(counter f drop_malformed)" -gt "$d0" ]
c0=$(counter f drop_bad_checksum) u0=$(counter f drop_unknown_conn)
check "corrupted segment of no connection: not reset" tcpraw unknown-bad-csum
check "... dropped as a bad checksum, not as an unknown connection" \
  [ "$(counter f drop_bad_checksum)" -gt "$c0" -a "$(counter f drop_unknown_conn)" = "$u0" ]

# --- An old duplicate of the first segment ----------------------------------
# The request is injected, the application answers and aborts; 4 s later
# (past the window in which a lost child is re-created) the client sends
# its first segment again, and nothing else in between.
check "aborted connection: its first segment, sent again 4 s later, is not served" \
  tcpraw late-dup --dport 83 --dup-after 4
accepts=$(grep -c accepted "$out.accepts")
check "... the application accepted the connection once ($accepts)" [ "$accepts" = 1 ]

# --- The namespace's TCP settings -------------------------------------------
# synack_opts: the options of the SYN-ACK to a SYN with MSS, SACK, TS and WS.
synack_opts() {
  tcpraw syn --timeout 3 | python3 -S -c '
import json, sys
for l in sys.stdin:
    r = json.loads(l)
    if r["flags"] == "SA":
        o = r["options"]
        print(" ".join(k for k in ("sack_perm", "tsval", "wscale") if k in o))
        break'
}
opts=$(synack_opts)
check "default settings: SYN-ACK has SACK, timestamps, window scaling ($opts)" \
  [ "$opts" = "sack_perm tsval wscale" ]
in_ns f sysctl -qw net.ipv4.tcp_sack=0 net.ipv4.tcp_timestamps=0 net.ipv4.tcp_window_scaling=0
opts=$(synack_opts)
check "tcp_sack, tcp_timestamps, tcp_window_scaling 0: SYN-ACK has none of them (${opts:-none})" \
  [ -z "$opts" ]
body=$(in_ns c curl -s --max-time 5 "http://$VIP/" | head -c 20)
check "... and a client is served" [ "$body" = "$(head -c 20 "$out.www/index.html")" ]
in_ns f sysctl -qw net.ipv4.tcp_sack=1 net.ipv4.tcp_timestamps=1 net.ipv4.tcp_window_scaling=1

in_ns f sysctl -qw net.ipv4.tcp_syncookies=0
s0=$(counter f syn_answered) i0=$(counter f injected)
n=0
for i in $(seq 5); do
  [ "$(in_ns c curl -s --max-time 5 "http://$VIP/" | head -c 20)" = "$(head -c 20 "$out.www/index.html")" ] &&
    n=$((n + 1))
done
s1=$(counter f syn_answered) i1=$(counter f injected)
check "tcp_syncookies 0: the stack serves the clients itself ($n/5; syn_answered +$((s1 - s0)), injected +$((i1 - i0)))" \
  [ "$n" = 5 -a "$s1" = "$s0" -a "$i1" = "$i0" ]
in_ns f sysctl -qw net.ipv4.tcp_syncookies=1
rm -rf "$out".*
ktap_finish
