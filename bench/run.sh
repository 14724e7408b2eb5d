#!/bin/sh
# bench/run.sh — nnx's runtime against PyTorch on the same training work
# (Fashion-MNIST, batch 128, Adam 1e-3; an MLP and a CNN): seconds per epoch
# of each, and how many times faster nnx is (with the CPU seconds each epoch
# took, which a busy machine moves far less).  Also the MLP's achieved GFLOP/s
# next to plain cblas_sgemm at the same shapes, and nnx's peak memory.  Then
# inference throughput against PyTorch and ONNX Runtime (bench/infer.sh).
#
# Environment:
#   NNX_BENCH_DATA         Fashion-MNIST directory (default /usr/share/datasets/fashion-mnist)
#   NNX_BENCH_EPOCHS       MLP epochs timed, fastest kept (default 3)
#   NNX_BENCH_CNN_BATCHES  CNN batches timed and scaled to an epoch (default 100;
#                          0 = a whole epoch, about 25 s per configuration)
#   NNX_BENCH_BUDGET       seconds after which a timed epoch stops and is scaled (default 20)
#   NNX_BENCH_ROUNDS       rounds of (nnx, then PyTorch), each side's fastest round
#                          kept (default 2: on a shared machine the load changes
#                          within minutes, and one round can catch one side in a
#                          busy spell)
#   NNX_BENCH_PRUNE        0: skip bench/prune.sh (a 27-draw search, with and without
#                          prune = halving; its own settings are in that file)
#   NNX_BENCH_CORETYPE     OpenBLAS kernels for BOTH nnx and PyTorch, exported as
#                          OPENBLAS_CORETYPE (e.g. Haswell, SkylakeX); "none"
#                          unsets it so the library picks by itself.  Default:
#                          whatever OPENBLAS_CORETYPE the environment has.
#
# Both sides always run with the same OPENBLAS_CORETYPE, so the ratio
# compares the two runtimes, not two BLAS kernels; the table says which
# kernels ran.  (PyTorch's convolutions use its own oneDNN, which picks its
# instructions by itself.)
set -e
root=$(cd "$(dirname "$0")/.." && pwd)
data=${NNX_BENCH_DATA:-/usr/share/datasets/fashion-mnist}
epochs=${NNX_BENCH_EPOCHS:-3}
cnn_batches=${NNX_BENCH_CNN_BATCHES:-100}
rounds=${NNX_BENCH_ROUNDS:-2}
out=$root/build/bench
mkdir -p "$out"
case ${NNX_BENCH_CORETYPE:-} in
    "")   ;;
    none) unset OPENBLAS_CORETYPE ;;
    *)    export OPENBLAS_CORETYPE="$NNX_BENCH_CORETYPE" ;;
esac

make -C "$root" --no-print-directory build/rel/libnnx.a nnx >/dev/null
cc -std=c11 -Wall -Wextra -Werror -D_POSIX_C_SOURCE=200809L -O2 -march=native \
    -I"$root/include" $(pkg-config --cflags openblas) \
    -o "$out/nnx_bench" "$root/bench/nnx_bench.c" "$root/build/rel/libnnx.a" \
    $(pkg-config --libs lua5.4 openblas zlib) -lm

: > "$out/nnx.txt"
: > "$out/torch.txt"
r=1
while [ "$r" -le "$rounds" ]; do
    echo "round $r of $rounds; load average $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) cores"
    echo "nnx:"
    "$out/nnx_bench" "$data" all "$epochs" "$cnn_batches" | tee -a "$out/nnx.txt" \
        | sed 's/^/  /'
    echo "PyTorch:"
    /usr/bin/python3 "$root/bench/torch_bench.py" "$data" all "$epochs" "$cnn_batches" \
        | tee -a "$out/torch.txt" | sed 's/^/  /'
    r=$((r + 1))
done

# value KEY FILE MODEL: KEY from the fastest "best" line of MODEL in FILE
# (the fastest round)
value() {
    grep "model=$3 best_s_per_epoch=" "$2" \
        | awk '{ for (i = 1; i <= NF; i++) if ($i ~ /^best_s_per_epoch=/) print substr($i, 18), $0 }' \
        | sort -g | head -1 | cut -d' ' -f2- | tr ' ' '\n' | sed -n "s/^$1=//p"
}
echo
echo "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) cores;" \
     "OpenBLAS kernels: $(sed -n 's/^nnx blas_core=//p' "$out/nnx.txt" | head -1)" \
     "(OPENBLAS_CORETYPE=${OPENBLAS_CORETYPE:-unset} for both nnx and PyTorch)"
[ "$cnn_batches" = 0 ] || echo "(CNN: $cnn_batches batches timed, scaled to a whole epoch)"
printf '%-5s %12s %12s %9s   %s\n' model "nnx s/epoch" "torch s/epoch" "speed-up" \
    "(CPU s/epoch, all threads: nnx, torch)"
for m in mlp cnn; do
    a=$(value best_s_per_epoch "$out/nnx.txt" $m)
    b=$(value best_s_per_epoch "$out/torch.txt" $m)
    ca=$(value cpu_s_per_epoch "$out/nnx.txt" $m)
    cb=$(value cpu_s_per_epoch "$out/torch.txt" $m)
    printf '%-5s %12s %12s %8sx   (%s, %s)\n' $m "$a" "$b" \
        "$(echo "$a $b" | awk '{printf "%.2f", $2 / $1}')" "$ca" "$cb"
done
# The MLP's best GEMM rate of the rounds against the best sgemm reference
# any round measured for the same number of cores (the stricter comparison).
grep 'gflops=' "$out/nnx.txt" | awk '
    { for (i = 1; i <= NF; i++) { split($i, kv, "="); f[kv[1]] = kv[2] }
      n++; g[n] = f["gflops"] + 0; s[n] = f["sgemm_gflops"] + 0; t[n] = f["threads"] }
    END {
        b = 1
        for (i = 2; i <= n; i++) if (g[i] > g[b]) b = i
        ref = 0
        for (i = 1; i <= n; i++) if (t[i] == t[b] && s[i] > ref) ref = s[i]
        printf "mlp GEMM rate: %.1f GFLOP/s on %s thread(s) = %.0f%% of plain sgemm at the same shapes on as many cores (%.1f GFLOP/s)\n", g[b], t[b], 100 * g[b] / ref, ref
    }'
grep 'peak_rss_mb=' "$out/nnx.txt" | tr ' ' '\n' | awk -F= '
    $1 == "peak_rss_mb" && $2 > m { m = $2 } END { printf "nnx peak RSS: %.1f MB\n", m }'

# The other two speed promises: the front end and the Lua metrics.
echo
sh "$root/bench/check_1000.sh" "$root/nnx"
make -C "$root" --no-print-directory build/rel/bench/lua_metric >/dev/null
NNX_ROOT=$root "$root/build/rel/bench/lua_metric" | sed 's/^/lua metric: /'

# Inference: nnx predict and model.h against PyTorch and ONNX Runtime.
echo
NNX_BENCH_DATA=$data sh "$root/bench/infer.sh"

# what prune = halving saves on a 27-draw search (NNX_BENCH_PRUNE=0 skips it)
if [ "${NNX_BENCH_PRUNE:-1}" != 0 ]; then
    echo
    sh "$root/bench/prune.sh"
fi
