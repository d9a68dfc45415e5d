#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# The handoff CLI against the module's generic netlink family: every command,
# in two namespaces that do not see each other's configuration; JSON output
# that round-trips; EPERM for unprivileged changes; bad input refused with a
# clear message and no change; the per-namespace limits, and dumps spanning
# many messages. handoff_genl.py sends what the CLI would refuse itself, to
# reach the kernel's own checks.
. "$(dirname "$0")/lib.sh"

CLI=${HANDOFF_CLI:-}
PY="python3 -S"
GENL="$PY $here/handoff_genl.py"
out=${HANDOFF_TMP:-/tmp}/netlink_cli.$$
mkdir -p "$out"

ktap_plan 91
[ -n "$CLI" ] && [ -x "$CLI" ] || die "HANDOFF_CLI not set or not executable: '$CLI'"
check "insmod handoff.ko" module_load
ns_add a
ns_add b
ip -n "$(nsname a)" link add d0 type dummy
ip -n "$(nsname a)" link add d1 type dummy
D0=$(ip -n "$(nsname a)" -o link show d0 | cut -d: -f1)

# same_output NAME NS CMD...: CMD's output equals the file $out/NAME.
same_output() { local f=$out/$1; shift; diff -u "$f" <(ho "$@" 2>&1) >&2; }
# snapshot NS: everything the CLI shows of NS's configuration.
# (One CLI run with -batch: under TCG every process start costs.)
snapshot() { printf 'node show\nservice show\npeer show\n' | ho "$1" -batch -; }
# refused NAME NS 'MESSAGE' ARGS...: the CLI fails with MESSAGE on stderr,
# and the namespace's configuration is unchanged.
refused() {
  local name=$1 ns=$2 want=$3 before after err rc
  shift 3
  before=$(snapshot "$ns")
  err=$(ho "$ns" "$@" 2>&1 >/dev/null); rc=$?
  after=$(snapshot "$ns")
  if [ $rc -ne 0 ] && [[ "$err" == *"$want"* ]] && [ "$before" = "$after" ]; then
    ok "$name"
  else
    diag "rc=$rc stderr: $err"
    [ "$before" = "$after" ] || diag "configuration changed: $before // $after"
    fail "$name"
  fi
}
# kernel_refused NAME NS ERRNO 'MESSAGE' CMD EXPR: a raw request fails with
# ERRNO and MESSAGE, and nothing changes.
kernel_refused() {
  local name=$1 ns=$2 want_errno=$3 want=$4 before after res
  before=$(snapshot "$ns")
  res=$(in_ns "$ns" $GENL send "$5" "$6" 2>&1)
  after=$(snapshot "$ns")
  if [[ "$res" == "errno $want_errno: $want"* ]] && [ "$before" = "$after" ]; then
    ok "$name"
  else
    diag "got: $res"
    [ "$before" = "$after" ] || diag "configuration changed"
    fail "$name"
  fi
}

# --- node ----------------------------------------------------------------
check "node show, nothing set" [ "$(ho a node show)" = "weight 1 sync-interval 100 dead-intervals 3" ]
# The forward endpoint is where the node's redistribution socket binds: an
# address of the namespace.
refused "forward address not local" a "cannot open the forward socket on that address and port" \
  node set forward 10.0.2.2:7000
in_ns a ip link add fwd0 type dummy && in_ns a ip addr add 10.0.2.2/24 dev fwd0 &&
  in_ns a ip link set fwd0 up
check "node set" ho a node set id 1 forward 10.0.2.2:7000 sync 10.0.2.2:7001 weight 2 sync-interval 250
check "node show" [ "$(ho a node show)" = "node 1 forward 10.0.2.2:7000 sync 10.0.2.2:7001 weight 2 sync-interval 250 dead-intervals 3" ]
check "node set one attribute" ho a node set weight 3
check "node show keeps the others" \
  [ "$(ho a node show)" = "node 1 forward 10.0.2.2:7000 sync 10.0.2.2:7001 weight 3 sync-interval 250 dead-intervals 3" ]
refused "sync-interval out of range (CLI)" a 'invalid sync-interval "5" (10..60000 ms)' node set sync-interval 5
kernel_refused "kernel: sync-interval out of range" a 34 "sync-interval out of range (10..60000 ms)" 2 \
  "nest(1, u32(7, 5))"
refused "sync socket on an address not local" a "cannot open the sync socket on that address and port" \
  node set sync 10.9.9.9:7001

# --- services ------------------------------------------------------------
check "service add (defaults)" ho a service add 10.0.0.100:80
check "service add (every attribute)" ho a service add 10.0.0.101:443 dev d0 policy weighted \
  max-temporary 100 max-forward 200 syn-timeout 3000 idle-timeout 60000 request-limit 4096
check "service add syncookies always" ho a service add 10.0.0.105:80 syncookies always
check "service show: syncookies always" grep -q ' syncookies always first-data-wait 200 request-limit 16384$' <(ho a service show 10.0.0.105:80)
ho a service del 10.0.0.105:80
# What the module cannot serve yet is refused, not accepted and never served
# (after the request was checked in full: a bad rule gets its own message).
# The content policies are served (content_http.sh, content_cookie.sh).
refused "IPv6 service: not supported yet" a \
  "IPv6 services are not supported yet (the hook serves IPv4)" service add '[2001:db8::1]:443'
check "policy host-uri accepted, its rules shown" eval "ho a service add 10.0.0.102:443 policy host-uri \
  match a.example/api node 2 match /static node 3 fallback weighted &&
  ho a service show 10.0.0.102:443 | grep 'policy host-uri' |
  grep -q 'match a.example/api node 2 match /static node 3'"
ho a service del 10.0.0.102:443
check "policy cookie accepted" ho a service add 10.0.0.102:8080 policy cookie name SRV
ho a service del 10.0.0.102:8080
check "policy tls-sni accepted (raw, no rules: resumption hash, fallback local)" \
  in_ns a $GENL send 3 "nest(2, addr(1, '10.0.0.102'), u16(2, 443), u32(5, 6))"
ho a service del 10.0.0.102:443
check "policy least-load accepted" ho a service add 10.0.0.102:80 policy least-load
ho a service del 10.0.0.102:80
ho a service show > "$out/services"
check "service show lists the two" [ "$(wc -l < "$out/services")" = 2 ]
check "service show reports the defaults" grep -qx \
  "service 10.0.0.100:80 protocol tcp policy local max-temporary 16384 max-forward 65536 syn-timeout 10000 idle-timeout 900000 syncookies auto first-data-wait 200 request-limit 16384" \
  "$out/services"
check "service show VIP:PORT" [ "$(ho a service show 10.0.0.101:443)" = \
  "service 10.0.0.101:443 protocol tcp dev d0 policy weighted max-temporary 100 max-forward 200 syn-timeout 3000 idle-timeout 60000 syncookies auto first-data-wait 200 request-limit 4096" ]
ho a -j service show > "$out/services.json"
check "service show -j is JSON" python3 -S -c 'import json,sys; json.load(sys.stdin)' < "$out/services.json"
check "service show -j round-trips" python3 -S - "$out/services.json" <<'EOF'
import json, sys
svcs = {s["service"]: s for s in json.load(open(sys.argv[1]))}
want = {
    "service": "10.0.0.101:443", "protocol": "tcp", "dev": ["d0"], "policy": "weighted",
    "max-temporary": 100, "max-forward": 200, "syn-timeout": 3000, "idle-timeout": 60000,
    "syncookies": "auto", "first-data-wait": 200, "request-limit": 4096,
}
got = svcs.get("10.0.0.101:443")
if got != want:
    print("# got  %s\n# want %s" % (got, want))
    sys.exit(1)
sys.exit(0 if set(svcs) == {"10.0.0.100:80", "10.0.0.101:443"} else 1)
EOF

# --- peers ---------------------------------------------------------------
check "peer add" ho a peer add 2 address 10.0.2.3:7100 weight 5
check "peer add (port of this node)" ho a peer add 3 address 10.0.2.4
check "peer show" [ "$(ho a peer show)" = "peer 2 address 10.0.2.3:7100 weight 5 state unknown sync-address 10.0.2.3
peer 3 address 10.0.2.4:7000 weight 1 state unknown sync-address 10.0.2.4" ]
check "peer show ID" [ "$(ho a peer show 3)" = "peer 3 address 10.0.2.4:7000 weight 1 state unknown sync-address 10.0.2.4" ]

# --- connections and statistics ------------------------------------------
check "conn show (no entries yet)" [ -z "$(ho a conn show)" ]
check "conn show temporary" [ -z "$(ho a conn show temporary)" ]
check "conn show forward (JSON)" [ "$(ho a -j conn show forward)" = "[]" ]
check "conn flush" ho a conn flush
check "conn flush forward" ho a conn flush forward
starts_with() { [[ "$1" == "$2"* ]]; }
check "stats" starts_with "$(ho a stats)" "global syn_answered 0 syn_retransmit 0 "
ho a -s stats > "$out/stats"
check "stats -s: global, 2 services, 2 peers" \
  [ "$(cut -d' ' -f1 "$out/stats" | tr '\n' ' ')" = "global service service peer peer " ]
check "stats -j has every counter" python3 -S -c '
import json, sys
g = json.load(sys.stdin)[0]
sys.exit(0 if g["scope"] == "global" and len(g) == 62 and g["forward_entries"] == 0 and g["xmit_failed"] == 0 and g["adopted_entries"] == 0 else 1)' \
  < <(ho a -j stats)

# --- events --------------------------------------------------------------
# Not through a shell function: $! must be the CLI itself, to stop it, and
# it must not keep the runner's descriptors (3, 4) open after the test.
ip netns exec "$(nsname a)" "$CLI" monitor > "$out/monitor" 2>&1 < /dev/null 3>&- 4>&- &
mon=$!
# The monitor subscribes asynchronously: repeat the change until it is seen.
for _ in $(seq 20); do
  sleep 0.5
  ho a service add 10.0.0.102:80 policy weighted
  ho a service del 10.0.0.102:80
  grep -q "^service-del service 10.0.0.102:80" "$out/monitor" && break
done
kill "$mon" 2>/dev/null; wait "$mon" 2>/dev/null
check "monitor: service-add event" grep -q "^service-add service 10.0.0.102:80 protocol tcp policy weighted" "$out/monitor"
check "monitor: service-del event" grep -q "^service-del service 10.0.0.102:80" "$out/monitor"

# --- namespaces are independent ------------------------------------------
check "other namespace: no services" [ -z "$(ho b service show)" ]
check "other namespace: no peers" [ -z "$(ho b peer show)" ]
check "other namespace: node not set" [ "$(ho b node show)" = "weight 1 sync-interval 100 dead-intervals 3" ]
check "other namespace: same VIP:PORT is free" ho b service add 10.0.0.100:80 policy weighted
check "other namespace: its own service" [ "$(ho b service show | cut -d' ' -f1-6)" = \
  "service 10.0.0.100:80 protocol tcp policy weighted" ]
check "first namespace unchanged by the second" diff -u "$out/services" <(ho a service show)

# --- permissions ---------------------------------------------------------
nobody() { local ns=$1; shift; in_ns "$ns" setpriv --reuid=65534 --regid=65534 --clear-groups "$CLI" "$@"; }
refused_nobody() {
  local name=$1 before err
  shift
  before=$(snapshot a)
  err=$(nobody a "$@" 2>&1 >/dev/null)
  if [ $? -ne 0 ] && [ "$err" = "handoff: Operation not permitted" ] && [ "$before" = "$(snapshot a)" ]; then
    ok "$name"
  else
    diag "stderr: $err"; fail "$name"
  fi
}
refused_nobody "unprivileged service add: EPERM" service add 10.0.0.103:80
refused_nobody "unprivileged service del: EPERM" service del 10.0.0.100:80
refused_nobody "unprivileged peer add: EPERM" peer add 9 address 10.0.2.9
refused_nobody "unprivileged node set: EPERM" node set weight 9
refused_nobody "unprivileged conn flush: EPERM" conn flush
refused_nobody "unprivileged conn show: EPERM (client addresses)" conn show
check "unprivileged service show works" diff -u "$out/services" <(nobody a service show)
quiet() { "$@" >/dev/null; }
check "unprivileged stats works" quiet nobody a stats

# --- bad input: a clear error and no change -----------------------------
refused "VIP:PORT already used" a "service already exists" service add 10.0.0.100:80
refused "unknown interface (CLI)" a 'unknown interface "nosuch0"' service add 10.0.0.104:80 dev nosuch0
refused "port 0 (CLI)" a 'invalid port "0"' service add 10.0.0.104:0
refused "malformed address (CLI)" a 'invalid address' service add 10.0.0.300:80
refused "unknown peer (del)" a "no such peer" peer del 99
refused "unknown peer (show)" a "no such peer" peer show 99
refused "unknown service (del)" a "no such service" service del 10.0.0.99:80
refused "peer id taken" a "peer already exists" peer add 2 address 10.0.2.5
refused "peer id is the node's" a "the peer id is this node's id" peer add 1 address 10.0.2.5
refused "node id of a peer" a "a peer has this id" node set id 2
refused "syn-timeout out of range" a "syn-timeout out of range (1..600000 ms)" \
  service add 10.0.0.104:80 syn-timeout 600001
refused "idle-timeout out of range" a "idle-timeout out of range" \
  service add 10.0.0.104:80 idle-timeout 4000000000
refused "max-temporary out of range" a "max-temporary out of range (1..1048576 entries)" \
  service add 10.0.0.104:80 max-temporary 1048577
refused "syncookies mode unknown" a 'invalid syncookies mode "sometimes"' \
  service add 10.0.0.104:80 syncookies sometimes
refused "first-data-wait out of range" a 'invalid first-data-wait "60001" (0..60000 ms)' \
  service add 10.0.0.104:80 first-data-wait 60001
refused "request-limit out of range" a 'invalid request-limit "0" (1..16384 bytes)' \
  service add 10.0.0.104:80 request-limit 0
# What the CLI refuses itself, sent raw: the kernel refuses it too.
kernel_refused "kernel: unknown interface" a 19 "no such interface" 3 \
  "nest(2, addr(1, '10.0.0.104'), u16(2, 80), nest(4, u32(1, 9999)))"
kernel_refused "kernel: port 0" a 34 "integer out of range" 3 \
  "nest(2, addr(1, '10.0.0.104'), u16(2, 0))"
kernel_refused "kernel: 5-byte address" a 22 "address must be 4 (IPv4) or 16 (IPv6) bytes" 3 \
  "nest(2, raw(1, b'\\x0a\\x00\\x00\\x01\\x00'), u16(2, 80))"
kernel_refused "kernel: multicast VIP" a 22 "address must be unicast" 3 \
  "nest(2, addr(1, '224.0.0.1'), u16(2, 80))"
kernel_refused "kernel: missing port" a 22 "the service port is required" 3 \
  "nest(2, addr(1, '10.0.0.104'))"
kernel_refused "kernel: peer id 0" a 34 "integer out of range" 6 \
  "nest(3, u32(1, 0), addr(2, '10.0.2.9'))"
kernel_refused "kernel: policy out of range" a 34 "integer out of range" 3 \
  "nest(2, addr(1, '10.0.0.104'), u16(2, 80), u32(5, 8))"
kernel_refused "kernel: first-data-wait out of range" a 34 "first-data-wait out of range (0..60000 ms)" 3 \
  "nest(2, addr(1, '10.0.0.104'), u16(2, 80), u32(12, 60001))"
kernel_refused "kernel: request-limit out of range" a 34 "request-limit out of range (1..16384 bytes)" 3 \
  "nest(2, addr(1, '10.0.0.104'), u16(2, 80), u32(13, 16385))"
kernel_refused "kernel: UDP service" a 22 "only TCP (protocol 6) is supported" 3 \
  "nest(2, addr(1, '10.0.0.104'), u16(2, 80), u8(3, 17))"
kernel_refused "kernel: cookie policy without a name" a 22 "policy cookie needs a cookie name" 3 \
  "nest(2, addr(1, '10.0.0.104'), u16(2, 80), u32(5, 5))"
kernel_refused "kernel: address without port" a 22 "an address needs its port" 2 \
  "nest(1, addr(2, '10.0.2.2'))"
kernel_refused "kernel: state is not settable" a 22 "the peer state is only reported, not set" 6 \
  "nest(3, u32(1, 9), addr(2, '10.0.2.9'), u32(5, 2))"

# --- deletion ------------------------------------------------------------
check "service del" ho a service del 10.0.0.101:443
check "peer del" ho a peer del 3
check "deleted ones are gone" [ "$(ho a service show | wc -l)/$(ho a peer show | wc -l)" = "1/1" ]

# --- limits and long dumps ----------------------------------------------
ho b service del 10.0.0.100:80
check "256 services in one namespace" in_ns b $GENL services 256
refused "257th service: ENOSPC" b "too many services (at most 256 per namespace)" service add 10.2.0.1:80
check "dump of 256 services: each once" python3 -S -c '
import json, sys
s = [x["service"] for x in json.load(sys.stdin)]
sys.exit(0 if len(s) == 256 and len(set(s)) == 256 else 1)' < <(ho b -j service show)
check "1024 peers in one namespace" in_ns b $GENL peers 1 1024
refused "1025th peer: ENOSPC" b "too many peers (at most 1024 per namespace)" peer add 2000 address 10.3.0.1
check "dump of 1024 peers: each once, in order" python3 -S -c '
import json, sys
p = [x["peer"] for x in json.load(sys.stdin)]
sys.exit(0 if p == list(range(1, 1025)) else 1)' < <(ho b -j peer show)
check "stats -s of 256 services and 1024 peers" \
  [ "$(ho b -s stats | wc -l)" = $((1 + 256 + 1024)) ]

rm -rf "$out"
ktap_finish
