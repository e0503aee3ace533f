#!/usr/bin/env bash
# Install whatever the build and the tests need and is missing. Idempotent: when everything is
# present it only checks and takes a second or two.
#
#   ./scripts/setup.sh            (or `source scripts/setup.sh` from another script)
#
# Installs: the wasm32-unknown-unknown Rust target, wasm-bindgen-cli at exactly the version of
# wasm-bindgen in Cargo.lock, Debian's chromium + chromium-driver (apt, needs root or sudo), and the
# npm packages of package.json when it has any.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export PATH="$HOME/.cargo/bin:$PATH"

say() { printf '\033[1m[setup]\033[0m %s\n' "$*"; }
die() {
    printf '\033[1;31m[setup] ERROR:\033[0m %s\n' "$*" >&2
    exit 1
}

# Run as root, or through sudo when we are not root.
as_root() {
    if [[ $(id -u) -eq 0 ]]; then
        "$@"
    elif command -v sudo >/dev/null; then
        sudo "$@"
    else
        return 1
    fi
}

apt_install() {
    say "installing Debian packages: $* (apt-get)"
    if [[ $(id -u) -ne 0 ]] && ! command -v sudo >/dev/null; then
        die "need root or sudo to install Debian packages: $*. Run as root: apt-get update && apt-get install -y $*"
    fi
    as_root env DEBIAN_FRONTEND=noninteractive apt-get update -q >/dev/null ||
        die "apt-get update failed; check the network/apt sources, then: apt-get install -y $*"
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$@" >/dev/null ||
        die "could not install Debian packages '$*' with apt-get. Install them by hand: apt-get install -y $*"
}

# --- 1. Debian packages: C linker, chromium + chromedriver, ip/unshare ---------------------------
missing=()
command -v cc >/dev/null || missing+=(gcc libc6-dev)
[[ -x /usr/bin/chromium ]] || missing+=(chromium)
[[ -x /usr/bin/chromedriver ]] || missing+=(chromium-driver)
command -v ip >/dev/null || missing+=(iproute2)
command -v unshare >/dev/null || missing+=(util-linux)
command -v curl >/dev/null || missing+=(curl ca-certificates)
command -v gzip >/dev/null || missing+=(gzip)
if ((${#missing[@]})); then
    apt_install "${missing[@]}"
fi
[[ -x /usr/bin/chromium && -x /usr/bin/chromedriver ]] ||
    die "chromium or chromedriver still missing after apt-get; install them: apt-get install -y chromium chromium-driver"

# --- 2. Rust toolchain -----------------------------------------------------------------------------
if ! command -v cargo >/dev/null; then
    say "Rust not found; installing it with rustup (https://sh.rustup.rs)"
    curl --proto '=https' --tlsv1.2 -sSf https://sh.rustup.rs | sh -s -- -y --profile minimal \
        --component rustfmt,clippy ||
        die "could not install Rust via rustup. Install it yourself (https://rustup.rs), then rerun."
fi
command -v rustup >/dev/null || die "rustup not found; the wasm32 target is added with rustup (https://rustup.rs)"

installed_targets="$(rustup target list --installed)"
if ! grep -qx wasm32-unknown-unknown <<<"$installed_targets"; then
    say "adding Rust target wasm32-unknown-unknown"
    rustup target add wasm32-unknown-unknown ||
        die "could not add the wasm32-unknown-unknown target: try 'rustup target add wasm32-unknown-unknown' by hand"
fi
installed_components="$(rustup component list --installed)"
for component in rustfmt clippy; do
    if ! grep -q "^$component" <<<"$installed_components"; then
        say "adding Rust component $component"
        rustup component add "$component" || die "could not add the $component component: rustup component add $component"
    fi
done

# --- 3. wasm-bindgen-cli, exactly matching the wasm-bindgen library in Cargo.lock -----------------
[[ -f "$ROOT/Cargo.lock" ]] || die "Cargo.lock is missing in $ROOT; it pins wasm-bindgen and must be committed"
WASM_BINDGEN_VERSION="$(awk '/^name = "wasm-bindgen"$/ { getline; gsub(/version = |"/, ""); print; exit }' "$ROOT/Cargo.lock")"
[[ -n "$WASM_BINDGEN_VERSION" ]] || die "could not find the wasm-bindgen package in Cargo.lock"
export WASM_BINDGEN_VERSION

have_wasm_bindgen() {
    command -v wasm-bindgen-test-runner >/dev/null &&
        [[ "$(wasm-bindgen --version 2>/dev/null)" == "wasm-bindgen $WASM_BINDGEN_VERSION" ]]
}
if ! have_wasm_bindgen; then
    say "installing wasm-bindgen-cli $WASM_BINDGEN_VERSION from crates.io (takes ~4 minutes on 2 cores)"
    log="$(mktemp /tmp/wasm-bindgen-cli-install.XXXXXX.log)"
    if ! cargo install wasm-bindgen-cli --version "$WASM_BINDGEN_VERSION" --locked >"$log" 2>&1; then
        # The lock file shipped inside wasm-bindgen-cli can name a dependency version the registry
        # no longer serves (seen: webpki-roots 1.0.11); then resolve its dependencies afresh.
        say "the --locked install failed ($(grep -m1 '^error' "$log" || echo 'see log')); retrying without --locked"
        cargo install wasm-bindgen-cli --version "$WASM_BINDGEN_VERSION" >>"$log" 2>&1 ||
            die "could not install wasm-bindgen-cli $WASM_BINDGEN_VERSION from crates.io: $(grep -m1 '^error' "$log" || tail -n 3 "$log") (full log: $log). Try: cargo install wasm-bindgen-cli --version $WASM_BINDGEN_VERSION"
    fi
    have_wasm_bindgen || die "wasm-bindgen $WASM_BINDGEN_VERSION installed but 'wasm-bindgen --version' says: $(wasm-bindgen --version 2>&1)"
fi

# --- 4. npm packages (only when package.json declares any) ----------------------------------------
package_json_has_deps() {
    [[ -f "$ROOT/package.json" ]] || return 1
    if command -v node >/dev/null; then
        node -e 'const p = require(process.argv[1]);
                 process.exit(Object.keys({ ...p.dependencies, ...p.devDependencies }).length ? 0 : 1)' \
            "$ROOT/package.json"
    else
        grep -Eq '"(dev)?[dD]ependencies"' "$ROOT/package.json"
    fi
}
if package_json_has_deps; then
    command -v npm >/dev/null || apt_install nodejs npm
    if [[ -f "$ROOT/package-lock.json" ]]; then
        if [[ ! -d "$ROOT/node_modules" || "$ROOT/package-lock.json" -nt "$ROOT/node_modules/.package-lock.json" ]]; then
            # `npm install`, not `npm ci`: with `omit-lockfile-registry-resolved` (set on these
            # machines) npm writes locks that `npm ci` then calls out of sync. The lock still pins.
            say "installing npm packages (npm install, versions from package-lock.json)"
            (cd "$ROOT" && npm install --no-audit --no-fund) || die "npm install failed: could not install the npm packages from the npm registry"
        fi
    elif [[ ! -d "$ROOT/node_modules" ]]; then
        say "installing npm packages (npm install)"
        (cd "$ROOT" && npm install --no-audit --no-fund) || die "npm install failed: could not install the npm packages from the npm registry"
    fi
fi

say "ready: $(rustc --version | cut -d' ' -f1-2), wasm-bindgen $WASM_BINDGEN_VERSION, $(/usr/bin/chromium --version 2>/dev/null | head -n1)"
