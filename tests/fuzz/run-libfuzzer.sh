#!/bin/bash
# Builds the fuzz targets of tests/fuzz/ as libFuzzer binaries (clang,
# -fsanitize=fuzzer,address,undefined) in a meson build dir of their own,
# then runs each for FUZZ_CI_SECONDS (default 20), two at a time, on its
# seed corpus, and reports in TAP:
#   ok N - <target>: R runs in S s, no crash (cov C, ft F)
# A crash, a sanitizer report, a leak or a broken invariant is "not ok",
# with the input kept in FUZZ_BUILD/crashes/<target>/ (replay it with
# FUZZ_BUILD/fuzz/fuzz-<target> FILE).
#
# Usage: tests/fuzz/run-libfuzzer.sh [BUILD_DIR]   (from anywhere)
# BUILD_DIR is the plain build (unused but accepted, for tests/run.sh).
# Environment: FUZZ_CI_SECONDS (per target), FUZZ_JOBS (targets at once,
# default 2), FUZZ_BUILD (default TOP/build-fuzz), FUZZ_TARGETS (names
# without "fuzz-", default all), FUZZ_CC (default clang).
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
seconds=${FUZZ_CI_SECONDS:-20}
jobs=${FUZZ_JOBS:-2}
out=${FUZZ_BUILD:-$top/build-fuzz}
cc=${FUZZ_CC:-clang}
# The targets: every tests/fuzz/fuzz-*.c.
targets=${FUZZ_TARGETS:-$(cd "$top/tests/fuzz" && ls fuzz-*.c | sed 's/^fuzz-//; s/\.c$//' | tr '\n' ' ')}

if ! command -v "$cc" >/dev/null 2>&1; then
    echo "ok 1 - libFuzzer # SKIP clang not installed"
    echo "1..1"
    exit 0
fi
probe=$(mktemp -d)
trap 'rm -rf "$probe"' EXIT
echo 'int LLVMFuzzerTestOneInput(const unsigned char *d, unsigned long n) { (void)d; (void)n; return 0; }' >"$probe/p.c"
if ! "$cc" -fsanitize=fuzzer,address,undefined "$probe/p.c" -o "$probe/p" >/dev/null 2>&1; then
    echo "ok 1 - libFuzzer # SKIP $cc cannot link -fsanitize=fuzzer (libclang-rt-dev missing?)"
    echo "1..1"
    exit 0
fi

# ---- build -----------------------------------------------------------------
# meson builds the library instrumented (-fsanitize=fuzzer-no-link); each
# target is linked here with -fsanitize=fuzzer, which brings libFuzzer's
# main() (meson's own compiler checks and the CLI have a main of their own).
san='-fsanitize=address,undefined -fno-sanitize-recover=all'
cflags="-DGP_LIBFUZZER -D_GNU_SOURCE -fno-omit-frame-pointer -g -O1 $san"
if [ ! -f "$out/build.ninja" ]; then
    if ! CC="$cc" meson setup "$out" "$top" --buildtype=plain -Db_lundef=false \
        -Dc_args="$cflags -fsanitize=fuzzer-no-link" -Dc_link_args="$san" >"$probe/setup.log" 2>&1; then
        echo "not ok 1 - libFuzzer: meson setup $out failed"
        sed 's/^/    /' "$probe/setup.log" | tail -20
        echo "1..1"
        exit 1
    fi
fi
if ! ninja -C "$out" src/lib/libgpupass.a >"$probe/build.log" 2>&1; then
    echo "not ok 1 - libFuzzer: building the library in $out failed"
    grep -E 'error|FAILED' "$probe/build.log" | sed 's/^/    /' | head -20
    echo "1..1"
    exit 1
fi
libs=$(pkg-config --libs libpci json-c libarchive libcurl)
mkdir -p "$out/fuzz"
for t in $targets; do
    src="$top/tests/fuzz/fuzz-$t.c" bin="$out/fuzz/fuzz-$t"
    [ "$bin" -nt "$src" ] && [ "$bin" -nt "$out/src/lib/libgpupass.a" ] && [ "$bin" -nt "$top/tests/fuzz/fuzz-main.h" ] && continue
    # shellcheck disable=SC2086
    if ! "$cc" $cflags -fsanitize=fuzzer -I"$top" -I"$top/src" -I"$top/src/lib" -I"$out" \
        -DGP_TEST_SRCDIR="\"$top\"" "$src" "$out/src/lib/libgpupass.a" $libs -o "$bin" >"$probe/cc.log" 2>&1; then
        echo "not ok 1 - libFuzzer: building fuzz-$t failed"
        sed 's/^/    /' "$probe/cc.log" | head -20
        echo "1..1"
        exit 1
    fi
done

# ---- run -------------------------------------------------------------------
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
mkdir -p "$out/logs"

run_one() {
    local t=$1 corpus="$out/corpus/$t" crashes="$out/crashes/$t"
    # a crash of an earlier run is not this run's: it was reported then
    rm -rf "$crashes"
    rm -f "$out/logs/$t.log" "$out/logs/$t.rc"
    mkdir -p "$corpus" "$crashes"
    # the first corpus dir takes what libFuzzer finds; the seeds stay as committed
    "$out/fuzz/fuzz-$t" -max_total_time="$seconds" -timeout=20 -print_final_stats=1 \
        -artifact_prefix="$crashes/" "$corpus" "$top/tests/fuzz/seeds/$t" >"$out/logs/$t.log" 2>&1
    echo $? >"$out/logs/$t.rc"
}

n=0 failed=0 running=0 start=$(date +%s)
for t in $targets; do
    run_one "$t" &
    running=$((running + 1))
    if [ "$running" -ge "$jobs" ]; then
        wait -n 2>/dev/null || wait
        running=$((running - 1))
    fi
done
wait
for t in $targets; do
    n=$((n + 1))
    log="$out/logs/$t.log"
    rc=$(cat "$out/logs/$t.rc" 2>/dev/null || echo 1)
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
    secs=$(sed -n 's/^Done [0-9]* runs in \([0-9]*\) second.*/\1/p' "$log" | tail -1)
    cov=$(grep -oE 'cov: [0-9]+ ft: [0-9]+' "$log" | tail -1 | sed 's/cov: \([0-9]*\) ft: \([0-9]*\)/cov \1, ft \2/')
    crash=$(ls "$out/crashes/$t" 2>/dev/null | head -1)
    if [ "$rc" -eq 0 ] && [ -z "$crash" ]; then
        echo "ok $n - $t: ${runs:-?} runs in ${secs:-?} s, no crash (${cov:-no coverage line})"
    else
        failed=$((failed + 1))
        echo "not ok $n - $t: exit $rc${crash:+, input kept in $out/crashes/$t/$crash}"
        grep -E 'ERROR|SUMMARY|invariant failed|runtime error|^ *#[0-9]+ 0x' "$log" | head -15 | sed 's/^/    /'
    fi
done
echo "# $n targets, ${seconds} s each, $jobs at a time: $(($(date +%s) - start)) s of running"
echo "1..$n"
[ "$failed" -eq 0 ]
