#!/usr/bin/env bash
# Build the festival app (www/) into www/dist/: installs its npm packages (the p2panda package is
# linked from p2panda-wasm/pkg, so build that first with scripts/build-wasm.sh), type-checks and
# bundles it. The result is static files for any host.
#
#   ./scripts/build-www.sh
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../www"

[[ -f ../p2panda-wasm/pkg/package.json ]] ||
    { echo "build-www: p2panda-wasm/pkg is missing; run ./scripts/build-wasm.sh first" >&2; exit 1; }
if [[ ! -d node_modules || package-lock.json -nt node_modules/.package-lock.json ]]; then
    # `npm install`, not `npm ci` (see setup.sh); versions come from package-lock.json.
    npm install --no-audit --no-fund ||
        { echo "build-www: npm install failed: could not get the app's npm packages from the registry" >&2; exit 1; }
fi
npm run build
