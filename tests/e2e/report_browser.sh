#!/bin/sh
# report_browser.sh — a real browser (headless Chromium) loads a search report: the SVG paths and leaderboard are in its DOM, and it renders.
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
run_browser() {
    timeout 90 "$browser" --headless --no-sandbox --disable-gpu --disable-background-networking \
        --disable-component-update --disable-sync --no-first-run --disable-extensions \
        --user-data-dir="$tmp/profile" --window-size=1200,1600 "$@" "file://$tmp/search/report.html"
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
echo "report_browser.sh: ok ($paths paths, $rows rows, screenshot $size bytes)"
