#!/usr/bin/env bash
# Syscalls per operation: each server (pinned to CPU 0) under
# `roomcast-bench echo -c C -w W` (CPU 1), or `connect -k K` with
# SCENARIO=connect, `fanout -n N -b B` with SCENARIO=fanout, `fanout-latency
# -n N --rate RATE` with SCENARIO=fanout-latency (SCENARIO=connect-upgrade: `connect -k K --upgrade`,
# servers with long-polling on; no ceiling), with `perf stat -e
# 'syscalls:sys_enter_*' -p PID` over the generator's measured window.
# Prints one line per server: operations/s, server CPU per operation, the
# load average, and every syscall's count divided by the operations.
#
#   C=100 W=1 bash scripts/bench-syscalls.sh [roomcast socketioxide ceiling]
#   SCENARIO=connect K=50 bash scripts/bench-syscalls.sh roomcast ceiling
#   SCENARIO=fanout N=10000 B=2 bash scripts/bench-syscalls.sh roomcast ceiling
#   SCENARIO=fanout-latency N=10000 RATE=10 bash scripts/bench-syscalls.sh roomcast ceiling
#
# Needs perf (Debian: linux-perf) and tracefs; builds nothing: run
# scripts/bench.sh (or its cargo builds) first.
set -euo pipefail
cd "$(dirname "$0")/.."
C=${C:-100}; W=${W:-1}; K=${K:-50}; N=${N:-10000}; B=${B:-2}; RATE=${RATE:-10}; D=${D:-4}; PORT=${PORT:-3800}
SCENARIO=${SCENARIO:-echo}; mode=(); ceiling_mode=()
case $SCENARIO in
  echo) load=(echo -c "$C" -w "$W") ;;
  connect) load=(connect -k "$K") ;;
  connect-upgrade) load=(connect -k "$K" --upgrade); mode=(--polling) ;;
  fanout) load=(fanout -n "$N" -b "$B"); ceiling_mode=(--mode broadcast) ;;
  fanout-latency) load=(fanout-latency -n "$N" --rate "$RATE"); ceiling_mode=(--mode broadcast) ;;
  *) echo "unknown scenario $SCENARIO" >&2; exit 1 ;;
esac
BIN=${BIN:-target/release}
OUT=$(mktemp -d)
trap 'rm -rf "$OUT"' EXIT
for server in "${@:-roomcast socketioxide ceiling}"; do
  for s in $server; do
    PORT=$((PORT + 1)); raw=()
    case $s in
      roomcast) taskset -c 0 "$BIN/bench-server" "$PORT" "${mode[@]}" >"$OUT/srv.log" 2>&1 & ;;
      socketioxide) taskset -c 0 "$BIN/socketioxide-bench-server" "$PORT" "${mode[@]}" >"$OUT/srv.log" 2>&1 & ;;
      ceiling) taskset -c 0 "$BIN/ceiling" "$PORT" "${ceiling_mode[@]}" >"$OUT/srv.log" 2>&1 & raw=(--raw) ;;
      *) echo "unknown server $s" >&2; exit 1 ;;
    esac
    pid=$!
    for _ in $(seq 50); do (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null && break; sleep 0.1; done
    sleep 0.3
    taskset -c 1 "$BIN/roomcast-bench" "${load[@]}" "${raw[@]}" --addr "127.0.0.1:$PORT" \
      --server-pid "$pid" --warmup 2 --duration "$D" --quiet --json "$OUT/$s.json" >"$OUT/gen.log" 2>&1 &
    gen=$!
    sleep 2.05
    perf stat -x, -e 'syscalls:sys_enter_*' -p "$pid" -o "$OUT/$s.perf" -- sleep "$D" 2>/dev/null
    wait "$gen"
    kill "$pid"; wait "$pid" 2>/dev/null || true
    python3 - "$s" "$D" "$OUT" <<'PY'
import json, sys
server, d, out = sys.argv[1], float(sys.argv[2]), sys.argv[3]
r = json.load(open(f"{out}/{server}.json"))
events = r["ops_per_s"] * d
rows = []
for line in open(f"{out}/{server}.perf"):
    f = line.strip().split(",")
    if len(f) > 3 and f[0].isdigit() and int(f[0]) > 0:
        rows.append((f[2].replace("syscalls:sys_enter_", ""), int(f[0])))
total = sum(c for _, c in rows)
cpu = r.get("server_cpu_us_per_op") or 0
kernel = r.get("server_sys_us_per_op") or 0
print(f"{server}: {r['ops_per_s']:.0f} ops/s, server CPU {cpu:.2f} µs/op (kernel {kernel:.2f}), load {r['load1_start']:.2f}; "
      f"syscalls per op {total / events:.3f}: "
      + ", ".join(f"{n} {c / events:.3f}" for n, c in sorted(rows, key=lambda x: -x[1])))
PY
  done
done
