#!/bin/sh
# run_pipe.sh — `nnx run ... | head` closes nnx's output early: the training goes on and the
# run directory is written in full (SIGPIPE once ended the run with no summary or weights).
. "$(dirname "$0")/lib/run_common.sh"

{ "$nnx" run "$root/examples/quickstart.nnx" --out "$tmp/a"; echo $? >"$tmp/status"; } | head -n 1 >"$tmp/first"
grep -q '^experiment  quickstart' "$tmp/first" || fail "the first line: $(cat "$tmp/first")"
[ "$(cat "$tmp/status")" = 0 ] || fail "nnx run exited $(cat "$tmp/status") after its reader went away"
d=$(rundir "$tmp/a")
for f in experiment.nnx metrics.csv steps.csv summary.json weights.nnxw; do
    [ -s "$d/$f" ] || fail "$d/$f is missing"
done
[ "$(json_str "$d/summary.json" status)" = completed ] || fail "status $(json_str "$d/summary.json" status)"
[ "$(nrows "$d/metrics.csv")" = 30 ] || fail "not every epoch ran"
echo "run_pipe: ok"
