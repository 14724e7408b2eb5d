#!/bin/sh
# runs_list.sh — time `nnx runs` over N generated run directories (default 10,000), each a copy of a
# real summary.json with its own metric value.  Usage: sh bench/runs_list.sh [N]
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
nnx=${NNX:-$root/nnx}
n=${1:-10000}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/src"
cat >"$tmp/src/x.nnx" <<'NNX'
data pts { train = spirals(n = 200, classes = 3, noise = 0.2, seed = 7)  valid = split(train, 0.25) }
network net { dense(8) swish dense(3) }
experiment toy { data = pts  model = net  loss = cross_entropy  optimizer = adam(lr = 1e-2)  epochs = 2  metrics = [accuracy] }
NNX
"$nnx" run "$tmp/src/x.nnx" --quiet --out "$tmp/src/runs" >/dev/null
summary=$(ls "$tmp"/src/runs/*/summary.json)
awk -v n="$n" -v dir="$tmp/runs" 'BEGIN { for (i = 0; i < n; i++) printf "%s/toy-%06x\n", dir, i }' >"$tmp/dirs"
xargs mkdir -p <"$tmp/dirs"
# one awk writes every summary.json, each with its own valid.accuracy
awk -v src="$summary" 'BEGIN { while ((getline line < src) > 0) text = text line "\n" }
    { t = text; sub(/"valid.accuracy": [0-9.]*/, "\"valid.accuracy\": 0." NR, t)
      f = $0 "/summary.json"; printf "%s", t > f; close(f) }' "$tmp/dirs"
sync
echo "load: $(uptime)"
for what in table --json "--sort valid.accuracy"; do
    opt=$what; [ "$what" = table ] && opt=
    echo "nnx runs $opt over $n run directories:"
    # shellcheck disable=SC2086
    /usr/bin/time -o "$tmp/time" -f "  %e s wall, %U s user, %S s system" "$nnx" runs "$tmp/runs" $opt >/dev/null
    cat "$tmp/time"
done
