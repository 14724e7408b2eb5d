#!/usr/bin/env python3
"""make_seeds.py — write seed inputs for the fuzz targets into DIR/TARGET/, from tests/golden, examples, tests/fixtures and small hand-made files.

usage: tests/fuzz/make_seeds.py DIR
The checked-in corpus (tests/fuzz/corpus/TARGET) is these seeds plus what
fuzzing found, minimised with libFuzzer's -merge=1 (docs/fuzzing.md).  The
weights and resume seeds come from the targets themselves
(FUZZ_WEIGHTS_SEED, FUZZ_RESUME_SEED).
"""
import gzip
import os
import re
import struct
import sys

root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
out = sys.argv[1]


def put(target, name, data):
    os.makedirs(os.path.join(out, target), exist_ok=True)
    if isinstance(data, str):
        data = data.encode()
    with open(os.path.join(out, target, name), "wb") as f:
        f.write(data)


def files(top, pattern):
    for d, _, names in os.walk(os.path.join(root, top)):
        for n in sorted(names):
            if re.search(pattern, n):
                yield os.path.join(d, n)


def rel(p):
    return os.path.relpath(p, root).replace("/", "_")


# nnx: every .nnx file, the docs' examples, one with CRLF line ends
for p in list(files("tests/golden", r"\.nnx$")) + list(files("examples", r"\.nnx$")) + \
        list(files("stdlib", r"\.nnx$")) + list(files("tests/fixtures", r"\.nnx$")):
    put("nnx", rel(p), open(p, "rb").read())
doc = open(os.path.join(root, "docs/language.md")).read()
for i, block in enumerate(re.findall(r"```nnx\n(.*?)```", doc, re.S)):
    put("nnx", "doc_%d.nnx" % i, block)
put("nnx", "crlf_quickstart.nnx", open(os.path.join(root, "examples/quickstart.nnx")).read().replace("\n", "\r\n"))

# csv: an options byte (see fuzz_csv.c), then the file
csvs = [
    (0x01, "a,label,b\n1,dog,2\n3,cat,4\n5,dog,-6e1\n"),
    (0x20, "2,1.5,2\n0,3,4\n1,5,6\n0,7,8\n"),
    (0x38, "10,0\n-1,0\n2,0\n10,0\n"),
    (0x31, "a;b;label\r\n\"1.5\";2;x\r\n3;\"4\";\"y\"\"z\"\r\n"),
    (0x05, "a\tb\tc\n1\t2\t0\n4 \t 5\t1\n"),
    (0x01, "age,sex,label\n1,2,x\n\n3,4,y,5\n"),
    (0x11, "x,y,label\n0.5,1e3,0.25\n-2,inf,1.5\n3,nan,2\n"),
    (0x41, "label,a,b\n\"multi\nline\",1,2\ncat,3,4\n"),
]
for i, (o, text) in enumerate(csvs):
    put("csv", "csv_%d" % i, bytes([o]) + text.encode())
put("csv", "metrics", b"\x21" + open(os.path.join(root, "tests/fixtures/run/metrics.csv"), "rb").read())


# idx: flags, kept classes, u16 images length, images, labels
def idx_images(n, r, c):
    return struct.pack(">IIII", 0x803, n, r, c) + bytes((i * 37) % 256 for i in range(n * r * c))


def idx_labels(labels):
    return struct.pack(">II", 0x801, len(labels)) + bytes(labels)


def idx_input(flags, keep, images, labels):
    return bytes([flags | (len(keep) << 2)] + keep) + struct.pack("<H", len(images)) + images + labels


im, lb = idx_images(6, 3, 3), idx_labels([0, 1, 2, 1, 0, 6])
put("idx", "plain", idx_input(0, [], im, lb))
put("idx", "keep", idx_input(0, [0, 6], im, lb))
put("idx", "gzip_made", idx_input(3, [], im, lb))
put("idx", "gzip_given", idx_input(0, [1], gzip.compress(im), gzip.compress(lb)))
put("idx", "mismatch", idx_input(0, [], idx_images(2, 2, 2), idx_labels([1, 2, 3])))


# rundir: "=== NAME" lines, then the file
def rundir(top, limit=12):
    parts = []
    for d, _, names in sorted(os.walk(os.path.join(root, top))):
        for n in sorted(names):
            if n == "experiment.nnx":
                continue
            p = os.path.join(d, n)
            lines = open(p).read().splitlines(True)[:limit]
            parts.append("=== %s\n%s" % (os.path.relpath(p, os.path.join(root, top)), "".join(lines)))
    return "".join(parts)


put("rundir", "run", rundir("tests/fixtures/run", 20))
put("rundir", "search", rundir("tests/fixtures/search", 6))
put("rundir", "ensemble", rundir("tests/fixtures/ensemble", 6))
put("rundir", "metrics_only", "=== metrics.csv\nepoch,lr,train.loss,valid.loss,seconds\n1,0.1,2.3,2.2,1\n2,0.1,,2.1,1\n")

# lua: the hooks files, the stdlib's modules, and a few that use the run object and a metric
for p in list(files("tests/golden", r"\.lua$")) + list(files("examples", r"\.lua$")) + list(files("stdlib", r"\.lua$")):
    put("lua", rel(p), open(p, "rb").read())
put("lua", "run_api.lua", """
local m = require "nnx.metrics"
function on_train_begin(run) run:log("x", run.lr) end
function on_epoch_begin(run) if run.epoch > 5 then run:stop("enough") end end
function on_epoch_end(run)
  run:set_lr(run.lr * 0.5)
  for k, v in pairs(run.metrics) do run:log(k .. "_2", v * 2) end
  run:log("p", run.params["optimizer.lr"])
end
function on_train_end(run) print(run.epoch, run.step, run.seed, run.params.schedule) end
function metric(y, p)
  local right = 0
  for i = 1, #y do if p:argmax(i) == y[i] then right = right + 1 end end
  local r = p:row(1)
  return right / #y + r[1] * 0 + p.classes * 0
end
""")
put("lua", "limits.lua", """
local t = {}
for i = 1, 10 do t[i] = string.rep("x", 100) end
local ok = pcall(function() while true do end end)
print(collectgarbage("count"), ok, ("a"):rep(50):find(".-.-b"))
setmetatable({}, { __index = function() return 1 end })
load("return 1")()
""")


# npy: flags (bit 0 labels follow, bit 1 real targets), u16 features length, features, labels
def npy(descr, shape, payload, fortran=False):
    head = "{'descr': '%s', 'fortran_order': %s, 'shape': %s, }" % (
        descr, "True" if fortran else "False", repr(tuple(shape)))
    head += " " * (63 - len(head) % 64) + "\n"
    return b"\x93NUMPY\x01\x00" + struct.pack("<H", len(head)) + head.encode() + payload


def npy_input(flags, x, y=b""):
    return bytes([flags]) + struct.pack("<H", len(x)) + x + y


f4 = npy("<f4", (3, 2), struct.pack("<6f", 0, 1.5, -2, 3, 4e10, -0.0))
put("npy", "f4_alone", npy_input(0, f4))
put("npy", "f4_i8", npy_input(1, f4, npy("<i8", (3,), struct.pack("<3q", 0, 2, 1))))
put("npy", "f8_real", npy_input(3, npy("<f8", (2, 2), struct.pack("<4d", 1, 2, 3, 4)),
                                 npy("<f4", (2,), struct.pack("<2f", 0.5, -1))))
put("npy", "u1_images", npy_input(1, npy("|u1", (2, 2, 3), bytes(range(12))),
                                   npy("|u1", (2,), b"\x00\x09")))
put("npy", "chw", npy_input(0, npy("<f4", (1, 2, 2, 2), struct.pack("<8f", *range(8)))))
put("npy", "big_endian", npy_input(0, npy(">f4", (2, 1), struct.pack(">2f", 1, 2))))
put("npy", "fortran", npy_input(0, npy("<f4", (2, 3), struct.pack("<6f", *range(6)), True)))
put("npy", "v2_header", npy_input(0, b"\x93NUMPY\x02\x00" + struct.pack("<I", 64) +
                                  f4[10:74] + f4[74:]))
