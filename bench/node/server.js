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

io.listen(port);
console.log(`node socket.io ${require("socket.io/package.json").version} listening on 127.0.0.1:${port} (${polling ? "polling+websocket" : "websocket"})`);
