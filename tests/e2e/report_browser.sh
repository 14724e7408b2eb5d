#!/bin/sh
# report_browser.sh — a real browser (headless Chromium) loads a search report and a comparison of three runs: the SVG paths (every run's curves), leaderboard and settings table are in its DOM, and both render.
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
