#!/usr/bin/env bash
# THE test command: `bash scripts/test.sh`. Sets up test deps (chromium, redis,
# npm packages), then runs the whole workspace's tests, the single-transport
# feature builds of roomcast-engineio (checking each pulls in only its own
# transport), and rustdoc with warnings denied.
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n==== %s ====\n' "$*"; }

step "setup test dependencies"
bash scripts/setup-test-deps.sh
export ROOMCAST_JS_DIR="$PWD/tests/js"

step "cargo test --workspace (unit, integration, doc tests)"
cargo test --workspace

for feat in ws polling; do
  step "cargo test -p roomcast-engineio --no-default-features --features $feat"
  cargo test -p roomcast-engineio --no-default-features --features "$feat"
done

# With only one transport enabled, the other transport crate must not be a dependency.
check_tree() { # <feature> <crate that must be absent>
  step "cargo tree -p roomcast-engineio --no-default-features --features $1: must not contain $2"
  local tree
  tree=$(cargo tree -p roomcast-engineio --no-default-features --features "$1" -e normal)
  if grep -q "$2" <<<"$tree"; then
    echo "$tree"
    echo "FAIL: roomcast-engineio with only '$1' depends on $2" >&2
    exit 1
  fi
  echo "ok"
}
check_tree ws roomcast-transport-polling
check_tree polling roomcast-transport-ws

step "cargo doc --workspace --no-deps (RUSTDOCFLAGS=-D warnings)"
RUSTDOCFLAGS="-D warnings" cargo doc --workspace --no-deps

step "all test steps passed"
