#!/usr/bin/env bash
# Build p2panda: the native workspace and the browser package (WebAssembly + JS glue in
# p2panda-wasm/pkg/), then print what was built.
#
#   ./scripts/run.sh
#
# (Later this will also serve the web app on 127.0.0.1.)
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
source scripts/setup.sh

WASM_TARGET=wasm32-unknown-unknown
PKG_DIR=p2panda-wasm/pkg

echo
echo "==> native build (cargo build --workspace --release)"
cargo build --workspace --release

echo
echo "==> wasm build (p2panda-wasm, release)"
cargo build --release --target "$WASM_TARGET" -p p2panda-wasm
rm -rf "$PKG_DIR"
wasm-bindgen --target web --out-dir "$PKG_DIR" "target/$WASM_TARGET/release/p2panda_wasm.wasm"

human() { numfmt --to=iec-i --suffix=B --format='%.1f' "$1"; }

echo
echo "==> built"
echo "native (target/release):"
for lib in target/release/libp2panda_core.rlib target/release/libp2panda_wasm.rlib; do
    [[ -f $lib ]] && printf '  %-52s %10s\n' "$lib" "$(human "$(stat -c %s "$lib")")"
done
echo "browser package ($PKG_DIR, ES module for <script type=\"module\"> / bundlers):"
for file in "$PKG_DIR"/*; do
    printf '  %-52s %10s\n' "$file" "$(human "$(stat -c %s "$file")")"
done
wasm="$PKG_DIR/p2panda_wasm_bg.wasm"
printf '  %-52s %10s\n' "$wasm (gzip -9)" "$(human "$(gzip -9 -c "$wasm" | wc -c)")"
echo
echo "p2panda $(awk -F'"' '/^version = /{print $2; exit}' Cargo.toml) built with wasm-bindgen $WASM_BINDGEN_VERSION."
echo "Import it in a page: import init, { KeyPair, version } from './$PKG_DIR/p2panda_wasm.js'; await init();"
