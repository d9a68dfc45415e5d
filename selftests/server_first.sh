#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Protocols where the server speaks first (SSH, SMTP, FTP, MySQL): a client
# that sends nothing after the handshake is handed to the application after
# the service's first-data wait (default 200 ms; here also 1500 ms, and 0 =
# at the handshake ACK, also for a connection answered with a SYN cookie),
# and gets its banner; a client whose data comes after the wait is served
# too (the data goes to the bound socket); a client that sends at once is
# served as always. The kernel logs no splat (lib.sh).
. "$(dirname "$0")/lib.sh"

ktap_plan 9
[ -x "${HANDOFF_CLI:-}" ] || die "HANDOFF_CLI not set"
topo_setup
module_load || die "insmod"
ho f service add "$VIP:22" dev eth0 || die "service add :22"
ho f service add "$VIP:25" dev eth0 first-data-wait 1500 || die "service add :25"
ho f service add "$VIP:21" dev eth0 first-data-wait 0 || die "service add :21"
ho f service add "$VIP:3306" dev eth0 first-data-wait 0 syncookies always || die "service add :3306"
# A server that greets first, then echoes one line; on every port above.
in_ns f python3 -S -c '
import socket, sys, threading
def serve(port):
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("0.0.0.0", port)); s.listen(64)
    while True:
        c, _ = s.accept()
        def talk(c=c):
            try:
                c.settimeout(10)
                c.sendall(b"220 banner %d\r\n" % port)
                line = c.makefile("rb").readline()
                c.sendall(b"echo " + line)
            except OSError:
                pass
            finally:
                c.close()
        threading.Thread(target=talk, daemon=True).start()
for p in (22, 25, 21, 3306, 80):
    threading.Thread(target=serve, args=(p,), daemon=True).start()
threading.Event().wait()' >/dev/null 2>&1 &
for p in 22 25 21 3306 80; do wait_port f $p || die "server on :$p"; done
ho f service add "$VIP:80" dev eth0 || die "service add :80"

# client PORT [DELAY]: connects, reads the banner (the time it took is
# printed), optionally waits DELAY s and sends a line, prints the echo.
client() {
  in_ns c python3 -S -c '
import socket, sys, time
port, delay = int(sys.argv[2]), float(sys.argv[3])
t0 = time.monotonic()
s = socket.create_connection((sys.argv[1], port), timeout=10)
f = s.makefile("rb")
banner = f.readline().decode().strip()
took = time.monotonic() - t0
time.sleep(delay)
s.sendall(b"hello\n")
print("%s|%.3f|%s" % (banner, took, f.readline().decode().strip()))' "$VIP" "$1" "${2:-0}" 2>&1
}
# banner_ok OUT PORT: the client got the banner of PORT and its echo.
banner_ok() { [[ "$1" == "220 banner $2|"*"|echo hello" ]]; }
took() { cut -d'|' -f2 <<< "$1"; }

i0=$(counter f injected)
r=$(client 22); diag ":22 (wait 200 ms): $r"
check "server speaks first (default wait): banner and echo" banner_ok "$r" 22
check "... after the wait (banner after $(took "$r") s >= 0.2 s)" \
  python3 -S -c 'import sys; sys.exit(0 if float(sys.argv[1]) >= 0.2 else 1)' "$(took "$r")"
r=$(client 25); diag ":25 (wait 1500 ms): $r"
check "first-data-wait 1500: banner after the wait ($(took "$r") s >= 1.5 s)" \
  python3 -S -c 'import sys; sys.exit(0 if float(sys.argv[1]) >= 1.5 else 1)' "$(took "$r")"
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
check "a client that sends at once is served as always" [ "$r" = "220 banner 80|echo hello" ]
ktap_finish
