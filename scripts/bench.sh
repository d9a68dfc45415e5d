#!/usr/bin/env bash
# The benchmark, run inside the VM by `make bench` (not a test: it passes
# unless the set-up fails). One topology (selftests/lib.sh: client c, front f,
# back-ends b1 b2, every server a handoff node, the service VIP:80 on each),
# three configurations measured with BENCH_N (1000) sequential connections
# each by scripts/bench_client.py from the client:
#   (a) direct to b1    c -> 10.0.1.3:80, b1's nginx; no module on the path
#   (b) f local         c -> VIP, weights 1 0 0: f answers, injects into f's nginx
#   (c) f hands to b1   c -> VIP, weights 0 1 0: f answers, hands to b1, b1 replies (DSR)
# The configurations take turns (BENCH_ROUNDS rounds). Prints p50/p99 of
# connect()-to-first-response-byte and connections per second, and the
# ratios (b)/(a) and (c)/(a); checks with f's counters that (b) injected and
# (c) migrated.
#   make bench [BENCH_N=1000]
#   bash scripts/vm.sh --exec "BENCH_N=300 BENCH_ROUNDS=3 BENCH_WARMUP=10 bash $PWD/scripts/bench.sh"
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
. "$top/selftests/lib.sh"

N=${BENCH_N:-1000}
WARMUP=${BENCH_WARMUP:-10}
case $N in '' | *[!0-9]*) echo "bench: BENCH_N must be a number, not '$N'" >&2; exit 2 ;; esac

bw=$HANDOFF_TMP/bench-www
bench_cleanup() {
  local rc=$?
  trap - EXIT
  ns_del_all   # kills every process of the namespaces (nginx)
  module_unload 2>/dev/null
  mountpoint -q "$bw" && umount "$bw"
  if ! splat_check; then echo "bench: WARNING: kernel splat during the benchmark" >&2; rc=1; fi
  exit $rc
}
trap bench_cleanup EXIT

say() { printf '\n== %s\n' "$*"; }
[ -x "${HANDOFF_CLI:-}" ] || die "HANDOFF_CLI not set (make tools)"

if dmesg | grep -q 'Hypervisor detected: KVM'; then accel=KVM; else accel=TCG; fi
say "handoff bench: kernel $(uname -r), $(nproc) CPUs, $accel, $N connections per configuration (+$WARMUP warm-up per round)"

topo_setup
module_load || die "insmod"

# nginx on every server, logging nothing and serving a tiny page from a
# tmpfs: the file system shared with the host would add its own cost per
# request to every configuration alike and blur the ratios.
mkdir -p "$bw" && mount -t tmpfs -o mode=755 bench "$bw" || die "tmpfs at $bw"
for h in $SERVERS; do
  d=$bw/$h
  mkdir -p "$d" && chmod 755 "$d"
  echo "served by $h" > "$d/index.html"
  cat > "$d/nginx.conf" <<CONF
daemon on; pid $d/nginx.pid; error_log $d/error.log; worker_processes 1;
events { worker_connections 1024; }
http { access_log off; client_body_temp_path $d; proxy_temp_path $d;
       fastcgi_temp_path $d; uwsgi_temp_path $d; scgi_temp_path $d;
       server { listen 80 backlog=1024; root $d; } }
CONF
  in_ns "$h" nginx -c "$d/nginx.conf" -e "$d/error.log" || die "nginx in $h"
done
for h in $SERVERS; do wait_port "$h" 80 || die "nginx in $h does not listen"; done
migrate_setup 80

# The configurations take turns, BENCH_ROUNDS (5) rounds of N/ROUNDS
# connections each, so that a slow spell of the host (other VMs) does not
# fall on one configuration alone.
ROUNDS=${BENCH_ROUNDS:-5}
[ "$ROUNDS" -ge 1 ] 2>/dev/null && [ "$ROUNDS" -le "$N" ] || ROUNDS=1
URL_a=http://10.0.1.3/ EXPECT_a="served by b1" WEIGHTS_a=""
URL_b=http://$VIP/     EXPECT_b="served by f"  WEIGHTS_b="1 0 0"
URL_c=http://$VIP/     EXPECT_c="served by b1" WEIGHTS_c="0 1 0"

# take TAG: f's injected and migrated, b1's adopted and injected, as the
# shell variables TAG_f_injected, TAG_f_migrated, TAG_b1_adopted, TAG_b1_injected.
COUNTERS="f_injected f_migrated b1_adopted b1_injected"
take() {
  local v
  for v in $COUNTERS; do printf -v "${1}_$v" '%s' "$(counter "${v%%_*}" "${v#*_}")"; done
}
# grew CFG: adds what the counters grew since `take before` to CFG's sums.
grew() {
  local v b s
  for v in $COUNTERS; do
    b=before_$v s=sum_${1}_$v
    printf -v "$s" '%s' $(( ${!s:-0} + after_$v - ${!b} ))
  done
}

say "measuring: $ROUNDS rounds of (a) (b) (c)"
for cfg in a b c; do : > "$HANDOFF_TMP/bench-$cfg.json"; : > "$HANDOFF_TMP/bench-$cfg.samples"; done
for r in $(seq "$ROUNDS"); do
  n=$(( N / ROUNDS + (r <= N % ROUNDS ? 1 : 0) ))
  for cfg in a b c; do
    url=URL_$cfg expect=EXPECT_$cfg w=WEIGHTS_$cfg
    if [ -n "${!w}" ]; then
      # shellcheck disable=SC2086
      weights ${!w} || die "weights ${!w}"
    fi
    take before
    in_ns c python3 "$top/scripts/bench_client.py" -n "$n" --warmup "$WARMUP" --expect "${!expect}" \
      --samples "$HANDOFF_TMP/bench-$cfg.samples" "${!url}" > "$HANDOFF_TMP/bench-$cfg.last" ||
      echo "  bench: WARNING: round $r ($cfg): no successful connection" >&2
    cat "$HANDOFF_TMP/bench-$cfg.last" >> "$HANDOFF_TMP/bench-$cfg.json"
    sleep 0.5   # b1's adopted counter of the last connection
    take after
    grew "$cfg"
    printf '  round %d (%s) %s\n' "$r" "$cfg" "$(python3 -c '
import json, sys
r = json.load(open(sys.argv[1]))
print("%d/%d ok, p50 %.0f us, p99 %.0f us, %.1f conn/s" % (r["ok"], r["n"], r["p50_us"] or 0, r["p99_us"] or 0, r["rate"] or 0))
' "$HANDOFF_TMP/bench-$cfg.last" 2>/dev/null || echo "no result")"
  done
done

# --- verification with the module's counters ---------------------------
say "module counters (growth during each configuration; warm-up connections included)"
total=$((N + ROUNDS * WARMUP))
warn=0
# d CFG COUNTER: how much COUNTER grew during CFG.
d() { local s=sum_${1}_$2; echo "${!s:-0}"; }
for cfg in a b c; do
  printf '  (%s) f injected +%-6s f migrated +%-6s b1 adopted +%-6s b1 injected +%s\n' "$cfg" \
    "$(d "$cfg" f_injected)" "$(d "$cfg" f_migrated)" "$(d "$cfg" b1_adopted)" "$(d "$cfg" b1_injected)"
done
echo "  f totals: injected $after_f_injected, migrated $after_f_migrated ($total connections per configuration)"
# about COUNT: "about n", at least 95 % of the connections made.
about() { [ "$1" -ge $(( total * 95 / 100 )) ] && [ "$1" -le $(( total + total / 10 )) ]; }
if [ "$(d a f_injected)" != 0 ] || [ "$(d a f_migrated)" != 0 ]; then
  echo "  WARNING: (a) is meant to bypass the module, yet f injected +$(d a f_injected), migrated +$(d a f_migrated)"; warn=1
fi
if about "$(d b f_injected)" && [ "$(d b f_migrated)" = 0 ]; then
  echo "  ok: (b) was injected locally on f (f injected +$(d b f_injected) of $total, no migration)"
else
  echo "  WARNING: (b) did not really inject locally: f injected +$(d b f_injected), migrated +$(d b f_migrated) of $total connections"; warn=1
fi
if about "$(d c f_migrated)" && [ "$(d c f_injected)" = 0 ]; then
  echo "  ok: (c) was handed to b1 (f migrated +$(d c f_migrated) of $total, b1 adopted +$(d c b1_adopted))"
else
  echo "  WARNING: (c) did not really migrate: f migrated +$(d c f_migrated), injected +$(d c f_injected) of $total connections"; warn=1
fi

# --- the table -----------------------------------------------------------
say "results ($N connections per configuration, $ROUNDS rounds)"
python3 - "$HANDOFF_TMP" "$accel" "$warn" <<'PY'
import json, sys
tmp, accel, warn = sys.argv[1], sys.argv[2], sys.argv[3] == "1"
names = {
    "a": "(a) direct to b1 (no module)",
    "b": "(b) VIP, f injects locally",
    "c": "(c) VIP, f hands off to b1",
}
def pct(v, p):
    # nearest rank, as bench_client.py
    return v[max(0, min(len(v) - 1, -(-p * len(v) // 100) - 1))] if v else None
res = {}
for k in "abc":
    runs = []
    with open("%s/bench-%s.json" % (tmp, k)) as f:
        for line in f:
            try:
                runs.append(json.loads(line))
            except ValueError:
                pass
    with open("%s/bench-%s.samples" % (tmp, k)) as f:
        lat = sorted(float(x) for x in f if x.strip())
    elapsed = sum(r["elapsed_s"] for r in runs)
    errors = {}
    for r in runs:
        for e, c in r.get("errors", {}).items():
            errors[e] = errors.get(e, 0) + c
    res[k] = {
        "ok": len(lat),
        "failed": sum(r["failed"] for r in runs),
        "mismatched": sum(r["mismatched"] for r in runs),
        "p50_us": pct(lat, 50),
        "p99_us": pct(lat, 99),
        "rate": len(lat) / elapsed if elapsed else None,
        "errors": errors,
    }
def num(v, fmt):
    return "-" if v is None else fmt % v
print("  %-30s %6s %6s %10s %10s %9s" % ("config", "n", "failed", "p50 us", "p99 us", "conn/s"))
for k in "abc":
    r = res[k]
    print("  %-30s %6d %6d %10s %10s %9s" % (
        names[k], r["ok"], r["failed"],
        num(r["p50_us"], "%.0f"), num(r["p99_us"], "%.0f"), num(r["rate"], "%.1f")))
    if r["mismatched"]:
        print("  %-30s WARNING: %d responses from the wrong server" % ("", r["mismatched"]))
    if r["errors"]:
        print("  %-30s errors: %s" % ("", r["errors"]))
print()
print("  %-30s %10s %10s %9s" % ("ratio", "p50", "p99", "conn/s"))
def ratio(k, key):
    x, y = res[k][key], res["a"][key]
    return "-" if not x or not y else "%.2f" % (x / y)
for k in "bc":
    print("  %-30s %10s %10s %9s" % ("(%s)/(a)" % k, ratio(k, "p50_us"), ratio(k, "p99_us"), ratio(k, "rate")))
print()
if accel == "TCG":
    print("  Note: the VM ran under TCG emulation: absolute microseconds and rates say")
    print("  nothing about real hardware; only the ratios to (a) mean something.")
else:
    print("  Note: the VM ran under KVM on a shared host: absolute figures are rough;")
    print("  the ratios to (a) are the result.")
print("  Anchors on real hardware: Prism (NSDI '21) adds 232 us per handoff;")
print("  Aron et al. (USENIX ATC '00) about 300 us.")
if warn:
    print("  WARNING: the module's counters do not confirm every configuration (see above).")
PY
