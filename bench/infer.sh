#!/bin/sh
# bench/infer.sh — inference throughput (rows/s) of one model three ways: nnx
# (`nnx predict` end to end, and nnx_model_predict alone through model.h),
# PyTorch (torch.no_grad, the same network, its fastest thread setting) and
# ONNX Runtime (onnxruntime-node on the file `nnx export` writes, its fastest
# thread setting), for the MLP of examples/fashion_mlp.nnx and the CNN of
# examples/fashion_cnn.nnx.  Each is trained for one epoch on the first 2,000
# Fashion-MNIST images (the weights' values do not change the speed); the
# input is the first 10,000 (MLP) or 2,000 (CNN) test images, as one tensor
# and in batches of 256 rows (nnx predict's own batch), the faster kept.
#
# Environment: NNX_BENCH_DATA (Fashion-MNIST directory), NNX_BENCH_SECONDS
# (seconds per timed setting, default 2).
set -e
root=$(cd "$(dirname "$0")/.." && pwd)
data=${NNX_BENCH_DATA:-/usr/share/datasets/fashion-mnist}
secs=${NNX_BENCH_SECONDS:-2}
out=$root/build/bench/infer
ort=$root/build/ort
rm -rf "$out"
mkdir -p "$out/fm"
make -C "$root" --no-print-directory nnx build/rel/bench/nnx_infer >/dev/null
sh "$root/tests/tools/ort_install.sh" "$ort"
export NNX_ORT="$ort"
# the data cache of this run alone: the files under $out are written anew
# each run, so entries for them in the user's cache would only go stale
export NNX_CACHE="$out/cache"

cut_idx() { sh "$root/tests/tools/idx_head.sh" "$1" "$2" "$3"; }
cut_idx "$data/train-images-idx3-ubyte.gz" "$out/fm/train-images-idx3-ubyte.gz" 2000
cut_idx "$data/train-labels-idx1-ubyte.gz" "$out/fm/train-labels-idx1-ubyte.gz" 2000
cp "$data/t10k-images-idx3-ubyte.gz" "$data/t10k-labels-idx1-ubyte.gz" "$out/fm/"
cut_idx "$data/t10k-images-idx3-ubyte.gz" "$out/cnn_rows.gz" 2000
cp "$data/t10k-images-idx3-ubyte.gz" "$out/mlp_rows.gz"

# best KEY FILE: the largest rows_per_s of the lines in FILE, with the line
best() { awk '{ for (i = 1; i <= NF; i++) if ($i ~ /^rows_per_s=/) print substr($i, 12), $0 }' "$1" | sort -gr | head -1; }

. "$root/bench/quiet.sh"
mark=$(cpu_mark)
for m in mlp cnn; do
    rows="$out/${m}_rows.gz"
    n=$(( $(gzip -dc "$rows" | wc -c) / 784 ))
    NNX_DATA="$out/fm" "$root/nnx" run "$root/examples/fashion_$m.nnx" --set epochs=1 \
        --set schedule.warmup=0 --quiet --out "$out/runs_$m" >"$out/$m.run" 2>&1 ||
        { cat "$out/$m.run" >&2; exit 1; }
    run=$(ls -d "$out/runs_$m"/*/)
    "$root/nnx" export "$run" -o "$out/$m.onnx" >/dev/null

    # nnx predict, the whole command: read the IDX file, predict, write the CSV (best of 3)
    : >"$out/$m.predict"
    for i in 1 2 3; do
        t0=$(date +%s.%N)
        "$root/nnx" predict "$run" "$rows" --probs -o "$out/$m.csv" -j 2 >/dev/null
        t1=$(date +%s.%N)
        echo "$t0 $t1" | awk -v n="$n" '{ printf "nnx_predict rows_per_s=%.0f\n", n / ($2 - $1) }' >>"$out/$m.predict"
    done
    "$root/build/rel/bench/nnx_infer" "$run" "$rows" "$secs" >"$out/$m.nnx"
    /usr/bin/python3 "$root/bench/torch_infer.py" "$rows" "$m" "$n" "$secs" >"$out/$m.torch"
    : >"$out/$m.ort"
    for t in 1 2; do
        for b in 0 256; do
            node "$root/tests/tools/ort_run.js" "$out/$m.onnx" "$rows" --bench "$secs" --threads $t \
                --batch $b >>"$out/$m.ort"
        done
    done
    for f in predict nnx torch ort; do sed "s/^/  $m: /" "$out/$m.$f"; done
done

others "$mark"
echo
echo "inference, rows/s (the best setting of each; $(verdict "$others") over the whole run)"
printf '%-5s %6s %12s %12s %12s %12s %10s %10s\n' model rows "nnx predict" "nnx model.h" PyTorch \
    "ONNX Runtime" "vs torch" "vs ORT"
for m in mlp cnn; do
    n=$(( $(gzip -dc "$out/${m}_rows.gz" | wc -c) / 784 ))
    p=$(best "$out/$m.predict" | cut -d' ' -f1)
    a=$(best "$out/$m.nnx" | cut -d' ' -f1)
    b=$(best "$out/$m.torch" | cut -d' ' -f1)
    c=$(best "$out/$m.ort" | cut -d' ' -f1)
    printf '%-5s %6s %12s %12s %12s %12s %9sx %9sx\n' $m "$n" "$p" "$a" "$b" "$c" \
        "$(echo "$a $b" | awk '{ printf "%.2f", $1 / $2 }')" "$(echo "$a $c" | awk '{ printf "%.2f", $1 / $2 }')"
done
echo "(vs torch, vs ORT: nnx model.h's rows/s over theirs; the settings that won:"
for m in mlp cnn; do
    echo "  $m: nnx $(best "$out/$m.nnx" | cut -d' ' -f3), torch $(best "$out/$m.torch" | cut -d' ' -f4-5)," \
         "ORT $(best "$out/$m.ort" | cut -d' ' -f5-6))"
done
