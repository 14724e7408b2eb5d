# run_common.sh — helpers for the tests/e2e/run_*.sh scripts (sourced, not run on its own).
#
# Sets: root, nnx, nnx_san, tmp (removed at exit), NNX_CACHE ($tmp/cache).  Functions:
#   fail MSG                     print and exit 1
#   expect STATUS OUT CMD...     run CMD, require its exit status, keep its output in OUT
#   has FILE TEXT                FILE contains TEXT
#   rundir OUTDIR                the one run directory under OUTDIR
#   json_str FILE KEY            a top-level string value of summary.json
#   json_num FILE KEY            a top-level number value of summary.json
#   select_epoch FILE            summary.json's select.epoch
#   col CSV NAME                 the values of column NAME, one a line
#   argbest CSV NAME max|min     the epoch nnx selects by column NAME: the best value, values
#                                equal to 6 digits tying, ties to the lowest valid.loss
#                                (then the first)
#   nrows CSV                    rows after the header
#   wait_rows PID OUTDIR N       wait until OUTDIR/*/metrics.csv exists with >= N rows
#                                (N = 0: until it exists); kill PID and fail after 30 s
set -u
root=${NNX_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
nnx=${NNX:-$root/nnx}
nnx_san=${NNX_SAN:-$root/build/san/nnx}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# each script its own parsed-data cache, never the user's (~/.cache/nnx)
export NNX_CACHE="$tmp/cache"
me=$(basename "$0")

fail() { echo "$me: $*" >&2; exit 1; }
expect() {
    want=$1 out=$2; shift 2
    "$@" >"$out" 2>&1
    got=$?
    [ "$got" = "$want" ] || { cat "$out" >&2; fail "'$*' exited $got, expected $want"; }
}
has() { grep -q -- "$2" "$1" || { cat "$1" >&2; fail "no '$2' in $1"; }; }
rundir() {
    set -- "$1"/*/
    [ $# = 1 ] && [ -d "$1" ] || fail "expected one run directory, found: $*"
    echo "${1%/}"
}
json_str() { sed -n "s/^  \"$2\": \"\\(.*\\)\",\$/\\1/p" "$1"; }
json_num() { sed -n "s/^  \"$2\": \\([-0-9.e+]*\\),\$/\\1/p" "$1"; }
select_epoch() { sed -n '/^  "select": {/,/^  }/s/^    "epoch": \([0-9]*\),*$/\1/p' "$1"; }
col() {
    awk -F, -v name="$2" 'NR == 1 { for (i = 1; i <= NF; i++) if ($i == name) c = i; next }
                          c { print $c }' "$1"
}
argbest() {
    awk -F, -v name="$2" -v mode="$3" '
        NR == 1 { for (i = 1; i <= NF; i++) { if ($i == name) c = i; if ($i == "valid.loss") l = i }; next }
        c && $c != "" {
            v = sprintf("%.6g", $c) + 0
            tie = best != "" && v == best
            if (best == "" || (mode == "max" ? v > best : v < best) ||
                (tie && l && l != c && $l != "" && (bl == "" || $l + 0 < bl + 0))) {
                best = v; at = $1; bl = l ? $l : ""
            }
        }
        END { print at }' "$1"
}
nrows() { awk 'END { print NR - 1 }' "$1"; }
wait_rows() {
    pid=$1 dir=$2 want=$3 i=0
    while :; do
        m=$(ls "$dir"/*/metrics.csv 2>/dev/null | head -n 1)
        [ -n "$m" ] && [ "$(nrows "$m")" -ge "$want" ] && return 0
        i=$((i + 1))
        [ $i -lt 1500 ] || { kill -9 "$pid"; fail "no metrics.csv with $want rows in 30 s"; }
        sleep 0.02
    done
}
