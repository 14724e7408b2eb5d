-- nnx/metrics.lua — classification metrics for Lua hooks: `require "nnx.metrics"`.
--
-- Every function takes the (y, p) a Lua metric receives: y[i] is row i's
-- class (1-based: data class 0 is 1), p[i][k] its probability of class k,
-- p.classes the number of classes (a binary problem has two: 1 - p, p).
-- Plain Lua tables of the same shape work too (classes = #p[1]).
-- The predicted class of a row is its argmax (the first one on ties).
--
--   local metrics = require "nnx.metrics"
--   function macro_f1(y, p) return metrics.macro_f1(y, p) end   -- lua.macro_f1
--
-- Averages over classes follow scikit-learn: macro F1 averages over the
-- classes seen in y or in the predictions, balanced accuracy over the
-- classes seen in y; a ratio with a zero denominator counts as 0.

local M = {}

local function classes_of(p)
  return p.classes or (#p > 0 and #p[1]) or 0
end

-- The predicted class of row i.
function M.argmax(p, i)
  if p.argmax then return p:argmax(i) end
  local row = p[i]
  local best, top = 1, row[1]
  for k = 2, #row do
    if row[k] > top then best, top = k, row[k] end
  end
  return best
end

-- Functions (p, i) -> argmax and (p, i) -> row, looked up once per metric
-- call: a view's own C methods when p is a view, else Lua.
local function plain_row(p, i) return p[i] end

local function methods(p)
  if p.argmax then return p.argmax, p.row end
  return M.argmax, plain_row
end

-- C[t][q]: how many rows of true class t were predicted as class q.
function M.confusion(y, p)
  local n, k = #y, classes_of(p)
  assert(#p == n, "nnx.metrics: #y and #p differ")
  local c = {}
  for t = 1, k do
    local r = {}
    for q = 1, k do r[q] = 0 end
    c[t] = r
  end
  local argmax = methods(p)
  for i = 1, n do
    local r = c[y[i]]
    local q = argmax(p, i)
    r[q] = r[q] + 1
  end
  return c
end

-- Share of rows whose predicted class is the true one.
function M.accuracy(y, p)
  local n = #y
  if n == 0 then return 0 end
  local right, argmax = 0, methods(p)
  for i = 1, n do
    if argmax(p, i) == y[i] then right = right + 1 end
  end
  return right / n
end

-- Share of rows whose true class is among the k most probable: fewer than
-- k classes have a strictly higher probability than the true one.
function M.top_k_accuracy(y, p, k)
  assert(math.type(k) == "integer" and k >= 1, "nnx.metrics.top_k_accuracy: k must be an integer >= 1")
  local n, classes = #y, classes_of(p)
  if n == 0 then return 0 end
  local hits, _, row_of = 0, methods(p)
  for i = 1, n do
    local row, t = row_of(p, i), y[i]
    local mine, above = row[t], 0
    for c = 1, classes do
      if row[c] > mine then above = above + 1 end
    end
    if above < k then hits = hits + 1 end
  end
  return hits / n
end

-- Per-class recall (TP / rows of the class), with the support of each class:
-- recall[k] is 0 when class k has no rows.
function M.recall(y, p)
  local c, k = M.confusion(y, p), classes_of(p)
  local recall, support = {}, {}
  for t = 1, k do
    local s = 0
    for q = 1, k do s = s + c[t][q] end
    support[t] = s
    recall[t] = s > 0 and c[t][t] / s or 0
  end
  return recall, support
end

-- Mean recall over the classes present in y.
function M.balanced_accuracy(y, p)
  local recall, support = M.recall(y, p)
  local sum, m = 0, 0
  for t = 1, #recall do
    if support[t] > 0 then sum, m = sum + recall[t], m + 1 end
  end
  return m > 0 and sum / m or 0
end

-- Per-class F1 = 2 TP / (2 TP + FP + FN), and whether the class occurs
-- (in y or among the predictions).
function M.f1(y, p)
  local c, k = M.confusion(y, p), classes_of(p)
  local f1, seen = {}, {}
  for t = 1, k do
    local tp, fn, fp = c[t][t], 0, 0
    for q = 1, k do
      if q ~= t then fn, fp = fn + c[t][q], fp + c[q][t] end
    end
    local d = 2 * tp + fp + fn
    f1[t] = d > 0 and 2 * tp / d or 0
    seen[t] = tp + fn + fp > 0
  end
  return f1, seen
end

-- Mean F1 over the classes seen in y or in the predictions.
function M.macro_f1(y, p)
  local f1, seen = M.f1(y, p)
  local sum, m = 0, 0
  for t = 1, #f1 do
    if seen[t] then sum, m = sum + f1[t], m + 1 end
  end
  return m > 0 and sum / m or 0
end

-- Brier score: mean over rows of sum over classes of (p[i][k] - [y[i] == k])^2.
-- For a binary problem this is twice the one-column score mean((p - y)^2).
-- Lower is better (select = min(valid.NAME)).
function M.brier(y, p)
  local n, classes = #y, classes_of(p)
  if n == 0 then return 0 end
  local sum, _, row_of = 0, methods(p)
  for i = 1, n do
    local row, t = row_of(p, i), y[i]
    for c = 1, classes do
      local d = row[c] - (c == t and 1 or 0)
      sum = sum + d * d
    end
  end
  return sum / n
end

return M
