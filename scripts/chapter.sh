#!/usr/bin/env bash
# Runs the chapter example (http://localhost:8000, PORT to change it).
# Installs the socket.io-client browser bundle from the committed lockfile
# when npm is available; without it the page loads the client from the CDN.
set -euo pipefail
cd "$(dirname "$0")/.."
if command -v npm >/dev/null 2>&1; then
  if [ ! -d examples/chapter/node_modules ] || [ examples/chapter/package-lock.json -nt examples/chapter/node_modules ]; then
    (cd examples/chapter && npm ci --no-audit --no-fund --silent)
  fi
else
  echo "npm not found: the page will load socket.io-client from the CDN" >&2
fi
exec cargo run --release -q -p roomcast-examples --bin chapter
