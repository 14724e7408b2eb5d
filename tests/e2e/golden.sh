#!/bin/sh
# golden.sh — run every tests/golden/KIND/*.nnx through its command and compare
# stderr with the .err file beside it, byte for byte.
#
#   syntax/  →  nnx fmt FILE      check/  →  nnx check FILE
#   (a NAME.args file beside NAME.nnx adds its lines as arguments: --set, ...)
#   (resolve/ needs no binary: tests/unit/test_resolve.c compares those.)
#
# The exit status must be 2 when the .err holds an error, else 0.  Each case
# runs with the plain binary ($NNX) and, when built, the ASan+UBSan one
# ($NNX_SAN), so a leak or a crash on bad input fails the case too.
set -u
root=${NNX_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
cd "$root" || exit 2
NNX=${NNX:-$root/nnx}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
runs=0 failed=0

for f in tests/golden/*/*.nnx; do
    [ -f "$f" ] || continue
    case $(basename "$(dirname "$f")") in
        syntax) cmd=fmt ;;
        check)  cmd=check ;;
        *)      continue ;;
    esac
    want=${f%.nnx}.err
    if [ ! -f "$want" ]; then
        echo "FAIL $f: no $want"
        failed=$((failed + 1))
        continue
    fi
    code=0
    grep -q ': error: ' "$want" && code=2
    for bin in "$NNX" "${NNX_SAN:-}"; do
        [ -n "$bin" ] && [ -x "$bin" ] || continue
        set -- "$cmd" "$f"
        if [ -f "${f%.nnx}.args" ]; then       # more arguments, one a line (--set ...)
            while IFS= read -r a; do set -- "$@" "$a"; done <"${f%.nnx}.args"
        fi
        timeout 30 "$bin" "$@" >/dev/null 2>"$tmp/err"
        rc=$?
        runs=$((runs + 1))
        if [ "$rc" != "$code" ] || ! cmp -s "$want" "$tmp/err"; then
            echo "FAIL $(basename "$bin") $cmd $f: exit $rc (want $code)"
            diff "$want" "$tmp/err" | head -n 20
            failed=$((failed + 1))
        fi
    done
done

echo "golden: $runs runs, $failed failed"
[ "$runs" -gt 0 ] && [ "$failed" = 0 ]
