#!/bin/sh
# plan_cli.sh — `nnx plan` and `nnx check` on the command line: trials, stages, --set, exit codes.
set -u
root=${NNX_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
NNX=${NNX:-$root/nnx}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail=0
check() {  # description, then a command that must succeed
    d=$1; shift
    if ! "$@"; then echo "FAIL: $d"; fail=1; fi
}

cat > "$tmp/s.nnx" <<'NNX'
data toy { train = spirals(n = 300, classes = 3)  valid = split(train, 0.2) }
network net(w = 16, p = 0.1) { dense(w) relu dropout(p) dense(3) }
experiment base { data = toy  model = net  metrics = [accuracy]  select = max(valid.accuracy) }
experiment g extends base { search grid { optimizer.lr in decades(1e-3, 1e-1)  model.w in [8, 16] } }
experiment s extends base { search staged { optimizer.lr in [0.1, 0.01]  epochs in [5, 10, 20] } }
experiment r extends base { search random(trials = 4, seed = 9) { optimizer.lr in loguniform(1e-4, 1e-1) } }
experiment e extends base { ensemble { seeds = 3 } }
NNX

for bin in "$NNX" "${NNX_SAN:-}"; do
    [ -n "$bin" ] && [ -x "$bin" ] || continue
    check "check ok" "$bin" check "$tmp/s.nnx"
    "$bin" plan "$tmp/s.nnx" > "$tmp/all" 2>&1
    check "plan all exit" test $? = 0
    check "grid" grep -q "experiment g: grid search, 6 trials, best by max(valid.accuracy)" "$tmp/all"
    check "grid first" grep -q "lr=0.001_w=8 *optimizer.lr=0.001  model.w=8" "$tmp/all"
    check "staged" grep -q "stage 2  epochs *in \[5, 10, 20\]" "$tmp/all"
    check "ensemble" grep -q "3  seed=3" "$tmp/all"
    check "single" grep -q "experiment base: a single run, 1 trial" "$tmp/all"
    "$bin" plan "$tmp/s.nnx" r > "$tmp/r1"
    "$bin" plan "$tmp/s.nnx" r > "$tmp/r2"
    check "random repeatable" cmp -s "$tmp/r1" "$tmp/r2"
    check "random count" test "$(grep -c 'optimizer.lr=' "$tmp/r1")" = 4
    "$bin" plan "$tmp/s.nnx" r --set search.seed=1 > /dev/null 2>&1
    check "search is not settable" test $? = 2
    "$bin" plan "$tmp/s.nnx" g --set model.w=0 > /dev/null 2> "$tmp/err"
    check "bad --set exits 2" test $? = 2
    check "bad --set located" grep -q -- "--set:1:9: error: dense: units must be >= 1, got 0" "$tmp/err"
    "$bin" plan "$tmp/s.nnx" nope > /dev/null 2> "$tmp/err"
    check "unknown experiment exits 2" test $? = 2
    "$bin" check "$tmp/s.nnx" "$tmp/missing.nnx" > /dev/null 2>&1
    check "one bad file of two exits 2" test $? = 2
    "$bin" check > /dev/null 2>&1
    check "check without files exits 2" test $? = 2
done
exit $fail
