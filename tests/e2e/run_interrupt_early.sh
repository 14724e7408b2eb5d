#!/bin/sh
# run_interrupt_early.sh — Ctrl-C before the first epoch ends: exit 130, summary.json says
# interrupted, and the message says that no epoch is complete (it once read "epochs 1..0").
# A hook keeps epoch 1 busy for a moment so that the signal lands inside it.
. "$(dirname "$0")/lib/run_common.sh"

cat >"$tmp/slow.lua" <<'LUA'
function on_epoch_begin(run)
  if run.epoch == 1 then local x = 0 for i = 1, 4e7 do x = x + i end end
end
LUA
cat >"$tmp/early.nnx" <<'NNX'
data toy { train = spirals(n = 600, classes = 3)  valid = split(train, 0.2) }
network net { dense(16) relu dense(3) }
experiment early { data = toy  model = net  epochs = 5  batch = 16  hooks = "slow.lua" }
NNX
"$nnx" run "$tmp/early.nnx" --out "$tmp/runs" >"$tmp/out" 2>&1 &
pid=$!
wait_rows $pid "$tmp/runs" 0
kill -INT $pid
wait $pid
rc=$?
[ $rc = 130 ] || { cat "$tmp/out" >&2; fail "exit status $rc after SIGINT, expected 130"; }
d=$(rundir "$tmp/runs")
[ "$(json_str "$d/summary.json" status)" = interrupted ] || fail "summary status is not interrupted"
grep -q '1\.\.0' "$tmp/out" && { cat "$tmp/out" >&2; fail "the message counts epochs 1..0"; }
if [ "$(nrows "$d/metrics.csv")" = 0 ]; then
    has "$tmp/out" "interrupted during epoch 1 (after [0-9]* of 30 batches); no epoch is complete"
    has "$d/summary.json" "no epoch is complete"
fi
echo "run_interrupt_early: ok"
