#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# The first-data wait, for protocols where the server speaks first (SSH,
# SMTP, FTP, MySQL): a client that sends nothing after the handshake is
# handed over after the service's first-data wait (default 200 ms; here
# also 1500 ms, and 0 = bound at the handshake ACK, also for a connection
# answered with a SYN cookie), and gets its banner; a client whose data
# comes after the wait is served too (the data goes to the bound socket); a
# client that sends at once is served as always. When the wait ends the
# policy chooses with what has arrived: a weighted service hands a silent
# client to b1, whose application greets it (direct server return) and
# gets its later data through f; a host-uri service with half a request
# head held hands it, by its fallback, to b1 with those bytes. The kernel
# logs no splat (lib.sh).
. "$(dirname "$0")/lib.sh"

ktap_plan 16
[ -x "${HANDOFF_CLI:-}" ] || die "HANDOFF_CLI not set"
topo_setup
module_load || die "insmod"
ho f service add "$VIP:22" dev eth0 || die "service add :22"
ho f service add "$VIP:25" dev eth0 first-data-wait 1500 || die "service add :25"
ho f service add "$VIP:21" dev eth0 first-data-wait 0 || die "service add :21"
ho f service add "$VIP:3306" dev eth0 first-data-wait 0 syncookies always || die "service add :3306"
# banner_server NS PORTS...: in NS, a server that greets first ("220 NS
# banner PORT"), then echoes one line; on every port given.
banner_server() {
  local ns=$1
  shift
  in_ns "$ns" python3 -S -c '
import socket, sys, threading
name = sys.argv[1].encode()
def serve(port):
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("0.0.0.0", port)); s.listen(64)
    while True:
        c, _ = s.accept()
        def talk(c=c):
            try:
                c.settimeout(10)
                c.sendall(b"220 %s banner %d\r\n" % (name, port))
                line = c.makefile("rb").readline()
                c.sendall(b"echo " + line)
            except OSError:
                pass
            finally:
                c.close()
        threading.Thread(target=talk, daemon=True).start()
for p in sys.argv[2:]:
    threading.Thread(target=serve, args=(int(p),), daemon=True).start()
threading.Event().wait()' "$ns" "$@" >/dev/null 2>&1 &
}
banner_server f 22 25 21 3306 80
banner_server b1 23 24
for p in 22 25 21 3306 80; do wait_port f $p || die "server on :$p"; done
for p in 23 24; do wait_port b1 $p || die "server on b1 :$p"; done
ho f service add "$VIP:80" dev eth0 || die "service add :80"

# client PORT [DELAY [FIRST]]: connects, optionally sends FIRST (escapes
# allowed) at once, reads the banner (the time it took is printed); then,
# unless FIRST was sent, waits DELAY s and sends a line; prints the echo.
client() {
  in_ns c python3 -S -c '
import socket, sys, time
port, delay, first = int(sys.argv[2]), float(sys.argv[3]), sys.argv[4].encode()
t0 = time.monotonic()
s = socket.create_connection((sys.argv[1], port), timeout=10)
if first:
    s.sendall(first.decode("unicode_escape").encode("latin-1"))
f = s.makefile("rb")
banner = f.readline().decode().strip()
took = time.monotonic() - t0
if not first:
    time.sleep(delay)
    s.sendall(b"hello\n")
print("%s|%.3f|%s" % (banner, took, f.readline().decode().strip()))' "$VIP" "$1" "${2:-0}" "${3:-}" 2>&1
}
# banner_ok OUT PORT [HOST]: the client got the banner of HOST (f) on PORT
# and the echo of its line.
banner_ok() { [[ "$1" == "220 ${3:-f} banner $2|"*"|echo hello" ]]; }
took() { cut -d'|' -f2 <<< "$1"; }
# greeted_by OUT HOST PORT: the banner is HOST's for PORT.
greeted_by() { [[ "$1" == "220 $2 banner $3|"* ]]; }
# within OUT MIN MAX: the banner came after MIN s and before MAX s.
within() {
  python3 -S -c 'import sys; t = float(sys.argv[1]); sys.exit(0 if float(sys.argv[2]) <= t < float(sys.argv[3]) else 1)' \
    "$(took "$1")" "$2" "$3"
}

i0=$(counter f injected)
r=$(client 22); diag ":22 (wait 200 ms): $r"
check "server speaks first (default wait): banner and echo" banner_ok "$r" 22
check "... after the wait (banner after $(took "$r") s >= 0.2 s)" within "$r" 0.2 5.2
r=$(client 25); diag ":25 (wait 1500 ms): $r"
check "first-data-wait 1500: banner after the wait ($(took "$r") s >= 1.5 s)" within "$r" 1.5 6.5
check "... and the echo" banner_ok "$r" 25
r=$(client 21); diag ":21 (wait 0): $r"
check "first-data-wait 0: bound at the handshake ACK, banner and echo" banner_ok "$r" 21
r=$(client 3306); diag ":3306 (wait 0, syncookies always): $r"
check "... also for a connection answered with a cookie (cookies_checked $(counter f cookies_checked "$VIP:3306"))" \
  banner_ok "$r" 3306
r=$(client 22 1); diag ":22, data 1 s after the banner: $r"
check "data after the wait reaches the bound socket" banner_ok "$r" 22
check "the module bound each of them (injected +$(( $(counter f injected) - i0 )) >= 5)" \
  [ $(( $(counter f injected) - i0 )) -ge 5 ]
# A client that sends first (HTTP-like): served as always, with its data.
r=$(in_ns c python3 -S -c '
import socket, sys
s = socket.create_connection((sys.argv[1], 80), timeout=10)
s.sendall(b"hello\n")
f = s.makefile("rb")
print(f.readline().decode().strip() + "|" + f.readline().decode().strip())' "$VIP" 2>&1)
diag ":80, client first: $r"
check "a client that sends at once is served as always" [ "$r" = "220 f banner 80|echo hello" ]

# Migration: f hands :23 (weighted, its own weight 0) and :24 (host-uri,
# falling back to weighted) to b1, set up for direct server return.
in_ns b1 sysctl -qw net.ipv4.conf.eth0.arp_ignore=1 net.ipv4.conf.eth0.arp_announce=2 \
  net.ipv4.conf.all.rp_filter=2 net.ipv4.conf.lo.rp_filter=2
ho f node set id 1 forward "10.0.2.2:$FWD_PORT" weight 0 && ho f peer add 2 address 10.0.2.3 &&
  ho b1 node set id 2 forward "10.0.2.3:$FWD_PORT" && ho b1 peer add 1 address 10.0.2.2 ||
  die "nodes"
ho b1 service add "$VIP:23" dev eth0 && ho b1 service add "$VIP:24" dev eth0 || die "b1 services"
ho f service add "$VIP:23" dev eth0 policy weighted first-data-wait 300 || die "service add :23"
ho f service add "$VIP:24" dev eth0 policy host-uri match /api node 1 fallback weighted \
  first-data-wait 1000 || die "service add :24"
m0=$(counter f migrated) a0=$(counter b1 adopted)
r=$(client 23); diag ":23 (weighted to b1, wait 300 ms): $r"
check "a silent client is handed to the peer the policy chooses: b1's banner" \
  greeted_by "$r" b1 23
check "... in about the wait ($(took "$r") s, 0.3 to 5.3 s)" within "$r" 0.3 5.3
check "... and its later data reaches b1's application through f" banner_ok "$r" 23 b1
# Half a request head (no blank line): /api would name f, but only a whole
# head is matched; the fallback sends it to b1 with the bytes held.
h0=$(counter f request_held "$VIP:24")
r=$(client 24 0 'GET /api/x HTTP/1.1\r\nHost: a.example\r\n'); diag ":24 (host-uri, partial head): $r"
check "part of a request when the wait ends: the fallback chooses b1" greeted_by "$r" b1 24
check "... when the wait ends ($(took "$r") s, 1 to 6 s)" within "$r" 1 6
check "... which gets the bytes held (request_held +$(( $(counter f request_held "$VIP:24") - h0 )))" \
  [ "$(cut -d'|' -f3 <<< "$r")" = "echo GET /api/x HTTP/1.1" ]
dm=$(( $(counter f migrated) - m0 )) da=$(( $(counter b1 adopted) - a0 ))
check "f migrated both (migrated +$dm), b1 adopted both (adopted +$da)" [ $(( dm >= 2 && da >= 2 )) = 1 ]
ktap_finish
