#!/usr/bin/env bash
# Run every test: formatting, clippy, native tests (unit, property, conformance, integration),
# the core's wasm32 build, the wasm-bindgen tests of p2panda-wasm in headless Chromium, the
# Playwright tests of the browser node (persistence, WebRTC sync with pages and a native node), and
# the festival app's unit and end-to-end tests.
#
#   ./scripts/test.sh
#
# Every step runs even if an earlier one failed; the summary at the end lists them all and the
# exit status is non-zero if any failed.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
source scripts/setup.sh

WASM_TARGET=wasm32-unknown-unknown
started=$SECONDS
results=()
failed=0

# step NAME COMMAND...: run one check, time it, remember the outcome.
step() {
    local name=$1
    shift
    local t0=$SECONDS
    printf '\n\033[1m==> %s\033[0m\n$ %s\n' "$name" "$*"
    if "$@"; then
        results+=("PASS  $name ($((SECONDS - t0))s)")
    else
        results+=("FAIL  $name ($((SECONDS - t0))s)")
        failed=$((failed + 1))
    fi
}

# Tests that open WebRTC connections (native peers, and the browser tests' Chromium) run inside
# a fresh network namespace where only loopback exists, so nothing can reach or leak to the
# network. Needs root (unshare -n); otherwise they run in the normal network with a warning (the
# code pins WebRTC to loopback either way).
in_loopback_namespace() {
    if [[ $(id -u) -eq 0 ]] && unshare -n true 2>/dev/null; then
        echo "(running inside a loopback-only network namespace)"
        unshare -n sh -c 'ip link set lo up && exec "$@"' sh "$@"
    else
        echo "WARNING: cannot create a network namespace (needs root and unshare -n); running in" \
            "the normal network instead" >&2
        "$@"
    fi
}

# Build first, with network access, so the namespaced run only executes.
native_tests() {
    # Includes p2panda-s3's mailbox tests: each starts an s3s-fs server in-process on 127.0.0.1.
    cargo test --workspace --no-run || return 1
    in_loopback_namespace cargo test --offline --workspace
}

browser_tests() {
    cargo test -p p2panda-wasm --target "$WASM_TARGET" --no-run || return 1
    in_loopback_namespace cargo test --offline -p p2panda-wasm --target "$WASM_TARGET"
}

# The browser package, the rendezvous server, the native node and the S3 server (s3s-fs with
# CORS) the browser tests talk to.
build_for_browser_tests() {
    ./scripts/build-wasm.sh && cargo build -p p2panda-rendezvous -p p2panda-node --bins &&
        cargo build -p p2panda-s3 --features test-server --bins
}

# Playwright drives headless Chromium against pages served from 127.0.0.1, inside the namespace.
app_level_browser_tests() {
    in_loopback_namespace node --test --test-concurrency=1 \
        p2panda-wasm/browser-tests/persistence.test.mjs p2panda-wasm/browser-tests/identity.test.mjs \
        p2panda-wasm/browser-tests/sync.test.mjs p2panda-wasm/browser-tests/private.test.mjs \
        p2panda-wasm/browser-tests/query.test.mjs p2panda-wasm/browser-tests/s3.test.mjs
}

# The festival app: its unit tests, then its build (tsc + vite) for the end-to-end tests. Outside
# the namespace: the first `npm install` needs the registry.
www_unit_tests_and_build() {
    ./scripts/build-www.sh && (cd www && npm test)
}

# Users in separate browser contexts plan a festival through the built app and the rendezvous.
www_end_to_end_tests() {
    in_loopback_namespace sh -c 'node --test --test-concurrency=1 www/e2e/*.test.mjs'
}

# The packed package in a fresh Vite app, and its TypeScript types. Outside the namespace: the
# app's `npm install` may need the registry; its pages open no WebRTC connection.
package_tests() {
    node --test --test-concurrency=1 \
        p2panda-wasm/browser-tests/vite-app.test.mjs p2panda-wasm/browser-tests/types.test.mjs
}

step "cargo fmt --check" cargo fmt --all --check
step "clippy (workspace, native, all targets and features)" cargo clippy --workspace --all-targets --all-features -- -D warnings
step "clippy (p2panda-wasm and its mailbox module, wasm32)" cargo clippy -p p2panda-wasm -p p2panda-mailbox-wasm --no-deps --all-targets --target "$WASM_TARGET" -- -D warnings
step "native tests (unit, property, conformance, simulation, WebRTC, p2panda-node kill/restart)" native_tests
step "p2panda-core builds for wasm32" cargo build -p p2panda-core --target "$WASM_TARGET"
step "browser tests (p2panda-wasm, headless Chromium)" browser_tests
step "build the npm package, rendezvous and native node" build_for_browser_tests
step "browser node tests (Playwright: persistence, WebRTC sync, bad peers, S3 mailbox)" app_level_browser_tests
step "npm package: fresh Vite app (build and dev) and TypeScript types" package_tests
step "festival app: unit tests and build (www)" www_unit_tests_and_build
step "festival app: end to end (Playwright, three users)" www_end_to_end_tests

printf '\n\033[1m==> summary\033[0m\n'
printf '  %s\n' "${results[@]}"
total=${#results[@]}
if ((failed)); then
    printf '\033[1;31mFAILED: %d of %d checks failed (%ds)\033[0m\n' "$failed" "$total" "$((SECONDS - started))"
    exit 1
fi
printf '\033[1;32mOK: %d of %d checks passed (%ds)\033[0m\n' "$total" "$total" "$((SECONDS - started))"
