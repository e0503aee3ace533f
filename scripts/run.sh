#!/usr/bin/env bash
# Build p2panda (the native workspace and the npm package in p2panda-wasm/pkg/), start the
# rendezvous server on 127.0.0.1:4040 and serve the demo page on http://127.0.0.1:8080/demo/.
#
#   ./scripts/run.sh            (PORT=… and RENDEZVOUS_ADDR=… change the addresses)
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
source scripts/setup.sh

echo
echo "==> rendezvous server (release)"
cargo build --release -p p2panda-rendezvous

echo
echo "==> browser package (p2panda-wasm/pkg)"
./scripts/build-wasm.sh

RENDEZVOUS_ADDR="${RENDEZVOUS_ADDR:-127.0.0.1:4040}"
PORT="${PORT:-8080}"
echo
echo "==> rendezvous on $RENDEZVOUS_ADDR, demo on http://127.0.0.1:$PORT/demo/"
target/release/p2panda-rendezvous --listen "$RENDEZVOUS_ADDR" &
rendezvous=$!
trap 'kill $rendezvous 2>/dev/null' EXIT
echo "Open http://127.0.0.1:$PORT/demo/ (Ctrl-C stops both)."
node scripts/serve.mjs p2panda-wasm "$PORT"
