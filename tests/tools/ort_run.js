// ort_run.js — run an ONNX model in ONNX Runtime (onnxruntime-node) on rows
// from a file and print its output, one CSV line per row.
//
//   node ort_run.js MODEL.onnx ROWS [--bench SECONDS [--batch B]] [--threads N]
//   node ort_run.js MODEL.onnx --meta
//
// ROWS is a CSV file of numbers (one row per line, an optional header of
// names is skipped), an IDX image file (gzip or plain; pixels as byte / 255,
// as nnx reads them) or, named *.f32, raw little-endian float32 values, row
// after row.  The row length is the model input's size (its dims after the
// batch dimension), and a batch of all the rows is run at once.
// --meta prints the model's input and output names and shapes as JSON
// instead.  --bench runs the rows again and again for about SECONDS (as one
// batch, or in batches of B rows with --batch B) and prints
// "rows_per_s=R runs=K rows=N threads=T batch=B".
// onnxruntime-node is loaded from $NNX_ORT/node_modules (default: build/ort
// beside this repository's tests/), installed by tests/tools/ort_install.sh.
'use strict';
const fs = require('fs');
const path = require('path');
const zlib = require('zlib');

const args = process.argv.slice(2);
const opt = { meta: false, bench: 0, threads: 0, batch: 0 };
const files = [];
for (let i = 0; i < args.length; i++) {
    if (args[i] === '--meta') opt.meta = true;
    else if (args[i] === '--bench') opt.bench = Number(args[++i]);
    else if (args[i] === '--threads') opt.threads = Number(args[++i]);
    else if (args[i] === '--batch') opt.batch = Number(args[++i]);
    else files.push(args[i]);
}
if (files.length !== (opt.meta ? 1 : 2)) {
    process.stderr.write('usage: node ort_run.js MODEL.onnx ROWS [--bench S [--batch B]] [--threads N] | MODEL.onnx --meta\n');
    process.exit(2);
}
const ortDir = process.env.NNX_ORT || path.join(__dirname, '..', '..', 'build', 'ort');
const ort = require(path.join(ortDir, 'node_modules', 'onnxruntime-node'));

function readIdx(buf, file, rowLen) {
    if (buf[0] === 0x1f && buf[1] === 0x8b) buf = zlib.gunzipSync(buf);
    if (buf.length < 4 || buf[0] !== 0 || buf[1] !== 0 || buf[2] !== 8)
        throw new Error(`${file}: not an IDX file of bytes`);
    const ndim = buf[3], start = 4 + 4 * ndim;
    let n = buf.readUInt32BE(4), size = 1;
    for (let i = 1; i < ndim; i++) size *= buf.readUInt32BE(4 + 4 * i);
    if (size !== rowLen) throw new Error(`${file}: items of ${size} values, the model takes ${rowLen}`);
    const v = new Float32Array(n * size);
    for (let i = 0; i < v.length; i++) v[i] = buf[start + i] / 255;
    return v;
}

function readRows(file, rowLen) {
    const head = fs.readFileSync(file).subarray(0, 4);
    if ((head[0] === 0x1f && head[1] === 0x8b) || (head[0] === 0 && head[1] === 0 && head[2] === 8))
        return readIdx(fs.readFileSync(file), file, rowLen);
    if (file.endsWith('.f32')) {
        const buf = fs.readFileSync(file);
        if (buf.length % (4 * rowLen) !== 0)
            throw new Error(`${file}: ${buf.length} bytes is not a whole number of rows of ${rowLen} floats`);
        const v = new Float32Array(buf.length / 4);
        for (let i = 0; i < v.length; i++) v[i] = buf.readFloatLE(4 * i);
        return v;
    }
    const lines = fs.readFileSync(file, 'utf8').split('\n').filter((l) => l.trim() !== '');
    const out = [];
    lines.forEach((line, i) => {
        const cells = line.split(',');
        if (i === 0 && cells.some((c) => Number.isNaN(Number(c)))) return;   // a header
        if (cells.length !== rowLen)
            throw new Error(`${file}:${i + 1}: ${cells.length} values, the model takes ${rowLen}`);
        for (const c of cells) out.push(Number(c));
    });
    return Float32Array.from(out);
}

async function main() {
    const so = { graphOptimizationLevel: 'all' };
    if (opt.threads > 0) { so.intraOpNumThreads = opt.threads; so.interOpNumThreads = 1; }
    const session = await ort.InferenceSession.create(files[0], so);
    if (opt.meta) {
        // The metadata props, as onnxruntime-node hands them over.
        process.stdout.write(JSON.stringify({
            inputs: session.inputNames, outputs: session.outputNames,
            inputMetadata: session.inputMetadata, outputMetadata: session.outputMetadata,
        }) + '\n');
        return;
    }
    const inName = session.inputNames[0];
    const meta = session.inputMetadata ? session.inputMetadata[0] : undefined;
    let dims = meta && meta.shape ? meta.shape.slice(1) : null;
    if (!dims || dims.some((d) => typeof d !== 'number'))
        throw new Error('the model input has no fixed row shape');
    const rowLen = dims.reduce((a, b) => a * b, 1);
    const x = readRows(files[1], rowLen);
    const n = x.length / rowLen;
    const feeds = { [inName]: new ort.Tensor('float32', x, [n, ...dims]) };
    if (opt.bench > 0) {
        const b = opt.batch > 0 ? opt.batch : n;
        const parts = [];
        for (let i = 0; i < n; i += b) {
            const m = Math.min(b, n - i);
            parts.push({ [inName]: new ort.Tensor('float32', x.subarray(i * rowLen, (i + m) * rowLen), [m, ...dims]) });
        }
        const all = async () => { for (const p of parts) await session.run(p); };
        await all();   // warm up
        let runs = 0;
        const t0 = process.hrtime.bigint();
        let t = 0;
        do {
            await all();
            runs++;
            t = Number(process.hrtime.bigint() - t0) / 1e9;
        } while (t < opt.bench);
        process.stdout.write(`rows_per_s=${(runs * n / t).toFixed(0)} runs=${runs} rows=${n} ` +
                             `threads=${opt.threads || 'default'} batch=${opt.batch > 0 ? b : 'all'}\n`);
        return;
    }
    const res = await session.run(feeds);
    const y = res[session.outputNames[0]];
    const k = y.data.length / n;
    const lines = [];
    for (let r = 0; r < n; r++) {
        const row = [];
        for (let j = 0; j < k; j++) row.push(y.data[r * k + j].toPrecision(9));
        lines.push(row.join(','));
    }
    process.stdout.write(lines.join('\n') + '\n');
}
main().catch((e) => { process.stderr.write(`ort_run.js: ${e.message}\n`); process.exit(1); });
