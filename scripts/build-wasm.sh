#!/usr/bin/env bash
# Build the npm package of p2panda into p2panda-wasm/pkg/: the WebAssembly module (size-optimized
# with binaryen's wasm-opt from node_modules), its wasm-bindgen JS glue, and the hand-written
# entry point, worker and TypeScript types from p2panda-wasm/js/. Expects scripts/setup.sh to
# have run (wasm-bindgen-cli and npm packages present).
#
#   ./scripts/build-wasm.sh            then: (cd p2panda-wasm/pkg && npm pack)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

PKG=p2panda-wasm/pkg
WASM=target/wasm32-unknown-unknown/wasm-release/p2panda_wasm.wasm

MAILBOX_WASM=target/wasm32-unknown-unknown/wasm-release/p2panda_mailbox_wasm.wasm

# The node's module, and the S3 mailbox module that `node.mailbox()` loads only when an app uses it.
# Panic messages without file/line/column (-Zlocation-detail=none): ~5 KB less gzipped, which
# keeps the node's package within its 250 KiB budget with the mailbox calls in it. The flag is
# unstable, hence RUSTC_BOOTSTRAP for this one build; it changes only what a panic would print
# (and nothing panics across the JS boundary: errors are typed).
RUSTC_BOOTSTRAP=1 RUSTFLAGS="${RUSTFLAGS:-} -Zlocation-detail=none" \
    cargo build --profile wasm-release --target wasm32-unknown-unknown -p p2panda-wasm -p p2panda-mailbox-wasm
rm -rf "$PKG"
wasm-bindgen --target web --out-dir "$PKG" "$WASM"
wasm-bindgen --target web --out-dir "$PKG" --out-name p2panda_mailbox "$MAILBOX_WASM"
# Debian's binaryen is too old for wasm-bindgen's output (TOOLING.md); the npm one works.
# Measured on the gzipped package: merging functions that differ only in constants (generic
# code instantiated for many types) first saves ~5 KB, `--converge` (repeat -Oz while it still
# shrinks) ~2.5 KB; the strip flags drop sections no runtime reads. `--low-memory-unused` lets it
# fold small constant addresses into loads and stores (~1.3 KB): Rust's data and stack start far
# above the first 1 KiB, which only a null pointer would touch.
for module in p2panda_wasm p2panda_mailbox; do
    ./node_modules/.bin/wasm-opt --merge-similar-functions -Oz --low-memory-unused --converge \
        --strip-debug --strip-producers --strip-target-features \
        --enable-bulk-memory --enable-nontrapping-float-to-int \
        --enable-sign-ext --enable-mutable-globals --enable-reference-types \
        "$PKG/${module}_bg.wasm" -o "$PKG/${module}_bg.wasm"
done
cp p2panda-wasm/js/index.js p2panda-wasm/js/worker.js p2panda-wasm/js/index.d.ts \
    p2panda-wasm/js/mailbox.js p2panda-wasm/js/s3.js "$PKG/"
# Minify the JS (the glue, entry point and worker; exports and the `new URL(..., import.meta.url)`
# patterns bundlers look for stay as they are): ~5 KB less gzipped. The .d.ts files carry the docs.
# esbuild is a devDependency of the workspace (scripts/setup.sh installs it).
./node_modules/.bin/esbuild --minify --format=esm --log-level=warning --allow-overwrite \
    "$PKG/p2panda_wasm.js" "$PKG/index.js" "$PKG/worker.js" \
    "$PKG/p2panda_mailbox.js" "$PKG/mailbox.js" "$PKG/s3.js" --outdir="$PKG"
VERSION="$(awk -F'"' '/^version = /{print $2; exit}' Cargo.toml)"
cat >"$PKG/package.json" <<JSON
{
  "name": "p2panda",
  "version": "$VERSION",
  "description": "Serverless peer-to-peer festival planning in the browser: a Rust core in WebAssembly, WebRTC gossip, IndexedDB.",
  "license": "AGPL-3.0-or-later",
  "type": "module",
  "main": "index.js",
  "module": "index.js",
  "types": "index.d.ts",
  "exports": { ".": { "types": "./index.d.ts", "default": "./index.js" }, "./p2panda_wasm.js": { "types": "./p2panda_wasm.d.ts", "default": "./p2panda_wasm.js" }, "./worker.js": "./worker.js" },
  "files": ["index.js", "index.d.ts", "worker.js", "p2panda_wasm.js", "p2panda_wasm.d.ts", "p2panda_wasm_bg.wasm", "p2panda_wasm_bg.wasm.d.ts", "mailbox.js", "s3.js", "p2panda_mailbox.js", "p2panda_mailbox.d.ts", "p2panda_mailbox_bg.wasm", "p2panda_mailbox_bg.wasm.d.ts"],
  "sideEffects": ["./worker.js"]
}
JSON
echo "built $PKG: wasm $(stat -c %s "$PKG/p2panda_wasm_bg.wasm") bytes," \
    "gzipped wasm + glue $(cat "$PKG/p2panda_wasm_bg.wasm" "$PKG/p2panda_wasm.js" "$PKG/index.js" "$PKG/worker.js" | gzip -9 | wc -c) bytes"
echo "  mailbox module (loaded only by node.mailbox()): gzipped $(cat "$PKG/p2panda_mailbox_bg.wasm" "$PKG/p2panda_mailbox.js" "$PKG/mailbox.js" "$PKG/s3.js" | gzip -9 | wc -c) bytes"
