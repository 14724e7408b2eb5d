#!/bin/sh
# bench/run.sh — nnx against PyTorch on the same training work, and both
# against the sgemm-bound time (Fashion-MNIST, batch 128, Adam 1e-3; an MLP
# and a CNN).
#
# nnx is timed as users run it: `nnx run bench/bench.nnx bench_mlp|bench_cnn
# -j T`, seconds per epoch from the run's metrics.csv (training on 54000
# rows plus the validation pass over 6000; the first epoch, a warm-up, not
# counted), the median and the minimum over the other epochs, T = 1 and 2.
# PyTorch (bench/torch_bench.py) does the same work with an expert's
# settings: the inputs standardised once in one contiguous tensor, jemalloc
# or a tuned glibc malloc, a warm-up, timed windows; every allocator and
# thread setting tried, the winner printed.  bench/nnx_bench.c gives the
# sgemm-bound time: the same products at plain cblas_sgemm speed, three ways:
# the bound (one thread's rate at each shape, times the threads: perfect
# scaling), the sgemm rate on the machine's cores (OpenBLAS's own threads
# at each shape; both take each shape's fastest call, operands hot), and
# the products in sequence (every batch's products one after another on
# the layers' own arrays at OpenBLAS's two threads, timed as whole epochs
# like nnx's: the median of the timed epochs).
# By default that is all (a few minutes: nnx, PyTorch's short sweep and the
# sgemm bound for both models, and the table of ratios).  The long parts are
# opt-in; NNX_BENCH_FULL=1 turns every one on (the README's full table:
# `NNX_BENCH_FULL=1 make bench`, about half an hour on 2 cores):
#   NNX_BENCH_GRID=1       a 12-trial grid search timed with -j 1 and -j 2
#   NNX_BENCH_EXTRAS=1     `nnx check` on 1,000 experiments and the Lua metric cost
#   NNX_BENCH_INFER=1      inference throughput against PyTorch and ONNX Runtime
#                          (bench/infer.sh)
#   NNX_BENCH_PRUNE=1      bench/prune.sh (a 27-draw search, with and without
#                          prune = halving; its own settings are in that file)
#   NNX_BENCH_TPE=1        bench/tpe.sh (search tpe against search random on
#                          spirals, seeds 1-5; about a minute)
#   NNX_BENCH_LOAD=1       (make bench) bench/load.sh afterwards, as `make bench-load`
#   NNX_BENCH_TORCH_SWEEP  "short" (default): PyTorch tries each allocator with 1
#                          and 2 threads, OPENBLAS_NUM_THREADS set to match;
#                          "full" (the default under NNX_BENCH_FULL=1) also
#                          with OPENBLAS_NUM_THREADS unset
#
# Environment:
#   NNX_BENCH_DATA         Fashion-MNIST directory (default /usr/share/datasets/fashion-mnist)
#   NNX_BENCH_EPOCHS_MLP   nnx MLP epochs per run, the first not counted (default 5)
#   NNX_BENCH_EPOCHS_CNN   nnx CNN epochs per run, the first not counted (default 3)
#   NNX_BENCH_WINDOWS      PyTorch timed windows per configuration (default 5)
#   NNX_BENCH_BUDGET       seconds after which a PyTorch window stops and is
#                          scaled (default 10)
#   NNX_BENCH_ROUNDS       rounds of (nnx, PyTorch, sgemm), each side's fastest
#                          round kept (default 1; on a shared machine the load
#                          changes within minutes)
#   NNX_BENCH_MODELS       "mlp cnn" (default), or one of them
#   NNX_BENCH_CORETYPE     OpenBLAS kernels for BOTH nnx and PyTorch, exported as
#                          OPENBLAS_CORETYPE (e.g. Haswell, SkylakeX); "none"
#                          unsets it so the library picks by itself.  Default:
#                          whatever OPENBLAS_CORETYPE the environment has.
#
# Both sides always run with the same OPENBLAS_CORETYPE, so the ratio
# compares the two runtimes, not two BLAS kernels; the table says which
# kernels ran.  (PyTorch's convolutions use its own oneDNN, which picks its
# instructions by itself.)
#
# Quiet or not (bench/quiet.sh).  While each side runs, the script counts
# the cores OTHER processes kept busy; every side prints its figure, and the
# table is marked NOT CLEAN when other processes used more than a tenth of
# the cores during any side.
set -e
root=$(cd "$(dirname "$0")/.." && pwd)
data=${NNX_BENCH_DATA:-/usr/share/datasets/fashion-mnist}
epochs_mlp=${NNX_BENCH_EPOCHS_MLP:-5}
epochs_cnn=${NNX_BENCH_EPOCHS_CNN:-3}
rounds=${NNX_BENCH_ROUNDS:-1}
models=${NNX_BENCH_MODELS:-mlp cnn}
out=$root/build/bench
nnx=$root/nnx
full=${NNX_BENCH_FULL:-0}
# on PART: is the opt-in part NNX_BENCH_PART asked for (default: NNX_BENCH_FULL)?
on() { eval "v=\${NNX_BENCH_$1:-$full}"; [ "$v" != 0 ]; }
if [ -z "${NNX_BENCH_TORCH_SWEEP:-}" ]; then
    NNX_BENCH_TORCH_SWEEP=short
    [ "$full" != 0 ] && NNX_BENCH_TORCH_SWEEP=full
fi
export NNX_BENCH_TORCH_SWEEP
mkdir -p "$out"
case ${NNX_BENCH_CORETYPE:-} in
    "")   ;;
    none) unset OPENBLAS_CORETYPE ;;
    *)    export OPENBLAS_CORETYPE="$NNX_BENCH_CORETYPE" ;;
esac
export NNX_DATA="$data"

make -C "$root" --no-print-directory nnx build/rel/bench/nnx_bench >/dev/null
sgemm_bound=$root/build/rel/bench/nnx_bench

load() { cut -d' ' -f1-3 /proc/loadavg; }

. "$root/bench/quiet.sh"
# others_since MARK: others, printed
others_since() {
    others "$1"
    echo "  (other processes meanwhile: $others of $(nproc) cores)"
}

# nnx_time MODEL THREADS EPOCHS: one `nnx run`, a "key=value" line of its
# seconds per epoch (epochs 2.. of metrics.csv: minimum and median)
nnx_time() {
    dir=$out/runs/$1-j$2
    rm -rf "$dir"
    "$nnx" run "$root/bench/bench.nnx" "bench_$1" -j "$2" --set "epochs=$3" --quiet \
        --out "$dir" >/dev/null
    awk -F, -v model="$1" -v threads="$2" -v load="$(load | tr " " ,)" '
        NR == 1 { for (i = 1; i <= NF; i++) if ($i == "seconds") c = i; next }
        NR > 2 { n++; s[n] = $c }
        END {
            if (n == 0) { print "nnx_time: no timed epoch" > "/dev/stderr"; exit 1 }
            for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++)
                if (s[j] < s[i]) { t = s[i]; s[i] = s[j]; s[j] = t }
            med = n % 2 ? s[(n + 1) / 2] : (s[n / 2] + s[n / 2 + 1]) / 2
            printf "nnx model=%s threads=%d min_s_per_epoch=%.3f median_s_per_epoch=%.3f epochs=%d load=%s\n",
                   model, threads, s[1], med, n, load
        }' "$dir"/*/metrics.csv
}

: > "$out/nnx.txt"
: > "$out/torch.txt"
: > "$out/sgemm.txt"
r=1
while [ "$r" -le "$rounds" ]; do
    echo "round $r of $rounds; load average $(load) on $(nproc) cores"
    for m in $models; do
        e=$epochs_mlp
        [ "$m" = cnn ] && e=$epochs_cnn
        for j in 1 2; do
            m0=$(cpu_mark)
            nnx_time "$m" "$j" "$e" | tee -a "$out/nnx.txt" | sed 's/^/  /'
            others_since "$m0"
        done
        m0=$(cpu_mark)
        /usr/bin/python3 "$root/bench/torch_bench.py" "$data" "$m" \
            | sed "s/\$/ load=$(load | tr ' ' ,)/" | tee -a "$out/torch.txt" | sed 's/^/  /'
        others_since "$m0"
    done
    m0=$(cpu_mark)
    case $models in mlp | cnn) which=$models ;; *) which=all ;; esac
    "$sgemm_bound" "$which" | sed "s/\$/ load=$(load | tr ' ' ,)/" | tee -a "$out/sgemm.txt" \
        | sed 's/^/  /'
    others_since "$m0"
    r=$((r + 1))
done

# A 12-trial grid search (NNX_BENCH_GRID=1): two trials at once on one
# thread each (-j 2) against one trial at a time on both threads (-j 1).
# grid_time THREADS: wall seconds of the whole search
grid_time() {
    t0=$(date +%s.%N)
    "$nnx" run "$root/bench/bench.nnx" bench_grid -j "$1" --quiet --out "$out/runs/grid-j$1" \
        >/dev/null
    echo "$t0 $(date +%s.%N)" | awk '{printf "%.1f", $2 - $1}'
}
if on GRID; then
    echo
    rm -rf "$out/runs/grid-j1" "$out/runs/grid-j2"
    m0=$(cpu_mark)
    g1=$(grid_time 1)
    others_since "$m0"
    m0=$(cpu_mark)
    g2=$(grid_time 2)
    others_since "$m0"
    gx=$(echo "$g1 $g2" | awk '{printf "%.2f", $1 / $2}')
    echo "12-trial grid: -j 1 ${g1} s, -j 2 ${g2} s; -j 2 over -j 1: ${gx}x"
fi

# best FILE PATTERN [KEY]: the smallest KEY_s_per_epoch of FILE's lines
# matching PATTERN; KEY by default median, bound or best (blas: the
# products at the BLAS's own threads, the sgemm rate on two cores; seq: the
# same products in sequence, timed as whole epochs)
best() {
    grep -- "$2" "$1" | tr ' ' '\n' | sed -n "s/^\(${3:-median\|bound\|best}\)_s_per_epoch=//p" \
        | sort -g | head -1
}
# the winning line of FILE for PATTERN
winner() { grep -- "$2" "$1" | grep -- "_s_per_epoch=$3 " | head -1; }

echo
echo "CPU: $(sed -n 's/^nnx cpu="\(.*\)" blas_core=.*/\1/p' "$out/sgemm.txt" | head -1);" \
     "OpenBLAS kernels: $(sed -n 's/.*blas_core=\([^ ]*\).*/\1/p' "$out/sgemm.txt" | head -1)" \
     "(OPENBLAS_CORETYPE=${OPENBLAS_CORETYPE:-unset} for nnx, PyTorch and sgemm);" \
     "other processes used at most $worst of $(nproc) cores while a side ran"
if noisy; then
    echo "NOT CLEAN: other processes used $worst of $(nproc) cores; re-measure on a quiet machine"
fi
printf '%-5s %12s %14s %14s %14s %14s %10s %12s %12s %12s\n' model "nnx s/epoch" \
    "torch s/epoch" "sgemm s/epoch" "blas s/epoch" "seq s/epoch" "torch/nnx" "nnx/sgemm" \
    "nnx/blas" "nnx/seq"
: > "$out/table.md"
for m in $models; do
    a=$(best "$out/nnx.txt" "model=$m threads")
    b=$(best "$out/torch.txt" "model=$m best_s")
    c=$(best "$out/sgemm.txt" "model=$m threads")
    d=$(best "$out/sgemm.txt" "model=$m threads" blas)
    q=$(best "$out/sgemm.txt" "model=$m threads" seq)
    # the ratios, each once for both tables: PyTorch over nnx, nnx over each sgemm time
    rt=$(echo "$a $b" | awk '{printf "%.2f", $2 / $1}')
    rc=$(echo "$a $c" | awk '{printf "%.2f", $1 / $2}')
    rd=$(echo "$a $d" | awk '{printf "%.2f", $1 / $2}')
    rq=$(echo "$a $q" | awk '{printf "%.2f", $1 / $2}')
    printf '%-5s %12s %14s %14s %14s %14s %9sx %11sx %11sx %11sx\n' $m "$a" "$b" "$c" "$d" \
        "$q" "$rt" "$rc" "$rd" "$rq"
    nw=$(winner "$out/nnx.txt" "model=$m threads" "$a")
    tw=$(winner "$out/torch.txt" "model=$m best_s" "$b")
    echo "  nnx:   $nw"
    echo "  torch: $tw"
    echo "  sgemm: $(winner "$out/sgemm.txt" "model=$m threads" "$c")"
    j=$(echo "$nw" | sed -n 's/.* threads=\([0-9]*\).*/\1/p')
    tt=$(echo "$tw" | sed -n 's/.* threads=\([0-9]*\).*/\1/p')
    ta=$(echo "$tw" | sed -n 's/.* alloc=\([^ ]*\).*/\1/p')
    case $m in
        mlp) what="MLP 784-256-128-10, BN, swish, dropout" ;;
        cnn) what="CNN 2 × (conv, BN, swish, maxpool), dense 128" ;;
        *)   what=$m ;;
    esac
    printf '| %s | %s (`-j %s`) | %s (%s thread%s, %s) | %s | %s | %s | %sx | %sx | %sx | %sx |\n' \
        "$what" "$a" "$j" "$b" "$tt" "$([ "$tt" = 1 ] || echo s)" "$ta" "$c" "$d" "$q" \
        "$rt" "$rc" "$rd" "$rq" >> "$out/table.md"
done

# The table for README.md (build/bench/readme_table.md), printed again at
# the very end: one run, every ratio from the figures above it.
{
    echo "CPU: $(sed -n 's/^nnx cpu="\(.*\)" blas_core=.*/\1/p' "$out/sgemm.txt" | head -1)," \
         "$(nproc) cores; OpenBLAS kernels" \
         "$(sed -n 's/.* blas_core=\([^ ]*\).*/\1/p' "$out/sgemm.txt" | head -1) for nnx," \
         "PyTorch and the sgemm bound; other processes used at most $worst cores" \
         "while a side ran$(noisy && echo ' (NOT CLEAN)')"
    echo
    echo "| model | nnx s/epoch | PyTorch s/epoch (expert settings) | sgemm bound s/epoch | sgemm on 2 cores s/epoch | sgemm in sequence on 2 cores s/epoch | PyTorch / nnx | nnx / bound | nnx / sgemm on 2 cores | nnx / sgemm in sequence |"
    echo "|---|---|---|---|---|---|---|---|---|---|"
    cat "$out/table.md"
    if on GRID; then
        echo
        echo "| 12-trial grid (\`bench_grid\`) | \`-j 1\` | \`-j 2\` | \`-j 2\` over \`-j 1\` |"
        echo "|---|---|---|---|"
        echo "| wall seconds | $g1 | $g2 | ${gx}x |"
    fi
} > "$out/readme_table.md"
echo
echo "README table (this run; printed again at the end):"
echo
cat "$out/readme_table.md"

# The other two speed promises: the front end and the Lua metrics
# (NNX_BENCH_EXTRAS=1).
if on EXTRAS; then
    echo
    sh "$root/bench/check_1000.sh" "$root/nnx"
    make -C "$root" --no-print-directory build/rel/bench/lua_metric >/dev/null
    NNX_ROOT=$root "$root/build/rel/bench/lua_metric" | sed 's/^/lua metric: /'
fi

# Inference: nnx predict and model.h against PyTorch and ONNX Runtime
# (NNX_BENCH_INFER=1).
if on INFER; then
    echo
    NNX_BENCH_DATA=$data sh "$root/bench/infer.sh"
fi

# what prune = halving saves on a 27-draw search (NNX_BENCH_PRUNE=1)
if on PRUNE; then
    echo
    sh "$root/bench/prune.sh"
fi

# whether search tpe learns: against search random, five seeds (NNX_BENCH_TPE=1)
if on TPE; then
    echo
    sh "$root/bench/tpe.sh"
fi


echo
echo "README table (this run; also in $out/readme_table.md):"
echo
cat "$out/readme_table.md"
