#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Devices with handoff's ingress hooks go away in every way a device can:
# deleted, moved to another namespace, their veth peer's namespace deleted
# first (the core then unregisters them while their own namespace waits to be
# dismantled), their namespace deleted, the module unloaded with hooks
# installed or right after their namespaces were deleted. Each time the hook's
# device reference is released (no "waiting for DEV to become free"), and
# nothing hangs.
. "$(dirname "$0")/lib.sh"

ktap_plan 9
[ -x "${HANDOFF_CLI:-}" ] || die "HANDOFF_CLI not set"

# no_leak SINCE: no device reference leak reported in the 3 s after the
# mark SINCE (a held reference is reported every second: lib.sh sets
# netdev_unregister_timeout_secs to 1). One look at the end: under TCG a
# look costs three process starts.
no_leak() {
  local log
  sleep 3
  log=$(dmesg | sed -n "/$1/,\$p")
  if grep -q "to become free" <<< "$log"; then
    grep "to become free" <<< "$log" | head -3 | sed 's/^/# /'
    return 1
  fi
}
mark() { local m="handoff-teardown-$1-$$"; echo "$m" > /dev/kmsg; echo "$m"; }

# hooked_pair NS PEERNS: a veth pair a0 (in NS, hooked by a service) / p0
# (in PEERNS).
n=0
hooked_pair() {
  n=$((n + 1))
  ip link add a0 netns "$(nsname "$1")" type veth peer name p0 netns "$(nsname "$2")" &&
    ip -n "$(nsname "$1")" link set a0 up && ip -n "$(nsname "$2")" link set p0 up &&
    ho "$1" service add "10.0.0.$n:80" dev a0
}
# gone_ns SHORT...: delete namespaces (their processes first) and forget them.
gone_ns() {
  local s ns keep=()
  for s in "$@"; do ip netns del "$(nsname "$s")"; done
  for ns in "${NAMESPACES[@]}"; do
    for s in "$@"; do [ "$ns" = "$(nsname "$s")" ] && continue 2; done
    keep+=("$ns")
  done
  NAMESPACES=("${keep[@]}")
}
# rmmod_done: unload the module, in the background; true if it finished
# within 20 s.
rmmod_done() {
  local pid i
  rmmod handoff & pid=$!
  for i in $(seq 200); do
    kill -0 "$pid" 2>/dev/null || { wait "$pid"; return; }
    sleep 0.1
  done
  diag "rmmod still running after 20 s"
  return 1
}

module_load || die "insmod"
ns_add a; ns_add p
hooked_pair a p || die "hooked pair"
m=$(mark del)
ip -n "$(nsname a)" link del a0
check "hooked device deleted in a live namespace: reference released" no_leak "$m"
check "services can change after a service's device was deleted" hooked_pair a p
ns_add q
m=$(mark move)
ip -n "$(nsname a)" link set a0 netns "$(nsname q)" &&
  ip -n "$(nsname q)" link del a0
check "hooked device moved to another namespace and deleted there: reference released" no_leak "$m"

# The peer's namespace goes first: the core unregisters a hooked device
# while its own namespace, deleted meanwhile, waits to be dismantled after the
# peer's; that dismantling must not wait for the hook's reference. Devices
# created after the peer are unregistered before it, which keeps the window
# open long enough for the second deletion.
m=$(mark peer-first)
ns_add x; ns_add y
hooked_pair x y || die "hooked pair"
for i in $(seq 40); do echo "link add d$i type dummy"; done | ip -n "$(nsname y)" -batch - ||
  die "dummies"
gone_ns y
sleep 0.3
gone_ns x
check "veth peer's namespace deleted first: reference released" no_leak "$m"

ns_add x2; ns_add y2
hooked_pair x2 y2 || die "hooked pair"
m=$(mark own-first)
gone_ns x2 y2
check "hooked device's own namespace deleted: reference released" no_leak "$m"

hooked_pair a p || die "hooked pair"
m=$(mark rmmod-live)
check "rmmod with hooks installed in a live namespace finishes" rmmod_done
check "rmmod with hooks installed: reference released" no_leak "$m"
ip -n "$(nsname a)" link del a0

module_load || die "insmod"
ns_add x3; ns_add y3
hooked_pair x3 y3 || die "hooked pair"
m=$(mark rmmod-dying)
gone_ns y3 x3
check "rmmod right after the hooked namespaces were deleted finishes" rmmod_done
check "rmmod after namespace deletion: reference released" no_leak "$m"
ktap_finish
