#!/bin/sh
# run_killed.sh — a run killed outright (SIGKILL: no chance to clean up) leaves a
# directory that still describes itself: summary.json says "running" with the
# experiment and its select metric, metrics.csv holds the finished epochs, and
# `nnx diagnose` / `nnx report` read it by the right metric.
. "$(dirname "$0")/lib/run_common.sh"

cat >"$tmp/long.nnx" <<'NNX'
data toy {
    train = spirals(n = 2000, classes = 3, noise = 0.2, seed = 1)
    valid = split(train, 0.2)
}
network net { dense(64) swish dense(64) swish dense(3) }
experiment long {
    data = toy
    model = net
    optimizer = adam(lr = 3e-3)
    epochs = 100000
    batch = 32
    metrics = [accuracy, f1]
    select = max(valid.f1)
}
NNX

"$nnx" run "$tmp/long.nnx" --out "$tmp/runs" >"$tmp/out" 2>&1 &
pid=$!
wait_rows $pid "$tmp/runs" 3
kill -9 $pid
wait $pid 2>/dev/null
d=$(rundir "$tmp/runs")
[ "$(json_str "$d/summary.json" status)" = running ] || { cat "$d/summary.json" >&2; fail "summary.json status is not running"; }
[ "$(json_str "$d/summary.json" experiment)" = long ] || fail "summary.json does not name the experiment"
grep -q '"metric": "valid.f1"' "$d/summary.json" || { cat "$d/summary.json" >&2; fail "summary.json does not name the select metric"; }
expect 0 "$tmp/diag" "$nnx" diagnose "$d"
expect 0 "$tmp/rep" "$nnx" report "$d" --text
has "$tmp/rep" "valid.f1"
has "$tmp/rep" "running"
echo "run_killed: ok ($(nrows "$d/metrics.csv") epochs before the kill)"
