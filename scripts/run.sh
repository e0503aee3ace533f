#!/usr/bin/env bash
# Build p2panda (the npm package in p2panda-wasm/pkg/ and the festival app in www/dist/), start
# the rendezvous server on 127.0.0.1:4040 and serve the app on http://127.0.0.1:8080/.
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

echo
echo "==> festival app (www/dist)"
./scripts/build-www.sh

RENDEZVOUS_ADDR="${RENDEZVOUS_ADDR:-127.0.0.1:4040}"
PORT="${PORT:-8080}"
echo
echo "==> rendezvous on $RENDEZVOUS_ADDR, the app on http://127.0.0.1:$PORT/"
target/release/p2panda-rendezvous --listen "$RENDEZVOUS_ADDR" &
rendezvous=$!
trap 'kill $rendezvous 2>/dev/null' EXIT
APP_URL="http://127.0.0.1:$PORT/"
# The app looks for the rendezvous on port 4040 of the host it is served from; tell it otherwise.
[[ "$RENDEZVOUS_ADDR" == "127.0.0.1:4040" ]] || APP_URL="$APP_URL?rendezvous=ws://$RENDEZVOUS_ADDR"
echo "Open $APP_URL in two browsers (or two browser profiles) and plan together."
echo "(Ctrl-C stops both.)"
node scripts/serve.mjs www/dist "$PORT"
