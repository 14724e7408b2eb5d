#!/bin/sh
# bench_sgemm.sh — bench/nnx_bench.c, the sgemm-bound reference of `make
# bench`, builds and gives a sane bound: positive seconds, the MLP's 57.2
# GFLOP per epoch of Fashion-MNIST (54000 + 6000 rows) and, on a small
# epoch, GFLOP/s that a CPU can reach; the time at the BLAS's own threads
# (blas_s_per_epoch) is never under the bound, and on one thread is the
# bound itself; the products in sequence on two threads take at least the
# bound; a bad argument is a usage error.
set -u
root=${NNX_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
cd "$root" || exit 2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

make --no-print-directory build/rel/bench/nnx_bench >"$tmp/make" 2>&1 ||
    { cat "$tmp/make"; fail "bench/nnx_bench.c does not build"; }
bin=build/rel/bench/nnx_bench

$bin mlp >"$tmp/out" 2>&1 || { cat "$tmp/out"; fail "nnx_bench mlp failed"; }
cat "$tmp/out"
grep -q '^nnx cpu=".*" blas_core=' "$tmp/out" || fail "no CPU model and BLAS core line"
for t in 1 2; do
    line=$(grep "^sgemm model=mlp threads=$t " "$tmp/out") || fail "no line for $t thread(s)"
    echo "$line" | awk '{ for (i = 2; i <= NF; i++) { split($i, kv, "="); f[kv[1]] = kv[2] } }
        END { b = f["bound_s_per_epoch"]; s = f["blas_s_per_epoch"]
              exit !(b > 0 && f["gflops"] > 0.1 && f["gflops"] < 10000 && s >= b &&
                     (f["threads"] > 1 || s == b)) }' ||
        fail "implausible bound: $line"
done
# the products in sequence, timed as whole epochs at the BLAS's two threads:
# never faster than the bound, and the fastest epoch no slower than the median
line=$(grep "^sgemm model=mlp threads=2 " "$tmp/out")
echo "$line" | awk '{ for (i = 2; i <= NF; i++) { split($i, kv, "="); f[kv[1]] = kv[2] } }
    END { q = f["seq_s_per_epoch"]; m = f["seq_min_s_per_epoch"]
          exit !(q != "" && m > 0 && m <= q && q >= f["bound_s_per_epoch"] &&
                 f["seq_gflops"] > 0.1) }' ||
    fail "implausible time in sequence: $line"
grep "^sgemm model=mlp threads=1 " "$tmp/out" | grep -q seq_ &&
    fail "the one-thread line has a time in sequence (only the two-thread line should)"
# 54000 training rows (422 batches of 128, 3 products a layer but for the
# first layer's input gradient) and 6000 validated (forward only): 57.2 GFLOP
grep -q "threads=1 .*gflop_per_epoch=57.2 " "$tmp/out" || fail "the MLP's epoch is not 57.2 GFLOP"

$bin mlp 0 >"$tmp/out" 2>&1
[ $? -eq 2 ] || fail "0 training rows: want exit 2"
grep -q usage "$tmp/out" || fail "0 training rows: no usage message"
$bin resnet >"$tmp/out" 2>&1
[ $? -eq 2 ] || fail "an unknown model: want exit 2"
echo "bench_sgemm: ok"
