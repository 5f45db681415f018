// The cluster contract (issue #12) as a Node socket.io 4.8 server with
// @socket.io/redis-adapter 8: the reference the Rust `cluster-node` example
// (examples/src/cluster_node.rs) is tested against, in mixed clusters.
//
//   node cluster/cluster-node.mjs PORT     (PORT 0: any free port)
//
// Env: REDIS_URL (default redis://127.0.0.1:6379), KEY (the adapter's key
// prefix, default socket.io), NAME (this server's name, default node-PORT),
// ADAPTER (redis, the default, or streams: @socket.io/redis-streams-adapter
// 0.3 on the stream KEY, channel prefix KEY, session keys `sio:session:` for
// the default KEY and `KEY:session:` otherwise, as the Rust example),
// RECOVERY=1 (connectionStateRecovery, maxDisconnectionDuration 30 s, or
// RECOVERY_MAX_MS, a test extension).
// Both transports; binds 127.0.0.1 only. Prints one JSON line
// {"listening": port, "name": ...} once it serves and its Redis
// subscriptions are made.
//
// On namespace "/":
//   echo ...args        -> emit "echo" back with the same arguments
//   echo-ack ...args    -> ack with the same arguments
//   join room           -> socket.join(room), ack true
//   leave room          -> socket.leave(room), ack true
//   fanout {room, count, payload}
//                       -> emit `count` events "fanout" with `payload` to the
//                          room across the cluster, then ack true
//   room-size room      -> ack the number of sockets in the room across the
//                          cluster (fetchSockets)
//   ack-all room        -> broadcast "ask" "who" with acks (timeout 3 s) to the
//                          room across the cluster, ack the answers sorted
//   servers             -> ack 1 + the number of other servers answering a
//                          server-side "whoami" with ack (each answers its name)
//   kick room           -> disconnect every socket in the room across the
//                          cluster, ack true
//
// Test extensions (not in the contract; the Rust example has them
// too), for the operations the contract does not reach:
//   fanout's argument may also have `except` (rooms) and `local` (true: this
//                          server's clients only)
//   sockets-join {room, join} / sockets-leave {room, leave}
//                       -> make every socket of `room` across the cluster
//                          join / leave another room, ack true
//   set-data value      -> socket.data = value, ack true
//   room-data room      -> ack the data of every socket in the room across
//                          the cluster, sorted by their JSON text
//   remote-emit {room, event, payload}
//                       -> emit `event` with `payload` to each socket the
//                          fetch of `room` returns, one by one; ack the count
//   a server-side event "tell" (event, ...args) emits `event` with `args` to
//   this server's own clients (io.local.emit), so a test can observe that a
//   serverSideEmit (e.g. from @socket.io/redis-emitter) reached every server.
import { createServer } from "node:http";
import { Server } from "socket.io";
import { createAdapter } from "@socket.io/redis-adapter";
import { createAdapter as createStreamsAdapter } from "@socket.io/redis-streams-adapter";
import { createClient } from "redis";
import msgpackParser from "socket.io-msgpack-parser";

const port = Number(process.argv[2] ?? process.env.PORT ?? 3000);
const REDIS_URL = process.env.REDIS_URL || "redis://127.0.0.1:6379";
const KEY = process.env.KEY || "socket.io";
const STREAMS = process.env.ADAPTER === "streams";
const RECOVERY = process.env.RECOVERY === "1";
// PARSER=msgpack: the clients speak socket.io-msgpack-parser (the adapter's wire does not change).
const parser = process.env.PARSER === "msgpack" ? { parser: msgpackParser } : {};

const pub = createClient({ url: REDIS_URL });
const sub = pub.duplicate();
for (const c of [pub, sub]) c.on("error", (err) => console.error(`redis: ${err.message}`));
await Promise.all([pub.connect(), sub.connect()]);

const http = createServer();
const io = new Server(http, {
  transports: ["polling", "websocket"],
  ...parser,
  ...(RECOVERY ? { connectionStateRecovery: { maxDisconnectionDuration: Number(process.env.RECOVERY_MAX_MS || 30000) } } : {}),
});
if (STREAMS) {
  io.adapter(
    createStreamsAdapter(pub, {
      streamName: KEY,
      channelPrefix: KEY,
      sessionKeyPrefix: KEY === "socket.io" ? "sio:session:" : `${KEY}:session:`,
      blockTimeInMs: 1000,
    }),
  );
} else {
  io.adapter(createAdapter(pub, sub, { key: KEY, requestsTimeout: 3000 }));
}

io.on("connection", (socket) => {
  const ackOf = (args) => (typeof args[args.length - 1] === "function" ? args.pop() : () => {});

  socket.on("echo", (...args) => {
    ackOf(args);
    socket.emit("echo", ...args);
  });
  socket.on("echo-ack", (...args) => {
    const ack = ackOf(args);
    ack(...args);
  });
  socket.on("join", (room, ack) => {
    socket.join(room);
    ack?.(true);
  });
  socket.on("leave", (room, ack) => {
    socket.leave(room);
    ack?.(true);
  });
  socket.on("fanout", ({ room, count, payload, except, local }, ack) => {
    let to = (local ? io.local : io).to(room);
    if (except) to = to.except(except);
    for (let i = 0; i < count; i++) to.emit("fanout", payload);
    ack?.(true);
  });
  socket.on("sockets-join", ({ room, join }, ack) => {
    io.in(room).socketsJoin(join);
    ack?.(true);
  });
  socket.on("sockets-leave", ({ room, leave }, ack) => {
    io.in(room).socketsLeave(leave);
    ack?.(true);
  });
  socket.on("set-data", (value, ack) => {
    socket.data = value;
    ack?.(true);
  });
  socket.on("room-data", async (room, ack) => {
    const sockets = await io.in(room).fetchSockets();
    const data = sockets.map((s) => s.data ?? null);
    ack?.(data.sort((a, b) => (JSON.stringify(a) < JSON.stringify(b) ? -1 : 1)));
  });
  socket.on("remote-emit", async ({ room, event, payload }, ack) => {
    const sockets = await io.in(room).fetchSockets();
    for (const s of sockets) s.emit(event, payload);
    ack?.(sockets.length);
  });
  socket.on("room-size", async (room, ack) => {
    const sockets = await io.in(room).fetchSockets();
    ack?.(sockets.length);
  });
  socket.on("ack-all", (room, ack) => {
    io.to(room)
      .timeout(3000)
      .emit("ask", "who", (_err, answers) => {
        ack?.([...(answers ?? [])].sort());
      });
  });
  socket.on("servers", (ack) => {
    io.serverSideEmit("whoami", (_err, names) => {
      ack?.(1 + (names ?? []).length);
    });
  });
  socket.on("kick", (room, ack) => {
    io.in(room).disconnectSockets();
    ack?.(true);
  });
});

// Server-side events from the other servers of the cluster.
let name = process.env.NAME || `node-${port}`;
io.on("whoami", (ack) => ack(name));
io.on("tell", (event, ...args) => io.local.emit(event, ...args));

// The adapter's subscriptions were queued on `sub` when it was created; one
// more subscription answered means Redis has made them all.
await sub.subscribe(`${KEY}-ready#${process.pid}`, () => {});
await sub.unsubscribe(`${KEY}-ready#${process.pid}`);
// The streams adapter connects its reader and subscriber on connections of
// its own; give them a moment (the tests also wait for its subscription).
if (STREAMS) await new Promise((r) => setTimeout(r, 300));

http.listen(port, "127.0.0.1", () => {
  const bound = http.address().port;
  name = process.env.NAME || `node-${bound}`;
  console.log(JSON.stringify({ listening: bound, name }));
});

const stop = () => {
  io.close();
  Promise.allSettled([pub.quit(), sub.quit()]).finally(() => process.exit(0));
};
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
