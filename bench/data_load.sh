#!/bin/sh
# bench/data_load.sh — loading tables: the parsed-data cache, and training on
# a table bigger than the memory it may use.
#
# 1. A 1,000,000 x 30 CSV table plus a label (bench/gen_tables.py: NumPy
#    savetxt, %.6f, seeded — this bench's own generator), loaded by
#    `nnx data --json`: the first load (an empty cache: parse, then write
#    the entry) against the cached load (the entry checked and mapped).
#    Times are nnx data's "load_seconds" (the load alone, not the check of
#    the .nnx file); the first load once, the cached one the best of 3;
#    peak RSS of the whole command by /usr/bin/time -f %M.
#    Target: the cached load at least 10x faster than the first.
# 2. One epoch on a memory-mapped 4 GB .npy table (2,000,000 x 512 float32,
#    normalize = standard, valid a separate 10,000-row file): the peak of
#    RssAnon (anonymous memory: what the process allocated, not the file's
#    pages in the page cache, which VmHWM would count) in /proc/PID/status,
#    sampled every 0.1 s while nnx runs.  Target: under 300 MB.  The 4 GB
#    file lives in build/bench/ only while this runs.
#
# Environment:
#   NNX_BENCH_TABLE_ROWS   rows of the CSV table (default 1000000)
#   NNX_BENCH_BIG_ROWS     rows of the .npy table (default 2000000; x 512 x 4 bytes)
#   NNX_BENCH_BIG          0: skip part 2
set -e
root=$(cd "$(dirname "$0")/.." && pwd)
nnx=$root/nnx
out=$root/build/bench/data
rows=${NNX_BENCH_TABLE_ROWS:-1000000}
big_rows=${NNX_BENCH_BIG_ROWS:-2000000}
mkdir -p "$out"
load() { uptime | sed 's/.*load average: //'; }
json_num() { sed -n "s/^  \"$2\": \\([-0-9.e+]*\\),*\$/\\1/p" "$1"; }

# --- 1. first load against the cached load -------------------------------------
csv=$out/table_$rows.csv
[ -s "$csv" ] || /usr/bin/python3 "$root/bench/gen_tables.py" csv "$csv" "$rows"
cat >"$out/table.nnx" <<NNX
data table { train = csv("table_$rows.csv", label = "label") }
NNX
export NNX_CACHE="$out/cache"
rm -rf "$NNX_CACHE"
la=$(load)
/usr/bin/time -f %M -o "$out/rss1" "$nnx" data "$out/table.nnx" --json >"$out/first.json"
grep -q '"written": 1' "$out/first.json" || { echo "data_load: the first load was not cached" >&2; exit 1; }
first=$(json_num "$out/first.json" load_seconds)
best=""
for i in 1 2 3; do
    /usr/bin/time -f %M -o "$out/rss2" "$nnx" data "$out/table.nnx" --json >"$out/cached.json"
    grep -q '"served": 1' "$out/cached.json" || { echo "data_load: the cache did not serve" >&2; exit 1; }
    s=$(json_num "$out/cached.json" load_seconds)
    best=$(printf '%s\n' $best "$s" | sort -g | head -n 1)
done
table_mb=$(echo "$rows" | awk '{ printf "%.0f", $1 * 31 * 4 / 1e6 }')
echo "table $rows x 30 (+ label), $(du -m "$csv" | cut -f1) MB of CSV, $table_mb MB as float32 (load $la):"
printf '  %-26s %8.3f s   peak RSS %5d MB\n' "nnx first load (parse+cache)" "$first" \
    "$(($(cat "$out/rss1") / 1024))"
printf '  %-26s %8.3f s   peak RSS %5d MB\n' "nnx cached load (mapped)" "$best" \
    "$(($(cat "$out/rss2") / 1024))"
echo "$first $best" | awk '{ r = $1 / $2; printf "  cached load %.1fx faster than the first (target >= 10x): %s\n", r, (r >= 10 ? "met" : "NOT met") }'
rm -rf "$NNX_CACHE"

# --- 2. one epoch on a memory-mapped 4 GB table ----------------------------------
[ "${NNX_BENCH_BIG:-1}" = 0 ] && exit 0
big=$out/big
mkdir -p "$big"
trap 'rm -rf "$big"' EXIT
/usr/bin/python3 "$root/bench/gen_tables.py" npy "$big" "$big_rows" 512
cat >"$big/big.nnx" <<'NNX'
data big {
    train = npy("big_x.npy", "big_y.npy")
    valid = npy("small_x.npy", "small_y.npy")
    normalize = standard
}
network net { dense(16) relu dense(2) }
experiment one_epoch {
    data = big  model = net  optimizer = adam(lr = 1e-3)  epochs = 1  batch = 256
    metrics = [accuracy]  select = max(valid.accuracy)
}
NNX
la=$(load)
t0=$(date +%s.%N)
"$nnx" run "$big/big.nnx" --out "$big/runs" -q -j 1 >"$big/out" 2>&1 &
pid=$!
peak=0
while kill -0 "$pid" 2>/dev/null; do
    a=$(sed -n 's/^RssAnon:[[:space:]]*\([0-9]*\) kB/\1/p' "/proc/$pid/status" 2>/dev/null || true)
    [ -n "$a" ] && [ "$a" -gt "$peak" ] && peak=$a
    sleep 0.1
done
wait "$pid" || { cat "$big/out" >&2; echo "data_load: the 4 GB run failed" >&2; exit 1; }
t1=$(date +%s.%N)
acc=$(sed -n 's/^    "valid.accuracy": \([0-9.e-]*\),*$/\1/p' "$big"/runs/*/summary.json | head -1)
gb=$(du -m "$big/big_x.npy" | cut -f1)
echo "one epoch on a mapped ${gb} MB .npy table ($big_rows x 512 float32; load $la):"
echo "$peak $t0 $t1 $acc" | awk '{ printf "  peak RssAnon %.0f MB (target < 300 MB: %s), %.0f s, valid.accuracy %s\n",
    $1 / 1024, ($1 / 1024 < 300 ? "met" : "NOT met"), $3 - $2, $4 }'
