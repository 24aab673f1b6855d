#!/usr/bin/env bash
# Installs the real tools the interop tests run against ("peers"), from Debian
# only, and prints one line per peer with its version.
#
#   apt (system):  qemu-system-x86 7.2, qemu-utils, xen-utils-4.17, chromium,
#                  libvirt-daemon-system, libvirt-clients, bzip2, lzop
#   side by side:  QEMU 5.2 (bullseye) and QEMU 10.0 (bookworm-backports),
#                  unpacked with dpkg-deb under $PEERS/qemu-R/, never installed
#                  over the system's 7.2
#   scripts:       analyze-migration.py / vmstate-static-checker.py from
#                  Debian's QEMU source tarballs, into $PEERS/qemu-R-scripts/
#   wrappers:      $PEERS/bin/qemu-system-x86_64-{5.2,7.2,10.0}
#
# Idempotent: each step leaves a stamp naming what it installed and is skipped
# when the stamp matches, so a second run only checks and prints.
# Nothing of QEMU or Xen is kept in the repository; all of it comes from Debian.
set -euo pipefail

PEERS=${VMSTREAM_PEERS:-/opt/vmstream-peers}
export DEBIAN_FRONTEND=noninteractive

V52='1:5.2+dfsg-11+deb11u3'
V100='1:10.0.2+ds-2+deb13u1~bpo12+1'
XEN414='4.14.6-1'
# bzip2 and lzop: the compressors libvirt runs for save_image_format 2 and 4 (vmstream runs them the same way).
SYSTEM_PKGS=(qemu-system-x86 qemu-utils xen-utils-4.17 chromium libvirt-daemon-system libvirt-clients bzip2 lzop)
# What this script itself runs that a minimal Debian image may lack.
SCRIPT_PKGS=(xz-utils patch python3 debian-archive-keyring)
# Binary packages of one QEMU release that make a complete emulator with its own
# modules (a module from another build aborts -dump-vmstate); those a release
# does not have are left out.
QEMU_PKGS=(qemu-system-x86 qemu-system-data qemu-system-common qemu-system-gui qemu-system-modules-spice qemu-system-modules-opengl)
# 5.2 links Xen 4.14's libraries by soname; bookworm's 4.17 ones would be picked
# otherwise, so they are unpacked beside it at bullseye's version.
XEN414_PKGS=(libxenmisc4.14 libxenstore3.0 libxencall1 libxendevicemodel1 libxenevtchn1 libxenforeignmemory1 libxengnttab1 libxentoolcore1 libxentoollog1 libxenhypfs1)

say() { echo "peers: $*" >&2; }
die() { echo "peers: error: $*" >&2; exit 1; }

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo -n "$@"; else die "need root for: $*"; fi
}

# ---------------------------------------------------------------- system apt
installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'; }

missing=()
for p in "${SYSTEM_PKGS[@]}" "${SCRIPT_PKGS[@]}"; do installed "$p" || missing+=("$p"); done
if [ ${#missing[@]} -gt 0 ]; then
  say "apt-get install ${missing[*]}"
  as_root apt-get update -qq >/dev/null || die "apt-get update failed"
  as_root apt-get install -y -qq "${missing[@]}" >/dev/null || die "apt-get install ${missing[*]} failed"
fi

as_root mkdir -p "$PEERS"
[ -w "$PEERS" ] || die "$PEERS is not writable (set VMSTREAM_PEERS)"
mkdir -p "$PEERS/bin"
# Scratch folders of an interrupted run are never reused; drop them on exit.
trap 'rm -rf "$PEERS"/.work-*' EXIT

# ------------------------------------------------- private apt for other suites
# bullseye and bookworm-backports are read through an apt configuration of our
# own (sources, lists, cache and preferences under $PEERS/apt): the system's apt
# never sees those suites, so nothing can ever upgrade or downgrade the system
# from them. Only `apt-get download` and `apt-get source --print-uris` use it.
APTDIR="$PEERS/apt"
KEYRING=/usr/share/keyrings/debian-archive-keyring.gpg
# The mirror the system already uses for Debian (a CI machine may have its own),
# else deb.debian.org; VMSTREAM_DEBIAN_MIRROR overrides both.
system_mirror() {
  { grep -hs '^URIs:' /etc/apt/sources.list.d/*.sources | awk '{print $2}'
    grep -hs '^deb ' /etc/apt/sources.list /etc/apt/sources.list.d/*.list | sed 's/\[[^]]*\]//' | awk '{print $2}'
  } | grep -v -e security -e '^$' | grep -m1 '/debian/\?$' || true
}
MIRROR=${VMSTREAM_DEBIAN_MIRROR:-$(system_mirror)}
MIRROR=${MIRROR:-http://deb.debian.org/debian}
MIRROR=${MIRROR%/}
PAPT=(-o "Dir::Etc::SourceList=$APTDIR/sources.list" -o Dir::Etc::SourceParts=/dev/null
  -o "Dir::State::Lists=$APTDIR/lists" -o "Dir::Cache=$APTDIR/cache"
  -o Dir::Etc::Preferences=/dev/null -o Dir::Etc::PreferencesParts=/dev/null
  -o APT::Sandbox::User=root -q)
# Called once in the main shell before the first use (papt is also called in
# subshells, which could not remember that the lists are fresh).
papt_ready=0
papt_init() {
  [ $papt_ready -eq 0 ] || return 0
  mkdir -p "$APTDIR/lists/partial" "$APTDIR/cache/archives/partial"
  cat >"$APTDIR/sources.list" <<SRC
deb [signed-by=$KEYRING] $MIRROR bookworm main
deb [signed-by=$KEYRING] $MIRROR bullseye main
deb [signed-by=$KEYRING] $MIRROR bookworm-backports main
deb-src [signed-by=$KEYRING] $MIRROR bookworm main
deb-src [signed-by=$KEYRING] $MIRROR bookworm-backports main
SRC
  say "apt-get update (private: bookworm, bullseye, bookworm-backports)"
  apt-get "${PAPT[@]}" update >/dev/null || die "apt-get update of the private sources failed"
  papt_ready=1
}
papt() { "$1" "${PAPT[@]}" "${@:2}"; }
has_version() { papt apt-cache madison "$1" | awk -F'|' '{gsub(/ /, "", $2); print $2}' | grep -qxF "$2"; }

# ------------------------------------------------ side-by-side QEMU releases
# unpack_release R VERSION EXTRA_PKG=VER...: download and dpkg-deb -x into $PEERS/qemu-R
unpack_release() {
  local r=$1 v=$2; shift 2
  local dest="$PEERS/qemu-$r" stamp="$PEERS/qemu-$r/.vmstream-installed"
  if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$v" ] && [ -x "$dest/usr/bin/qemu-system-x86_64" ]; then return 0; fi
  papt_init
  say "unpacking QEMU $r ($v) into $dest"
  local work; work=$(mktemp -d "$PEERS/.work-XXXXXX")
  local specs=()
  for p in "${QEMU_PKGS[@]}"; do has_version "$p" "$v" && specs+=("$p=$v"); done
  specs+=("$@")
  (cd "$work" && papt apt-get download "${specs[@]}" >/dev/null) || die "apt-get download ${specs[*]} failed"
  mkdir -p "$work/root"
  for deb in "$work"/*.deb; do dpkg-deb -x "$deb" "$work/root"; done
  # Libraries the release's own package declares that the system lacks: take
  # them from the private suites into the release's folder (LD_LIBRARY_PATH).
  local extra=()
  while read -r dep; do
    local name=${dep%% *}; name=${name%%|*}; name=${name%%:*}
    case $name in qemu-*|seabios|ipxe-qemu) continue ;; esac
    installed "$name" || [ -n "$(ls "$work"/"${name}"_*.deb 2>/dev/null)" ] || extra+=("$name")
  done < <(dpkg-deb -f "$work"/qemu-system-x86_*.deb Depends | tr ',' '\n' | sed 's/^ *//')
  if [ ${#extra[@]} -gt 0 ]; then
    say "QEMU $r also needs: ${extra[*]}"
    (cd "$work" && papt apt-get download "${extra[@]}" >/dev/null) || die "apt-get download ${extra[*]} failed"
    for p in "${extra[@]}"; do dpkg-deb -x "$work/${p}"_*.deb "$work/root"; done
  fi
  local notfound
  notfound=$(LD_LIBRARY_PATH="$work/root/usr/lib/x86_64-linux-gnu" ldd "$work/root/usr/bin/qemu-system-x86_64" | grep 'not found' || true)
  [ -z "$notfound" ] || die "QEMU $r: libraries not found:
$notfound"
  rm -rf "$dest"
  mv "$work/root" "$dest"
  rm -rf "$work"
  echo "$v" >"$stamp"
}

xen414=()
for p in "${XEN414_PKGS[@]}"; do xen414+=("$p=$XEN414"); done
unpack_release 5.2 "$V52" "${xen414[@]}" liburing1
unpack_release 10.0 "$V100"

# A wrapper per release: its own firmware folder first (then Debian's seabios
# and iPXE, which qemu-system-data does not carry), its own libraries, and its
# own module folder — QEMU falls back to the system's module folder otherwise,
# and a module of another build makes it abort.
write_wrapper() {
  local r=$1 root="$PEERS/qemu-$1" w="$PEERS/bin/qemu-system-x86_64-$1"
  cat >"$w.tmp" <<WRAP
#!/bin/sh
# QEMU $r unpacked from Debian by scripts/peers/install.sh
export LD_LIBRARY_PATH="$root/usr/lib/x86_64-linux-gnu\${LD_LIBRARY_PATH:+:\$LD_LIBRARY_PATH}"
export QEMU_MODULE_DIR="$root/usr/lib/x86_64-linux-gnu/qemu"
exec "$root/usr/bin/qemu-system-x86_64" -L "$root/usr/share/qemu" -L /usr/share/seabios -L /usr/lib/ipxe/qemu "\$@"
WRAP
  chmod +x "$w.tmp" && mv "$w.tmp" "$w"
}
write_wrapper 5.2
write_wrapper 10.0
cat >"$PEERS/bin/qemu-system-x86_64-7.2.tmp" <<'WRAP'
#!/bin/sh
# QEMU 7.2 is Debian bookworm's own qemu-system-x86
exec /usr/bin/qemu-system-x86_64 "$@"
WRAP
chmod +x "$PEERS/bin/qemu-system-x86_64-7.2.tmp" && mv "$PEERS/bin/qemu-system-x86_64-7.2.tmp" "$PEERS/bin/qemu-system-x86_64-7.2"

# ------------------------------------------------ QEMU's Python scripts
# fetch_scripts R SRCSPEC FILES...: the orig tarball of Debian's qemu source
# package SRCSPEC (only the tarball: the .dsc is not needed), then only FILES
# from it, plus Debian's patches to those files when the package has them.
fetch_scripts() {
  local r=$1 spec=$2; shift 2
  local dest="$PEERS/qemu-$r-scripts" stamp="$PEERS/qemu-$r-scripts/.vmstream-installed"
  if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$spec $*" ]; then return 0; fi
  papt_init
  say "fetching $* from Debian's source package $spec"
  local work; work=$(mktemp -d "$PEERS/.work-XXXXXX")
  local uris; uris=$(papt apt-get source --print-uris "$spec" 2>/dev/null | grep "^'") || die "no source package $spec"
  local line url file sum
  # The orig tarball is required; the Debian tarball only for its patches (a
  # backport's .dsc and .debian.tar can be gone from the pool while the orig,
  # shared with the newer upload, is still there).
  local kind
  for kind in '.orig.tar.' '.debian.tar.'; do
    line=$(grep -F "$kind" <<<"$uris" | head -1) || die "$spec: no $kind in the source package"
    url=$(awk '{print $1}' <<<"$line" | tr -d "'"); file=$(awk '{print $2}' <<<"$line"); sum=$(awk '{print $4}' <<<"$line")
    if ! /usr/lib/apt/apt-helper -o APT::Sandbox::User=root download-file "$url" "$work/$file" "$sum" >/dev/null 2>&1; then
      [ "$kind" = '.debian.tar.' ] || die "download of $url failed"
      say "$spec: $file is not downloadable; using the upstream files unpatched"
    fi
  done
  local orig top
  orig=$(ls "$work"/*.orig.tar.*)
  mkdir -p "$work/src" "$work/debian"
  # The tarball's top folder (qemu-X.Y.Z/) is matched by a wildcard, so the
  # tarball is read once and only FILES are written.
  local members=()
  for f in "$@"; do members+=("*/$f"); done
  tar -xf "$orig" -C "$work/src" --wildcards "${members[@]}" || die "$spec: $* not in $orig"
  top=$(ls "$work/src")
  if ls "$work"/*.debian.tar.* >/dev/null 2>&1; then tar -xf "$work"/*.debian.tar.* -C "$work/debian"; fi
  # Debian patches the upstream stable updates (e.g. 7.2.0 -> 7.2.22) in; apply
  # just the hunks for our files, in series order.
  if [ -f "$work/debian/debian/patches/series" ]; then
    while read -r pf; do
      pf=${pf%%#*}; pf=${pf// /}; [ -n "$pf" ] || continue
      for f in "$@"; do
        local hunk; hunk=$(awk -v f="$f" '
          /^diff --git / { on = ($3 == "a/" f) }
          on { print }' "$work/debian/debian/patches/$pf")
        [ -n "$hunk" ] || continue
        (cd "$work/src/$top" && patch -s -p1 <<<"$hunk") || die "$spec: $pf does not apply to $f"
      done
    done <"$work/debian/debian/patches/series"
  fi
  rm -rf "$dest"; mkdir -p "$dest"
  for f in "$@"; do cp "$work/src/$top/$f" "$dest/$(basename "$f")"; done
  chmod +x "$dest"/*.py
  rm -rf "$work"
  echo "$spec $*" >"$stamp"
}

fetch_scripts 10.0 "qemu=$V100" scripts/analyze-migration.py scripts/vmstate-static-checker.py
fetch_scripts 7.2 "qemu/bookworm" scripts/analyze-migration.py scripts/vmstate-static-checker.py

# ------------------------------------------------ report
fail=0
line() { printf '%-26s %s\n' "$1" "$2"; }
qver() { "$1" --version 2>/dev/null | head -1 | sed 's/^QEMU emulator version //'; }
for r in 5.2 7.2 10.0; do
  v=$(qver "$PEERS/bin/qemu-system-x86_64-$r") || true
  case $v in "$r".*) line "qemu-system-x86_64-$r" "$v" ;; *) line "qemu-system-x86_64-$r" "MISSING ($v)"; fail=1 ;; esac
done
for r in 7.2 10.0; do
  if [ -f "$PEERS/qemu-$r-scripts/analyze-migration.py" ]; then line "analyze-migration.py $r" "$PEERS/qemu-$r-scripts/analyze-migration.py"; else line "analyze-migration.py $r" MISSING; fail=1; fi
done
v=$(qemu-img --version 2>/dev/null | head -1) && line qemu-img "${v#qemu-img version }" || { line qemu-img MISSING; fail=1; }
x=$(ls -d /usr/lib/xen-4.17/bin/verify-stream-v2 2>/dev/null) && line xen-utils "$(dpkg-query -W -f='${Version}' xen-utils-4.17) ($x)" || { line xen-utils MISSING; fail=1; }
v=$(chromium --version 2>/dev/null | head -1) && line chromium "$v" || { line chromium MISSING; fail=1; }
v=$(/usr/sbin/libvirtd --version 2>/dev/null) && line libvirtd "${v##* }" || { line libvirtd MISSING; fail=1; }
v=$(virsh --version 2>/dev/null) && line virsh "$v" || { line virsh MISSING; fail=1; }
[ $fail -eq 0 ] || die "some peers are missing (above)"
