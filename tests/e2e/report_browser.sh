#!/bin/sh
# report_browser.sh — a real browser (headless Chromium) loads a search report and a comparison of three runs: the SVG paths (every run's curves), leaderboard and settings table are in its DOM, and both render; the search's parallel coordinates and parameter importance (known values), and a pruned search's curves coloured by the rung where each trial stopped.
set -u
root=${NNX_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
nnx=${NNX:-$root/nnx}
fail() { echo "report_browser.sh: $*" >&2; exit 1; }

browser=$(command -v chromium || command -v chromium-browser || true)
if [ -z "$browser" ]; then
    sh "$root/tests/install-deps.sh" chromium || fail "chromium is missing and could not be installed"
    browser=$(command -v chromium) || fail "chromium is still missing after installing it"
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cp -r "$root/tests/fixtures/search" "$tmp/search"
"$nnx" report "$tmp/search" >/dev/null || fail "nnx report failed"

# No network, no extensions, a throwaway profile; the page needs nothing else.
page=$tmp/search/report.html
run_browser() {
    timeout 90 "$browser" --headless --no-sandbox --disable-gpu --disable-background-networking \
        --disable-component-update --disable-sync --no-first-run --disable-extensions \
        --user-data-dir="$tmp/profile" --window-size=1200,1600 "$@" "file://$page"
}

run_browser --dump-dom >"$tmp/dom.html" 2>"$tmp/dom.err" || { cat "$tmp/dom.err" >&2; fail "chromium --dump-dom failed"; }
paths=$(grep -o '<path data-series="' "$tmp/dom.html" | wc -l)
# 8 trials in the overlay, then the winner's train/valid loss, 2 metrics, steps + average, lr
[ "$paths" -ge 14 ] || fail "the DOM has $paths SVG data paths, expected at least 14"
grep -q '<table class="leaderboard">' "$tmp/dom.html" || fail "no leaderboard table in the DOM"
rows=$(sed -n '/<table class="leaderboard">/,/<\/table>/p' "$tmp/dom.html" | grep -o '<tr' | wc -l)
[ "$rows" = 10 ] || fail "the leaderboard has $rows rows, expected 10 (header + 9 trials)"
grep -q '<g data-series="trials"' "$tmp/dom.html" || fail "no scatter of the metric against the parameters"

# parallel coordinates: an axis per parameter and one for valid.auc, a line per trial
grep -q '<svg class="chart parcoords"[^>]* data-axes="3"' "$tmp/dom.html" || fail "no parallel coordinates with 3 axes"
[ "$(grep -o '<path class="pc" data-trial="' "$tmp/dom.html" | wc -l)" = 9 ] || fail "parallel coordinates: not one line per trial"
for a in optimizer.lr batch valid.auc; do grep -q "<g data-axis=\"$a\">" "$tmp/dom.html" || fail "no parallel axis $a"; done
# parameter importance, eta squared of the 8 valid.auc values grouped by lr (4 groups) and by
# batch (2), worked out by hand from trials.csv: 0.999 and 0.0002293; it says what it is
grep -q 'data-param="optimizer.lr" data-importance="0.999"' "$tmp/dom.html" || fail "importance of lr is not 0.999"
grep -q 'data-param="batch" data-importance="0.0002293"' "$tmp/dom.html" || fail "importance of batch is not 0.0002293"
grep -q 'not fANOVA' "$tmp/dom.html" || fail "the importance chart does not say how it is estimated"

run_browser --screenshot="$tmp/shot.png" >/dev/null 2>"$tmp/shot.err" || { cat "$tmp/shot.err" >&2; fail "chromium --screenshot failed"; }
[ -s "$tmp/shot.png" ] || fail "no screenshot written"
magic=$(head -c 8 "$tmp/shot.png" | od -An -c | tr -d ' ')
[ "$magic" = '211PNG\r\n032\n' ] || fail "the screenshot is not a PNG ($magic)"
# A blank page compresses to almost nothing; a drawn report does not.
size=$(wc -c <"$tmp/shot.png")
[ "$size" -gt 30000 ] || fail "the screenshot is only $size bytes: the page looks blank"
# Keep the picture for a person to look at.
mkdir -p "$root/build/test-output" && cp "$tmp/shot.png" "$root/build/test-output/report_browser.png"

# A staged search: each stage drawn, the values a stage left to the base shown as the trial used them
cat >"$tmp/staged.nnx" <<'NNX'
data toy {
    train = spirals(n = 240, classes = 3, noise = 0.2, seed = 7)
    valid = split(train, 0.25)
}
network net { dense(12) swish dense(3) }
experiment st {
    data = toy
    model = net
    loss = cross_entropy
    optimizer = adam(lr = 1e-2)
    epochs = 3
    search staged {
        optimizer.lr in [1e-2, 3e-2]
        epochs in [4, 2]
    }
}
NNX
"$nnx" run "$tmp/staged.nnx" --quiet --out "$tmp/staged" >/dev/null 2>&1 || fail "the staged search failed"
set -- "$tmp"/staged/st-*
page=$1/report.html
run_browser --dump-dom >"$tmp/sdom.html" 2>"$tmp/sdom.err" || { cat "$tmp/sdom.err" >&2; fail "chromium --dump-dom (staged) failed"; }
[ "$(grep -o '<div data-stage="' "$tmp/sdom.html" | wc -l)" = 2 ] || fail "the staged search's 2 stages are not drawn"
grep -q '<td class="base" title="the base experiment.s value">3</td>' "$tmp/sdom.html" ||
    fail "a stage-1 trial's epochs do not show the base value 3"
sed -n '/<table class="leaderboard">/,/<\/table>/p' "$tmp/sdom.html" | grep -q '<td>–</td>' &&
    fail "the leaderboard still shows – for a value a stage did not set"

# A pruned search (9 trials to epoch 1, 3 to epoch 3): each trial's curve coloured by the rung
# where it stopped, the legend counting them; importance judged at the first rung's epoch
cat >"$tmp/pruned.nnx" <<'NNX'
data toy {
    train = spirals(n = 300, classes = 3, noise = 0.2, seed = 7)
    valid = split(train, 0.25)
}
network net(width = 8) { dense(width) swish dense(3) }
experiment pr {
    data = toy
    model = net
    optimizer = adam(lr = 1e-2)
    epochs = 3
    metrics = [accuracy]
    select = max(valid.accuracy)
    prune = halving(min_epochs = 1, eta = 3)
    search random(trials = 9, seed = 2) { optimizer.lr in loguniform(1e-3, 1)  model.width in [4, 16] }
}
NNX
"$nnx" run "$tmp/pruned.nnx" --quiet --out "$tmp/pruned" >/dev/null 2>&1 || fail "the pruned search failed"
set -- "$tmp"/pruned/pr-*
page=$1/report.html
run_browser --dump-dom >"$tmp/pdom.html" 2>"$tmp/pdom.err" || { cat "$tmp/pdom.err" >&2; fail "chromium --dump-dom (pruned) failed"; }
sed -n '/<h2>Curves by the rung/,/<\/svg>/p' "$tmp/pdom.html" >"$tmp/rungs.html"
has_rung() { grep -q "$1" "$tmp/rungs.html" || fail "the rung chart lacks: $1"; }
has_rung 'pruned at rung 1 (epoch 1): 6'
has_rung 'trained to the end (epoch 3): 3'
# every trial drawn in its rung's colour: epochs_run 1 the first, 3 the second
tail -n +2 "$1/trials.csv" | while IFS=, read -r name lr width status epoch run rest; do
    [ "$run" = 1 ] && c='#1f77b4' || c='#d62728'
    grep -q "<path data-series=\"$name\" fill=\"none\" stroke=\"$c\"" "$tmp/rungs.html" ||
        fail "trial $name (epochs_run $run) is not drawn in $c"
done || exit 1
grep -q 'at epoch 1 (the first rung, which every trial reached)' "$tmp/pdom.html" ||
    fail "the pruned search's importance does not say it is judged at the first rung"

# The comparison page of three runs (lr 1e-2, 3e-2, 1e-1): every run's curve in every chart, the lr row
# highlighted as differing, a diagnosis per run.
cat >"$tmp/cmp.nnx" <<'NNX'
data toy {
    train = spirals(n = 300, classes = 3, noise = 0.2, seed = 7)
    valid = split(train, 0.25)
}
network net { dense(16) swish dense(3) }
experiment cmp {
    data = toy
    model = net
    loss = cross_entropy
    optimizer = adam(lr = 1e-2)
    epochs = 4
    metrics = [accuracy]
}
NNX
for lr in 1e-2 3e-2 1e-1; do
    "$nnx" run "$tmp/cmp.nnx" --quiet --set optimizer.lr=$lr --out "$tmp/cmp/lr$lr" >/dev/null 2>&1 || fail "run lr=$lr failed"
done
set -- "$tmp"/cmp/*/cmp-*
[ $# = 3 ] || fail "expected 3 runs, found $#"
"$nnx" report "$@" -o "$tmp/compare.html" >/dev/null || fail "nnx report A B C -o compare.html failed"
page=$tmp/compare.html
run_browser --dump-dom >"$tmp/cdom.html" 2>"$tmp/cdom.err" || { cat "$tmp/cdom.err" >&2; fail "chromium --dump-dom (comparison) failed"; }
for d in "$@"; do
    n=$(grep -o "<path data-series=\"$d\"" "$tmp/cdom.html" | wc -l)
    # train.loss, valid.loss, valid.accuracy, lr
    [ "$n" -ge 4 ] || fail "the comparison draws $n curves of $d, expected 4"
done
grep -q '<table class="settings">' "$tmp/cdom.html" || fail "no settings table in the comparison"
grep -A1 '<tr class="differs"><td class="name">optimizer.lr</td>' "$tmp/cdom.html" | grep -q '0.03' ||
    fail "the optimizer.lr row is not highlighted as differing"
[ "$(grep -c '<tr class="differs">' "$tmp/cdom.html")" = 1 ] || fail "more than the lr differs in the settings table"
[ "$(grep -c '<h3><span class="swatch"' "$tmp/cdom.html")" = 3 ] || fail "not one diagnosis per run"
run_browser --screenshot="$tmp/cshot.png" >/dev/null 2>"$tmp/cshot.err" || { cat "$tmp/cshot.err" >&2; fail "chromium --screenshot (comparison) failed"; }
csize=$(wc -c <"$tmp/cshot.png")
[ "$csize" -gt 30000 ] || fail "the comparison screenshot is only $csize bytes: the page looks blank"
cp "$tmp/cshot.png" "$root/build/test-output/report_compare.png"
echo "report_browser.sh: ok ($paths paths, $rows rows, screenshot $size bytes; comparison screenshot $csize bytes)"
