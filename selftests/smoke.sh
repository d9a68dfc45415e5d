#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Smoke test: the module loads, network namespaces come and go while it is
# loaded (each one gets and drops its handoff instance), and it unloads.
. "$(dirname "$0")/lib.sh"

ktap_plan 6
check "insmod handoff.ko" module_load
check "module is live" grep -qx live /sys/module/handoff/initstate

created=1
for n in 1 2 3; do
  ns_add "n$n"
  ns=$(nsname "n$n")
  # A device in each namespace, so teardown dismantles devices too.
  ip -n "$ns" link add d0 type dummy && ip -n "$ns" addr add "10.9.$n.1/24" dev d0 &&
    ip -n "$ns" link set d0 up || created=0
  in_ns "n$n" ping -c1 -W2 "10.9.$n.1" >/dev/null || created=0
done
check "3 namespaces created with the module loaded" [ "$created" = 1 ]
ns_del_all
check "3 namespaces deleted" [ -z "$(ip netns list | grep "^$NS_PREFIX-n")" ]
check "rmmod handoff" rmmod handoff
check "module gone" [ ! -d /sys/module/handoff ]
ktap_finish
