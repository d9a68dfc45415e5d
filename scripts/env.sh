# Shared settings for handoff's scripts (sourced, not run).
# The toolchain is Debian's: rustc-web 1.96 with rust-web-src, clang/lld 19,
# bindgen-cli from crates.io. Passing them explicitly keeps a rustup toolchain
# earlier in PATH out of the kernel build.
HANDOFF_CACHE=${HANDOFF_CACHE:-/var/cache/handoff}
KDIR=${KDIR:-$HANDOFF_CACHE/linux-6.12}
CARGO_BIN=${CARGO_HOME:-$HOME/.cargo}/bin
KMAKE_VARS=(LLVM=-19 RUSTC=/usr/bin/rustc HOSTRUSTC=/usr/bin/rustc RUSTDOC=/usr/bin/rustdoc
            CLIPPY_DRIVER=/usr/bin/clippy-driver BINDGEN="$CARGO_BIN/bindgen")
export LIBCLANG_PATH=/usr/lib/llvm-19/lib
kmake() { make -C "$KDIR" "${KMAKE_VARS[@]}" "$@"; }
