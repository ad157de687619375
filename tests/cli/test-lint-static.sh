#!/bin/bash
# Static analysis is clean: `make lint` (cppcheck with .cppcheck-suppressions, clang-tidy with
# .clang-tidy on the compile_commands.json of the plain build). Once: skipped in the ASan pass.
# TAP. Env: GPUPASS (binary; its build directory is used), TOP (source tree).
set -u
skip() { echo "ok 1 - make lint # SKIP $1"; echo "1..1"; exit 0; }
case "$GPUPASS" in *asan*) skip "the ASan pass (run once, in the plain one)";; esac
for t in cppcheck run-clang-tidy clang-tidy make; do
    command -v "$t" >/dev/null 2>&1 || skip "$t is not installed (make test-deps)"
done
top=${TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
build=$(cd "$(dirname "$GPUPASS")/../.." && pwd)
[ -f "$build/compile_commands.json" ] || skip "no $build/compile_commands.json"
log=$(mktemp)
trap 'rm -f "$log"' EXIT
start=$(date +%s)
if make -s -C "$top" lint BUILD="$build" >"$log" 2>&1; then
    echo "ok 1 - make lint: cppcheck and clang-tidy find nothing ($(( $(date +%s) - start )) s)"
else
    echo "not ok 1 - make lint found something"
    grep -E 'error|warning|\]$' "$log" | head -40 | sed 's/^/# /'
fi
echo "1..1"
