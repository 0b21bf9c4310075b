#!/usr/bin/env bash
# The one test command: installs what is missing, then runs every suite and prints
# "N passed, N failed" (suites) as its last line. Exits non-zero if any suite failed.
#
#   scripts/test.sh            everything
#   SKIP_INSTALL=1 scripts/test.sh   do not apt-get / pip install anything
#
# Suites: fmt, clippy, build, cargo tests (unit, integration, differential against
# redis-server), redis-py compatibility, redis-py and ioredis cluster clients,
# redis-cli/redis-benchmark compatibility.
set -uo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)

PASSED=0
FAILED=0
FAILED_NAMES=()
START=$(date +%s)

log() { printf '\n==== %s\n' "$*"; }

suite() {
    local name=$1
    shift
    log "$name: $*"
    local t0=$SECONDS
    if "$@"; then
        PASSED=$((PASSED + 1))
        echo "---- PASS $name ($((SECONDS - t0)) s)"
    else
        FAILED=$((FAILED + 1))
        FAILED_NAMES+=("$name")
        echo "---- FAIL $name ($((SECONDS - t0)) s)"
    fi
}

as_root() {
    if [[ $(id -u) -eq 0 ]]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else "$@"; fi
}

# ---- install what is missing ----
install_deps() {
    local need_apt=()
    command -v redis-server >/dev/null || need_apt+=(redis-server)
    { command -v redis-cli >/dev/null && command -v redis-benchmark >/dev/null; } || need_apt+=(redis-tools)
    if ! command -v python3 >/dev/null; then
        need_apt+=(python3 python3-venv)
    elif ! python3 -c 'import venv, ensurepip' 2>/dev/null; then
        need_apt+=(python3-venv)
    fi
    command -v curl >/dev/null || command -v cargo >/dev/null || need_apt+=(curl ca-certificates)
    { command -v cc >/dev/null && command -v make >/dev/null; } || need_apt+=(build-essential)
    if [[ ${#need_apt[@]} -gt 0 ]]; then
        log "apt-get install ${need_apt[*]}"
        export DEBIAN_FRONTEND=noninteractive
        as_root apt-get update -qq && as_root apt-get install -y -qq "${need_apt[@]}" >/dev/null || return 1
        # The Debian package starts a redis-server on 6379; the tests start their own.
    fi
    if ! command -v cargo >/dev/null; then
        if [[ -x $HOME/.cargo/bin/cargo ]]; then
            export PATH=$HOME/.cargo/bin:$PATH
        else
            log "installing Rust (rustup)"
            curl -sSf https://sh.rustup.rs | sh -s -- -y --profile minimal -c rustfmt -c clippy || return 1
            export PATH=$HOME/.cargo/bin:$PATH
        fi
    fi
    if ! cargo fmt --version >/dev/null 2>&1 || ! cargo clippy --version >/dev/null 2>&1; then
        rustup component add rustfmt clippy || return 1
    fi
    if [[ ! -x .venv/bin/python ]] || ! .venv/bin/python -c 'import redis, pytest' 2>/dev/null; then
        log "python venv (.venv): redis pytest"
        python3 -m venv .venv || return 1
        .venv/bin/pip install -q --disable-pip-version-check redis pytest || return 1
    fi
    # ioredis (cluster client suite): node + npm from apt, ioredis from the npm registry into
    # tests/compat/node_modules (pinned by tests/compat/package-lock.json).
    if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
        log "apt-get install nodejs npm"
        export DEBIAN_FRONTEND=noninteractive
        as_root apt-get update -qq && as_root apt-get install -y -qq nodejs npm >/dev/null || return 1
    fi
    if [[ ! -f tests/compat/node_modules/ioredis/package.json ]]; then
        log "npm ci (tests/compat): ioredis"
        (cd tests/compat && npm ci --no-audit --no-fund --loglevel=error) || return 1
    fi
    command -v redis-server >/dev/null && command -v redis-cli >/dev/null
}

if [[ ${SKIP_INSTALL:-0} != 1 ]]; then
    suite install install_deps
fi
export PATH=$HOME/.cargo/bin:$PATH

# Build jobs: all cores (the tests themselves are light).
export CARGO_TERM_COLOR=${CARGO_TERM_COLOR:-never}

suite fmt cargo fmt --all --check
suite clippy cargo clippy --workspace --all-targets -- -D warnings
suite build cargo build --release

# Unit, integration and differential tests. They run in the release profile so the
# dependencies built above are reused (one optimised build instead of two).
run_cargo_tests() {
    if cargo nextest --version >/dev/null 2>&1; then
        cargo nextest run --workspace --release --no-fail-fast --failure-output final
    else
        cargo test --workspace --release --no-fail-fast
    fi
}
suite cargo-tests run_cargo_tests

export SHOAL_SERVER=$ROOT/target/release/shoal-server
run_python() {
    [[ -x .venv/bin/python ]] || { echo ".venv missing (run without SKIP_INSTALL=1)"; return 1; }
    .venv/bin/python -m pytest -q tests/compat/test_redis_py.py
}
suite redis-py run_python
# Cluster clients against a 3-master Shoal cluster (the Rust cluster client and
# redis-benchmark --cluster run in cargo-tests: crates/server/tests/cluster_clients.rs).
run_python_cluster() {
    [[ -x .venv/bin/python ]] || { echo ".venv missing (run without SKIP_INSTALL=1)"; return 1; }
    .venv/bin/python -m pytest -q tests/compat/test_cluster_py.py
}
suite redis-py-cluster run_python_cluster
run_ioredis_cluster() {
    [[ -f tests/compat/node_modules/ioredis/package.json ]] || { echo "ioredis missing (run without SKIP_INSTALL=1)"; return 1; }
    node tests/compat/cluster_ioredis.js
}
suite ioredis-cluster run_ioredis_cluster
suite redis-cli tests/compat/redis_cli.sh "$SHOAL_SERVER"

echo
echo "==== summary ($(($(date +%s) - START)) s)"
if [[ $FAILED -gt 0 ]]; then echo "failed suites: ${FAILED_NAMES[*]}"; fi
echo "$PASSED passed, $FAILED failed"
[[ $FAILED -eq 0 ]]
