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
web_setup
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
# forge ARGS...: forge.py in x; prints the number of datagrams sent.
forge() { in_ns x python3 "$here/forge.py" "$@"; }
# snap NS FILE: NS's global counters (JSON) into FILE.
snap() { ho "$1" -j stats > "$2" || die "stats in $1"; }
# deltas A B: the counters that differ between snapshots A and B, as
# "name=delta ..." (sorted), or "none".
deltas() {
  python3 - "$1" "$2" <<'PY'
import json, sys
def glob(path):
    with open(path) as f:
        for rec in json.load(f):
            if rec.get("scope") == "global":
                return {k: v for k, v in rec.items() if isinstance(v, int)}
    return {}
a, b = glob(sys.argv[1]), glob(sys.argv[2])
d = ["%s=%d" % (k, b.get(k, 0) - a.get(k, 0)) for k in sorted(set(a) | set(b)) if b.get(k, 0) != a.get(k, 0)]
print(" ".join(d) or "none")
PY
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
T=$HANDOFF_TMP/forged-$$
mkdir -p "$T"
snap b1 "$T/b1.0"

# 1. Not from a peer: x's own address, and f's address from another port
# (b1 knows its peers by address and port).
n=$(forge --src "$X_ADDR" --sport "$FWD_PORT" --dst "$B1" --count 20 not-peer)
sleep 0.3
snap b1 "$T/b1.1"
d=$(deltas "$T/b1.0" "$T/b1.1")
check "from x's address: $n datagrams, b1 counts dgram_not_peer +$n and nothing else ($d)" \
  [ "$d" = "dgram_not_peer=$n" ]
n=$(forge --src "$F_EP" --sport $((FWD_PORT + 1)) --dst "$B1" --count 20 not-peer)
sleep 0.3
snap b1 "$T/b1.2"
d=$(deltas "$T/b1.1" "$T/b1.2")
check "from f's address, port $((FWD_PORT + 1)): $n datagrams, dgram_not_peer +$n and nothing else ($d)" \
  [ "$d" = "dgram_not_peer=$n" ]

# 2. From f's endpoint, malformed. First with bad UDP checksums: the UDP
# layer drops those before the module sees them, which is why forge.py
# computes them right for the classes below.
csum0=$(in_ns b1 nstat -az UdpInCsumErrors | awk '/^Udp/ { print $2 }')
n=$(forge --src "$F_EP" --sport "$FWD_PORT" --dst "$B1" --udp-csum bad truncated)
sleep 0.3
csum1=$(in_ns b1 nstat -az UdpInCsumErrors | awk '/^Udp/ { print $2 }')
snap b1 "$T/b1.3"
d=$(deltas "$T/b1.2" "$T/b1.3")
check "bad UDP checksums: $n datagrams, UdpInCsumErrors +$((csum1 - csum0)), the module saw none ($d)" \
  [ "$d" = none -a $((csum1 - csum0)) = "$n" ]

prev=$T/b1.3 i=0
for c in truncated unknown-type len-past-end bad-body new-bad-family new-bad-pad \
         new-bad-wscale new-bad-mss new-bad-opts new-zero-port zero-conn-ref; do
  i=$((i + 1))
  n=$(forge --src "$F_EP" --sport "$FWD_PORT" --dst "$B1" "$c")
  sleep 0.3
  snap b1 "$T/b1.c$i"
  d=$(deltas "$prev" "$T/b1.c$i")
  check "$c: $n datagrams from f's endpoint, b1 counts dgram_malformed +$n and nothing else ($d)" \
    [ "$d" = "dgram_malformed=$n" ]
  prev=$T/b1.c$i
done

# 3. DATA for a flow id b1 never gave out: dropped, nothing delivered to
# b1's TCP (the inner segments are valid ACK+PSH with a request).
segs0=$(in_ns b1 nstat -az TcpInSegs | awk '/^Tcp/ { print $2 }')
n=$(forge --src "$F_EP" --sport "$FWD_PORT" --dst "$B1" --count 30 data-unknown-flow)
sleep 0.3
segs1=$(in_ns b1 nstat -az TcpInSegs | awk '/^Tcp/ { print $2 }')
snap b1 "$T/b1.4"
d=$(deltas "$prev" "$T/b1.4")
check "data-unknown-flow: $n datagrams, b1 counts data_dropped +$n, drop_unknown_conn +$n, nothing else ($d)" \
  [ "$d" = "data_dropped=$n drop_unknown_conn=$n" ]
check "data-unknown-flow: nothing reached b1's TCP (TcpInSegs $segs0 -> $segs1)" [ "$segs0" = "$segs1" ]

# 4. Random datagrams: to b1 from f's endpoint, a fifth to f from b2's.
seed=${FORGE_SEED:-$RANDOM}
snap f "$T/f.1"
snap b2 "$T/b2.1"
start=$(date +%s)
n=$(forge --src "$F_EP" --sport "$FWD_PORT" --dst "$B1" --also "$B2_EP:$FWD_PORT:$F_EP:$FWD_PORT" \
      --seed "$seed" --count 20000 -v random 2> "$T/random.txt")
diag "random (seed $seed): $n datagrams in $(( $(date +%s) - start )) s"
sed 's/^/#   /' "$T/random.txt"
n_b1=$(awk -v to="-> $B1:$FWD_PORT:" 'index($0, to) { print $NF }' "$T/random.txt")
sleep 1
snap b1 "$T/b1.5"
snap f "$T/f.5"
snap b2 "$T/b2.5"
db1=$(deltas "$T/b1.4" "$T/b1.5")
df=$(deltas "$T/f.1" "$T/f.5")
db2=$(deltas "$T/b2.1" "$T/b2.5")
diag "b1: $db1"
diag "f: $df"
diag "b2: $db2"
check "random: $n datagrams sent" [ "${n:-0}" = 20000 ]
check "random: b1's counters grew only in drop counters" only_drops "$db1"
check "random: f's counters grew only in drop counters" only_drops "$df"
check "random: b2's counters (REFUSED answers f sent to b2) grew only in drop counters" only_drops "$db2"
check "random: nothing adopted (b1 +$(get "$db1" adopted), f +$(get "$df" adopted))" \
  [ "$(get "$db1" adopted)" = 0 -a "$(get "$df" adopted)" = 0 ]
# Every datagram moves at least one counter on b1 (an unknown flow two).
sum=0
for c in dgram_malformed dgram_not_peer data_dropped data_early drop_unknown_conn refused \
         drop_table_full drop_queue_full; do
  sum=$((sum + $(get "$db1" "$c")))
done
check "random: b1 counted every datagram it got ($n_b1 sent, $sum counted)" [ "$sum" -ge "${n_b1:-1}" ]
socks_b1=$(in_ns b1 ss -Htn '( sport = :80 or sport = :9000 )')
socks_f=$(in_ns f ss -Htn '( sport = :80 or sport = :9000 )')
[ -z "$socks_b1$socks_f" ] || { echo "$socks_b1"; echo "$socks_f"; } | sed 's/^/#   /'
check "random: no TCP connection planted on b1 or f" [ -z "$socks_b1$socks_f" ]
# DATA with flow id 0 may have made early entries (held for 10 s).
for i in $(seq 40); do
  [ "$(counter b1 adopted_entries)" = 0 ] && [ "$(counter f adopted_entries)" = 0 ] && break
  sleep 1
done
check "random: early entries expired (adopted_entries b1 $(counter b1 adopted_entries), f $(counter f adopted_entries))" \
  [ "$(counter b1 adopted_entries)" = 0 -a "$(counter f adopted_entries)" = 0 ]

# 5. Normal migrations still work.
snap b1 "$T/b1.6"
weights 0 1 0 || die "weights"
read -r nf nb1 nb2 failed <<< "$(served_by 5 "http://$VIP/")"
check "after the forgeries: 5 connections served by b1 (f $nf, b1 $nb1, b2 $nb2, failed $failed)" \
  [ "$nb1" = 5 -a "$failed" = 0 ]
snap b1 "$T/b1.7"
check "b1 adopted them (adopted +$(get "$(deltas "$T/b1.6" "$T/b1.7")" adopted))" \
  [ "$(get "$(deltas "$T/b1.6" "$T/b1.7")" adopted)" = 5 ]
ktap_finish
