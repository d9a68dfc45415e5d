#!/usr/bin/env bash
# What the module costs a namespace that never uses it (run inside the VM by
# `make bench`, after the connection benchmark; alone:
#   bash scripts/vm.sh --exec "bash $PWD/scripts/bench_idle.sh"
# ). BENCH_IDLE_NS (1000) namespaces without any handoff configuration are
# made twice, without and with the module loaded; printed: the kernel memory
# they hold (Slab + VmallocUsed + Percpu of /proc/meminfo) and the timer
# softirqs per second while they idle, both ways, and the difference per
# namespace.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
. "$top/selftests/lib.sh"

N=${BENCH_IDLE_NS:-1000}
case $N in '' | *[!0-9]*) echo "bench_idle: BENCH_IDLE_NS must be a number, not '$N'" >&2; exit 2 ;; esac
prefix=idle$$

# kmem: kernel memory in kB that namespaces take (slab, vmalloc, per-CPU).
kmem() { awk '/^(Slab|VmallocUsed|Percpu):/ { s += $2 } END { print s }' /proc/meminfo; }
# timer_softirqs: the TIMER softirqs of all CPUs so far.
timer_softirqs() { awk '$1 == "TIMER:" { for (i = 2; i <= NF; i++) s += $i } END { print s }' /proc/softirqs; }
# settle: lets freed memory (RCU, deferred namespace cleanup) go.
settle() { sleep 3; echo 3 > /proc/sys/vm/drop_caches; sleep 1; }
# measure: "KB_DELTA SOFTIRQS_PER_S" for N idle namespaces.
measure() {
  local m0 m1 t0 t1 i
  settle
  m0=$(kmem)
  for i in $(seq "$N"); do echo "netns add $prefix-$i"; done | ip -batch - || die "netns add"
  settle
  m1=$(kmem)
  t0=$(timer_softirqs)
  sleep 10
  t1=$(timer_softirqs)
  for i in $(seq "$N"); do echo "netns del $prefix-$i"; done | ip -batch - || die "netns del"
  echo "$((m1 - m0)) $(((t1 - t0) / 10))"
}

printf '\n== idle namespaces: %d without any handoff configuration\n' "$N"
module_unload || die "rmmod"
read -r mem_without tim_without <<< "$(measure)"
module_load || die "insmod"
read -r mem_with tim_with <<< "$(measure)"
module_unload
printf '  %-22s %14s %18s\n' "" "kernel memory" "timer softirqs/s"
printf '  %-22s %11d kB %18d\n' "without the module" "$mem_without" "$tim_without"
printf '  %-22s %11d kB %18d\n' "with the module" "$mem_with" "$tim_with"
printf '  %-22s %11d kB %18s\n' "the module, per netns" "$(((mem_with - mem_without) / N))" \
  "$(awk -v a="$tim_with" -v b="$tim_without" -v n="$N" 'BEGIN { printf "%.3f", (a - b) / n }')"
echo "  (memory: Slab + VmallocUsed + Percpu growth; both runs have the same"
echo "  namespaces, so the difference is the module's; a few kB of noise per run)"
ktap_finish
