#!/bin/sh
# docs_examples.sh — the ```nnx blocks of docs/language.md, taken in order,
# form one file that `nnx check` accepts, with its ```lua blocks as the
# hooks.lua it names (loaded in the sandbox; a quick run calls them).  The
# data file the examples name is made in a temporary directory beside it.
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
# the ```lua blocks are the hooks.lua the examples name (it must define macro_f1)
awk '/^```lua$/ { on = 1; next } /^```/ { on = 0 } on' "$root/docs/language.md" > "$tmp/hooks.lua"
grep -q '^function macro_f1(y, p)' "$tmp/hooks.lua" ||
    { echo "docs/language.md: no lua block defines macro_f1"; exit 1; }

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
# the Lua example runs: its metrics and callbacks on a few epochs of spirals
cat > "$tmp/lua_run.nnx" <<'NNX'
data toy { train = spirals(n = 600, classes = 3)  valid = split(train, 0.2) }
network net { dense(16) relu dense(3) }
experiment lua_run {
    data = toy  model = net  epochs = 3  hooks = "hooks.lua"
    metrics = [accuracy, lua.macro_f1, lua.true_class_prob]  select = max(valid.macro_f1)
}
NNX
if ! (cd "$tmp" && "$NNX" run lua_run.nnx --out runs --quiet > run.out 2>&1); then
    cat "$tmp/run.out"; echo "FAIL: the Lua example does not run"; status=1
fi
head -1 "$tmp"/runs/*/metrics.csv | grep -q 'valid.macro_f1,valid.true_class_prob,lr_x1000,seconds' ||
    { echo "FAIL: the Lua example's columns"; status=1; }
exit $status
