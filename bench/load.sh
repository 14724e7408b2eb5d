#!/bin/sh
# bench/load.sh — loading alone, nnx against pandas and gzip, side by side in
# one run (issue 20).
#
#   table    1,000,000 x 30 + label, written once by NumPy's savetxt
#            (bench/gen_table.py) under build/bench-load/: nnx's first load
#            (bench/load_data.c: nnx_load_csv_encoded as `nnx run` calls it,
#            the runtime's threads = the online processors) against pandas
#            read_csv(dtype=float32), C engine (bench/pandas_load.py).
#   idx      Fashion-MNIST's train images and labels (gzip): nnx_load_idx
#            against `gzip -dc` of the same two files.
#
# Each side: seconds (the program's own clock around the load), the whole
# process's CPU seconds (user + system) and peak RSS by /usr/bin/time, with
# the process's baseline (the same program loading nothing) beside it.  The
# CPU seconds hold better than the wall time on a busy machine (pandas
# imports itself besides reading, which its CPU figure includes).  Targets (2 cores): nnx at least 2x faster than
# pandas; nnx's peak RSS at most 1.3x the float32 table plus its baseline.
# The load average is printed with every figure: on a busy machine the
# absolute numbers are not clean; both sides run in the same minute, so the
# ratios mean more.  NNX_BENCH_ROUNDS (default 3): rounds, each side's
# fastest kept.
set -e
root=$(cd "$(dirname "$0")/.." && pwd)
out=$root/build/bench-load
load=$root/build/rel/bench/load_data
data=${NNX_BENCH_DATA:-/usr/share/datasets/fashion-mnist}
rounds=${NNX_BENCH_ROUNDS:-3}
mkdir -p "$out"
table=$out/table_1m_30.csv
if [ ! -s "$table" ]; then
    echo "generating $table (NumPy savetxt, once) ..."
    /usr/bin/python3 "$root/bench/gen_table.py" "$table.tmp"
    mv "$table.tmp" "$table"
fi

# run CMD...: fills $secs, $rss (KB) and $cpu (user + system seconds) with
# the fastest of $rounds runs (rss and cpu of that run).
run() {
    best=""
    i=0
    while [ "$i" -lt "$rounds" ]; do
        /usr/bin/time -f '%M %U %S' -o "$out/rss" "$@" > "$out/line" 2> "$out/err" ||
            { echo "load.sh: $* failed:" >&2; cat "$out/err" >&2; exit 1; }
        s=$(sed -n 's/.*seconds=\([0-9.]*\).*/\1/p' "$out/line")
        m=$(tail -n 1 "$out/rss" | cut -d' ' -f1)
        c=$(tail -n 1 "$out/rss" | awk '{ print $2 + $3 }')
        if [ -z "$best" ] || [ "$(echo "$s < $best" | bc)" = 1 ]; then
            best=$s
            rss=$m
            cpu=$c
            what=$(cat "$out/line")
        fi
        i=$((i + 1))
    done
    secs=$best
}

mb() { echo "scale=0; $1 / 1024" | bc; }

echo "load: $(uptime | sed 's/.*load average/load average/')  ($(nproc) processors)"
run "$load" none;                     nnx_base=$rss
run /usr/bin/python3 "$root/bench/pandas_load.py" none; pd_base=$rss
run "$load" csv "$table";             nnx_s=$secs; nnx_rss=$rss; nnx_cpu=$cpu; nnx_what=$what
echo "  nnx done: $(uptime | sed 's/.*load average/load average/')"
run /usr/bin/python3 "$root/bench/pandas_load.py" "$table"; pd_s=$secs; pd_rss=$rss; pd_cpu=$cpu
echo "  pandas done: $(uptime | sed 's/.*load average/load average/')"
rows=$(echo "$nnx_what" | sed -n 's/.*rows=\([0-9]*\).*/\1/p')
feat=$(echo "$nnx_what" | sed -n 's/.*features=\([0-9]*\).*/\1/p')
table_kb=$(( rows * feat * 4 / 1024 ))
echo
echo "table: $(du -m "$table" | cut -f1) MB of CSV, $rows rows x $feat features + label; float32 table $(mb $table_kb) MB"
printf '%-34s %8s %16s %12s %12s\n' "" seconds "process CPU s" "peak RSS MB" "baseline MB"
printf '%-34s %8s %16s %12s %12s\n' "nnx (load_data csv, $(nproc) threads)" "$nnx_s" "$nnx_cpu" "$(mb $nnx_rss)" "$(mb $nnx_base)"
printf '%-34s %8s %16s %12s %12s\n' "pandas read_csv(float32), C" "$pd_s" "$pd_cpu" "$(mb $pd_rss)" "$(mb $pd_base)"
echo "speed: nnx $(echo "scale=2; $pd_s / $nnx_s" | bc)x pandas (target >= 2); in CPU seconds $(echo "scale=2; $pd_cpu / $nnx_cpu" | bc)x"
echo "memory: nnx peak $(mb $nnx_rss) MB = baseline $(mb $nnx_base) + $(echo "scale=2; ($nnx_rss - $nnx_base) / $table_kb" | bc) x the float32 table (target <= 1.3)"

if [ -f "$data/train-images-idx3-ubyte.gz" ]; then
    img=$data/train-images-idx3-ubyte.gz
    lab=$data/train-labels-idx1-ubyte.gz
    run "$load" idx "$img" "$lab"; idx_s=$secs; idx_rss=$rss; idx_cpu=$cpu
    best=""
    i=0
    while [ "$i" -lt "$rounds" ]; do
        t0=$(date +%s.%N)
        gzip -dc "$img" "$lab" > /dev/null
        t1=$(date +%s.%N)
        s=$(echo "$t1 - $t0" | bc)
        if [ -z "$best" ] || [ "$(echo "$s < $best" | bc)" = 1 ]; then best=$s; fi
        i=$((i + 1))
    done
    echo
    echo "Fashion-MNIST train (gzip IDX), $(uptime | sed 's/.*load average/load average/')"
    printf '%-34s %8s s  (process CPU %s s, peak RSS %s MB)\n' "nnx_load_idx" "$idx_s" "$idx_cpu" "$(mb $idx_rss)"
    printf '%-34s %8.3f s\n' "gzip -dc of the same files" "$best"
fi
