#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# End-to-end: `gpupass snapshot` on a fixture root, replayed with --root FILE,
# and the errors it must give. TAP output; exit 1 on any failure.
# Env: GPUPASS (the binary), HOSTS (generated fixture roots; optional).
set -u
: "${GPUPASS:?set GPUPASS to the gpupass binary}"
HOSTS=${HOSTS:-}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/gp-cli-snapshot.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
n=0 failed=0

ok() { n=$((n + 1)); echo "ok $n - $1"; }
not_ok() { n=$((n + 1)); failed=1; echo "not ok $n - $1"; shift; for l in "$@"; do echo "# $l"; done; }
skip() { n=$((n + 1)); echo "ok $n - $1 # SKIP $2"; }

# run ARGS...: sets rc, out, err (stderr), errlines
run() {
    "$GPUPASS" "$@" >"$tmp/stdout" 2>"$tmp/stderr"; rc=$?
    out=$(cat "$tmp/stdout"); err=$(cat "$tmp/stderr")
    errlines=$(grep -c '' "$tmp/stderr")
}

# expect_error TEXT ARGS...: exit 3 and exactly one line on stderr
expect_error() {
    local text=$1; shift
    run "$@"
    if [ "$rc" -eq 3 ] && [ "$errlines" -eq 1 ]; then ok "$text"
    else not_ok "$text" "rc=$rc (want 3), stderr lines=$errlines (want 1)" "$err"; fi
}

# A fixture root: a generated one when there is one, else a small one here.
root=
if [ -n "$HOSTS" ] && [ -d "$HOSTS/pve8-intel-1gpu" ]; then
    root=$HOSTS/pve8-intel-1gpu
else
    root=$tmp/root
    dev=sys/devices/pci0000:00/0000:00:01.0/0000:01:00.0
    mkdir -p "$root/$dev" "$root/sys/bus/pci/devices" "$root/sys/kernel/iommu_groups/1/devices" \
             "$root/sys/bus/pci/drivers/vfio-pci" "$root/proc" "$root/etc"
    printf '0x10de\n' >"$root/$dev/vendor"; printf '0x2684\n' >"$root/$dev/device"
    printf '0x030000\n' >"$root/$dev/class"; printf '0xa1\n' >"$root/$dev/revision"
    bridge=$root/sys/devices/pci0000:00/0000:00:01.0
    printf '0x8086\n' >"$bridge/vendor"; printf '0xa70d\n' >"$bridge/device"
    printf '0x060400\n' >"$bridge/class"; printf '0x01\n' >"$bridge/revision"
    ln -s ../../../devices/pci0000:00/0000:00:01.0/0000:01:00.0 "$root/sys/bus/pci/devices/0000:01:00.0"
    ln -s ../../../devices/pci0000:00/0000:00:01.0 "$root/sys/bus/pci/devices/0000:00:01.0"
    ln -s ../../../../kernel/iommu_groups/1 "$root/$dev/iommu_group"
    ln -s ../../../../bus/pci/drivers/vfio-pci "$root/$dev/driver"
    ln -s ../../../../devices/pci0000:00/0000:00:01.0/0000:01:00.0 "$root/sys/kernel/iommu_groups/1/devices/0000:01:00.0"
    : >"$root/sys/bus/pci/drivers/vfio-pci/bind"
    printf 'BOOT_IMAGE=/vmlinuz intel_iommu=on iommu=pt\n' >"$root/proc/cmdline"
    printf 'root:$6$secret:::\n' >"$root/etc/shadow"
fi
mkdir -p "$tmp/out"
snap=$tmp/out/snap.tar.gz

# 1. snapshot a fixture root
run --root "$root" snapshot -o "$snap"
if [ "$rc" -eq 0 ] && [ -s "$snap" ] && [ "$errlines" -eq 1 ] && [[ $err == "wrote $snap: "*" files, "*" KiB"* ]]; then
    ok "snapshot of $(basename "$root") writes the archive and one summary line"
else
    not_ok "snapshot of $(basename "$root") writes the archive and one summary line" "rc=$rc" "$err"
fi

# 2. it lists what was asked for and nothing else
names=$(tar tzf "$snap" 2>/dev/null)
if grep -qx 'sys/bus/pci/devices/0000:01:00.0' <<<"$names" && grep -qx 'gpupass/snapshot.json' <<<"$names" &&
   ! grep -q '^etc/shadow' <<<"$names" && ! grep -qE '/resource[0-9]$' <<<"$names" &&
   ! tar tvzf "$snap" | grep -E '/rom$' | grep -vqE ' 0 [0-9]{4}-'; then
    ok "archive holds the PCI links and metadata, not etc/shadow, BARs or ROM contents"
else
    not_ok "archive holds the PCI links and metadata, not etc/shadow, BARs or ROM contents" "$(head -20 <<<"$names")"
fi

# 3. the archive reads back as the same host
run --root "$root" list --json
dir_rc=$rc dir_out=$out
if [ "$dir_rc" -eq 3 ] && grep -q "unknown command" <<<"$err"; then
    skip "list --json is the same from the archive and the directory" "list is not implemented"
else
    run --root "$snap" list --json
    if [ "$rc" -eq "$dir_rc" ] && [ "$out" = "$dir_out" ] && [ -n "$out" ]; then
        ok "list --json is the same from the archive and the directory"
    else
        not_ok "list --json is the same from the archive and the directory" "dir rc=$dir_rc, archive rc=$rc" \
            "$(diff <(echo "$dir_out") <(echo "$out") | head -20)"
    fi
fi

# 4. a snapshot of the snapshot holds the same files (but snapshot.json)
run --root "$snap" snapshot -o "$tmp/out/again.tar.gz"
if [ "$rc" -eq 0 ] && diff <(tar tzf "$snap" | sort) <(tar tzf "$tmp/out/again.tar.gz" | sort) >/dev/null; then
    ok "a snapshot of the snapshot has the same entries"
else
    not_ok "a snapshot of the snapshot has the same entries" "rc=$rc" "$err" \
        "$(diff <(tar tzf "$snap" | sort) <(tar tzf "$tmp/out/again.tar.gz" | sort) | head)"
fi
rm -f "$tmp/out/again.tar.gz"

# 4b. what `gpupass lxc` reads: server-dc-gpus (L40S on nvidia, CTs) replays from its snapshot
dc=${HOSTS:+$HOSTS/server-dc-gpus}
if [ -z "$dc" ] || [ ! -d "$dc" ]; then
    skip "snapshot of server-dc-gpus holds the DRM and nvidia files" "no generated fixture hosts (HOSTS)"
    skip "lxc --print is the same from the archive and the directory" "no generated fixture hosts (HOSTS)"
else
    run --root "$dc" snapshot -o "$tmp/out/dc.tar.gz"
    dcnames=$(tar tzf "$tmp/out/dc.tar.gz" 2>/dev/null)
    missing=
    for want in proc/driver/nvidia/version proc/driver/nvidia/gpus/0000:81:00.0/information \
                sys/class/drm/card3 sys/class/drm/renderD130 \
                sys/devices/pci0000:80/0000:80:02.0/0000:81:00.0/drm/renderD130/dev \
                sys/devices/pci0000:80/0000:80:02.0/0000:81:00.0/drm/renderD130/device \
                sys/devices/pci0000:80/0000:80:02.0/0000:81:00.0/drm/card3/dev \
                gpupass/devnodes.txt etc/pve/lxc/500.conf; do
        grep -qx "$want" <<<"$dcnames" || missing="$missing $want"
    done
    uuid=$(tar xzOf "$tmp/out/dc.tar.gz" proc/driver/nvidia/gpus/0000:81:00.0/information 2>/dev/null | grep 'GPU UUID')
    if [ "$rc" -eq 0 ] && [ -z "$missing" ] && ! grep -q '^var/lib/lxc' <<<"$dcnames" &&
       [[ $uuid == *GPU-00000000-0000-0000-0000-000000000000 ]]; then
        ok "snapshot of server-dc-gpus holds the DRM and nvidia files"
    else
        not_ok "snapshot of server-dc-gpus holds the DRM and nvidia files" "rc=$rc missing:$missing" "$uuid" \
            "$(grep '^var/lib/lxc' <<<"$dcnames" | head -3)"
    fi
    run --root "$dc" lxc --gpu 81:00.0 --print --style raw
    dir_rc=$rc dir_out=$out
    if [ "$dir_rc" -eq 3 ] && grep -q "unknown command" <<<"$err"; then
        skip "lxc --print is the same from the archive and the directory" "lxc is not implemented"
    else
        run --root "$tmp/out/dc.tar.gz" lxc --gpu 81:00.0 --print --style raw
        if [ "$rc" -eq "$dir_rc" ] && [ "$out" = "$dir_out" ] && grep -q 'nvidia-uvm' <<<"$out"; then
            ok "lxc --print is the same from the archive and the directory"
        else
            not_ok "lxc --print is the same from the archive and the directory" "dir rc=$dir_rc, archive rc=$rc" \
                "$(diff <(echo "$dir_out") <(echo "$out") | head -20)"
        fi
    fi
    rm -f "$tmp/out/dc.tar.gz"
fi

# 5-6. output refused
expect_error "output in a missing directory: exit 3, one line" --root "$root" snapshot -o "$tmp/nope/snap.tar.gz"
before=$(cksum <"$snap")
expect_error "existing output without --force: exit 3, one line" --root "$root" snapshot -o "$snap"
if [ "$(cksum <"$snap")" = "$before" ]; then ok "existing output left untouched"; else not_ok "existing output left untouched"; fi
run --root "$root" snapshot -o "$snap" --force
if [ "$rc" -eq 0 ]; then ok "--force replaces the output"; else not_ok "--force replaces the output" "$err"; fi
expect_error "no -o: exit 3, one line" --root "$root" snapshot
expect_error "unknown option: exit 3, one line" --root "$root" snapshot -o "$tmp/out/x.tar.gz" --bogus

# 7. hostile or broken --root archives
head -c 3000 /dev/urandom >"$tmp/garbage.tar.gz"
expect_error "--root garbage archive: exit 3, one line" --root "$tmp/garbage.tar.gz" snapshot -o "$tmp/out/g.tar.gz"
if grep -q "gpupass snapshot -o" <<<"$err"; then ok "garbage archive error says how to make a snapshot"
else not_ok "garbage archive error says how to make a snapshot" "$err"; fi

mkdir -p "$tmp/evil"
python3 - "$tmp/evil/evil.tar.gz" <<'PY'
import io, sys, tarfile
with tarfile.open(sys.argv[1], "w:gz") as t:
    for name, data in (("proc/cmdline", b"quiet\n"), ("../../escaped", b"pwned\n")):
        i = tarfile.TarInfo(name); i.size = len(data); t.addfile(i, io.BytesIO(data))
PY
expect_error "--root archive with ../ entries: exit 3, one line" --root "$tmp/evil/evil.tar.gz" snapshot -o "$tmp/out/e.tar.gz"
if [ ! -e "$tmp/escaped" ] && [ ! -e "${TMPDIR:-/tmp}/escaped" ] && grep -q '\.\./\.\./escaped' <<<"$err"; then
    ok "../ entry named in the error and not written"
else
    not_ok "../ entry named in the error and not written" "$err"
fi

python3 - "$tmp/evil/link.tar" <<'PY'
import sys, tarfile
with tarfile.open(sys.argv[1], "w") as t:
    i = tarfile.TarInfo("sys"); i.type = tarfile.SYMTYPE; i.linkname = "/"; t.addfile(i)
PY
expect_error "--root archive with a symlink to / : exit 3, one line" --root "$tmp/evil/link.tar" list --json

# 8. nothing left behind
left=$(ls -A "$tmp/out" | grep -v '^snap\.tar\.gz$')
if [ -z "$left" ]; then ok "no temporary files left in the output directory"
else not_ok "no temporary files left in the output directory" "$left"; fi

echo "1..$n"
exit "$failed"
