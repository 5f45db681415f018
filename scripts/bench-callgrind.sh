#!/usr/bin/env bash
# Instructions per operation of the roomcast bench server, counted by
# callgrind: the same count for the same binary and load whatever else the
# machine is doing, so a change's effect shows where timings drown in
# noise. The server runs under `valgrind --tool=callgrind` while the
# generator drives it for 5 s; the profile is dumped, and its total is
# divided by the operations the server handled, counted as calls of one
# function per operation:
#
#   SCENARIO=echo    `roomcast-bench echo -c 10 -w 1`: calls of the bench
#                    server's echo handler (one per echoed event)
#   SCENARIO=echo-w8 the same with `-c 100 -w 8`: batched traffic, where
#                    one read and one write carry several events
#   SCENARIO=connect `roomcast-bench connect -k 10`: `Client::new` (one per
#                    Socket.IO connection)
#   SCENARIO=connect-upgrade  the same with `--upgrade` (polling handshake,
#                    CONNECT, probe and upgrade, as the default client)
#
# SERVER=ceiling counts the bare WebSocket server instead (the generator
# with `--raw`; echo: calls of tungstenite's `WebSocketContext::write`,
# one per echoed frame; connect: of `derive_accept_key`, one per
# handshake), for the instructions of the same work without the protocol.
#
#   SCENARIO=echo [SERVER=ceiling] bash scripts/bench-callgrind.sh [BIN_DIR]
#
# The total includes start-up (a few million instructions, under 2 % of a
# run). Needs valgrind; builds nothing: run scripts/bench.sh (or its cargo
# builds) first. Prints one line: instructions, operations, per operation;
# keeps the profile (KEEP=path) for callgrind_annotate.
set -euo pipefail
cd "$(dirname "$0")/.."
SCENARIO=${SCENARIO:-echo}
BIN=${1:-target/release}
PORT=${PORT:-3890}
SERVER=${SERVER:-roomcast}
flags=()
case $SERVER:$SCENARIO in
  roomcast:echo) load=(echo -c 10 -w 1); per='roomcast_examples::echo::emit_back::{{closure}}::{{closure}} (' ;;
  roomcast:echo-w8) load=(echo -c 100 -w 8); per='roomcast_examples::echo::emit_back::{{closure}}::{{closure}} (' ;;
  roomcast:connect) load=(connect -k 10); per='roomcast_socketio::client::Client::new (' ;;
  roomcast:connect-upgrade) load=(connect -k 10 --upgrade); flags=(--polling)
                   per='roomcast_socketio::client::Client::new (' ;;
  ceiling:echo) load=(echo -c 10 -w 1 --raw); per='tungstenite::protocol::WebSocketContext::write (' ;;
  ceiling:echo-w8) load=(echo -c 100 -w 8 --raw); per='tungstenite::protocol::WebSocketContext::write (' ;;
  ceiling:connect) load=(connect -k 10 --raw); per='tungstenite::handshake::derive_accept_key (' ;;
  *) echo "unknown server and scenario $SERVER:$SCENARIO" >&2; exit 1 ;;
esac
server_bin=bench-server
[ "$SERVER" = ceiling ] && server_bin=ceiling
command -v valgrind >/dev/null || { echo "bench-callgrind: needs valgrind" >&2; exit 1; }
if (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null; then
  echo "bench-callgrind: port $PORT is taken (set PORT)" >&2
  exit 1
fi
OUT=$(mktemp -d)
server=
trap '[ -n "$server" ] && kill -9 "$server" 2>/dev/null; rm -rf "$OUT"' EXIT
valgrind --tool=callgrind --callgrind-out-file="$OUT/cg" "$BIN/$server_bin" "$PORT" "${flags[@]}" \
  >"$OUT/server.log" 2>&1 &
server=$!
for _ in $(seq 100); do (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null && break; sleep 0.1; done
"$BIN/roomcast-bench" "${load[@]}" --addr "127.0.0.1:$PORT" --warmup 1 --duration 4 --quiet \
  >"$OUT/gen.log" 2>&1
callgrind_control -d "$server" >/dev/null 2>&1
for _ in $(seq 50); do ls "$OUT"/cg.* >/dev/null 2>&1 && break; sleep 0.2; done
sleep 1
kill -9 "$server" 2>/dev/null || true
wait "$server" 2>/dev/null || true
profile=$(ls "$OUT"/cg.* | head -1)
total=$(callgrind_annotate "$profile" 2>/dev/null | awk '/PROGRAM TOTALS/ { gsub(",", "", $1); print $1 }')
ops=$(callgrind_annotate --tree=caller "$profile" 2>/dev/null | grep -F "< ???:$per" |
  head -1 | sed 's/.*(\([0-9,]*\)x).*/\1/' | tr -d ',')
if [ -z "$ops" ] || [ "$ops" = 0 ]; then
  echo "bench-callgrind: no operation counted (log: $(cat "$OUT/gen.log"))" >&2
  exit 1
fi
[ -n "${KEEP:-}" ] && cp "$profile" "$KEEP"
echo "$SCENARIO: $total instructions, $ops operations, $((total / ops)) per operation"
