#!/bin/sh
# bench/run.sh — nnx's runtime against PyTorch on the same training work
# (Fashion-MNIST, batch 128, Adam 1e-3; an MLP and a CNN): seconds per epoch
# of each, and how many times faster nnx is (with the CPU seconds each epoch
# took, which a busy machine moves far less).  Also the MLP's achieved GFLOP/s
# next to plain cblas_sgemm at the same shapes, and nnx's peak memory.
#
# Environment:
#   NNX_BENCH_DATA         Fashion-MNIST directory (default /usr/share/datasets/fashion-mnist)
#   NNX_BENCH_EPOCHS       MLP epochs timed, fastest kept (default 3)
#   NNX_BENCH_CNN_BATCHES  CNN batches timed and scaled to an epoch (default 100;
#                          0 = a whole epoch, about 25 s per configuration)
#   NNX_BENCH_BUDGET       seconds after which a timed epoch stops and is scaled (default 20)
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
out=$root/build/bench
mkdir -p "$out"
case ${NNX_BENCH_CORETYPE:-} in
    "")   ;;
    none) unset OPENBLAS_CORETYPE ;;
    *)    export OPENBLAS_CORETYPE="$NNX_BENCH_CORETYPE" ;;
esac

make -C "$root" --no-print-directory build/rel/libnnx.a >/dev/null
cc -std=c11 -Wall -Wextra -Werror -D_POSIX_C_SOURCE=200809L -O2 -march=native \
    -I"$root/include" $(pkg-config --cflags openblas) \
    -o "$out/nnx_bench" "$root/bench/nnx_bench.c" "$root/build/rel/libnnx.a" \
    $(pkg-config --libs lua5.4 openblas zlib) -lm

echo "load average at the start: $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) cores"
echo "nnx:"
"$out/nnx_bench" "$data" all "$epochs" "$cnn_batches" | tee "$out/nnx.txt" | sed 's/^/  /'
echo "PyTorch:"
/usr/bin/python3 "$root/bench/torch_bench.py" "$data" all "$epochs" "$cnn_batches" \
    | tee "$out/torch.txt" | sed 's/^/  /'

# value KEY FILE MODEL: KEY from the best line of MODEL in FILE
value() {
    grep "model=$3 best_s_per_epoch=" "$2" | tr ' ' '\n' | sed -n "s/^$1=//p"
}
echo
echo "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) cores;" \
     "OpenBLAS kernels: $(sed -n 's/^nnx blas_core=//p' "$out/nnx.txt")" \
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
grep 'gflops=' "$out/nnx.txt" | tr ' ' '\n' | awk -F= '
    $1 == "gflops" { g = $2 } $1 == "sgemm_gflops" { s = $2 }
    END { printf "mlp GEMM rate: %.1f GFLOP/s = %.0f%% of plain sgemm at the same shapes on as many cores (%.1f GFLOP/s)\n", g, 100 * g / s, s }'
grep 'peak_rss_mb=' "$out/nnx.txt" | sed 's/^nnx /nnx /'
