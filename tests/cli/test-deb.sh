#!/bin/bash
# The Debian package: `make deb` (dpkg-buildpackage on a copy of the tree)
# into a temporary directory; what the .deb holds and says of itself; the
# extracted binary runs. Built once per `make test`: skipped for the ASan
# binary, as the package does not depend on which build is tested.
# Env: GPUPASS (binary), HOSTS (generated fixture roots), TOP (source tree).
set -u
top=${TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
export NO_COLOR=1 LC_ALL=C.UTF-8
n=0 fail=0

ok() { n=$((n + 1)); echo "ok $n - $1"; }
notok() { n=$((n + 1)); echo "not ok $n - $1"; shift; [ $# -gt 0 ] && printf '%s\n' "$@" | sed 's/^/# /'; fail=1; }
skip_all() { echo "1..1"; echo "ok 1 - deb # SKIP $1"; exit 0; }

case $GPUPASS in
    *asan*) skip_all "the package is built once, in the plain build's run" ;;
esac
for t in dpkg-buildpackage dpkg-deb dh make; do
    command -v "$t" >/dev/null || skip_all "$t is not installed (make test-deps installs debhelper, dpkg-dev)"
done
if ! (cd "$top" && dpkg-checkbuilddeps) >/dev/null 2>&1; then
    skip_all "build dependencies missing: $(cd "$top" && dpkg-checkbuilddeps 2>&1 | sed 's/.*: //' | head -1)"
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
version=$(sed -nE "s/^ *version *: *'([^']+)'.*/\1/p" "$top/meson.build" | head -1)
debversion=$(sed -nE '1s/^gpupass \(([^)]+)\).*/\1/p' "$top/debian/changelog")
arch=$(dpkg --print-architecture)
litter="debian/gpupass debian/.debhelper debian/files debian/debhelper-build-stamp debian/gpupass.substvars"

# 1: debian/changelog carries meson.build's version.
if [ -n "$version" ] && [ "${debversion%-*}" = "$version" ]; then
    ok "debian/changelog $debversion is meson.build's version $version"
else
    notok "debian/changelog version follows meson.build" "meson.build: $version" "changelog: $debversion"
fi

# 2: make deb builds it (the package tools are there; apt is not asked).
before=$(cd "$top" && for f in $litter obj-*; do [ -e "$f" ] && echo "$f"; done)
start=$SECONDS
if make -s -C "$top" deb BUILD_DEPS= PKG_DEPS= DEB_DIR="$tmp/out" >"$tmp/log" 2>&1; then
    built=1
else
    built=0
fi
secs=$((SECONDS - start))
deb=$tmp/out/gpupass_${debversion}_$arch.deb
if [ "$built" = 1 ] && [ -f "$deb" ]; then
    ok "make deb builds $(basename "$deb") (${secs}s)"
else
    notok "make deb builds gpupass_${debversion}_$arch.deb" "$(tail -30 "$tmp/log")" "$(ls "$tmp/out" 2>&1)"
    echo "1..$n"
    exit 1
fi

# 3: the work tree got no build litter.
after=$(cd "$top" && for f in $litter obj-*; do [ -e "$f" ] && echo "$f"; done)
if [ "$before" = "$after" ]; then ok "the work tree gets no debian/ build litter"
else notok "the work tree gets no debian/ build litter" "new: $(comm -13 <(echo "$before") <(echo "$after") | tr '\n' ' ')"; fi

# 4: the files.
dpkg-deb -c "$deb" >"$tmp/contents"
missing=""
for f in ./usr/bin/gpupass ./usr/share/man/man1/gpupass.1.gz ./usr/share/bash-completion/completions/gpupass \
    ./var/lib/gpupass/; do
    awk '{ print $NF }' "$tmp/contents" | grep -qxF -- "$f" || missing+=" $f"
done
if [ -z "$missing" ]; then ok "the package holds the binary, gpupass(1), the completion and /var/lib/gpupass/"
else notok "the package holds the binary, gpupass(1), the completion and /var/lib/gpupass/" "missing:$missing" "$(cat "$tmp/contents")"; fi
mode=$(awk '$NF == "./var/lib/gpupass/" { print $1 }' "$tmp/contents")
if [ "$mode" = "drwx------" ]; then ok "/var/lib/gpupass is 0700, as gpupass makes it"
else notok "/var/lib/gpupass is 0700, as gpupass makes it" "mode: $mode"; fi

# 5: the control fields.
field() { dpkg-deb -f "$deb" "$1"; }
problems=""
[ "$(field Package)" = gpupass ] || problems+=" Package=$(field Package)"
[ "$(field Version)" = "$debversion" ] || problems+=" Version=$(field Version)"
[ "$(field Architecture)" = "$arch" ] || problems+=" Architecture=$(field Architecture)"
depends=$(field Depends)
for d in libc6 libpci3 libjson-c libarchive libcurl pci.ids; do
    grep -qE "(^|, )${d}" <<<"$depends" || problems+=" Depends lacks $d"
done
if [ -z "$problems" ]; then ok "control: gpupass $debversion $arch, Depends: $depends"
else notok "control fields" "$problems" "$(dpkg-deb -I "$deb")"; fi

# 6: extracted into a throw-away root, the binary runs, and reads a host as
# the build tree's binary does; the docs are the tree's.
mkdir "$tmp/root"
dpkg -x "$deb" "$tmp/root"
out=$("$tmp/root/usr/bin/gpupass" --version 2>&1); rc=$?
if [ "$rc" = 0 ] && [ "$out" = "gpupass $version" ]; then ok "the extracted usr/bin/gpupass --version: $out"
else notok "the extracted usr/bin/gpupass --version" "exit $rc: $out"; fi
if [ -d "$HOSTS/pve8-intel-1gpu" ]; then
    "$tmp/root/usr/bin/gpupass" --root "$HOSTS/pve8-intel-1gpu" list >"$tmp/list.deb" 2>&1
    "$GPUPASS" --root "$HOSTS/pve8-intel-1gpu" list >"$tmp/list.build" 2>&1
    if cmp -s "$tmp/list.deb" "$tmp/list.build"; then ok "the packaged binary lists a fixture host as the build's does"
    else notok "the packaged binary lists a fixture host as the build's does" "$(diff "$tmp/list.build" "$tmp/list.deb" | head -20)"; fi
fi
if cmp -s "$tmp/root/usr/share/bash-completion/completions/gpupass" "$top/doc/gpupass.bash-completion" &&
    zcat "$tmp/root/usr/share/man/man1/gpupass.1.gz" | cmp -s - "$top/doc/gpupass.1"; then
    ok "the packaged man page and completion are doc/'s"
else
    notok "the packaged man page and completion are doc/'s"
fi

# 7: dpkg installs it into a throw-away dpkg root (an empty database: its
# dependencies are forced there, as that root has no libc) and removes it
# again, leaving nothing but the database.
droot=$tmp/dpkgroot
mkdir -p "$droot/var/lib/dpkg/info" "$droot/var/lib/dpkg/updates"
: >"$droot/var/lib/dpkg/status"
dpkg_in() { dpkg --root="$droot" --force-depends --force-not-root --force-script-chrootless --log=/dev/null "$@"; }
if dpkg_in -i "$deb" >"$tmp/dpkg.log" 2>&1 && [ -x "$droot/usr/bin/gpupass" ] &&
    dpkg --root="$droot" -s gpupass 2>/dev/null | grep -qx 'Status: install ok installed'; then
    dpkg_in -r gpupass >>"$tmp/dpkg.log" 2>&1
    left=$(cd "$droot" && find . ! -type d ! -path './var/lib/dpkg/*')
    if [ -z "$left" ] && [ ! -e "$droot/var/lib/gpupass" ]; then
        ok "dpkg --root installs it (install ok installed) and removes it without a trace"
    else
        notok "dpkg --root removes it without a trace" "left: $left"
    fi
else
    notok "dpkg --root installs it" "$(tail -20 "$tmp/dpkg.log")"
fi

# 8: apt would install it here: its Depends resolve from this machine's
# archive (a simulation: nothing is installed, nothing downloaded).
if command -v apt-get >/dev/null; then
    if apt-get install -s "$deb" >"$tmp/apt.log" 2>&1 && grep -q '^Inst gpupass ' "$tmp/apt.log"; then
        ok "apt-get install -s ./$(basename "$deb") resolves: $(grep -c '^Inst ' "$tmp/apt.log") package(s) to install"
    else
        notok "apt-get install -s ./$(basename "$deb") resolves" "$(tail -20 "$tmp/apt.log")"
    fi
else
    n=$((n + 1)); echo "ok $n - apt-get install -s # SKIP apt-get is not installed"
fi

echo "1..$n"
exit $fail
