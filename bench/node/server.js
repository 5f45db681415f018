// Reference Node socket.io server for the roomcast load benchmarks.
//
//   node server.js [port] [--polling]
//
// Namespace "/", driven only by these events (the same as the roomcast bench
// server, examples/src/bin/bench-server.rs):
//   echo     emit "echo" back to the sender with the same arguments
//   echo-ack ack with the same arguments
//   join     join the room named by the first argument, then ack
//   fanout   {room, count, payload}: emit `count` "fanout" events carrying
//            `payload` to that room, then ack
// WebSocket only, unless --polling (then long-polling is allowed too).
// perMessageDeflate and HTTP compression off; no client bundle served.
// With REDIS_URL set, the server joins a cluster on that Redis through
// @socket.io/redis-adapter (key KEY, default "socket.io"), as the roomcast
// bench server does with the same variables (the cluster-fanout scenario).
"use strict";

const { Server } = require("socket.io");

const args = process.argv.slice(2);
const port = Number(args.find((a) => /^\d+$/.test(a)) || 3000);
const polling = args.includes("--polling");

const io = new Server({
  transports: polling ? ["polling", "websocket"] : ["websocket"],
  perMessageDeflate: false,
  httpCompression: false,
  serveClient: false,
});

io.on("connection", (socket) => {
  socket.on("echo", (...data) => {
    socket.emit("echo", ...data);
  });
  socket.on("echo-ack", (...data) => {
    const ack = data.pop();
    if (typeof ack === "function") ack(...data);
  });
  socket.on("join", (room, ack) => {
    socket.join(String(room));
    if (typeof ack === "function") ack();
  });
  socket.on("fanout", (req, ack) => {
    const { room, count, payload } = req || {};
    const to = io.to(String(room));
    for (let i = 0; i < count; i++) to.emit("fanout", payload);
    if (typeof ack === "function") ack();
  });
});

async function start() {
  let cluster = "";
  if (process.env.REDIS_URL) {
    const { createAdapter } = require("@socket.io/redis-adapter");
    const { createClient } = require("redis");
    const pub = createClient({ url: process.env.REDIS_URL });
    const sub = pub.duplicate();
    await Promise.all([pub.connect(), sub.connect()]);
    io.adapter(createAdapter(pub, sub, { key: process.env.KEY || "socket.io" }));
    cluster = ", redis cluster";
  }
  // A backlog of 4096, as the Rust bench servers (Node's default is 511):
  // the reconnect storm overflows a short accept queue.
  const httpServer = require("http").createServer();
  io.attach(httpServer);
  httpServer.listen({ port, backlog: 4096 });
  console.log(`node socket.io ${require("socket.io/package.json").version} listening on 127.0.0.1:${port} (${polling ? "polling+websocket" : "websocket"}${cluster})`);
}

start().catch((e) => {
  console.error(e);
  process.exit(1);
});
