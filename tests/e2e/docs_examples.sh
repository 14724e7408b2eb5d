#!/bin/sh
# docs_examples.sh — the ```nnx blocks of docs/language.md, taken in order,
# form one file that `nnx check` accepts.  The data files and hooks the
# examples name are made in a temporary directory beside it.
set -u
root=${NNX_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
NNX=${NNX:-$root/nnx}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

awk '/^```nnx$/ { on = 1; next } /^```/ { on = 0 } on' "$root/docs/language.md" > "$tmp/docs.nnx"
blocks=$(grep -c '^```nnx$' "$root/docs/language.md")
[ "$blocks" -ge 5 ] || { echo "docs/language.md: only $blocks nnx blocks"; exit 1; }

mkdir -p "$tmp/data"
{
    echo "age,pressure,cholesterol,diagnosis"
    i=0
    while [ $i -lt 40 ]; do
        echo "$((30 + i)),$((110 + i % 30)),$((180 + i * 3 % 60)),$([ $((i % 3)) = 0 ] && echo sick || echo well)"
        i=$((i + 1))
    done
} > "$tmp/data/patients.csv"
cat > "$tmp/hooks.lua" <<'LUA'
function on_epoch_end(run)
  run:log("lr_x1000", run.lr * 1000)
end

function macro_f1(y, p)
  return 0.5
end
LUA

status=0
for bin in "$NNX" "${NNX_SAN:-}"; do
    [ -n "$bin" ] && [ -x "$bin" ] || continue
    if ! (cd "$tmp" && "$bin" check docs.nnx); then
        echo "FAIL: $bin check of the docs examples"
        status=1
    fi
    # the plan of every experiment prints without error
    if ! (cd "$tmp" && "$bin" plan docs.nnx > plan.out); then
        echo "FAIL: $bin plan of the docs examples"
        status=1
    fi
done
grep -q "experiment lr_sweep: grid search, 45 trials" "$tmp/plan.out" || { echo "FAIL: lr_sweep plan"; status=1; }
grep -q "experiment recipe: staged search, 4 stages" "$tmp/plan.out" || { echo "FAIL: recipe plan"; status=1; }
exit $status
