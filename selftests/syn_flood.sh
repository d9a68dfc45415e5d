#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# SYN cookies. A flood of spoofed SYNs from random sources (hping3, as fast
# as the VM sends) fills the service's share of the temporary table; from
# then on SYNs are answered without state, and a client connecting every
# 100 ms meanwhile is served (>= 99%) through cookies: the table stays
# within max-temporary, cookies are sent and checked. A service with
# `syncookies always` keeps no state at all, and its cookie connections
# carry what the client negotiated (window scale, SACK, timestamps, the
# MSS of the cookie table) and large transfers. A forged ACK is dropped as a
# bad cookie, and a service that sent no cookies resets unknown segments as
# before. The kernel logs no splat (lib.sh).
. "$(dirname "$0")/lib.sh"

ktap_plan 14
[ -x "${HANDOFF_CLI:-}" ] || die "HANDOFF_CLI not set"
command -v hping3 >/dev/null || die "hping3 not installed (make deps)"
topo_setup
module_load || die "insmod"
MAXTMP=512
ho f service add "$VIP:80" dev eth0 max-temporary $MAXTMP syn-timeout 30000 || die "service add :80"
ho f service add "$VIP:81" dev eth0 syncookies always || die "service add :81"
ho f service add "$VIP:82" dev eth0 || die "service add :82"
out=$HANDOFF_TMP/syn_flood.$$
mkdir -p "$out"
echo flooded > "$out/index.html"
in_ns f python3 -S -m http.server --bind 0.0.0.0 --directory "$out" 80 >/dev/null 2>&1 &
in_ns f python3 -S "$here/httpd.py" 0.0.0.0 81 >/dev/null 2>&1 &
wait_port f 80 && wait_port f 81 || die "servers did not start"
svc() { counter f "$2" "$VIP:$1"; }

# --- syncookies always --------------------------------------------------
info=$(in_ns c curl -s --max-time 10 "http://$VIP:81/tcpinfo")
diag "cookie connection to :81: $info"
check "syncookies always: served (${info:-nothing})" [ -n "$info" ]
check "... every SYN without state (syn_answered $(svc 81 syn_answered), syncookies_sent $(svc 81 syncookies_sent), cookies_checked $(svc 81 cookies_checked))" \
  [ "$(svc 81 syn_answered)" = 0 -a "$(svc 81 syncookies_sent)" -ge 1 -a "$(svc 81 cookies_checked)" -ge 1 ]
# The client (Linux) sends MSS 1460, SACK, timestamps, window scale 7.
check "... the connection keeps window scaling, SACK, timestamps, MSS 1460 (the cookie table's)" \
  python3 -S -c '
import sys
f = sys.argv[1].split()
kv = dict(zip(f[::2], f[1::2]))
sys.exit(0 if set(kv["options"].split(",")) >= {"ts", "sack", "wscale"} and kv["snd_mss"] == "1448" else 1)' "$info"
head -c $((4 * 1024 * 1024)) /dev/urandom > "$out/post"
want=$(sha256sum < "$out/post" | cut -d' ' -f1)
got=$(in_ns c curl -s --max-time 60 --data-binary @"$out/post" "http://$VIP:81/")
check "... 4 MiB POST through a cookie connection: checksums match" [ "$got" = "$want" ]
check "... and no temporary entry ($(svc 81 temporary_entries))" [ "$(svc 81 temporary_entries)" = 0 ]

# --- A flood ---------------------------------------------------------------
# The flooder x sends from random addresses; f's SYN-ACKs go back to its MAC
# and its stack drops them (none of the addresses is its).
ns_add x
ip link add eth0 netns "$(nsname x)" type veth peer name x-eth0 netns "$(nsname s)" || die "veth x"
ip -n "$(nsname s)" link set x-eth0 master brc up
ip -n "$(nsname x)" addr add 10.0.1.66/24 dev eth0
ip -n "$(nsname x)" link set eth0 up
ip -n "$(nsname x)" route add "$VIP/32" via 10.0.1.2
in_ns f ip neigh replace 10.0.1.66 lladdr "$(in_ns x cat /sys/class/net/eth0/address)" dev eth0
FLOOD_S=15
c0=$(svc 80 syncookies_sent) s0=$(svc 80 syn_answered) k0=$(svc 80 cookies_checked)
rx0=$(in_ns f cat /sys/class/net/eth0/statistics/rx_packets)
in_ns x timeout -s INT $FLOOD_S hping3 -q -S -p 80 --flood --rand-source "$VIP" \
  > "$out/hping" 2>&1 &
flood=$!
# The client: a connection every 100 ms (one process, a thread each: a
# slow one does not hold back the next) for the rest of the flood; the
# table's gauge is sampled meanwhile.
sleep 1
in_ns c python3 -S -c '
import sys, threading, time, urllib.request
url, secs = sys.argv[1], float(sys.argv[2])
res = []
def get():
    try:
        res.append(urllib.request.urlopen(url, timeout=20).read().strip() == b"flooded")
    except Exception:
        res.append(False)
threads, end = [], time.monotonic() + secs
while time.monotonic() < end:
    t = threading.Thread(target=get); t.start(); threads.append(t)
    time.sleep(0.1)
for t in threads:
    t.join()
print(len(res), sum(res))' "http://$VIP/" $((FLOOD_S - 2)) > "$out/clients" &
clients=$!
max_tmp=0
while kill -0 "$clients" 2>/dev/null; do
  t=$(svc 80 temporary_entries); [ "$t" -gt "$max_tmp" ] && max_tmp=$t
  sleep 1
done
wait "$clients"
read -r i served < "$out/clients"
wait "$flood"
rx=$(( $(in_ns f cat /sys/class/net/eth0/statistics/rx_packets) - rx0 ))
sent=$(sed -n 's/^\([0-9]*\) packets transmitted.*/\1/p' "$out/hping")
cookies=$(( $(svc 80 syncookies_sent) - c0 )) stored=$(( $(svc 80 syn_answered) - s0 ))
checked=$(( $(svc 80 cookies_checked) - k0 ))
diag "flood: hping3 sent ${sent:-?} SYNs in $FLOOD_S s (~$(( ${sent:-0} / FLOOD_S )) per second), f's eth0 received $rx packets"
diag "f: $stored SYNs answered with state, $cookies with cookies, $checked cookies checked; temporary entries at most $max_tmp of $MAXTMP"
check "flood: at least 2000 spoofed SYNs reached f ($rx packets)" [ "$rx" -ge 2000 ]
check "flood: the client connected $i times (every 100 ms: >= 80), $served served (>= 99%)" \
  [ "$i" -ge 80 -a $((served * 100)) -ge $((i * 99)) ]
check "flood: the service's table stayed within max-temporary ($max_tmp <= $MAXTMP, now $(svc 80 temporary_entries))" \
  [ "$max_tmp" -le $MAXTMP -a "$(svc 80 temporary_entries)" -le $MAXTMP ]
check "flood: SYNs answered with cookies once the share was full ($stored with state, $cookies without)" \
  [ "$stored" -le $MAXTMP -a "$cookies" -ge 1000 ]
check "flood: the client's connections came through cookies ($checked checked)" [ "$checked" -ge 1 ]

# --- Forged ACKs ------------------------------------------------------------
spoof_setup
f0=$(svc 80 cookies_failed) b0=$(svc 80 drop_bad_cookie)
tcpraw unknown-data >/dev/null; rc=$?
check "a forged ACK while cookies are in use: no RST (tcpraw rc $rc)" [ $rc != 0 ]
check "... dropped as a bad cookie (cookies_failed +$(( $(svc 80 cookies_failed) - f0 )), drop_bad_cookie +$(( $(svc 80 drop_bad_cookie) - b0 )))" \
  [ "$(svc 80 cookies_failed)" -gt "$f0" -a "$(svc 80 drop_bad_cookie)" -gt "$b0" ]
check "a service that sent no cookies resets it as unknown" tcpraw unknown-data --dport 82
check "... and checks no cookie (cookies_failed $(svc 82 cookies_failed))" [ "$(svc 82 cookies_failed)" = 0 ]
rm -rf "$out"
ktap_finish
