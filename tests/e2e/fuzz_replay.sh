#!/bin/sh
# fuzz_replay.sh — every fuzz target's checked-in corpus and every past
# finding (tests/fuzz/corpus/T, tests/fuzz/crashes/T) still runs clean: the
# replay drivers are the targets built with gcc under ASan+UBSan (no
# libFuzzer), so a crash, a leak, a hang or a broken fmt property fails here.
set -u
root=${NNX_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
san=$(dirname "${NNX_SAN:-$root/build/san/nnx}")
export NNX_STDLIB=${NNX_STDLIB:-$root/stdlib}
failed=0 targets=0
for src in "$root"/tests/fuzz/fuzz_*.c; do
    t=$(basename "$src" .c)
    t=${t#fuzz_}
    [ "$t" = io ] && continue
    targets=$((targets + 1))
    bin="$san/fuzz/replay_$t"
    if [ ! -x "$bin" ]; then
        echo "FAIL: $bin is not built (make unit-tests builds it)"
        failed=$((failed + 1))
        continue
    fi
    mkdir -p "$root/tests/fuzz/crashes/$t"
    if ! out=$(timeout 120 "$bin" "$root/tests/fuzz/corpus/$t" "$root/tests/fuzz/crashes/$t" 2>&1); then
        echo "FAIL: replay of $t:"
        echo "$out" | grep -v '^replay: /' | tail -n 30 | sed 's/^/    /'
        echo "$out" | grep '^replay: /' | tail -n 1 | sed 's/^/    last input: /'
        failed=$((failed + 1))
    else
        echo "$t: $(echo "$out" | tail -n 1)"
    fi
done
[ "$targets" -ge 10 ] || { echo "FAIL: only $targets fuzz targets found"; failed=$((failed + 1)); }
[ "$failed" = 0 ]
