#!/bin/bash
# bind / unbind / status on fixture roots: the interlocks, dry runs and the
# rollback path (a fixture's sysfs files do not move drivers, so a real bind
# fails there and must leave nothing behind). The real binding is proven in
# the QEMU test (tests/cli/test-vm.sh).
# Env: GPUPASS (binary), HOSTS (generated fixture roots).
set -u
n=0 fail=0
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

t() {   # t NAME WANT_RC NEEDLE -- ARGS...: exit status and a needle in stdout+stderr
    local name=$1 want=$2 needle=$3; shift 4
    local rc
    "$GPUPASS" "$@" >"$tmp/out" 2>&1; rc=$?
    n=$((n + 1))
    if [ "$rc" -ne "$want" ] || ! grep -qF -- "$needle" "$tmp/out"; then
        echo "not ok $n - $name: exit $rc (want $want), looking for '$needle'"; sed 's/^/# /' "$tmp/out"; fail=1
    else
        echo "ok $n - $name"
    fi
}

t "dry run of a card already on vfio-pci" 0 "0000:01:00.1: already on vfio-pci" -- \
    --root "$HOSTS/pve8-intel-1gpu" bind 01:00.0 --dry-run
t "shared group needs --group" 2 "add --group" -- --root "$HOSTS/amd-consumer-shared" bind 0a:00.0 --dry-run
t "--group still refuses what the host needs" 2 "carries the default route" -- \
    --root "$HOSTS/amd-consumer-shared" bind 0a:00.0 --group --dry-run
t "the boot console needs --force" 2 "boot display" -- --root "$HOSTS/amd-consumer-shared" bind 0b:00.0 --dry-run
t "--force lists what would move" 0 "would move 0000:0b:00.1: snd_hda_intel -> vfio-pci" -- \
    --root "$HOSTS/amd-consumer-shared" bind 0b:00.0 --force --dry-run
t "no IOMMU" 2 "no IOMMU group" -- --root "$HOSTS/pve8-intel-iommu-off" bind 01:00.0 --dry-run
t "not a GPU" 3 "is not a GPU" -- --root "$HOSTS/pve8-intel-1gpu" bind 00:17.0
t "unknown address" 3 "no PCI device" -- --root "$HOSTS/pve8-intel-1gpu" bind 7f:00.0
t "bind needs one address" 3 "name one GPU" -- --root "$HOSTS/pve8-intel-1gpu" bind
t "status" 0 "0000:01:00.0  driver vfio-pci" -- --root "$HOSTS/pve8-intel-1gpu" status
t "status: who holds the group, with the Proxmox VM" 0 "group 2: /dev/vfio/2, held by kvm (pid 4242, VM 100)" -- \
    --root "$HOSTS/pve8-intel-1gpu" status 01:00
t "--reset-method takes method names" 3 "reset-method takes method names" -- \
    --root "$HOSTS/pve8-intel-1gpu" bind 01:00.0 --reset-method 'flr;reboot' --dry-run

# A bind that cannot happen (the fixture's drivers never move): rolled back, nothing saved.
cp -a "$HOSTS/two-identical-gpus" "$tmp/host"
mkdir -p "$tmp/host/run"
t "a failed bind is rolled back" 2 "did not bind to vfio-pci" -- --root "$tmp/host" bind 01:00.0 --force
n=$((n + 1))
if [ -z "$(ls -A "$tmp/host/run/gpupass/bind" 2>/dev/null)" ]; then echo "ok $n - nothing saved after the rollback"
else echo "not ok $n - saved drivers left: $(ls "$tmp/host/run/gpupass/bind")"; fail=1; fi
"$GPUPASS" --root "$HOSTS/amd-gpu-bus-reset" snapshot -o "$tmp/s.tar.gz" >/dev/null 2>&1
t "no bind on a snapshot archive" 3 "snapshot archive" -- --root "$tmp/s.tar.gz" bind 01:00.0 --force
echo "1..$n"
exit $fail
