#!/bin/bash
# Runs every test program and ends with the line "N passed, N failed, N skipped".
# Each program speaks TAP ("ok N - ...", "not ok N - ...", "# SKIP").
# Usage: tests/run.sh BUILD_DIR ASAN_BUILD_DIR HOSTS_DIR
set -u
build=$1 asan=$2 hosts=$3
top=$(cd "$(dirname "$0")/.." && pwd)
passed=0 failed=0 skipped=0
log=$(mktemp -d)
trap 'rm -rf "$log"' EXIT

export CMOCKA_MESSAGE_OUTPUT=TAP
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=0
export NO_COLOR=1

# run NAME CMD...: counts the TAP lines of one program; a program that exits
# non-zero without a "not ok" line (a crash, a sanitizer report) is one failure.
run() {
    local name=$1; shift
    local out="$log/out" rc p f s
    "$@" >"$out" 2>&1; rc=$?
    p=$(grep -cE '^ok [0-9]+' "$out" | tr -d ' ')
    s=$(grep -cE '^ok [0-9]+.*# ?SKIP' "$out" | tr -d ' ')
    f=$(grep -cE '^not ok [0-9]+' "$out" | tr -d ' ')
    p=$((p - s))
    if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then f=1; echo "not ok - $name exited with status $rc" >>"$out"; fi
    if [ "$f" -gt 0 ]; then
        echo "FAIL $name ($p passed, $f failed, $s skipped)"
        grep -vE '^ok [0-9]+' "$out" | sed 's/^/    /' | head -60
    else
        echo "ok   $name ($p passed, $s skipped)"
    fi
    passed=$((passed + p)) failed=$((failed + f)) skipped=$((skipped + s))
}

for variant in "$build" "$asan"; do
    tag=$(basename "$variant")
    for t in "$variant"/tests/test-*; do
        [ -f "$t" ] && [ -x "$t" ] || continue
        run "$tag/$(basename "$t")" "$t"
    done
    for t in "$top"/tests/cli/test-*; do
        [ -f "$t" ] && [ -x "$t" ] || continue
        run "$tag/cli/$(basename "$t")" env GPUPASS="$variant/src/cli/gpupass" HOSTS="$hosts" TOP="$top" "$t"
    done
done
# The CLI tests once more, every gpupass they start run under valgrind
# memcheck (the plain build; ASan and valgrind do not mix): a memory error or
# a definitely lost block makes that run exit 99, which no test expects.
# Left out: test-vm.sh (it copies the binary into a guest), test-hostile.py
# (1,425 cases with time limits; ASan runs it), test-valgrind.sh (valgrind
# already) and the package, manual and lint checks (not gpupass's memory).
if command -v valgrind >/dev/null; then
    vg="$(cd "$build" && pwd)/src/cli/gpupass-valgrind"
    printf '#!/bin/sh\nexec %s -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite --show-leak-kinds=definite %s "$@"\n' \
        "$(command -v valgrind)" "$(cd "$build" && pwd)/src/cli/gpupass" >"$vg"
    chmod +x "$vg"
    for t in "$top"/tests/cli/test-*; do
        [ -f "$t" ] && [ -x "$t" ] || continue
        case $(basename "$t") in
            test-vm.sh | test-hostile.py | test-valgrind.sh | test-deb.sh | test-docs.sh | test-lint-static.sh) continue ;;
        esac
        run "valgrind/cli/$(basename "$t")" env GPUPASS="$vg" HOSTS="$hosts" TOP="$top" "$t"
    done
else
    echo "ok   valgrind/cli (skipped: valgrind is not installed; make test-deps installs it)"
    skipped=$((skipped + 1))
fi
run "hosts/test-lspci.sh" "$top/tests/hosts/test-lspci.sh" "$hosts"
# The fuzz targets as libFuzzer binaries (clang, ASan+UBSan), a short run
# each on its seeds: once, outside the variant loop (their own build dir).
run "libfuzzer" "$top/tests/fuzz/run-libfuzzer.sh" "$build"

echo
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
