# Shared settings for handoff's scripts (sourced, not run).
# The toolchain is Debian's: rustc-web 1.96 with rust-web-src, clang/lld 19,
# bindgen-cli from crates.io. Passing them explicitly keeps a rustup toolchain
# earlier in PATH out of the kernel build.
HANDOFF_CACHE=${HANDOFF_CACHE:-/var/cache/handoff}
# The test kernel's flavour: normal (kernel/handoff.config) or debug (that
# plus kernel/debug.config: KASAN, kmemleak, debug objects...). Each has its
# own cached tree, lock (KDIR.lock) and stamp.
KERNEL=${KERNEL:-normal}
case $KERNEL in
  normal) KDIR=${KDIR:-$HANDOFF_CACHE/linux-6.12}
          KCONFIG_FRAGMENTS=(kernel/handoff.config) ;;
  debug)  KDIR=${KDIR:-$HANDOFF_CACHE/linux-6.12-debug}
          KCONFIG_FRAGMENTS=(kernel/handoff.config kernel/debug.config) ;;
  *) echo "KERNEL=$KERNEL: the test kernel is normal or debug" >&2; return 1 ;;
esac
CARGO_BIN=${CARGO_HOME:-$HOME/.cargo}/bin
KMAKE_VARS=(LLVM=-19 RUSTC=/usr/bin/rustc HOSTRUSTC=/usr/bin/rustc RUSTDOC=/usr/bin/rustdoc
            CLIPPY_DRIVER=/usr/bin/clippy-driver BINDGEN="$CARGO_BIN/bindgen")
export LIBCLANG_PATH=/usr/lib/llvm-19/lib
kmake() { make -C "$KDIR" "${KMAKE_VARS[@]}" "$@"; }
