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
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
. "$top/scripts/env.sh"
bzimage=$KDIR/arch/x86/boot/bzImage
ko=$top/drivers/net/handoff/handoff.ko
cli=$top/tools/handoff/target/debug/handoff  # `make tools`
[ -f "$bzimage" ] || { echo "vm: no kernel at $bzimage (run make kernel)" >&2; exit 1; }

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
  local cmd=$1
  # vng reopens a regular file given as stdout/stderr with truncation (what
  # came before is lost, e.g. CI's earlier output): give it a pipe.
  # shellcheck disable=SC2046
  vng --run "$bzimage" $(accel_opts) --cpus 2 --memory 2G --user root \
      --cwd "$top" --rwdir "$vmtmp" \
      --append "panic=-1 oops=panic softlockup_panic=1" \
      --exec "$cmd" </dev/null 2>&1 | cat
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
    start=$(date +%s)
    set +e
    run_vm "export HANDOFF_KO=$ko HANDOFF_TMP=$vmtmp HANDOFF_CLI=$cli; cd $inst && ./run_kselftest.sh $sel; echo handoff-vm-exit \$?; dmesg > $vmtmp/dmesg.txt" | tee "$log"
    set -e
    echo "# VM run took $(( $(date +%s) - start )) s"
    mkdir -p "$HANDOFF_CACHE/last-run" && cp "$log" "$vmtmp/dmesg.txt" "$HANDOFF_CACHE/last-run/" 2>/dev/null || true
    pass=$(grep -cE '^ok [0-9]+ selftests: ' "$log" || true)
    fail=$(grep -cE '^not ok [0-9]+ selftests: ' "$log" || true)
    rc=0
    if ! grep -q '^handoff-vm-exit ' "$log"; then
      echo "# the VM did not finish the test run (crash or hang?); dmesg: $HANDOFF_CACHE/last-run" >&2
      fail=$((fail + 1)); rc=1
    fi
    # A splat anywhere in the run fails it, even one no single test saw.
    if [ -f "$vmtmp/dmesg.txt" ] && grep -qE "$(cat "$top/selftests/splat.re")" "$vmtmp/dmesg.txt"; then
      echo "# kernel splat during the run:" >&2
      grep -nE -A20 "$(cat "$top/selftests/splat.re")" "$vmtmp/dmesg.txt" | head -60 >&2
      fail=$((fail + 1)); rc=1
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
