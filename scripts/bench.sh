#!/usr/bin/env bash
# Load benchmarks: the roomcast bench server, the socketioxide 0.18 server
# (bench/socketioxide), the Node socket.io 4.8 server (bench/node) and a bare
# WebSocket "ceiling" (bench/src/bin/ceiling.rs), each driven by
# roomcast-bench; writes BENCHMARKS.md from the JSON results.
#
# bench/socketioxide is a package outside the workspace (its own Cargo.lock),
# built here into the workspace's target/ so `cargo test` never builds it.
#
#   bash scripts/bench.sh
#
# Every server runs pinned to CPU 0, the generator to CPU 1 (taskset), a
# fresh server process per scenario run. The generator reads the server's
# CPU time (/proc/PID/stat) and RSS itself over its measured window.
#
# cluster-fanout runs two servers of the same kind (both on CPU 0) joined
# through a redis-server of the script's own (on CPU 1 beside the
# generator; needs redis-server installed): 500 subscribers on each, the
# trigger on the first.
#
# Environment (defaults in brackets):
#   RUNS [3]           runs of every scenario against every server (medians)
#   DURATION [10]      seconds of each measured window; WARMUP [2] before it
#   SERVERS            [roomcast socketioxide node ceiling]
#   SCENARIOS          [echo echo-w1 fanout-1k fanout-10k fanout-latency fanout-scale
#                       connect connect-upgrade idle polling reconnect-storm recovery
#                       cluster-fanout]
#   QUIET_LOAD [0.7]   wait for a 1-minute load average below this first...
#   WAIT_QUIET [1200]  ...polling every 30 s for at most this many seconds
#                      (then run anyway and say so in the report)
#   OUT                results directory [target/bench/<UTC time>]
#   REPORT             [BENCHMARKS.md]; REPORT= (empty) writes no report
#   PORT [3900]        first port; each server start takes the next one
#   IDLE_CLIENTS [10000]  the sizes of idle, a list: "1000 10000 19000" runs
#                      it once per size (results idle-c<N>-*.json; the
#                      default size keeps the name idle-*.json)
#   FANOUT_CLIENTS ["1000 10000"]  the sizes of fanout-scale (`fanout -n N
#                      -b 1`: single-event batches to N subscribers), one run
#                      per size (results fanout-scale-c<N>-*.json); with the
#                      idle sizes, the report's Scale table
#   SOURCES [4]        loopback source addresses (127.0.0.2, ...) the clients
#                      of idle and fanout-scale connect from: one address has
#                      about 28,000 ports towards the server (100k clients
#                      need 4); reconnect-storm uses 16 unless STORM_FLAGS
#                      says --sources
#   STORM_CLIENTS [10000, or fewer: see below]  clients of reconnect-storm;
#                      STORM_FLAGS [] more options for it (--ws-only:
#                      reconnect over WebSocket only; --sources N: loopback
#                      source addresses, default 16)
#   RECOVERY_CLIENTS [10000] subscribers of recovery; RECOVERY_CHURN [0.05]
#                      the fraction cut every second; RECOVERY_RATE [20]
#                      broadcasts per second. roomcast only, run twice:
#                      with connection state recovery on and off
set -euo pipefail
cd "$(dirname "$0")/.."

RUNS=${RUNS:-3}
DURATION=${DURATION:-10}
WARMUP=${WARMUP:-2}
SERVERS=${SERVERS:-"roomcast socketioxide node ceiling"}
SCENARIOS=${SCENARIOS:-"echo echo-w1 fanout-1k fanout-10k fanout-latency fanout-scale connect connect-upgrade idle polling reconnect-storm recovery cluster-fanout"}
QUIET_LOAD=${QUIET_LOAD:-0.7}
WAIT_QUIET=${WAIT_QUIET:-1200}
OUT=${OUT:-target/bench/$(date -u +%Y%m%dT%H%M%SZ)}
REPORT=${REPORT-BENCHMARKS.md}
PORT=${PORT:-3900}
IDLE_CLIENTS=${IDLE_CLIENTS:-10000}
FANOUT_CLIENTS=${FANOUT_CLIENTS:-"1000 10000"}
SOURCES=${SOURCES:-4}
STORM_CLIENTS=${STORM_CLIENTS:-}
RECOVERY_CLIENTS=${RECOVERY_CLIENTS:-10000}
RECOVERY_CHURN=${RECOVERY_CHURN:-0.05}
RECOVERY_RATE=${RECOVERY_RATE:-20}
BIN=target/release

# 10k connections in each process, 100k where the hard limit allows.
ulimit -n 1048576 2>/dev/null || ulimit -n "$(ulimit -Hn)"
if [ "$(ulimit -n)" -lt 10100 ]; then
  echo "bench: open-file limit $(ulimit -n) is below 10100; the 10k scenarios will fail" >&2
fi
for n in $IDLE_CLIENTS $FANOUT_CLIENTS; do
  if [ $((n + 64)) -gt "$(ulimit -n)" ]; then
    echo "bench: $n clients need more descriptors than the open-file limit $(ulimit -n) (hard limit $(ulimit -Hn); above it only a process with CAP_SYS_RESOURCE may go)" >&2
  fi
done

# reconnect-storm along the default client's path: a client holds its
# polling connection beside its WebSocket while it upgrades, so the
# generator and the server may each hold two descriptors per client at
# once, plus their own (64 at most). Unless STORM_CLIENTS is set, the storm
# runs 10,000 clients or as many as the open-file limit allows, and says so.
storm_per_client=2
case " ${STORM_FLAGS:-} " in *" --ws-only "*) storm_per_client=1 ;; esac
storm_max=$(( ($(ulimit -n) - 64) / storm_per_client ))
if [ -z "$STORM_CLIENTS" ]; then
  STORM_CLIENTS=$(( storm_max < 10000 ? storm_max : 10000 ))
  if [ "$STORM_CLIENTS" -lt 10000 ] && [[ " $SCENARIOS " == *" reconnect-storm "* ]]; then
    echo "bench: reconnect-storm with $STORM_CLIENTS clients, not 10000: the open-file limit $(ulimit -n) allows $storm_per_client descriptors per client (+64) at most in each process" >&2
  fi
elif [ "$STORM_CLIENTS" -gt "$storm_max" ]; then
  echo "bench: STORM_CLIENTS=$STORM_CLIENTS may need more descriptors than the open-file limit $(ulimit -n) allows (EMFILE: the generator counts its own apart)" >&2
fi

if ! command -v taskset >/dev/null 2>&1; then
  echo "bench: installing util-linux for taskset" >&2
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq util-linux
fi
if [ "$(nproc)" -lt 2 ]; then
  echo "bench: needs 2 CPUs (server on 0, generator on 1)" >&2
  exit 1
fi

case " $SERVERS " in
  *" node "*)
    if ! command -v node >/dev/null 2>&1; then
      echo "bench: node not found; install Node.js or set SERVERS" >&2
      exit 1
    fi
    marker=bench/node/node_modules/.package-lock.json
    if [ ! -f "$marker" ] || [ bench/node/package-lock.json -nt "$marker" ]; then
      (cd bench/node && npm ci --no-audit --no-fund --silent)
    fi
    ;;
esac

echo "bench: building (release)" >&2
cargo build --release -q -p roomcast-bench --bins
cargo build --release -q -p roomcast-examples --bin bench-server
case " $SERVERS " in
  *" socketioxide "*)
    cargo build --release -q --locked --manifest-path bench/socketioxide/Cargo.toml \
      --target-dir target ;;
esac
REVISION="commit $(git rev-parse --short HEAD 2>/dev/null || echo unknown)"
if ! git diff --quiet HEAD -- . ':!BENCHMARKS.md' 2>/dev/null; then
  REVISION="$REVISION with uncommitted changes"
fi

# Wait for a quiet machine.
start_wait=$(date +%s)
load=$(cut -d' ' -f1 /proc/loadavg)
while awk -v l="$load" -v q="$QUIET_LOAD" 'BEGIN { exit !(l >= q) }'; do
  waited=$(( $(date +%s) - start_wait ))
  if [ "$waited" -ge "$WAIT_QUIET" ]; then
    break
  fi
  echo "bench: 1-minute load $load >= $QUIET_LOAD; waiting (${waited}s of ${WAIT_QUIET}s)" >&2
  sleep 30
  load=$(cut -d' ' -f1 /proc/loadavg)
done
waited=$(( $(date +%s) - start_wait ))
if awk -v l="$load" -v q="$QUIET_LOAD" 'BEGIN { exit !(l >= q) }'; then
  NOTE="the machine never got quiet: 1-minute load average $load (>= $QUIET_LOAD) when the run started after waiting ${waited} s; other processes competed for the CPUs, so the figures are less trustworthy (see the other-CPU column)."
else
  NOTE="1-minute load average $load when the run started (waited ${waited} s for it to fall below $QUIET_LOAD)."
fi
NOTE="built from $REVISION; $NOTE"
echo "bench: $NOTE" >&2

mkdir -p "$OUT/logs"
SERVER_PID=

# Starts a server on the next port, SERVER_PID its pid; fails (the server
# stopped) when it does not accept connections within 10 s.
start_server() { # name, mode (ws|polling|recovery|broadcast); env passes through
  local name=$1 mode=$2 server flags=()
  PORT=$((PORT + 1))
  local log="$OUT/logs/server-$name-$PORT.log"
  case $name in
    roomcast)     server=("$BIN/bench-server") ;;
    socketioxide) server=("$BIN/socketioxide-bench-server") ;;
    node)         server=(node bench/node/server.js) ;;
    ceiling)      server=("$BIN/ceiling") ;;
    *) echo "bench: unknown server $name" >&2; return 1 ;;
  esac
  case $name:$mode in
    roomcast:polling | socketioxide:polling | node:polling) flags=(--polling) ;;
    roomcast:recovery) flags=(--recovery) ;;
    ceiling:broadcast) flags=(--mode broadcast) ;;
  esac
  taskset -c 0 "${server[@]}" "$PORT" "${flags[@]}" >"$log" 2>&1 &
  SERVER_PID=$!
  if [ -n "${STORM_PID_FILE:-}" ]; then
    echo "$SERVER_PID" >"$STORM_PID_FILE"
  fi
  for _ in $(seq 100); do
    if (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null; then
      sleep 0.5 # let the accept of that probe be forgotten
      return 0
    fi
    sleep 0.1
  done
  echo "bench: $name did not start on port $PORT (log: $log)" >&2
  cat "$log" >&2
  stop_server
  return 1
}

stop_server() {
  if [ -n "$SERVER_PID" ]; then
    kill "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
    SERVER_PID=
  fi
}
CLUSTER_PIDS=()
stop_cluster() {
  for pid in "${CLUSTER_PIDS[@]}"; do
    kill "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  CLUSTER_PIDS=()
}
trap 'stop_server; stop_cluster' EXIT

# How a generator run ended: the summary lines of its log (those matching
# the pattern) when it succeeded, else the end of the log.
show_result() { # exit status, log, summary pattern
  local status=$1 log=$2 pattern=$3
  if [ "$status" -eq 0 ]; then
    grep -E "$pattern" "$log" | grep -v '^\[' | sed 's/^/    /' >&2 || true
  else
    echo "bench: FAILED (log: $log)" >&2
    tail -5 "$log" >&2
  fi
}

# One generator run on CPU 1: its JSON in $OUT/NAME.json, its output in
# $OUT/logs/NAME.log, then show_result.
generate() { # name, summary pattern, generator arguments...
  local name=$1 pattern=$2 status=0
  shift 2
  local log="$OUT/logs/$name.log"
  taskset -c 1 "$BIN/roomcast-bench" "$@" --json "$OUT/$name.json" >"$log" 2>&1 || status=$?
  show_result "$status" "$log" "$pattern"
}

# cluster-fanout: a redis-server, two servers on it, the generator.
run_cluster() { # server, run
  local server=$1 run=$2 redis_port a_pid a_port b_pid b_port
  if [ "$server" = ceiling ] || [ "$server" = socketioxide ]; then
    return 0 # no cluster without a protocol; the socketioxide server has no Redis adapter
  fi
  if ! command -v redis-server >/dev/null 2>&1; then
    echo "bench: cluster-fanout needs redis-server (scripts/setup-test-deps.sh installs it)" >&2
    return 0
  fi
  PORT=$((PORT + 1)); redis_port=$PORT
  taskset -c 1 redis-server --port "$redis_port" --bind 127.0.0.1 --save "" --appendonly no \
    >"$OUT/logs/redis-$redis_port.log" 2>&1 &
  CLUSTER_PIDS+=($!)
  local redis_pid=$!
  for _ in $(seq 50); do
    redis-cli -p "$redis_port" ping >/dev/null 2>&1 && break
    sleep 0.1
  done
  export REDIS_URL="redis://127.0.0.1:$redis_port" KEY="bench"
  if start_server "$server" ws; then
    a_pid=$SERVER_PID; a_port=$PORT; CLUSTER_PIDS+=("$a_pid"); SERVER_PID=
  fi
  if [ -n "${a_pid:-}" ] && start_server "$server" ws; then
    b_pid=$SERVER_PID; b_port=$PORT; CLUSTER_PIDS+=("$b_pid"); SERVER_PID=
  fi
  unset REDIS_URL KEY
  if [ -z "${b_pid:-}" ]; then
    stop_cluster
    return 0
  fi
  echo "bench: run $run/$RUNS cluster-fanout against 2 × $server (pids $a_pid $b_pid, redis $redis_pid)" >&2
  generate "cluster-fanout-$server-$run" "/s |node|remote|broker|lost|latency" \
    cluster-fanout -n 500 -b 10 \
    --addr "127.0.0.1:$a_port" --server-pid "$a_pid" \
    --remote-addr "127.0.0.1:$b_port" --remote-pid "$b_pid" --broker-pid "$redis_pid" \
    --label "$server" --warmup "$WARMUP" --duration "$DURATION"
  stop_cluster
  sleep 1
}

# reconnect-storm: STORM_CLIENTS clients on a server that is stopped and
# started again on the same port; the generator says when its clients are
# all connected (a ready file) and reads the new server's PID (a PID file).
run_storm() { # server, run
  local server=$1 run=$2 ready pidfile gen status=0
  if [ "$server" = ceiling ]; then
    return 0 # no reconnection without a protocol
  fi
  ready="$OUT/logs/storm-$server-$run.ready"; pidfile="$OUT/logs/storm-$server-$run.pid"
  rm -f "$ready" "$pidfile"
  start_server "$server" polling || return 0
  local json="$OUT/reconnect-storm-$server-$run.json"
  local log="$OUT/logs/reconnect-storm-$server-$run.log"
  echo "bench: run $run/$RUNS reconnect-storm against $server (pid $SERVER_PID, port $PORT)" >&2
  local sources=(--sources 16)
  case " ${STORM_FLAGS:-} " in *" --sources "*) sources=() ;; esac
  # shellcheck disable=SC2086 # STORM_FLAGS: extra words, e.g. --ws-only
  taskset -c 1 "$BIN/roomcast-bench" reconnect-storm -c "$STORM_CLIENTS" "${sources[@]}" ${STORM_FLAGS:-} \
    --ready-file "$ready" --pid-file "$pidfile" \
    --addr "127.0.0.1:$PORT" --label "$server" --json "$json" >"$log" 2>&1 &
  gen=$!
  for _ in $(seq 1200); do
    [ -f "$ready" ] && break
    kill -0 "$gen" 2>/dev/null || break
    sleep 0.1
  done
  if [ -f "$ready" ]; then
    stop_server
    PORT=$((PORT - 1)) # the same port again
    STORM_PID_FILE=$pidfile start_server "$server" polling || true
  fi
  wait "$gen" || status=$?
  show_result "$status" "$log" \
    "/s |server CPU|errors|latency|all back|refused|generator failures|dropped|peak open"
  stop_server
  sleep 1
}

# recovery: the roomcast server with connection state recovery on, then
# off; the same churn and broadcasts against each.
run_recovery() { # server, run
  local server=$1 run=$2 on mode
  if [ "$server" != roomcast ]; then
    return 0 # the other bench servers have no recovery switch
  fi
  for on in on off; do
    mode=ws; [ "$on" = on ] && mode=recovery
    start_server "$server" "$mode" || continue
    echo "bench: run $run/$RUNS recovery ($on) against $server (pid $SERVER_PID, port $PORT)" >&2
    generate "recovery-$server-$on-$run" "/s |server CPU|lost|latency" \
      recovery -n "$RECOVERY_CLIENTS" --churn "$RECOVERY_CHURN" --rate "$RECOVERY_RATE" \
      --addr "127.0.0.1:$PORT" --server-pid "$SERVER_PID" --label "$server recovery=$on" \
      --duration "$DURATION"
    stop_server
    sleep 1
  done
}

run_one() { # server, scenario, run; SIZE: the size of idle and fanout-scale
  local server=$1 scenario=$2 run=$3 mode=ws args raw=() name=$2
  case $scenario in
    cluster-fanout) run_cluster "$server" "$run"; return 0 ;;
    reconnect-storm) run_storm "$server" "$run"; return 0 ;;
    recovery)       run_recovery "$server" "$run"; return 0 ;;
    echo)           args=(echo -c 100 -w 8) ;;
    fanout-1k)      args=(fanout -n 1000 -b 10); mode=broadcast ;;
    fanout-10k)     args=(fanout -n 10000 -b 2); mode=broadcast ;;
    fanout-latency) args=(fanout-latency -n 10000 --rate 10); mode=broadcast ;;
    connect)        args=(connect -k 50) ;;
    connect-upgrade) args=(connect -k 50 --upgrade); mode=polling ;;
    echo-w1)        args=(echo -c 100 -w 1) ;;
    fanout-scale)   args=(fanout -n "$SIZE" -b 1 --sources "$SOURCES"); mode=broadcast
                    name="fanout-scale-c$SIZE" ;;
    idle)           args=(idle -c "${SIZE:-10000}" --sources "$SOURCES")
                    [ "${SIZE:-10000}" = 10000 ] || name="idle-c$SIZE" ;;
    polling)        args=(polling -c 50 -w 4); mode=polling ;;
    *) echo "bench: unknown scenario $scenario" >&2; return 1 ;;
  esac
  if [ "$server" = ceiling ]; then
    if [ "$mode" = polling ]; then
      return 0 # no long-polling without a protocol
    fi
    raw=(--raw)
  elif [ "$mode" = broadcast ]; then
    mode=ws
  fi
  start_server "$server" "$mode" || return 0
  echo "bench: run $run/$RUNS $name against $server (pid $SERVER_PID, port $PORT)" >&2
  generate "$name-$server-$run" "/s |server CPU|lost|RSS|latency" \
    "${args[@]}" "${raw[@]}" \
    --addr "127.0.0.1:$PORT" --server-pid "$SERVER_PID" --label "$server" \
    --warmup "$WARMUP" --duration "$DURATION"
  stop_server
  sleep 1
}

for run in $(seq "$RUNS"); do
  for scenario in $SCENARIOS; do
    for server in $SERVERS; do
      if [ "$scenario" = idle ]; then
        for n in $IDLE_CLIENTS; do
          SIZE=$n run_one "$server" "$scenario" "$run"
        done
      elif [ "$scenario" = fanout-scale ]; then
        for n in $FANOUT_CLIENTS; do
          SIZE=$n run_one "$server" "$scenario" "$run"
        done
      else
        run_one "$server" "$scenario" "$run"
      fi
    done
  done
done

if [ -n "$REPORT" ]; then
  command="bash scripts/bench.sh"
  for var in RUNS DURATION WARMUP SERVERS SCENARIOS IDLE_CLIENTS FANOUT_CLIENTS SOURCES; do
    default=$(sed -n "s/^$var=\${$var:-\(.*\)}$/\1/p" "$0" | tr -d '"')
    if [ "${!var}" != "$default" ]; then
      command="$var=\"${!var}\" $command"
    fi
  done
  analysis=()
  if [ -f bench/ANALYSIS.md ]; then
    analysis=(--analysis bench/ANALYSIS.md)
  fi
  "$BIN/roomcast-bench" report "$OUT" --out "$REPORT" --command "$command" \
    --machine-note "$NOTE" "${analysis[@]}"
fi
echo "bench: results in $OUT" >&2
