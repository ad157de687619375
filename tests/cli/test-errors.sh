#!/bin/bash
# Bad input: one line on stderr naming the input, exit status 3, nothing on stdout.
# Env: GPUPASS (binary), HOSTS (generated fixture roots).
set -u
n=0 fail=0
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
good=$HOSTS/pve8-intel-1gpu

# expect NAME RC NEEDLE -- ARGS...: exit status RC, and for RC 3 one stderr
# line containing NEEDLE and an empty stdout.
expect() {
    local name=$1 want=$2 needle=$3; shift 4
    local rc lines
    "$GPUPASS" "$@" >"$tmp/out" 2>"$tmp/err"; rc=$?
    n=$((n + 1))
    lines=$(wc -l <"$tmp/err")
    if [ "$rc" -ne "$want" ]; then
        echo "not ok $n - $name: exit $rc, want $want"; sed 's/^/# /' "$tmp/err"; fail=1; return
    fi
    if [ "$want" -eq 3 ] && { [ "$lines" -ne 1 ] || [ -s "$tmp/out" ] || ! grep -qF -- "$needle" "$tmp/err"; }; then
        echo "not ok $n - $name: want one stderr line with '$needle', empty stdout"; sed 's/^/# /' "$tmp/err"; fail=1; return
    fi
    echo "ok $n - $name"
}

mkdir -p "$tmp/empty" "$tmp/evil/sys/bus/pci/devices" "$tmp/evil/sys/kernel/iommu_groups"
ln -s ../../../../../../../../etc "$tmp/evil/sys/bus/pci/devices/0000:00:00.0"
printf 'not an archive at all\n' >"$tmp/garbage.tar.gz"

expect "no command" 3 "no command" --
expect "unknown command" 3 "'frobnicate'" -- frobnicate
expect "unknown global option" 3 "'--bogus'" -- --bogus list
expect "unknown list option" 3 "'--bogus'" -- --root "$good" list --bogus
expect "bad PCI address" 3 "'zz:00.0'" -- --root "$good" list zz:00.0
expect "function out of range" 3 "'01:00.9'" -- --root "$good" list 01:00.9
expect "absent device" 3 "0000:7f:00.0" -- --root "$good" list 0000:7f:00.0
expect "missing root" 3 "$tmp/missing" -- --root "$tmp/missing" list
expect "root without value" 3 "--root" -- list --root
expect "not a host root" 3 "not a host root" -- --root "$tmp/empty" list
expect "garbage archive" 3 "garbage.tar.gz" -- --root "$tmp/garbage.tar.gz" list
expect "link out of the root" 3 "outside the host root" -- --root "$tmp/evil" list
GPUPASS_ROOT=$tmp/empty expect "GPUPASS_ROOT is honoured" 3 "$tmp/empty" -- list
# lint: what cannot be read at all is exit 3 with the file named
mkfifo "$tmp/fifo"
printf 'vfio\n' >"$tmp/modules-unreadable"; chmod 000 "$tmp/modules-unreadable"
truncate -s 100M "$tmp/huge.conf"
expect "lint without files" 3 "no file given" -- lint
expect "lint a missing file" 3 "$tmp/nope/grub" -- lint "$tmp/nope/grub"
expect "lint a directory" 3 "$tmp/empty: it is a directory" -- lint "$tmp/empty"
expect "lint a fifo" 3 "$tmp/fifo: not a regular file" -- lint "$tmp/fifo"
expect "lint a 100 MB file" 3 "huge.conf: larger than 16 MiB" -- lint "$tmp/huge.conf"
if [ "$(id -u)" != 0 ]; then
    expect "lint an unreadable file" 3 "modules-unreadable: permission denied" -- lint "$tmp/modules-unreadable"
fi
expect "lint with a bad --root" 3 "$tmp/missing" -- --root "$tmp/missing" lint "$tmp/huge.conf"
expect "check: unknown option" 3 "'--bogus'" -- --root "$good" check --bogus
expect "check: absent GPU" 3 "no PCI device 7f:00.0" -- --root "$good" check 7f:00.0
expect "check help" 0 "" -- check --help
expect "lint help" 0 "" -- lint --help
expect "help" 0 "" -- --help
expect "list help" 0 "" -- list --help
expect "version" 0 "" -- --version

# A full disk: the write error is reported, not swallowed.
if [ -w /dev/full ]; then
    "$GPUPASS" --root "$good" list --json >/dev/full 2>"$tmp/err"; rc=$?
    n=$((n + 1))
    if [ "$rc" -eq 3 ] && [ -s "$tmp/err" ]; then echo "ok $n - write error on /dev/full"; else echo "not ok $n - write error on /dev/full: exit $rc"; fail=1; fi
fi
echo "1..$n"
exit $fail
