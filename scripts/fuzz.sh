#!/usr/bin/env bash
# Run every cargo-fuzz target of handoff-proto (the [[bin]]s of
# drivers/net/handoff/proto/fuzz/Cargo.toml) for FUZZ_SECONDS (default 10)
# each, starting from its corpus fuzz/corpus/<target>/ (the committed seed-*
# files plus what earlier local runs found). Fails at the first crash, leak,
# timeout or out-of-memory; libFuzzer leaves the input in
# fuzz/artifacts/<target>/ and the script prints how to replay it.
#
# libFuzzer builds need -Z flags (sanitizer, coverage). RUSTC_BOOTSTRAP=1
# lets a stable toolchain take them, and the stable rust-std of
# x86_64-unknown-linux-gnu ships the AddressSanitizer runtime, so cargo
# fuzz keeps its default sanitizer (address): no nightly toolchain needed.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
cd "$here/../drivers/net/handoff/proto"
secs=${FUZZ_SECONDS:-10}
export RUSTC_BOOTSTRAP=1

mapfile -t targets < <(cargo fuzz list)
[ ${#targets[@]} -gt 0 ] || { echo "fuzz: no targets in fuzz/Cargo.toml" >&2; exit 1; }
log=$(mktemp)
trap 'rm -f "$log"' EXIT
# cargo fuzz's default build: optimized, with debug assertions and overflow
# checks, so an arithmetic overflow is a crash too.
echo "fuzz: building ${targets[*]}"
if ! cargo fuzz build >"$log" 2>&1; then
  cat "$log" >&2
  echo "fuzz: build failed" >&2
  exit 1
fi
for t in "${targets[@]}"; do
  # -timeout: a single input taking 10 s is a bug of a linear parser.
  if ! cargo fuzz run "$t" -- -max_total_time="$secs" -timeout=10 >"$log" 2>&1; then
    tail -n 60 "$log" >&2
    echo "fuzz: $t FAILED; replay with: RUSTC_BOOTSTRAP=1 cargo fuzz run $t fuzz/artifacts/$t/<file>" \
      "(in drivers/net/handoff/proto)" >&2
    exit 1
  fi
  # libFuzzer ends with "Done N runs in S second(s)"; the last status line
  # has the corpus size ("corp: inputs/bytes").
  runs=$(sed -n 's/^Done \([0-9]*\) runs in \([0-9]*\) second.*/\1 runs in \2 s/p' "$log" | tail -n 1)
  corp=$(grep -o 'corp: [0-9]*/[0-9]*[a-zA-Z]*' "$log" | tail -n 1 || true)
  echo "fuzz: $t: ${runs:-? runs}, ${corp:-corp: ?}"
done
