#!/bin/sh
# Fuzz each named target for SECONDS at low priority on one core, then print
# one line per target (executions, exec/s, cov, ft, corpus) and where any
# finding was written.  Usage: tests/fuzz/run.sh BUILD_DIR SECONDS TARGET...
#   New corpus entries go to BUILD_DIR/fuzz/corpus/TARGET (not checked in;
#   merge the useful ones into tests/fuzz/corpus/TARGET with -merge=1).
#   Crashes, leaks, timeouts and property violations go to
#   tests/fuzz/crashes/TARGET/, which make test replays.
build=$1 secs=$2
shift 2
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root" || exit 1
export NNX_STDLIB="$root/stdlib"
status=0
for t in "$@"; do
    work="$build/fuzz/corpus/$t"
    mkdir -p "$work" "tests/fuzz/corpus/$t" "tests/fuzz/crashes/$t"
    log="$build/fuzz/$t.log"
    before=$(ls "tests/fuzz/crashes/$t" | wc -l)
    # the targets' scratch directories, also those of inputs that crashed
    NNX_FUZZ_TMP=$(mktemp -d /dev/shm/nnx-fuzz-run.XXXXXX 2>/dev/null || mktemp -d)
    export NNX_FUZZ_TMP
    dict=
    [ -f "tests/fuzz/$t.dict" ] && dict="-dict=tests/fuzz/$t.dict"
    nice -n 19 "$build/fuzz/fuzz_$t" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 \
        -max_len=16384 -print_final_stats=1 -artifact_prefix="tests/fuzz/crashes/$t/" $dict \
        "$work" "tests/fuzz/corpus/$t" >"$log" 2>&1
    rc=$?
    rm -rf "$NNX_FUZZ_TMP"
    done_line=$(grep -E '^#[0-9]+.*(DONE|INITED|pulse|NEW|REDUCE)' "$log" | tail -n 1)
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
    rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log")
    cov=$(echo "$done_line" | sed -n 's/.*cov: \([0-9]*\).*/\1/p')
    ft=$(echo "$done_line" | sed -n 's/.*ft: \([0-9]*\).*/\1/p')
    corp=$(echo "$done_line" | sed -n 's/.*corp: \([^ ]*\).*/\1/p')
    after=$(ls "tests/fuzz/crashes/$t" | wc -l)
    printf 'fuzz %-8s %ss: %s execs, %s exec/s, cov %s, ft %s, corpus %s' \
        "$t" "$secs" "${execs:-?}" "${rate:-?}" "${cov:-?}" "${ft:-?}" "${corp:-?}"
    if [ "$rc" != 0 ] || [ "$after" != "$before" ]; then
        status=1
        printf ' — FINDING (exit %s), see %s and tests/fuzz/crashes/%s/\n' "$rc" "$log" "$t"
        grep -E '^(==[0-9]+==ERROR|SUMMARY|fuzz_.*: property)' "$log" | head -n 3 | sed 's/^/    /'
    else
        printf '\n'
    fi
done
exit $status
