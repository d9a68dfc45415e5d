#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Shared helpers of the handoff kselftests: KTAP output, module loading,
# the test topology (network namespaces) and the kernel-splat check.
#
# Every test sources this file, calls ktap_plan N, reports each case with
# ok / fail / skip, and ends with ktap_finish. On exit the topology is torn
# down and the kernel log since the test began is searched for splats: one
# fails the test.

set -u
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
HANDOFF_KO=${HANDOFF_KO:-}
ksft_pass=0 ksft_fail=0 ksft_skip=0 ksft_n=0
ksft_name=$(basename "$0" .sh)
NS_PREFIX="ho$$"
NAMESPACES=()

ktap_plan() { echo "TAP version 13"; echo "1..$1"; }
# A case that took long is said so: what to trim when the run grows.
ksft_last=$SECONDS
ksft_took() {
  local d=$((SECONDS - ksft_last))
  ksft_last=$SECONDS
  [ "$d" -lt 20 ] || echo "# (case $ksft_n took $d s)"
}
ok()   { ksft_n=$((ksft_n + 1)); ksft_pass=$((ksft_pass + 1)); echo "ok $ksft_n $*"; ksft_took; }
fail() { ksft_n=$((ksft_n + 1)); ksft_fail=$((ksft_fail + 1)); echo "not ok $ksft_n $*"; ksft_took; }
skip() { ksft_n=$((ksft_n + 1)); ksft_skip=$((ksft_skip + 1)); echo "ok $ksft_n $* # SKIP"; ksft_took; }
diag() { echo "# $*"; }
# check NAME CMD...: one test case that passes when CMD succeeds.
check() { local name=$1; shift; if "$@"; then ok "$name"; else fail "$name"; fi; }

die() { diag "fatal: $*"; fail "$ksft_name setup"; exit 1; }
# setup_took NAME T0: says how long the setup step NAME took since T0 (an
# $EPOCHREALTIME), if a second or more: what to trim when the run grows.
setup_took() {
  [ "$ksft_name" != demo ] || return 0
  local us=$(( ${EPOCHREALTIME//[.,]/} - ${2//[.,]/} ))
  [ "$us" -lt 1000000 ] || echo "# ($1 took $((us / 1000000)).$((us / 100000 % 10)) s)"
}

# --- kernel log ---------------------------------------------------------
# A leaked device reference is reported (a splat) after 1 s instead of 10.
sysctl -qw net.core.netdev_unregister_timeout_secs=1 2>/dev/null
ksft_mark="handoff-selftest-$ksft_name-$$"
echo "$ksft_mark start" > /dev/kmsg
# Prints the kernel log since this test started.
dmesg_since_start() { dmesg | sed -n "/$ksft_mark start/,\$p"; }
splat_check() {
  local re
  re=$(cat "$here/splat.re")
  if dmesg_since_start | grep -qE "$re"; then
    diag "kernel splat during $ksft_name:"
    dmesg_since_start | grep -E -A25 "$re" | head -80 | sed 's/^/#   /'
    return 1
  fi
}

# --- module -------------------------------------------------------------
module_loaded() { [ -d /sys/module/handoff ]; }
module_load() {
  [ -n "$HANDOFF_KO" ] && [ -f "$HANDOFF_KO" ] || die "HANDOFF_KO not set or missing: '$HANDOFF_KO'"
  module_loaded && rmmod handoff
  # The module's KUnit suites run at every insmod, for seconds under TCG:
  # only kunit.sh and the demo show them (KUnit filters a module's suites
  # by this glob; printf: a newline would become part of it).
  local glob=/sys/module/kunit/parameters/filter_glob
  if [ -w "$glob" ]; then
    case $ksft_name in
      kunit | demo) printf '*.*' > "$glob" ;;
      *) printf 'none.none' > "$glob" ;;
    esac
  fi
  local t0=$EPOCHREALTIME rc=0
  insmod "$HANDOFF_KO" "$@" || rc=$?
  setup_took insmod "$t0"
  return $rc
}
module_unload() { ! module_loaded || rmmod handoff; }

# --- debugfs ------------------------------------------------------------
debugfs_mount() {
  mountpoint -q /sys/kernel/debug || mount -t debugfs none /sys/kernel/debug
}

# --- topology -----------------------------------------------------------
# nsname SHORT: the full name of the test namespace SHORT.
nsname() { echo "$NS_PREFIX-$1"; }
# ns_add SHORT: a network namespace with lo up, removed when the test exits.
# (Not in a command substitution: the list of namespaces lives in this shell.)
ns_add() {
  local ns
  ns=$(nsname "$1")
  ip netns add "$ns" || die "ip netns add $ns"
  ip -n "$ns" link set lo up
  NAMESPACES+=("$ns")
}
ns_del_all() {
  local ns
  # Servers a test started (and did not stop) must not outlive it: they
  # would hold the runner's output open and it would wait for them forever.
  for ns in "${NAMESPACES[@]}"; do ip netns pids "$ns" 2>/dev/null | xargs -r kill -9 2>/dev/null; done
  for ns in "${NAMESPACES[@]}"; do ip netns del "$ns" 2>/dev/null; done
  NAMESPACES=()
}
# in NS CMD...: run CMD in the test namespace NS (short name).
in_ns() { local ns="$NS_PREFIX-$1"; shift; ip netns exec "$ns" "$@"; }

# topo_setup: client, front server and back-end servers.
#   client  c   10.0.1.1/24 on the client network
#   front   f   10.0.1.2/24 client network, 10.0.2.2/24 redistribution network
#   back    b1  10.0.1.3/24, 10.0.2.3/24      b2  10.0.1.4/24, 10.0.2.4/24
# Both networks are bridges in a "switch" namespace s. The VIP 10.0.0.100 is
# on lo of every server (direct server return); the client reaches it through
# the front server. All addresses exist only inside the VM.
VIP=10.0.0.100
topo_setup() {
  local sw h i ns t0=$EPOCHREALTIME
  # Few ip runs, each with a batch: a process start costs 0.3 s under TCG.
  for h in s c f b1 b2; do
    ns=$(nsname "$h")
    ip netns add "$ns" || die "ip netns add $ns"
    NAMESPACES+=("$ns")
  done
  sw=$(nsname s)
  {
    echo "link set lo up"
    echo "link add brc type bridge"
    echo "link set brc up"
    echo "link add brr type bridge"
    echo "link set brr up"
    # HOST-IF veths, the IF end in the host's namespace.
    echo "link add c-eth0 type veth peer name eth0 netns $NS_PREFIX-c"
    echo "link set c-eth0 master brc up"
    for h in f b1 b2; do
      echo "link add $h-eth0 type veth peer name eth0 netns $NS_PREFIX-$h"
      echo "link set $h-eth0 master brc up"
      echo "link add $h-eth1 type veth peer name eth1 netns $NS_PREFIX-$h"
      echo "link set $h-eth1 master brr up"
    done
  } | ip -n "$sw" -batch - || die "switch"
  printf '%s\n' "link set lo up" "addr add 10.0.1.1/24 dev eth0" "link set eth0 up" \
    "route add $VIP/32 via 10.0.1.2" | ip -n "$NS_PREFIX-c" -batch - || die "client"
  i=2
  for h in f b1 b2; do
    printf '%s\n' "link set lo up" "addr add 10.0.1.$i/24 dev eth0" "link set eth0 up" \
      "addr add 10.0.2.$i/24 dev eth1" "link set eth1 up" "addr add $VIP/32 dev lo" |
      ip -n "$NS_PREFIX-$h" -batch - || die "host $h"
    i=$((i + 1))
  done
  setup_took topo_setup "$t0"
}

cleanup() {
  local rc=$?
  trap - EXIT
  ns_del_all
  module_unload 2>/dev/null
  if ! splat_check; then fail "$ksft_name: no kernel splat"; rc=1; fi
  [ "$ksft_fail" -eq 0 ] || rc=1
  diag "$ksft_name: $ksft_pass passed, $ksft_fail failed, $ksft_skip skipped in $SECONDS s"
  exit $rc
}
trap cleanup EXIT

ktap_finish() { exit 0; }

# --- handoff CLI and counters -------------------------------------------
# ho NS ARGS...: the handoff CLI in test namespace NS.
# (The CLI's own -n, as ip's: one process per call, which under TCG costs
# about 0.3 s; the CLI needs the network namespace alone.)
ho() { local ns=$1; shift; "$HANDOFF_CLI" -n "$NS_PREFIX-$ns" "$@"; }
# counter NS NAME [SERVICE]: the counter NAME of NS's instance, or of its
# service SERVICE (VIP:PORT); -1 if there is none.
counter() {
  # awk, not python3: a counter is read after nearly every case, and an
  # interpreter's start costs about a second under TCG.
  ho "$1" -s stats | awk -v name="$2" -v svc="${3:-}" '
    (svc == "" && $1 == "global") || (svc != "" && $1 == "service" && $2 == svc) {
      for (i = 2; i < NF; i++) if ($i == name) { print $(i + 1); found = 1; exit }
    }
    END { if (!found) print -1 }'
}
# spoof_setup: lets the client namespace send crafted segments from
# 10.0.1.50, an address it does not own (so its stack never answers the
# replies), with the front server resolving that address to the client.
SPOOF=10.0.1.50
spoof_setup() {
  local mac
  mac=$(in_ns c cat /sys/class/net/eth0/address)
  in_ns f ip neigh replace "$SPOOF" lladdr "$mac" dev eth0 nud permanent
}
# tcpraw CASE [ARGS...]: a crafted-segment exchange from the client (tcpraw.py).
tcpraw() {
  local case=$1; shift
  in_ns c python3 -S "$here/tcpraw.py" --dev eth0 --src "$SPOOF" --dst "$VIP" "$@" "$case"
}
# wait_port NS PORT: until something listens on TCP PORT in NS (5 s at most).
wait_port() {
  local i
  for i in $(seq 50); do
    in_ns "$1" ss -Hltn "sport = :$2" | grep -q LISTEN && return 0
    sleep 0.1
  done
  return 1
}

# --- migration ----------------------------------------------------------
# The redistribution network carries the handoff datagrams (port FWD_PORT);
# node ids: f 1, b1 2, b2 3.
FWD_PORT=7000
SERVERS="f b1 b2"
node_id() { case $1 in f) echo 1 ;; b1) echo 2 ;; b2) echo 3 ;; esac; }
node_addr() { case $1 in f) echo 10.0.2.2 ;; b1) echo 10.0.2.3 ;; b2) echo 10.0.2.4 ;; esac; }
# web_setup [httpd] [big]: on every server nginx on :80 serving "served by
# HOST" (index, also under /static/ and /api/) with a cookie SRV=node<its
# node id> and its access log with client addresses; with "big" also a
# 10 MiB file (big), with "httpd" also httpd.py on :9000 (POST answers the
# body's SHA-256). Only what a test uses: each costs seconds under TCG.
web_setup() {
  local h d t0=$EPOCHREALTIME httpd="" big="" a
  for a in "$@"; do
    case $a in
      httpd) httpd=1 ;;
      big) big=1 ;;
      *) die "web_setup: unknown argument $a" ;;
    esac
  done
  # One file per VM run, linked into every root (seconds under TCG).
  if [ -n "$big" ] && [ ! -s "$HANDOFF_TMP/big" ]; then
    head -c $((10 * 1024 * 1024)) /dev/urandom > "$HANDOFF_TMP/big"
  fi
  for h in $SERVERS; do
    d=$HANDOFF_TMP/www-$h-$$
    mkdir -p "$d"
    echo "served by $h" > "$d/index.html"
    # /static/ and /api/ for the content rules (content_http.sh).
    mkdir -p "$d/static" "$d/api"
    echo "served by $h" > "$d/static/index.html"
    echo "served by $h" > "$d/api/index.html"
    if [ -n "$big" ]; then
      ln -f "$HANDOFF_TMP/big" "$d/big" 2>/dev/null || cp "$HANDOFF_TMP/big" "$d/big"
    fi
    cat > "$d/nginx.conf" <<CONF
daemon on; pid $d/nginx.pid; error_log $d/error.log; worker_processes 1;
events { worker_connections 1024; }
http { access_log $d/access.log; client_body_temp_path $d; proxy_temp_path $d;
       fastcgi_temp_path $d; uwsgi_temp_path $d; scgi_temp_path $d;
       keepalive_requests 1000;
       server { listen 80 backlog=1024; root $d;
                # A session cookie naming the node (the cookie policy).
                add_header Set-Cookie "SRV=node$(node_id "$h"); Path=/"; } }
CONF
    in_ns "$h" nginx -c "$d/nginx.conf" -e "$d/error.log" || die "nginx in $h"
    [ -z "$httpd" ] || in_ns "$h" python3 -S "$here/httpd.py" 0.0.0.0 9000 "$h" >/dev/null 2>&1 &
  done
  for h in $SERVERS; do
    wait_port "$h" 80 || die "nginx in $h"
    [ -z "$httpd" ] || wait_port "$h" 9000 || die "httpd.py in $h"
  done
  setup_took web_setup "$t0"
}
# tls_setup: on every server a second nginx with TLS on :443 (one
# self-signed EC certificate and one session ticket key for all), same
# document root as web_setup's.
tls_setup() {
  local h d crt=$HANDOFF_TMP/tls-$$.crt key=$HANDOFF_TMP/tls-$$.key t0=$EPOCHREALTIME
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 1 \
    -subj /CN=handoff.test -keyout "$key" -out "$crt" 2>/dev/null || die "openssl req"
  # One session ticket key for all: any server resumes what another issued.
  head -c 80 /dev/urandom > "$HANDOFF_TMP/tls-$$.ticket"
  for h in $SERVERS; do
    d=$HANDOFF_TMP/www-$h-$$
    cat > "$d/nginx-tls.conf" <<CONF
daemon on; pid $d/nginx-tls.pid; error_log $d/error-tls.log; worker_processes 1;
events { worker_connections 1024; }
http { access_log $d/access-tls.log; client_body_temp_path $d; proxy_temp_path $d;
       fastcgi_temp_path $d; uwsgi_temp_path $d; scgi_temp_path $d;
       server { listen 443 ssl backlog=1024; root $d;
                ssl_certificate $crt; ssl_certificate_key $key;
                ssl_session_ticket_key $HANDOFF_TMP/tls-$$.ticket; } }
CONF
    in_ns "$h" nginx -c "$d/nginx-tls.conf" -e "$d/error-tls.log" || die "nginx (TLS) in $h"
  done
  for h in $SERVERS; do wait_port "$h" 443 || die "TLS server in $h"; done
  setup_took tls_setup "$t0"
}
# www HOST: the document root of HOST's nginx.
www() { echo "$HANDOFF_TMP/www-$1-$$"; }
# migrate_setup [PORTS...]: every server a handoff node with the others as
# peers, the services VIP:PORT (80 and 9000 by default) on every server
# (policy weighted on the front f, local on the back-ends), and the back-ends
# set up for direct server return: the VIP on lo (topo_setup), no ARP for it
# on their client-facing eth0, loose reverse-path filtering (client packets
# reach them from the redistribution network).
migrate_setup() {
  local h p ports=${*:-80 9000} t0=$EPOCHREALTIME
  for h in $SERVERS; do
    in_ns "$h" sysctl -qw net.ipv4.conf.eth0.arp_ignore=1 net.ipv4.conf.eth0.arp_announce=2 \
      net.ipv4.conf.all.rp_filter=2 net.ipv4.conf.lo.rp_filter=2
    # One CLI process per host (-batch): a process start costs 0.3 s
    # under TCG.
    {
      echo "node set id $(node_id "$h") forward $(node_addr "$h"):$FWD_PORT"
      for p in $SERVERS; do
        [ "$p" = "$h" ] || echo "peer add $(node_id "$p") address $(node_addr "$p")"
      done
      for p in $ports; do
        # (The clients send at once, but a TCG run may take longer than
        # the default 200 ms first-data wait: the selection needs their
        # data.)
        if [ "$h" = f ]; then
          echo "service add $VIP:$p dev eth0 policy weighted first-data-wait 5000"
        else
          echo "service add $VIP:$p dev eth0"
        fi
      done
    } | ho "$h" -batch - || die "node, peers and services in $h"
  done
  setup_took migrate_setup "$t0"
}
# --- sync channel ---------------------------------------------------------
SYNC_PORT=7001
# sync_setup INTERVAL [DEAD]: every server reports on the sync channel from
# its redistribution address (port SYNC_PORT) every INTERVAL ms; a peer is
# DOWN after DEAD (3) silent intervals.
sync_setup() {
  local h
  for h in $SERVERS; do
    ho "$h" node set sync "$(node_addr "$h"):$SYNC_PORT" sync-interval "$1" \
      dead-intervals "${2:-3}" || die "sync in $h"
  done
}
# peer_field NS ID FIELD: FIELD (state, report-age, load...) of peer ID as
# NS's peer show has it; empty if absent.
peer_field() {
  ho "$1" peer show "$2" | awk -v f="$3" '{ for (i = 1; i < NF; i++) if ($i == f) print $(i + 1) }'
}
# peers_in NS STATE: how many of NS's peers are in STATE.
peers_in() { ho "$1" peer show | grep -c " state $2 "; }
# wait_until SECONDS CMD...: polls CMD every 0.2 s until it succeeds.
wait_until() {
  local end=$((SECONDS + $1))
  shift
  until "$@"; do
    [ "$SECONDS" -lt "$end" ] || return 1
    sleep 0.2
  done
}
# all_up: every server sees its two peers UP.
all_up() {
  local h
  for h in $SERVERS; do [ "$(peers_in "$h" up)" = 2 ] || return 1; done
}

# weights F B1 B2: the weighted policy's weights as the front f sees them.
weights() {
  ho f node set weight "$1" && ho f peer del 2 && ho f peer del 3 &&
    ho f peer add 2 address 10.0.2.3 weight "$2" && ho f peer add 3 address 10.0.2.4 weight "$3"
}
# served_by N URL: N sequential connections to URL; prints "f b1 b2" counts
# of the hosts that answered (index pages name their host), then failures.
served_by() {
  local urls
  urls=$(for i in $(seq "$1"); do printf '%s ' "$2"; done)
  # shellcheck disable=SC2086
  in_ns c curl -s --max-time 10 -H 'Connection: close' $urls -w '\n' |
    awk -v n="$1" '/^served by/ { c[$3]++; ok++ } END { printf "%d %d %d %d\n", c["f"], c["b1"], c["b2"], n - ok }'
}
