#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# A forward table of 20000 entries (filled with the test build's CONN_FILL)
# dumps through `handoff conn show forward` with every entry exactly once,
# also while entries are added during the dump; the service's max-forward
# bounds the table; flush empties it and the service's gauge follows.
. "$(dirname "$0")/lib.sh"

PY="python3 -S"
GENL="$PY $here/handoff_genl.py"
out=${HANDOFF_TMP:-/tmp}/conn_dump.$$
mkdir -p "$out"

ktap_plan 8
[ -x "${HANDOFF_CLI:-}" ] || die "HANDOFF_CLI not set"
module_load || die "insmod"
ns_add a
ip -n "$(nsname a)" link add d0 type dummy && ip -n "$(nsname a)" link set d0 up || die "dummy"
ho a service add "$VIP:80" dev d0 max-forward 24000 || die "service add"
ho a peer add 2 address 10.0.2.3 || die "peer add"

# fill N: N more forward entries of the service for peer 2; prints the
# kernel's answer ("errno 0: " when all were put).
fill() {
  in_ns a $GENL send 15 "nest(2, addr(1, '$VIP'), u16(2, 80)), nest(3, u32(1, 2)), u32(9, $1)"
}
# svc_counter NAME: counter NAME of the service.
svc_counter() { counter a "$1" "$VIP:80"; }
# dump_check FILE N: FILE (the JSON of conn show forward) has at least N
# entries, all forward entries of peer 2, no tuple twice, and the N first
# tuples of the fill order (198.18.H.L:P) all there; prints what it found.
dump_check() {
  python3 -S - "$1" "$2" <<'PY'
import ipaddress, json, sys
entries = json.load(open(sys.argv[1]))
n = int(sys.argv[2])
srcs = [e["src"] for e in entries]
uniq = set(srcs)
bad = [e for e in entries if e.get("table") != "forward" or e.get("peer") != 2]
base = int(ipaddress.IPv4Address("198.18.0.0"))
want = {"%s:%d" % (ipaddress.IPv4Address(base + i // 50000), 10000 + i % 50000) for i in range(n)}
print("entries %d unique %d other %d missing %d" % (len(srcs), len(uniq), len(bad), len(want - uniq)))
sys.exit(0 if len(srcs) == len(uniq) and not bad and want <= uniq else 1)
PY
}

ok_fill=1
for i in 1 2 3 4; do
  r=$(fill 5000); [ "$r" = "errno 0: " ] || { diag "fill: $r"; ok_fill=0; }
done
check "20000 forward entries filled (4 requests)" [ "$ok_fill" = 1 ]
check "service gauge forward_entries is 20000" [ "$(svc_counter forward_entries)" = 20000 ]

ho a -j conn show forward > "$out/dump1.json" || diag "conn show failed"
res=$(dump_check "$out/dump1.json" 20000); diag "$res"
check "dump of 20000 entries: each exactly once" [ "$res" = "entries 20000 unique 20000 other 0 missing 0" ]

# Entries added while a dump runs: the 20000 present throughout are there
# once each, nothing twice.
( for i in 1 2 3 4; do fill 500 >/dev/null; done ) &
filler=$!
ho a -j conn show forward > "$out/dump2.json" || diag "conn show failed"
wait "$filler"
res=$(dump_check "$out/dump2.json" 20000); rc=$?; diag "$res"
check "dump during inserts: every entry present throughout once, none twice" [ "$rc" = 0 ]

r=$(fill 4000); diag "fill beyond max-forward: $r"
check "max-forward 24000: a fill beyond it is refused (ENOSPC, named)" \
  [ "$r" = "errno 28: the service's max-forward or the forward table is full" ]
check "the table holds exactly max-forward entries" [ "$(svc_counter forward_entries)" = 24000 ]

ho a conn flush forward || diag "flush failed"
check "conn flush forward empties the table" [ -z "$(ho a -j conn show forward | python3 -S -c 'import json,sys; print(len(json.load(sys.stdin)) or "")')" ]
sleep 1  # entries (and their slots) are freed after a grace period
check "service gauge back to 0 after the flush" [ "$(svc_counter forward_entries)" = 0 ]
ktap_finish
