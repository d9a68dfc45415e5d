#!/usr/bin/env bash
# Boot the patched kernel in a virtme-ng VM (the host's filesystem, read-only,
# with a writable /tmp) and run the tests or the demo in it.
#
#   vm.sh --test [TEST...]   KUnit + kselftests; prints KTAP, then "N passed, N failed"
#   vm.sh --demo             the demonstration (scripts/demo.sh inside the VM)
#   vm.sh --shell            an interactive shell in the VM (debugging)
#   vm.sh --exec 'CMD'       run CMD in the VM
#
# KVM is used when it really boots a guest here (probed once per machine and
# cached); otherwise TCG, which every test must pass under.
#
# KERNEL=debug (scripts/env.sh) boots the debug kernel of $HANDOFF_CACHE/
# linux-6.12-debug instead; after the kselftests kmemleak scans, and any
# kmemleak report fails the run like a splat (KASAN, UBSAN, lockdep...) does.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
. "$top/scripts/env.sh"
bzimage=$KDIR/arch/x86/boot/bzImage
ko=$top/drivers/net/handoff/handoff.ko
cli=$top/tools/handoff/target/debug/handoff  # `make tools`
[ -f "$bzimage" ] || { echo "vm: no kernel at $bzimage (run make kernel KERNEL=$KERNEL)" >&2; exit 1; }
# A module built against the other flavour's tree would be refused (vermagic)
# or, worse, not be checked: say so before booting.
release=$(cat "$KDIR/include/config/kernel.release")
if [ "${1:-}" != --shell ] && [ -f "$ko" ]; then
  built_for=$(modinfo -F vermagic "$ko" | cut -d' ' -f1)
  [ "$built_for" = "$release" ] || {
    echo "vm: $ko is built for $built_for, the $KERNEL kernel is $release (run make module KERNEL=$KERNEL)" >&2
    exit 1
  }
fi
# Every KASAN report is printed, not only the first.
kernel_args="panic=-1 oops=panic softlockup_panic=1 ${HANDOFF_KERNEL_ARGS:-}"
[ "$KERNEL" = debug ] && kernel_args="$kernel_args kasan_multi_shot"

accel_opts() {
  local probe=$HANDOFF_CACHE/kvm-probe
  if [ ! -f "$probe" ]; then
    local verdict=no
    if [ -r /dev/kvm ] && [ -w /dev/kvm ]; then
      # Nested KVM may open /dev/kvm and then hang after the BIOS: only a
      # guest that reaches userspace quickly counts.
      if timeout 60 vng --run "$bzimage" --cpus 1 --memory 512M --exec 'echo handoff-kvm-ok' \
           </dev/null 2>/dev/null | grep -q handoff-kvm-ok; then
        verdict=yes
      fi
    fi
    echo "$verdict" > "$probe"
    echo "vm: KVM usable: $verdict (cached in $probe)" >&2
  fi
  [ "$(cat "$probe")" = yes ] || echo --disable-kvm
}

run_vm() {
  # vng passes --exec on the kernel command line (base64), whose 2048 bytes
  # a long test selection with the debug run's scans overflows: the VM then
  # runs a cut script, silently. The commands go in a file of the shared
  # directory instead.
  printf '%s\n' "$1" > "$vmtmp/run.sh"
  # vng reopens a regular file given as stdout/stderr with truncation (what
  # came before is lost, e.g. CI's earlier output): give it a pipe.
  # shellcheck disable=SC2046
  vng --run "$bzimage" $(accel_opts) --cpus 2 --memory 2G --user root \
      --cwd "$top" --rwdir "$vmtmp" \
      --append "$kernel_args" \
      --exec "sh $vmtmp/run.sh" </dev/null 2>&1 | cat
}

vmtmp=$(mktemp -d /tmp/handoff-vm.XXXXXX)
# The VM loads copies: a rebuild while a long run goes on must not change
# the module or the CLI under it.
[ -f "$ko" ] && cp "$ko" "$vmtmp/handoff.ko" && ko=$vmtmp/handoff.ko
[ -x "$cli" ] && cp "$cli" "$vmtmp/handoff" && cli=$vmtmp/handoff
chmod 755 "$vmtmp"  # servers in the VM (nginx workers) read files under it
trap 'rm -rf "$vmtmp"' EXIT
export HANDOFF_KO=$ko HANDOFF_TMP=$vmtmp HANDOFF_CLI=$cli

case "${1:---test}" in
  --test)
    shift || true
    # Install the kselftest target the standard way, then run it in the VM.
    inst=$vmtmp/kselftest
    flock "$KDIR.lock" make -s -C "$KDIR/tools/testing/selftests" \
      TARGETS=drivers/net/handoff INSTALL_PATH="$inst" install >/dev/null
    sel=""
    for t in "$@"; do sel="$sel -t drivers/net/handoff:$t"; done
    log=$vmtmp/ktap.log
    before="" after=""
    if [ "$KERNEL" = debug ]; then
      # kmemleak (no automatic scan): what boot left is scanned and cleared
      # (kept in kmemleak-boot.txt, not judged); after the tests, two scans
      # a little apart (objects younger than 5 s are not reported yet).
      kml=/sys/kernel/debug/kmemleak
      before="mountpoint -q /sys/kernel/debug || mount -t debugfs none /sys/kernel/debug;
        sleep 6; echo scan > $kml; cat $kml > $vmtmp/kmemleak-boot.txt; echo clear > $kml;"
      after="sleep 6; echo scan > $kml; sleep 6; echo scan > $kml;
        cat $kml > $vmtmp/kmemleak.txt && echo handoff-kmemleak-scanned;"
    fi
    start=$(date +%s)
    set +e
    run_vm "export HANDOFF_KO=$ko HANDOFF_TMP=$vmtmp HANDOFF_CLI=$cli; $before cd $inst && ./run_kselftest.sh $sel; echo handoff-vm-exit \$?; $after dmesg > $vmtmp/dmesg.txt" | tee "$log"
    set -e
    echo "# VM run took $(( $(date +%s) - start )) s ($KERNEL kernel $release)"
    lastrun=$HANDOFF_CACHE/last-run$([ "$KERNEL" = normal ] || echo "-$KERNEL")
    mkdir -p "$lastrun" && rm -f "$lastrun"/* &&
      cp "$log" "$vmtmp"/dmesg.txt "$vmtmp"/kmemleak*.txt "$lastrun/" 2>/dev/null || true
    pass=$(grep -cE '^ok [0-9]+ selftests: ' "$log" || true)
    fail=$(grep -cE '^not ok [0-9]+ selftests: ' "$log" || true)
    rc=0
    if ! grep -q '^handoff-vm-exit ' "$log"; then
      echo "# the VM did not finish the test run (crash or hang?); dmesg: $lastrun" >&2
      fail=$((fail + 1)); rc=1
    fi
    # A splat anywhere in the run fails it, even one no single test saw.
    if [ -f "$vmtmp/dmesg.txt" ] && grep -qE "$(cat "$top/selftests/splat.re")" "$vmtmp/dmesg.txt"; then
      echo "# kernel splat during the run:" >&2
      grep -nE -A20 "$(cat "$top/selftests/splat.re")" "$vmtmp/dmesg.txt" | head -60 >&2
      # Sanitizer reports in full: from their title to their closing rule.
      awk '/BUG: KASAN|UBSAN:/ { on = 1 } on { print } on && /(==============================|---\[ end trace)/ { on = 0 }' \
        "$vmtmp/dmesg.txt" | head -400 >&2
      fail=$((fail + 1)); rc=1
    fi
    if [ "$KERNEL" = debug ]; then
      boot_leaks=$(grep -c '^unreferenced object' "$vmtmp/kmemleak-boot.txt" 2>/dev/null || true)
      echo "# kmemleak: ${boot_leaks:-0} objects reported before the tests (not judged): $lastrun/kmemleak-boot.txt"
      if ! grep -q '^handoff-kmemleak-scanned' "$log"; then
        echo "# kmemleak: no scan after the tests" >&2
        fail=$((fail + 1)); rc=1
      elif [ -s "$vmtmp/kmemleak.txt" ]; then
        echo "# kmemleak: $(grep -c '^unreferenced object' "$vmtmp/kmemleak.txt") objects leaked during the run:" >&2
        head -400 "$vmtmp/kmemleak.txt" >&2
        fail=$((fail + 1)); rc=1
      fi
    fi
    [ "$pass" -gt 0 ] || { echo "# no test passed" >&2; rc=1; }
    [ "$fail" -eq 0 ] || rc=1
    echo "$pass passed, $fail failed"
    exit $rc
    ;;
  --demo)
    run_vm "export HANDOFF_KO=$ko HANDOFF_TMP=$vmtmp HANDOFF_CLI=$cli; bash $top/scripts/demo.sh"
    ;;
  --shell)
    vng --run "$bzimage" $(accel_opts) --cpus 2 --memory 2G --user root --cwd "$top" --rwdir "$vmtmp"
    ;;
  --exec)
    run_vm "export HANDOFF_KO=$ko HANDOFF_TMP=$vmtmp HANDOFF_CLI=$cli; $2"
    ;;
  *) echo "usage: $0 --test [TEST...] | --demo | --shell | --exec CMD" >&2; exit 2 ;;
esac
