#!/bin/sh
# run_hooks.sh — Lua hooks in `nnx run`: callbacks, run:log columns, run:set_lr, run:stop,
# a lua.NAME metric used by select (checked against nnx's own macro F1), and Lua errors.
. "$(dirname "$0")/lib/run_common.sh"

cat >"$tmp/hooks.lua" <<'LUA'
local metrics = require "nnx.metrics"
function on_train_begin(run) print("begin seed " .. run.seed) end
function on_epoch_end(run)
  run:log("lr_x1000", run.lr * 1000)
  if run.epoch == 2 then run:log("late", 7) end
  if run.epoch == 3 then run:set_lr(0.001) end
  if run.epoch >= 5 and run.metrics["valid.accuracy"] > 0.3 then run:stop("good enough") end
end
function macro_f1(y, p) return metrics.macro_f1(y, p) end
function on_train_end(run) print("test f1 " .. tostring(run.metrics["test.macro_f1"])) end
LUA
cat >"$tmp/bad.lua" <<'LUA'
function on_epoch_end(run)
  if run.epoch == 2 then
    local t = nil
    return t.field
  end
end
LUA
printf 'function on_epoch_end(run\n' >"$tmp/syntax.lua"
write_exp() {  # FILE HOOKS METRICS SELECT
    cat >"$1" <<NNX
data toy {
    train = spirals(n = 600, classes = 3, noise = 0.2, seed = 7)
    valid = split(train, 0.25)
    test  = spirals(n = 300, classes = 3, noise = 0.2, seed = 8)
}
network net { dense(32) swish dense(32) swish dense(3) }
experiment h {
    data = toy
    model = net
    loss = cross_entropy
    optimizer = adam(lr = 1e-2)
    epochs = 10
    batch = 32
    seed = 1
    hooks = "$2"
    metrics = $3
    select = $4
}
NNX
}

write_exp "$tmp/h.nnx" hooks.lua "[accuracy, f1, lua.macro_f1]" "max(valid.macro_f1)"
expect 0 "$tmp/out" "$nnx" run "$tmp/h.nnx" --out "$tmp/a"
d=$(rundir "$tmp/a")
has "$tmp/out" "lua: begin seed 1"
has "$tmp/out" "lua: test f1 0\.[0-9]"
has "$tmp/out" "status      stopped: stopped by a hook after epoch 5: good enough"
[ "$(head -1 "$d/metrics.csv")" = "epoch,lr,train.loss,valid.loss,valid.accuracy,valid.f1,valid.macro_f1,lr_x1000,late,seconds" ] ||
    fail "metrics.csv header: $(head -1 "$d/metrics.csv")"
[ "$(nrows "$d/metrics.csv")" = 5 ] || fail "run:stop at epoch 5"
[ "$(json_str "$d/summary.json" status)" = stopped ] || fail "status should be stopped"
# run:log: a column from its first epoch on, empty cells before and after
[ "$(col "$d/metrics.csv" late | tr '\n' ' ')" = " 7    " ] || fail "late column: $(col "$d/metrics.csv" late | tr '\n' ' ')"
[ "$(col "$d/metrics.csv" lr_x1000 | sed -n 1p)" = 10 ] || fail "lr_x1000 at epoch 1"
# run:set_lr at epoch 3 sets the lr of epoch 4
[ "$(col "$d/metrics.csv" lr | sed -n 4p)" = 0.001 ] || fail "run:set_lr(0.001) did not apply"
# lua.macro_f1 is nnx's macro F1, computed in Lua
awk -F, 'NR > 1 { d = $6 - $7; if (d > 1e-6 || d < -1e-6) exit 1 }' "$d/metrics.csv" ||
    fail "lua.macro_f1 differs from f1"
sel=$(select_epoch "$d/summary.json")
[ "$sel" = "$(argbest "$d/metrics.csv" valid.macro_f1 max)" ] || fail "select by lua metric kept epoch $sel"
has "$d/summary.json" '"test.macro_f1": 0\.[0-9]'

# a Lua error stops the trial: status failed, the traceback, exit 1, the run directory intact
write_exp "$tmp/b.nnx" bad.lua "[accuracy]" "max(valid.accuracy)"
expect 1 "$tmp/out" "$nnx" run "$tmp/b.nnx" --out "$tmp/b"
d=$(rundir "$tmp/b")
has "$tmp/out" "status      failed: .*bad.lua:4: attempt to index a nil value"
has "$tmp/out" "stack traceback"
[ "$(json_str "$d/summary.json" status)" = failed ] || fail "status should be failed"
has "$d/summary.json" 'bad.lua:4:'
[ "$(nrows "$d/metrics.csv")" = 1 ] || fail "epoch 1 should be in metrics.csv"
[ -s "$d/weights.nnxw" ] || fail "the selected weights should be saved"

# a hooks file that does not load: exit 2 before training
write_exp "$tmp/s.nnx" syntax.lua "[accuracy]" "max(valid.accuracy)"
expect 2 "$tmp/out" "$nnx" run "$tmp/s.nnx" --out "$tmp/s"
has "$tmp/out" "syntax.lua:"
echo "run_hooks: ok"
