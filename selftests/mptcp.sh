#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# MPTCP listeners never get injected connections (an MPTCP socket's TCP
# listener uses larger request socks than the module's): a SYN for a
# service port an MPTCP socket listens on is left to the stack, which
# serves the client itself (plain TCP by MPTCP's fallback, MPTCP with
# mptcpize); a plain listener on the same port afterwards is served by the
# module again; a listener that became MPTCP between a client's handshake
# and its first data gets no injection (the data is reset), and neither
# does an MPTCP listener on the target of a handoff (refused, the client
# reset). The kernel logs no splat (lib.sh).
. "$(dirname "$0")/lib.sh"

ktap_plan 12
[ -x "${HANDOFF_CLI:-}" ] || die "HANDOFF_CLI not set"
topo_setup
module_load || die "insmod"
# (A long syn-timeout and first-data wait: in the handshake-then-swap case
# below the connection must still wait for its data, slow under TCG.)
ho f service add "$VIP:80" dev eth0 syn-timeout 60000 first-data-wait 60000 ||
  die "service add :80"
SVC=$VIP:80

# srv.py tcp|mptcp PORT NAME: answers every request with "NAME mptcp=1" on an
# MPTCP connection, "NAME mptcp=0" on a plain (or fallen back) TCP one.
srv=$HANDOFF_TMP/mptcp-srv-$$.py
cat > "$srv" <<'PY'
import socket, sys
proto, port, name = sys.argv[1], int(sys.argv[2]), sys.argv[3]
s = socket.socket(socket.AF_INET, socket.SOCK_STREAM,
                  socket.IPPROTO_MPTCP if proto == "mptcp" else socket.IPPROTO_TCP)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("0.0.0.0", port))
s.listen(128)
while True:
    c, _ = s.accept()
    try:
        c.settimeout(5)
        buf = b""
        while b"\r\n\r\n" not in buf:
            d = c.recv(4096)
            if not d:
                break
            buf += d
        try:
            c.getsockopt(284, 1)  # SOL_MPTCP, MPTCP_INFO: fails on TCP and on fallback
            mp = 1
        except OSError:
            mp = 0
        body = f"{name} mptcp={mp}\n".encode()
        c.sendall(b"HTTP/1.0 200 OK\r\nContent-Length: %d\r\nConnection: close\r\n\r\n"
                  % len(body) + body)
    except OSError:
        pass
    finally:
        c.close()
PY
# serve NS tcp|mptcp PORT NAME: starts srv.py in NS; its pid in $srv_pid
# (ip netns exec execs it: no shell function in between to be killed
# instead of the server).
serve() {
  ip netns exec "$(nsname "$1")" python3 -S "$srv" "$2" "$3" "$4" >/dev/null 2>&1 &
  srv_pid=$!
  listening "$1" "$3" || die "$2 server on :$3 in $1 did not start"
}
# listening NS PORT: until a TCP or MPTCP socket listens on PORT (5 s at most).
listening() {
  local i
  for i in $(seq 50); do
    in_ns "$1" ss -Hltn "sport = :$2" | grep -q LISTEN && return 0
    in_ns "$1" ss -HlMn "sport = :$2" 2>/dev/null | grep -q LISTEN && return 0
    sleep 0.1
  done
  return 1
}
# unserve: stops the server serve started.
unserve() { kill "$srv_pid" 2>/dev/null; wait "$srv_pid" 2>/dev/null; }
# get N [WRAPPER...]: N sequential requests to the VIP's port 80 from one
# curl (run by WRAPPER), each on a connection of its own; prints the answers.
get() {
  local n=$1 urls; shift
  urls=$(for i in $(seq "$n"); do printf 'http://%s/ ' "$VIP"; done)
  # shellcheck disable=SC2086
  in_ns c "$@" curl -s --max-time 10 -H 'Connection: close' $urls
}
# stats: the service's syn_answered, injected and drop_no_listener, and the
# sum of its drop_* counters, in one line.
stats() {
  ho f -j stats -s | python3 -S -c '
import json, sys
for rec in json.load(sys.stdin):
    if rec.get("service") == sys.argv[1]:
        drops = sum(v for k, v in rec.items() if k.startswith("drop_"))
        print(rec["syn_answered"], rec["injected"], rec["drop_no_listener"], drops)' "$SVC"
}
# grew NAME: how much counter NAME (syn, inj, nl or drops) grew from the
# stats line $before to the stats line $now.
grew() {
  local i
  case $1 in syn) i=1 ;; inj) i=2 ;; nl) i=3 ;; drops) i=4 ;; esac
  echo $(( $(cut -d' ' -f$i <<< "$now") - $(cut -d' ' -f$i <<< "$before") ))
}
# mpc_acks: MP_CAPABLE handshakes completed by f's stack (third ACK seen).
mpc_acks() { in_ns f nstat -asz MPTcpExtMPCapableACKRX | awk '/^MPTcp/ { print $2 }'; }

# --- An MPTCP listener on the service port ---------------------------------
serve f mptcp 80 mp
diag "listener: $(in_ns f ss -HlMn 'sport = :80' | head -1)"
before=$(stats)
n=$(get 20 | grep -c '^mp mptcp=0$')
check "MPTCP listener: 20 plain TCP clients served by it, fallen back to TCP ($n/20)" [ "$n" = 20 ]
now=$(stats) syn=$(grew syn) inj=$(grew inj) d=$(grew drops)
check "MPTCP listener: the stack did their handshakes (syn_answered +$syn, injected +$inj)" \
  [ "$syn" = 0 -a "$inj" = 0 ]
check "MPTCP listener: the module dropped or reset none of their segments (drop_* +$d)" [ "$d" = 0 ]

if command -v mptcpize >/dev/null; then
  acks0=$(mpc_acks) before=$(stats)
  n=$(get 20 mptcpize run | grep -c '^mp mptcp=1$')
  check "MPTCP listener: 20 mptcpize'd clients served with MPTCP ($n/20)" [ "$n" = 20 ]
  acks=$(( $(mpc_acks) - acks0 ))
  now=$(stats) syn=$(grew syn) inj=$(grew inj)
  check "MPTCP handshakes by the stack (MPCapableACKRX +$acks), none by the module (syn_answered +$syn, injected +$inj)" \
    [ "$acks" -ge 20 -a "$syn" = 0 -a "$inj" = 0 ]
else
  skip "MPTCP listener: mptcpize'd clients (mptcpize not installed)"
  skip "MPTCP handshakes by the stack (mptcpize not installed)"
fi

# --- A plain listener in its place -----------------------------------------
unserve
serve f tcp 80 tcp
before=$(stats)
n=$(get 20 | grep -c '^tcp mptcp=0$')
check "plain listener on the same port: 20 clients served ($n/20)" [ "$n" = 20 ]
now=$(stats) syn=$(grew syn) inj=$(grew inj)
check "plain listener: the module answered and injected them (syn_answered +$syn, injected +$inj)" \
  [ "$syn" -ge 20 -a "$inj" -ge 20 ]

# --- Plain at the handshake, MPTCP at the first data ------------------------
# The client completes the handshake (with the module), then waits for the
# flag before it sends its request; meanwhile the listener becomes MPTCP.
flag=$HANDOFF_TMP/mptcp-flag-$$ out=$HANDOFF_TMP/mptcp-client-$$
rm -f "$flag"
in_ns c python3 -S -c '
import os, socket, sys, time
s = socket.create_connection((sys.argv[1], 80), timeout=10)
print("connected", flush=True)
while not os.path.exists(sys.argv[2]):
    time.sleep(0.05)
s.sendall(b"GET / HTTP/1.0\r\n\r\n")
try:
    print("reply " + s.recv(4096).decode(errors="replace").split("\r\n")[0], flush=True)
except ConnectionResetError:
    print("reset", flush=True)
except OSError as e:
    print("error %s" % e, flush=True)' "$VIP" "$flag" > "$out" 2>&1 &
client=$!
for i in $(seq 300); do grep -q connected "$out" && break; sleep 0.1; done
before=$(stats)
unserve
serve f mptcp 80 mp
touch "$flag"
wait "$client"
res=$(grep -v connected "$out")
diag "client after the swap: ${res:-nothing}"
check "listener became MPTCP between handshake and data: the data is reset" [ "$res" = reset ]
now=$(stats) nl=$(grew nl) inj=$(grew inj)
check "... counted as no listener (drop_no_listener +$nl), not injected (injected +$inj)" \
  [ "$nl" = 1 -a "$inj" = 0 ]
n=$(get 5 | grep -c '^mp mptcp=0$')
check "the MPTCP listener serves the next clients ($n/5)" [ "$n" = 5 ]
unserve

# --- A handoff to a node whose listener is MPTCP ----------------------------
# f hands every connection for :9000 to b1, where an MPTCP socket listens.
migrate_setup 9000
weights 0 1 0
serve b1 mptcp 9000 b1
in_ns c curl -s --max-time 10 "http://$VIP:9000/" >/dev/null; rc=$?
diag "curl through a handoff to b1's MPTCP listener: exit $rc"
check "handoff to an MPTCP listener: refused, the client reset (curl exit $rc)" [ $rc = 56 ]
check "b1 refused it (refused $(counter b1 refused), adopted $(counter b1 adopted)), f counted it (new_refused $(counter f new_refused))" \
  [ "$(counter b1 refused)" -ge 1 -a "$(counter b1 adopted)" = 0 -a "$(counter f new_refused)" -ge 1 ]
unserve
rm -f "$srv" "$flag" "$out"
ktap_finish
