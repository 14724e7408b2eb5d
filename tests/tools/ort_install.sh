#!/bin/sh
# ort_install.sh — ONNX Runtime for Node.js (onnxruntime-node) in a project-local
# directory, for the ONNX export tests and `make bench`.
#
# Usage: sh tests/tools/ort_install.sh DIR
# Installs Node.js and npm from Debian when `node` is missing (and npm alone
# when only it is missing; a Node.js that bundles npm needs nothing), then
# `npm install --ignore-scripts onnxruntime-node@VERSION` into DIR (a second
# call finds it there and does nothing).  The install script is skipped on
# purpose: it only fetches GPU binaries from a host outside the npm registry;
# the CPU build ships in the package itself.  Prints nothing on success.
set -u
version=1.31.1
dir=${1:?usage: ort_install.sh DIR}
root=$(cd "$(dirname "$0")/../.." && pwd)
fail() { echo "ort_install.sh: $*" >&2; exit 1; }

if ! command -v node >/dev/null 2>&1; then
    sh "$root/tests/install-deps.sh" nodejs npm || fail "Node.js is missing and could not be installed"
elif ! command -v npm >/dev/null 2>&1; then
    sh "$root/tests/install-deps.sh" npm || fail "npm is missing and could not be installed"
fi
command -v node >/dev/null 2>&1 || fail "node is still missing after installing nodejs"
command -v npm >/dev/null 2>&1 || fail "npm is still missing after installing it"

pkg="$dir/node_modules/onnxruntime-node/package.json"
if [ -f "$pkg" ] && grep -q "\"version\": \"$version\"" "$pkg" &&
    [ -f "$dir/node_modules/onnxruntime-common/package.json" ]; then
    exit 0
fi
mkdir -p "$dir" || fail "cannot create $dir"
# A package.json of its own, so npm installs here and not in a parent project.
[ -f "$dir/package.json" ] ||
    printf '{ "name": "nnx-ort", "private": true, "description": "onnxruntime-node for the nnx tests" }\n' \
        >"$dir/package.json"
npm install --prefix "$dir" --ignore-scripts --no-audit --no-fund --no-save --loglevel=error \
    "onnxruntime-node@$version" >"$dir/npm.log" 2>&1 ||
    { cat "$dir/npm.log" >&2; fail "npm install onnxruntime-node@$version failed"; }
[ -f "$pkg" ] || fail "npm install left no $pkg"
