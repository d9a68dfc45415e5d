#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# The module's KUnit suites: they run when handoff.ko loads; their KTAP results
# are read from debugfs and reported here, one case per suite.
. "$(dirname "$0")/lib.sh"

debugfs_mount
module_load || die "insmod failed"
suites=$(ls -d /sys/kernel/debug/kunit/handoff* 2>/dev/null)
[ -n "$suites" ] || die "no handoff KUnit suite in /sys/kernel/debug/kunit"
ktap_plan "$(echo "$suites" | wc -l)"
for s in $suites; do
  name=$(basename "$s")
  res=$(cat "$s/results")
  echo "$res" | sed 's/^/# /'
  cases_ok=$(echo "$res" | grep -cE '^\s+ok [0-9]+ ')
  cases_bad=$(echo "$res" | grep -cE '^\s+not ok [0-9]+ ')
  diag "kunit $name: $cases_ok cases passed, $cases_bad failed"
  if [ "$cases_bad" -eq 0 ] && [ "$cases_ok" -gt 0 ] && echo "$res" | grep -qE "^ok [0-9]+ $name"; then
    ok "kunit $name"
  else
    fail "kunit $name"
  fi
done
ktap_finish
