#!/usr/bin/env bash
# Build the patched test kernel: Debian's linux-source-6.12 + handoff's kernel
# additions (rust/ overlay, kernel/patches/*.patch) + kernel/handoff.config,
# and for KERNEL=debug kernel/debug.config on top (scripts/env.sh).
#
# One cached tree per flavour and source version lives outside the clone
# (HANDOFF_CACHE, default /var/cache/handoff: linux-6.12, linux-6.12-debug);
# the caller holds the tree's lock (KDIR.lock). Overlay files and patched
# files are written only when their content changes, so kbuild's own
# dependency tracking rebuilds just what changed. A stamp keyed by source
# version + config fragments + patches + overlay makes a run after no kernel
# change return in about a second.
set -euo pipefail
shopt -s nullglob
top=$(cd "$(dirname "$0")/.." && pwd)
. "$top/scripts/env.sh"

ver=$(dpkg-query -W -f='${Version}' linux-source-6.12)
tarball=/usr/src/linux-source-6.12.tar.xz
overlay_files() { (cd "$top" && find rust selftests -type f ! -name "*~" ! -name .keep | LC_ALL=C sort); }
fragments=("${KCONFIG_FRAGMENTS[@]/#/$top/}")
key=$( { echo "$ver"; cat "${fragments[@]}" "$top"/kernel/patches/*.patch;
         cd "$top" && overlay_files | xargs sha256sum; } | sha256sum | cut -c1-16)

if [ -f "$KDIR/.handoff-stamp" ] && [ "$(cat "$KDIR/.handoff-stamp")" = "$key" ] && \
   [ -f "$KDIR/arch/x86/boot/bzImage" ] && [ "${1:-}" != "--force" ]; then
  echo "kernel: $KERNEL up to date ($KDIR, key $key)"
  exit 0
fi

mkdir -p "$HANDOFF_CACHE"
if [ ! -f "$KDIR/.handoff-unpacked" ] || [ "$(cat "$KDIR/.handoff-unpacked")" != "$ver" ]; then
  echo "kernel: unpacking linux-source-6.12 $ver into $KDIR"
  rm -rf "$KDIR" "$KDIR.tmp"
  mkdir -p "$KDIR.tmp"
  tar -C "$KDIR.tmp" --strip-components=1 -xf "$tarball"
  mv "$KDIR.tmp" "$KDIR"
  echo "$ver" > "$KDIR/.handoff-unpacked"
fi

# copy_if_changed SRC DST: keeps DST's mtime when the content is the same.
copy_if_changed() {
  if ! cmp -s "$1" "$2"; then
    mkdir -p "$(dirname "$2")"
    cp "$1" "$2"
    echo "kernel: updated ${2#"$KDIR"/}"
  fi
}

# Kernel files that patches touch: rebuild them from pristine tarball content
# plus every patch, then write only what differs.
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mapfile -t patched < <(sed -n 's|^+++ b/\([^[:space:]]*\).*|\1|p' "$top"/kernel/patches/*.patch | LC_ALL=C sort -u)
prev_patched=()
[ -f "$KDIR/.handoff-patched" ] && mapfile -t prev_patched < <(grep . "$KDIR/.handoff-patched")
mapfile -t restore < <(printf '%s\n' "${patched[@]}" "${prev_patched[@]}" | grep . | LC_ALL=C sort -u)
if [ ${#restore[@]} -gt 0 ]; then
  tar -C "$work" --strip-components=1 -xf "$tarball" "${restore[@]/#/linux-source-6.12/}"
fi
for p in "$top"/kernel/patches/*.patch; do
  patch -s -d "$work" -p1 --no-backup-if-mismatch < "$p" || { echo "kernel: $p does not apply" >&2; exit 1; }
done
for f in "${restore[@]}"; do copy_if_changed "$work/$f" "$KDIR/$f"; done
printf '%s\n' "${patched[@]}" > "$KDIR/.handoff-patched"

# The overlay: rust/ into the tree's rust/, selftests/ into the kselftest tree.
dest_of() {
  case "$1" in
    rust/*) echo "$KDIR/$1" ;;
    selftests/*) echo "$KDIR/tools/testing/selftests/drivers/net/handoff/${1#selftests/}" ;;
  esac
}
mapfile -t now < <(overlay_files)
for f in "${now[@]}"; do copy_if_changed "$top/$f" "$(dest_of "$f")"; done
# Files the overlay no longer has: restore the kernel's own version or delete.
if [ -f "$KDIR/.handoff-overlay" ]; then
  comm -23 <(grep . "$KDIR/.handoff-overlay") <(printf '%s\n' "${now[@]}") | while read -r f; do
    d=$(dest_of "$f")
    if tar -C "$work" --strip-components=1 -xf "$tarball" "linux-source-6.12/${d#"$KDIR"/}" 2>/dev/null; then
      copy_if_changed "$work/${d#"$KDIR"/}" "$d"
    else
      rm -f "$d"; echo "kernel: removed ${d#"$KDIR"/}"
    fi
  done
fi
printf '%s\n' "${now[@]}" > "$KDIR/.handoff-overlay"

# Configuration: regenerated only when a fragment changed. The flavour's
# fragments are applied in order (a later one may override an earlier one).
cfg_key=$(cat "${fragments[@]}" | sha256sum | cut -c1-16)
if [ ! -f "$KDIR/.config" ] || [ "$(cat "$KDIR/.handoff-config" 2>/dev/null)" != "$cfg_key" ]; then
  echo "kernel: configuring from ${KCONFIG_FRAGMENTS[*]}"
  cat "${fragments[@]}" > "$work/allconfig"
  kmake allnoconfig KCONFIG_ALLCONFIG="$work/allconfig" >/dev/null
  # Every option the fragments ask for must have survived dependency
  # resolution (for a symbol set twice, the last setting).
  bad=0
  while IFS= read -r line; do
    case "$line" in
      CONFIG_*=*) grep -qxF "$line" "$KDIR/.config" || { echo "kernel: config lost: $line" >&2; bad=1; } ;;
      "# CONFIG_"*" is not set") sym=${line#\# }; sym=${sym%% *}
        if grep -q "^$sym=" "$KDIR/.config"; then echo "kernel: config should be off: $sym" >&2; bad=1; fi ;;
    esac
  done < <(awk '/^CONFIG_[A-Za-z0-9_]+=/ { sym = $0; sub(/=.*/, "", sym) }
                /^# CONFIG_[A-Za-z0-9_]+ is not set$/ { sym = $2 }
                sym != "" { last[sym] = $0; order[++n] = sym; sym = "" }
                END { for (i = 1; i <= n; i++) if (!seen[order[i]]++) print last[order[i]] }' \
             "$work/allconfig")
  [ $bad = 0 ] || exit 1
  echo "$cfg_key" > "$KDIR/.handoff-config"
fi

echo "kernel: building $KERNEL in $KDIR (incremental)"
start=$(date +%s)
kmake -j"$(nproc)" all
echo "kernel: built in $(( $(date +%s) - start )) s"
echo "$key" > "$KDIR/.handoff-stamp"
