#!/bin/sh
# bench/run.sh — nnx's runtime against PyTorch on the same training work
# (Fashion-MNIST, batch 128, Adam 1e-3; an MLP and a CNN): seconds per epoch
# of each, and how many times faster nnx is.  Also the MLP's achieved GFLOP/s
# next to plain cblas_sgemm at the same shapes, and nnx's peak memory.
#
# Environment:
#   NNX_BENCH_DATA         Fashion-MNIST directory (default /usr/share/datasets/fashion-mnist)
#   NNX_BENCH_EPOCHS       MLP epochs timed, fastest kept (default 3)
#   NNX_BENCH_CNN_BATCHES  CNN batches timed and scaled to an epoch (default 100;
#                          0 = a whole epoch, about 25 s per configuration)
#   NNX_BENCH_BUDGET       seconds after which a timed epoch stops and is scaled (default 20)
set -e
root=$(cd "$(dirname "$0")/.." && pwd)
data=${NNX_BENCH_DATA:-/usr/share/datasets/fashion-mnist}
epochs=${NNX_BENCH_EPOCHS:-3}
cnn_batches=${NNX_BENCH_CNN_BATCHES:-100}
out=$root/build/bench
mkdir -p "$out"

make -C "$root" --no-print-directory build/rel/libnnx.a >/dev/null
cc -std=c11 -Wall -Wextra -Werror -D_POSIX_C_SOURCE=200809L -O2 -march=native \
    -I"$root/include" $(pkg-config --cflags openblas) \
    -o "$out/nnx_bench" "$root/bench/nnx_bench.c" "$root/build/rel/libnnx.a" \
    $(pkg-config --libs lua5.4 openblas zlib) -lm

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
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) cores"
[ "$cnn_batches" = 0 ] || echo "(CNN: $cnn_batches batches timed, scaled to a whole epoch)"
printf '%-5s %12s %12s %9s\n' model "nnx s/epoch" "torch s/epoch" "speed-up"
for m in mlp cnn; do
    a=$(value best_s_per_epoch "$out/nnx.txt" $m)
    b=$(value best_s_per_epoch "$out/torch.txt" $m)
    printf '%-5s %12s %12s %8sx\n' $m "$a" "$b" "$(echo "$a $b" | awk '{printf "%.2f", $2 / $1}')"
done
grep 'gflops=' "$out/nnx.txt" | sed 's/^nnx model=mlp /mlp GEMM rate: /'
grep 'peak_rss_mb=' "$out/nnx.txt" | sed 's/^nnx /nnx /'
