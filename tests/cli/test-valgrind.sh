#!/bin/bash
# Every command, at least once, under valgrind on fixture roots: no memory error and no
# definitely lost block (--errors-for-leak-kinds=definite). Reading and --json variants,
# and --apply followed by undo on a private copy of a root. TAP.
# Env: GPUPASS (the PLAIN build; the ASan build is skipped: ASan and valgrind do not mix),
# HOSTS (fixture roots).
set -u
n=0 fail=0
skip_all() { echo "ok 1 - valgrind # SKIP $1"; echo "1..1"; exit 0; }
case "$GPUPASS" in *asan*) skip_all "GPUPASS is the ASan build ($GPUPASS)";; esac
command -v valgrind >/dev/null 2>&1 || skip_all "valgrind is not installed"
tmp=$(mktemp -d "${TMPDIR:-/tmp}/gp-valgrind.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
gp=$(cd "$(dirname "$GPUPASS")" && pwd)/$(basename "$GPUPASS")
fakelib=$(dirname "$(dirname "$(dirname "$gp")")")/tests/fakegpu
PVE=$HOSTS/pve8-intel-1gpu DC=$HOSTS/server-dc-gpus
export NO_COLOR=1
unset GPUPASS_FAULT GPUPASS_ROOT GPUPASS_TEST_RUNNER

# vg NAME OKRCS ARGS...: gpupass ARGS under valgrind; its exit status must be one of OKRCS
# (comma-separated; 99 is valgrind's own: an error or a definite leak).
vg() {
    local name=$1 okrcs=$2 rc; shift 2
    n=$((n + 1))
    valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite \
        --log-file="$tmp/vg.log" "$gp" "$@" >"$tmp/out" 2>"$tmp/err" </dev/null
    rc=$?
    if [ "$rc" -ne 99 ] && [ ! -s "$tmp/vg.log" ] && [[ ",$okrcs," == *",$rc,"* ]]; then
        echo "ok $n - $name"
    else
        echo "not ok $n - $name: exit $rc (want $okrcs; 99 is a valgrind error)"
        sed 's/^/# /' "$tmp/vg.log" | head -40
        sed 's/^/# stderr: /' "$tmp/err" | head -5
        fail=1
    fi
}

# private copies: the --apply runs write there, never in the shared fixtures
cp -a "$PVE" "$tmp/pve"
cp -a "$DC" "$tmp/dc"
printf 'GRUB_CMDLINE_LINUX_DEFAULT="quiet intel_iommu=on vfio_iommu_type1.allow_unsafe_interrupts=1 iommu=pt"\n' \
    >"$tmp/grub"
python3 - "$tmp" <<'EOF'
import os, sys
sys.path.insert(0, os.path.join(os.environ.get("TOP", "."), "tests", "cli"))
try:
    import romlib
    open(os.path.join(sys.argv[1], "good.rom"), "wb").write(romlib.image(0, False) + romlib.image(3, True))
except Exception:
    open(os.path.join(sys.argv[1], "good.rom"), "wb").write(b"\x55\xaa" + b"\0" * 1022)
EOF

vg "list" 0 --root "$PVE" list
vg "list --all --json" 0 --root "$PVE" list --all --json
vg "check --json" 0,1,2 --root "$PVE" check --json
vg "check (text) on the 8-GPU host" 0,1,2 --root "$HOSTS/large-8gpu" check
vg "doctor" 0,1,2 --root "$PVE" doctor
vg "doctor --json" 0,1,2 --root "$HOSTS/amd-gpu-bus-reset" doctor --json
vg "doctor --signatures" 0 doctor --signatures
vg "lint --json" 0,1,2 --root "$PVE" lint --json "$tmp/grub"
vg "lint a VM config" 0,1,2 --root "$PVE" lint "$PVE/etc/pve/qemu-server/100.conf"
vg "setup (plan)" 0 --root "$PVE" setup 01:00.0 --no-iommu-pt
vg "setup refused" 2 --root "$HOSTS/amd-consumer-shared" setup 0a:00.0
vg "setup --apply" 0 --root "$tmp/pve" setup 01:00.0 --no-iommu-pt --apply
vg "undo --list" 0 --root "$tmp/pve" undo --list
vg "undo" 0 --root "$tmp/pve" undo
vg "bind --dry-run" 0,2 --root "$PVE" bind 00:02.0 --force --dry-run
vg "status" 0 --root "$PVE" status
vg "unbind (bad address)" 3 --root "$PVE" unbind zz:zz.z
vg "vm (plan)" 0 --root "$PVE" vm 101 --gpu 01:00.0
vg "vm --apply" 0 --root "$tmp/pve" vm 101 --gpu 01:00.0 --apply
vg "undo the vm change" 0 --root "$tmp/pve" undo
vg "vm lint --json" 0,1,2 --root "$PVE" vm lint --json
vg "vm --libvirt" 0 --root "$PVE" vm --libvirt --gpu 01:00.0
vg "lxc (plan)" 0,2 --root "$PVE" lxc 200 --gpu 00:02.0
vg "lxc --print" 0 --root "$PVE" lxc --gpu 00:02.0 --print
vg "lxc lint --json" 0,1,2 --root "$DC" lxc lint --json
vg "rom info FILE --json" 0,1 --root "$PVE" rom info "$tmp/good.rom" --json
vg "rom info --strip" 0,1 --root "$PVE" rom info "$tmp/good.rom" --strip -o "$tmp/strip.rom"
vg "rom dump (no ROM in the fixture: refused)" 2,3 --root "$tmp/pve" rom dump 01:00.0 -o "$tmp/dump.rom"
vg "mig plan --json" 0 mig plan --gpu "A100 80GB" 3g.40gb 2g.20gb 1g.10gb --json
vg "mig plan that does not fit" 2 mig plan --gpu "A100 80GB" 7g.80gb 1g.10gb
vg "mig status (needs the host)" 3 --root "$DC" mig status
vg "sriov --json" 0 --root "$DC" sriov 17:00.0 --json
vg "sriov --vfs (plan)" 0 --root "$DC" sriov 31:00.0 --vfs 32
vg "map (plan)" 0 --root "$PVE" map gpu0 --gpu 01:00.0
vg "map --apply" 0 --root "$tmp/pve" map gpu1 --gpu 01:00.0 --apply
vg "undo the map change" 0 --root "$tmp/pve" undo
vg "map lint --json" 0,1,2 --root "$PVE" map lint --json
vg "snapshot" 0 --root "$PVE" snapshot -o "$tmp/snap.tar.gz"
vg "list from the snapshot" 0 --root "$tmp/snap.tar.gz" list --json
if [ -e "$fakelib/libcuda.so.1" ]; then
    GPUPASS_GPU_LIBDIR=$fakelib FAKECUDA_BUSID=0000:01:00.0 \
        vg "bench --json" 0,1 --root "$PVE" bench --json --max-size 256K --samples 1 -o "$tmp/b1.json"
    GPUPASS_GPU_LIBDIR=$fakelib FAKECUDA_BUSID=0000:01:00.0 \
        vg "bench (text)" 0,1 --root "$PVE" bench --max-size 256K --samples 1 --label other -o "$tmp/b2.json"
    vg "bench compare --svg" 0 bench compare "$tmp/b1.json" "$tmp/b2.json" --svg "$tmp/c.svg"
else
    n=$((n + 1)); echo "ok $n - bench # SKIP the stand-in library is not built"
fi
vg "bench llm (nothing listens)" 3 bench llm --url http://127.0.0.1:9 --model m --runs 1
vg "unknown option" 3 --root "$PVE" list -01:00.0
echo "1..$n"
exit $fail
