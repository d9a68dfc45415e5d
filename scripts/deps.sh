#!/usr/bin/env bash
# Install everything handoff's build and tests need, idempotently.
# Debian packages, bindgen-cli and cargo-fuzz from crates.io, virtme-ng from PyPI.
# A stamp file keyed by this script's hash makes a second run take well under a second.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
stamp_dir=${HANDOFF_CACHE:-/var/cache/handoff}
mkdir -p "$stamp_dir"
stamp="$stamp_dir/deps.$(sha256sum "$0" | cut -c1-16)"

PKGS=(
  linux-source-6.12 rustc-web rust-web-src rust-web-clippy
  clang-19 lld-19 llvm-19 libclang-19-dev
  flex bison bc libelf-dev libssl-dev cpio kmod rsync xz-utils make gcc
  qemu-system-x86 udev busybox-static
  nginx-light curl iproute2 tcpdump ethtool iputils-ping procps psmisc python3 mptcpize hping3
  python3-docutils man-db
)
BINDGEN_VERSION=0.73.2
CARGO_FUZZ_VERSION=0.13.2
VIRTME_VERSION=1.42

have_all() {
  [ -f "$stamp" ] || return 1
  for p in "${PKGS[@]}"; do dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || return 1; done
  command -v vng >/dev/null || return 1
  [ -x "${CARGO_HOME:-$HOME/.cargo}/bin/bindgen" ] || return 1
  [ -x "${CARGO_HOME:-$HOME/.cargo}/bin/cargo-fuzz" ] || return 1
}
if have_all; then exit 0; fi

SUDO=""
[ "$(id -u)" = 0 ] || SUDO=sudo
export DEBIAN_FRONTEND=noninteractive
missing=()
for p in "${PKGS[@]}"; do dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p"); done
if [ ${#missing[@]} -gt 0 ]; then
  echo "deps: installing ${missing[*]}"
  $SUDO apt-get update -qq
  # nginx must not stay running on the host: tests start their own inside the VM.
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" </dev/null
  $SUDO systemctl disable --now nginx >/dev/null 2>&1 || true
  $SUDO pkill -x nginx >/dev/null 2>&1 || true
fi

if [ ! -x "${CARGO_HOME:-$HOME/.cargo}/bin/bindgen" ] || \
   ! "${CARGO_HOME:-$HOME/.cargo}/bin/bindgen" --version 2>/dev/null | grep -q "$BINDGEN_VERSION"; then
  echo "deps: cargo install bindgen-cli $BINDGEN_VERSION"
  LIBCLANG_PATH=/usr/lib/llvm-19/lib cargo install --locked --version "$BINDGEN_VERSION" bindgen-cli </dev/null
fi

# cargo-fuzz runs the libFuzzer targets of `make fuzz` (scripts/fuzz.sh);
# any version will do, so one already installed is kept.
if [ ! -x "${CARGO_HOME:-$HOME/.cargo}/bin/cargo-fuzz" ]; then
  echo "deps: cargo install cargo-fuzz $CARGO_FUZZ_VERSION"
  cargo install --locked --version "$CARGO_FUZZ_VERSION" cargo-fuzz </dev/null
fi

if ! command -v vng >/dev/null || ! vng --version 2>/dev/null | grep -q "$VIRTME_VERSION"; then
  echo "deps: pip install virtme-ng $VIRTME_VERSION"
  python3 -m pip install -q "virtme-ng==$VIRTME_VERSION" </dev/null
fi
touch "$stamp"
echo "deps: ok"
