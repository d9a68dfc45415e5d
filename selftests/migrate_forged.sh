#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Forged redistribution datagrams: a host x on the redistribution network
# sends crafted handoff datagrams (forge.py) to the back-end b1's forward
# port, from its own address (no peer) and from the front f's endpoint
# (spoofed, so b1 takes them for f's). Every one must be dropped and counted
# in the right counter: from a non-peer dgram_not_peer, malformed ones
# dgram_malformed, DATA for an unknown flow data_dropped. Then 20000 random
# datagrams (to b1, and some to f from b2's endpoint): only drop counters
# grow, nothing is adopted, no TCP socket appears. Afterwards a normal
# migration to b1 still works (and lib.sh's cleanup fails the test on any
# kernel splat).
. "$(dirname "$0")/lib.sh"

ktap_plan 26
[ -x "${HANDOFF_CLI:-}" ] || die "HANDOFF_CLI not set"
topo_setup
module_load || die "insmod"
# Servers on b1 only: every connection of the last check goes there.
SERVERS=b1 web_setup httpd
migrate_setup

# x: 10.0.2.9 on the redistribution bridge, like topo_setup's hosts.
X_ADDR=10.0.2.9
ns_add x
ip link add eth1 netns "$(nsname x)" type veth peer name x-eth1 netns "$(nsname s)" || die "veth x"
ip -n "$(nsname s)" link set x-eth1 master brr up || die "x on brr"
ip -n "$(nsname x)" addr add "$X_ADDR/24" dev eth1
ip -n "$(nsname x)" link set eth1 up
in_ns x ping -q -c 1 -W 5 10.0.2.3 >/dev/null || die "x cannot reach b1"

F_EP=10.0.2.2 B1=10.0.2.3 B2_EP=10.0.2.4
# One forge.py in x for the whole test (python starts slowly under
# emulation): forge ARGS... sends, then sets FORGED to the number of
# datagrams sent and FORGE_INFO to the --verbose breakdown.
coproc FORGE { ip netns exec "$(nsname x)" python3 -S "$here/forge.py" --serve; }
FORGED=0 FORGE_INFO=
forge() {
  local reply
  echo "$*" >&"${FORGE[1]}"
  IFS= read -r reply <&"${FORGE[0]}" || die "forge.py exited"
  FORGED=${reply%% *}
  FORGE_INFO=${reply#"$FORGED"}
  [[ $FORGED =~ ^[0-9]+$ ]] || die "forge.py $*: $reply"
}
# snap NS: NS's global counters, "global NAME VALUE NAME VALUE ...".
snap() {
  local line
  while read -r line; do
    [[ $line == "global "* ]] && { echo "$line"; return; }
  done < <(ho "$1" stats)
  die "no stats in $1"
}
# deltas A B: the counters that differ between snapshots A and B, as
# "NAME=DELTA ..." in the CLI's order, or "none".
deltas() {
  local -A was=()
  local -a x y
  local i out=
  read -ra x <<< "$1"
  read -ra y <<< "$2"
  for ((i = 1; i + 1 < ${#x[@]}; i += 2)); do was[${x[i]}]=${x[i + 1]}; done
  for ((i = 1; i + 1 < ${#y[@]}; i += 2)); do
    [ "${y[i + 1]}" = "${was[${y[i]}]:-0}" ] || out+=" ${y[i]}=$((y[i + 1] - ${was[${y[i]}]:-0}))"
  done
  out=${out# }
  echo "${out:-none}"
}
# val SNAP NAME: one counter of a snapshot (-1 if absent).
val() {
  local -a x
  local i
  read -ra x <<< "$1"
  for ((i = 1; i + 1 < ${#x[@]}; i += 2)); do
    [ "${x[i]}" = "$2" ] && { echo "${x[i + 1]}"; return; }
  done
  echo -1
}
# only_drops "DELTAS": whether every counter that moved is one a dropped
# datagram may move: drops, malformed and foreign datagrams, early DATA
# (held, then expired: timeouts, the adopted_entries gauge), refused NEWs.
only_drops() {
  local kv
  for kv in $1; do
    case ${kv%%=*} in
      none|drop_*|dgram_malformed|dgram_not_peer|data_dropped|data_early|refused|timeouts|adopted_entries) ;;
      *) return 1 ;;
    esac
  done
}
# get "DELTAS" NAME: one counter's delta (0 if it did not move).
get() { local kv; for kv in $1; do [ "${kv%%=*}" = "$2" ] && { echo "${kv#*=}"; return; }; done; echo 0; }
# b1_ip_stats: "UdpInCsumErrors TcpInSegs" of b1.
b1_ip_stats() {
  local k v rest csum=-1 segs=-1
  while read -r k v rest; do
    case $k in UdpInCsumErrors) csum=$v ;; TcpInSegs) segs=$v ;; esac
  done < <(in_ns b1 nstat -az UdpInCsumErrors TcpInSegs)
  echo "$csum $segs"
}
# total "DELTAS": their sum.
total() { local kv t=0; for kv in $1; do [ "$kv" = none ] || t=$((t + ${kv#*=})); done; echo "$t"; }
# from ADDR PORT PER CASE [ARGS...]: sends CASE to b1 from ADDR:PORT; sets n
# to the number sent and d to b1's counter deltas (s0 moves on), once they
# add up to PER per datagram (the receive path runs as the datagrams are
# sent, but may fall behind under load).
from() {
  local addr=$1 port=$2 per=$3 i
  shift 3
  forge --src "$addr" --sport "$port" --dst "$B1" --dport "$FWD_PORT" "$@"
  n=$FORGED
  for i in 1 2 3 4 5; do
    s1=$(snap b1)
    d=$(deltas "$s0" "$s1")
    [ "$(total "$d")" -ge $((per * n)) ] && break
    sleep 1
  done
  s0=$s1
}
t0=$SECONDS
s0=$(snap b1)

# 1. Not from a peer: x's own address, and f's address from another port
# (b1 knows its peers by address and port). Among them a valid NEW for
# VIP:80, which a peer's would be adopted.
from "$X_ADDR" "$FWD_PORT" 1 --count 20 not-peer
check "not-peer, from x's address: $n datagrams, b1 counts dgram_not_peer +$n and nothing else ($d)" \
  [ "$d" = "dgram_not_peer=$n" ]
from "$F_EP" $((FWD_PORT + 1)) 1 --count 20 not-peer
check "not-peer, from f's address and port $((FWD_PORT + 1)): $n datagrams, dgram_not_peer +$n and nothing else ($d)" \
  [ "$d" = "dgram_not_peer=$n" ]

# 2. From f's endpoint, malformed. First with bad UDP checksums: the UDP
# layer drops those before the module sees them (which is why forge.py gets
# them right everywhere else).
read -r csum0 segs0 <<< "$(b1_ip_stats)"
from "$F_EP" "$FWD_PORT" 0 --udp-csum bad truncated
n_bad=$n
check "bad UDP checksums: $n datagrams, the module saw none ($d)" [ "$d" = none ]
for c in truncated unknown-type len-past-end bad-body new-bad-family new-bad-pad \
         new-bad-wscale new-bad-mss new-bad-opts new-zero-port zero-conn-ref; do
  from "$F_EP" "$FWD_PORT" 1 "$c"
  check "$c: $n datagrams from f's endpoint, b1 counts dgram_malformed +$n and nothing else ($d)" \
    [ "$d" = "dgram_malformed=$n" ]
done

# 3. DATA for a flow id b1 never gave out: dropped, nothing delivered to
# b1's TCP (the inner segments are valid ACK+PSH with a request).
from "$F_EP" "$FWD_PORT" 2 --count 30 data-unknown-flow
check "data-unknown-flow: $n datagrams, b1 counts data_dropped +$n, drop_unknown_conn +$n, nothing else ($d)" \
  [ "$d" = "drop_unknown_conn=$n data_dropped=$n" ]
read -r csum1 segs1 <<< "$(b1_ip_stats)"
check "b1's UDP layer dropped the $n_bad bad checksums (UdpInCsumErrors +$((csum1 - csum0))), its TCP got nothing (TcpInSegs $segs0 -> $segs1)" \
  [ "$((csum1 - csum0))" = "$n_bad" -a "$segs0" = "$segs1" -a "$segs0" != -1 ]
diag "crafted cases took $((SECONDS - t0)) s"

# 4. Random datagrams: to b1 from f's endpoint, a fifth to f from b2's.
seed=${FORGE_SEED:-$RANDOM} count=${FORGE_COUNT:-20000}
f0=$(snap f)
b20=$(snap b2)
t0=$SECONDS
forge --src "$F_EP" --sport "$FWD_PORT" --dst "$B1" --dport "$FWD_PORT" \
  --also "$B2_EP:$FWD_PORT:$F_EP:$FWD_PORT" --seed "$seed" --count "$count" -v random
n=$FORGED
diag "random (FORGE_SEED=$seed): $n datagrams in $((SECONDS - t0)) s"
n_b1=0
IFS='|' read -ra info <<< "$FORGE_INFO"
for l in "${info[@]}"; do
  l=${l# } l=${l% }
  [ -n "$l" ] || continue
  diag "  $l"
  [[ $l == *"-> $B1:$FWD_PORT: "* ]] && n_b1=${l##* }
done
# Every datagram moves at least one counter of b1 (DATA of an unknown flow
# two; expired early DATA counts again as data_dropped).
for i in 1 2 3 4 5; do
  s1=$(snap b1)
  db1=$(deltas "$s0" "$s1")
  counted=0
  for c in dgram_malformed dgram_not_peer data_dropped data_early drop_unknown_conn refused \
           drop_table_full drop_queue_full; do
    counted=$((counted + $(get "$db1" "$c")))
  done
  [ "$counted" -ge "$n_b1" ] && break
  sleep 1
done
f1=$(snap f)
b21=$(snap b2)
df=$(deltas "$f0" "$f1")
db2=$(deltas "$b20" "$b21")
diag "b1: $db1"
diag "f: $df"
diag "b2: $db2"
check "random: $n datagrams sent" [ "$n" = "$count" ]
check "random: b1's counters grew only in drop counters" only_drops "$db1"
check "random: f's counters grew only in drop counters" only_drops "$df"
check "random: b2's counters (REFUSED answers f sent to b2) grew only in drop counters" only_drops "$db2"
check "random: nothing adopted (b1 +$(get "$db1" adopted), f +$(get "$df" adopted))" \
  [ "$(get "$db1" adopted)" = 0 -a "$(get "$df" adopted)" = 0 ]
check "random: b1 counted every datagram it got ($n_b1 sent, $counted counted)" \
  [ "$n_b1" -gt 0 -a "$counted" -ge "$n_b1" ]
socks=$(for h in b1 f; do in_ns "$h" ss -Htn '( sport = :80 or sport = :9000 )'; done)
[ -z "$socks" ] || echo "$socks" | sed 's/^/#   /'
check "random: no TCP connection planted on b1 or f" [ -z "$socks" ]
# DATA with flow id 0 may have made early entries, held for 10 s.
for i in $(seq 20); do
  e_b1=$(val "$(snap b1)" adopted_entries)
  e_f=$(val "$(snap f)" adopted_entries)
  [ "$e_b1" = 0 ] && [ "$e_f" = 0 ] && break
  sleep 2
done
check "random: early entries gone after their 10 s (adopted_entries b1 $e_b1, f $e_f)" [ "$e_b1" = 0 -a "$e_f" = 0 ]

# 5. Normal migrations still work.
s0=$(snap b1)
weights 0 1 0 || die "weights"
read -r nf nb1 nb2 failed <<< "$(served_by 5 "http://$VIP/")"
check "after the forgeries: 5 connections served by b1 (f $nf, b1 $nb1, b2 $nb2, failed $failed)" \
  [ "$nb1" = 5 -a "$failed" = 0 ]
d=$(deltas "$s0" "$(snap b1)")
check "b1 adopted them (adopted +$(get "$d" adopted))" [ "$(get "$d" adopted)" = 5 ]
exec {FORGE[1]}>&-
wait "$FORGE_PID" 2>/dev/null
ktap_finish
