#!/usr/bin/env bash
# Installs/starts what the test suite needs beyond cargo: Debian chromium,
# a local Redis, and the pinned npm packages in tests/js and examples/chapter.
# Idempotent: when everything is already present it does nothing (~1s).
set -euo pipefail
cd "$(dirname "$0")/.."

# Debian packages; the package lists are updated once, before the first.
apt_updated=
apt_install() {
  echo "setup-test-deps: installing $1 (apt)"
  if [ -z "$apt_updated" ]; then
    apt-get update -qq
    apt_updated=1
  fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$1"
}

# Headless browser for the Playwright interop tests.
if [ ! -x /usr/bin/chromium ]; then
  apt_install chromium
fi

# Redis for the cluster tests (the tests start their own redis-server
# processes too), running on 127.0.0.1:6379.
if ! command -v redis-server >/dev/null 2>&1; then
  apt_install redis-server
fi
if ! redis-cli -h 127.0.0.1 ping >/dev/null 2>&1; then
  echo "setup-test-deps: starting redis-server"
  redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no
  for _ in $(seq 50); do
    redis-cli -h 127.0.0.1 ping >/dev/null 2>&1 && break
    sleep 0.1
  done
fi

# npm dependencies, reinstalled only when the lockfile is newer than node_modules.
for dir in tests/js examples/chapter; do
  marker="$dir/node_modules/.package-lock.json"
  if [ ! -f "$marker" ] || [ "$dir/package-lock.json" -nt "$marker" ]; then
    echo "setup-test-deps: npm ci in $dir"
    (cd "$dir" && npm ci --no-audit --no-fund)
  fi
done
