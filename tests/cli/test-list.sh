#!/bin/bash
# Golden outputs of `gpupass list` on every fixture host: text, --json, and
# --all on two of them. GPUPASS_TEST_REGENERATE=1 rewrites the golden files.
# Env: GPUPASS (binary), HOSTS (generated fixture roots), TOP (source tree).
set -u
top=${TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
golden=$top/tests/cli/golden
n=0 fail=0
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

check() {   # check NAME GOLDEN ARGS...
    local name=$1 file=$golden/$2; shift 2
    local rc
    n=$((n + 1))
    NO_COLOR=1 "$GPUPASS" "$@" >"$tmp/out" 2>"$tmp/err"; rc=$?
    if [ "$rc" -ne 0 ]; then
        echo "not ok $n - $name: exit $rc"; sed 's/^/# /' "$tmp/err"; fail=1; return
    fi
    if [ "${GPUPASS_TEST_REGENERATE:-}" = 1 ]; then
        cp "$tmp/out" "$file"
    fi
    if [ ! -f "$file" ]; then
        echo "not ok $n - $name: no golden file $file (run with GPUPASS_TEST_REGENERATE=1)"; fail=1; return
    fi
    if ! diff -u "$file" "$tmp/out" >"$tmp/diff"; then
        echo "not ok $n - $name: output differs from $(basename "$file")"; head -40 "$tmp/diff" | sed 's/^/# /'; fail=1; return
    fi
    echo "ok $n - $name"
}

for root in "$HOSTS"/*/; do
    h=$(basename "$root")
    check "$h list" "$h.txt" --root "$root" list
    check "$h list --json" "$h.json" --root "$root" list --json
done
check "pve8-intel-1gpu list --all" "pve8-intel-1gpu.all.txt" --root "$HOSTS/pve8-intel-1gpu" list --all
check "amd-consumer-shared list --all" "amd-consumer-shared.all.txt" --root "$HOSTS/amd-consumer-shared" list --all
# Filters in every accepted form select the same card.
check "filter 01:00" "filter-slot.txt" --root "$HOSTS/pve8-intel-1gpu" list 01:00
check "filter 0000:01:00.1" "filter-slot.txt" --root "$HOSTS/pve8-intel-1gpu" list 0000:01:00.1
check "filter after --root=" "filter-slot.txt" list 1:0.0 --root="$HOSTS/pve8-intel-1gpu"
echo "1..$n"
exit $fail
