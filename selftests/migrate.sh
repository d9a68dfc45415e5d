#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Connections handed to a peer: the front f answers the handshake, hands
# the connection to b1 (NEW / MIGRATED_ACK over UDP on the redistribution
# network), forwards the client's later packets as DATA, and b1's nginx
# answers the client directly from the VIP (direct server return).
. "$(dirname "$0")/lib.sh"

ktap_plan 17
[ -x "${HANDOFF_CLI:-}" ] || die "HANDOFF_CLI not set"
topo_setup
module_load || die "insmod"
web_setup httpd big
migrate_setup
weights 0 1 0   # every connection to b1

# Nothing from f to the client but SYN-ACKs: capture f's client side.
in_ns f tcpdump -nn -l -i eth0 "src host $VIP and tcp[13] & 2 == 0" \
  > "$HANDOFF_TMP/dsr.txt" 2>/dev/null &
dumper=$!
sleep 1
nstat_frag0=$(for h in $SERVERS; do in_ns "$h" nstat -az IpFragCreates IpReasmReqds; done | awk '/^Ip/ { s += $2 } END { print s + 0 }')

page=$(in_ns c curl -s --max-time 10 "http://$VIP/")
check "curl to the VIP gets b1's page ($page)" [ "$page" = "served by b1" ]
check "b1's nginx logged the client's real address" grep -q '^10\.0\.1\.1 ' "$(www b1)/access.log"
check "f's nginx served nothing" [ ! -s "$(www f)/access.log" ]
fwd=$(ho f conn show forward)
diag "$fwd"
sleep 1
check "f counted the handoff (migrated $(counter f migrated), new_sent $(counter f new_sent))" \
  [ "$(counter f migrated)" -ge 1 -a "$(counter f new_sent)" -ge 1 ]
check "b1 adopted it (adopted $(counter b1 adopted))" [ "$(counter b1 adopted)" -ge 1 ]

urls=$(for i in $(seq 10); do printf 'http://%s/ ' "$VIP"; done)
out=$(in_ns c curl -s --max-time 20 -w 'connects %{num_connects}\n' $urls)
ok=$(grep -c '^served by b1$' <<< "$out")
conns=$(awk '/^connects/ { s += $2 } END { print s }' <<< "$out")
check "keep-alive: 10 requests served by b1 ($ok) on $conns connection(s)" [ "$ok" = 10 -a "$conns" = 1 ]

want=$(sha256sum < "$HANDOFF_TMP/big" | cut -d' ' -f1)
got=$(in_ns c curl -s --max-time 120 "http://$VIP/big" | sha256sum | cut -d' ' -f1)
check "10 MiB GET through the handoff: checksums match" [ "$got" = "$want" ]
head -c $((1024 * 1024)) /dev/urandom > "$HANDOFF_TMP/upload"
want=$(sha256sum < "$HANDOFF_TMP/upload" | cut -d' ' -f1)
got=$(in_ns c curl -s --max-time 60 --data-binary "@$HANDOFF_TMP/upload" "http://$VIP:9000/")
check "1 MiB POST through the handoff: b1's checksum matches" [ "$got" = "$want" ]

# A client reusing its port at once: b1 closed the last connection on the
# tuple (TIME_WAIT there); the next one is adopted all the same. The client
# reads to the end before it closes, so that b1 closes first and the
# client's side never holds the tuple in TIME_WAIT (curl may close first).
n=$(in_ns c python3 -S -c '
import socket, sys, time
vip = sys.argv[1]
for _ in range(3):
    for _ in range(100):  # the last socket may wait for the ACK of its FIN
        s = socket.socket()
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.settimeout(10)
        s.bind(("0.0.0.0", 41000))
        try:
            s.connect((vip, 80))
            break
        except OSError:
            s.close()
            time.sleep(0.05)
    s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    data = b""
    while chunk := s.recv(65536):
        data += chunk
    s.close()
    print(data.split(b"\r\n\r\n", 1)[-1].decode().strip())
' "$VIP" | grep -c '^served by b1$')
check "a client reusing its port: 3 connections on one tuple adopted by b1 ($n)" [ "$n" = 3 ]

# A slow download keeps a migrated connection open: its forward entry.
cport=42000
in_ns c curl -s -o /dev/null --local-port $cport --limit-rate 100k --max-time 90 "http://$VIP/big" &
slow=$!
sleep 3
entry=$(ho f -j conn show forward | python3 -S -c '
import json, sys
for e in json.load(sys.stdin):
    if e["src"].endswith(":'$cport'"):
        print(e["state"], e["peer"], e["flow-id"], e["packets"], e["bytes"])' 2>/dev/null)
diag "forward entry of the download: $entry"
read -r st peer flow pk by <<< "$entry"
check "conn show forward: state forwarded, peer 2, a flow id, packets and bytes counted" \
  [ "$st" = forwarded -a "$peer" = 2 -a "${flow:-0}" -gt 0 -a "${pk:-0}" -gt 0 -a "${by:-0}" -gt 0 ]

kill "$slow" 2>/dev/null
wait "$slow"

# Path MTU discovery for a migrated connection: an ICMP "fragmentation
# needed" (MTU 1280) quoting b1's segment to the client goes to the VIP,
# i.e. to f, which forwards it to b1 as DATA; b1's stack lowers the path
# MTU to the client. The stack takes an error only for a sequence number
# in flight (snd_una..snd_nxt). So the client's own connection never acks
# any data: c drops the connection's segments without SYN at ingress (tc,
# after the packet socket saw them; the SYN-ACK passes), and the first byte
# of each data segment seen stays in flight however slow the machine. (The
# filter is in place before the connection: its request must not wait
# past the first-data wait.)
unreach() { in_ns "$1" nstat -az IcmpInDestUnreachs | awk '/^Icmp/ { print $2 }'; }
u_f0=$(unreach f) u_b10=$(unreach b1)
sent=$(in_ns c python3 -S -c '
import socket, struct, subprocess, sys, time
cport, vip, client = int(sys.argv[1]), sys.argv[2], sys.argv[3]
vipb, cb = socket.inet_aton(vip), socket.inet_aton(client)
def csum(b):
    t = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    t = (t >> 16) + (t & 0xFFFF)
    return ~(t + (t >> 16)) & 0xFFFF
def icmp(seq):
    quoted = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 1500, 0, 0x4000, 64, 6, 0, vipb, cb)
    quoted += struct.pack("!HHI", 80, cport, seq)
    m = struct.pack("!BBHHH", 3, 4, 0, 0, 1280) + quoted
    return m[:2] + struct.pack("!H", csum(m)) + m[4:]
def tc(*a):
    subprocess.run(("tc",) + a, check=True)
tc("qdisc", "add", "dev", "eth0", "clsact")
# TCP flags at byte 33 (the VIP sends no IP options): SYN clear.
tc("filter", "add", "dev", "eth0", "ingress", "protocol", "ip", "prio", "1", "u32",
   "match", "ip", "src", vip + "/32", "match", "ip", "sport", "80", "0xffff",
   "match", "ip", "dport", str(cport), "0xffff", "match", "u8", "0", "0x02", "at", "33",
   "action", "drop")
r = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(3))
s.bind(("eth0", 0))
s.settimeout(1)
c = socket.socket()
c.bind(("0.0.0.0", cport))
c.settimeout(10)
c.connect((vip, 80))
c.sendall(b"GET /big HTTP/1.1\r\nHost: x\r\n\r\n")
sent, end = 0, time.time() + 30
while sent < 3 and time.time() < end:
    try:
        f, a = s.recvfrom(65535)
    except socket.timeout:
        continue
    if a[2] == socket.PACKET_OUTGOING or f[12:14] != b"\x08\x00":
        continue
    ip = f[14:]
    ihl = (ip[0] & 15) * 4
    if ip[9] != 6 or ip[12:16] != vipb or ip[16:20] != cb:
        continue
    sp, dp, seq = struct.unpack("!HHI", ip[ihl:ihl + 8])
    payload = struct.unpack("!H", ip[2:4])[0] - ihl - (ip[ihl + 12] >> 4) * 4
    if (sp, dp) == (80, cport) and payload > 0:
        r.sendto(icmp(seq), (vip, 0))
        sent += 1
print(sent)
time.sleep(1)
tc("qdisc", "del", "dev", "eth0", "clsact")
' 42001 "$VIP" 10.0.1.1)
u_f=$(unreach f) u_b1=$(unreach b1)
diag "ICMP errors sent: ${sent:-0}; IcmpInDestUnreachs f $u_f0 -> $u_f, b1 $u_b10 -> $u_b1"
check "ICMP errors for a migrated connection reach b1's stack (through f), not f's" \
  [ "${sent:-0}" -gt 0 -a "$((u_b1 - u_b10))" = "${sent:-0}" -a "$u_f" = "$u_f0" ]
rt=$(in_ns b1 ip route get 10.0.1.1 from "$VIP")
diag "b1: $(echo $rt)"
check "... and b1 applies it: path MTU to the client 1280" grep -q "mtu 1280" <<< "$rt"

kill "$dumper" 2>/dev/null; wait "$dumper" 2>/dev/null
n=$(grep -c . "$HANDOFF_TMP/dsr.txt")
[ "$n" = 0 ] || head -5 "$HANDOFF_TMP/dsr.txt" | sed 's/^/#   /'
check "direct server return: no packet from f to the client after the SYN-ACK ($n seen)" [ "$n" = 0 ]

weights 1 1 1
read -r nf nb1 nb2 failed <<< "$(served_by 300 "http://$VIP/")"
diag "300 connections: f $nf, b1 $nb1, b2 $nb2, failed $failed"
check "300 weighted connections all succeed" [ "$failed" = 0 ]
check "each host served some (f $nf, b1 $nb1, b2 $nb2)" [ "$nf" -gt 0 -a "$nb1" -gt 0 -a "$nb2" -gt 0 ]

frag=$(for h in $SERVERS; do in_ns "$h" nstat -az IpFragCreates IpReasmReqds; done | awk '/^Ip/ { s += $2 } END { print s + 0 }')
check "no IP fragments created or reassembled between servers ($nstat_frag0 -> $frag)" [ "$frag" = "$nstat_frag0" ]
check "no malformed or unknown datagrams" \
  [ "$(counter b1 dgram_malformed)" = 0 -a "$(counter f dgram_not_peer)" = 0 -a "$(counter b1 dgram_not_peer)" = 0 ]
ho f -s stats | sed 's/^/#   /' | head -3
ktap_finish
