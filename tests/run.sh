#!/bin/sh
# Run every unit test binary (plain and sanitized) and every end-to-end script,
# then print one closing line: "tests: N passed, M failed".
# Usage: tests/run.sh BUILD_DIR
build=${1:-build}
root=$(cd "$(dirname "$0")/.." && pwd)
export NNX="$root/nnx" NNX_SAN="$root/$build/san/nnx" NNX_ROOT="$root"
# The sanitized binary lives in build/san/, with no stdlib/ beside it.
export NNX_STDLIB="$root/stdlib"
export ASAN_OPTIONS="detect_leaks=1:abort_on_error=0"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
passed=0 failed=0 failures=""
log=$(mktemp -d)
trap 'rm -rf "$log"' EXIT
# The parsed-data cache of every run below: never the user's own (~/.cache/nnx).
export NNX_CACHE="$log/cache"

# One test may take this long (first runs install packages); past it the test is stopped
# (SIGTERM, so its traps stop what it started; SIGKILL 30 s later) and counted as failed.
limit=${NNX_TEST_LIMIT:-900}

check() {  # name command...
    name=$1; shift
    start=$(date +%s)
    if timeout -k 30 "$limit" "$@" >"$log/out" 2>&1; then
        passed=$((passed + 1))
        printf '  ok    %-40s %3ss\n' "$name" $(( $(date +%s) - start ))
    else
        failed=$((failed + 1)); failures="$failures $name"
        printf '  FAIL  %s\n' "$name"
        [ $(( $(date +%s) - start )) -ge "$limit" ] && echo "        stopped after $limit s (NNX_TEST_LIMIT)"
        sed 's/^/        /' "$log/out" | tail -n 60
    fi
}

for t in "$root/$build"/rel/tests/test_* "$root/$build"/san/tests/test_*; do
    [ -x "$t" ] || continue
    kind=$(basename "$(dirname "$(dirname "$t")")")
    check "$kind/$(basename "$t")" "$t"
done
# ThreadSanitizer's runtime cannot map its shadow memory under some
# kernels' address randomisation; its FAQ's answer is to run without it.
for t in "$root/$build"/tsan/tests/test_*; do
    [ -x "$t" ] || continue
    check "tsan/$(basename "$t")" setarch "$(uname -m)" -R "$t"
done
for s in "$root"/tests/e2e/*.sh; do
    [ -f "$s" ] || continue
    check "e2e/$(basename "$s" .sh)" sh "$s"
done

[ -n "$failures" ] && echo "failed:$failures"
echo "tests: $passed passed, $failed failed"
[ "$failed" = 0 ]
