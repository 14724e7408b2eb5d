-- hooks.lua — the Lua side of fashion_hooks.nnx.
local m = require "nnx.metrics"

-- Metrics: y[i] is row i's class (1-based), p[i][k] its probability of class k.
function macro_f1(y, p)
  return m.macro_f1(y, p)
end

function top2(y, p)
  return m.top_k_accuracy(y, p, 2)
end

function on_train_begin(run)
  print(string.format("seed %d, starting at lr %.2g", run.seed, run.lr))
end

-- After validation, before selection: log two extra columns, and give up
-- on a run whose accuracy is still near chance after three epochs.
function on_epoch_end(run)
  local v = run.metrics
  run:log("gap", v["valid.loss"] - v["train.loss"])
  run:log("lr_x1000", run.lr * 1000)
  if run.epoch >= 3 and v["valid.accuracy"] < 0.2 then
    run:stop("valid accuracy below 0.2 after 3 epochs: not learning")
  end
end

function on_train_end(run)
  print(string.format("done after epoch %d", run.epoch))
end
