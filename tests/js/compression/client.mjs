// socket.io-client (Node) against a roomcast server with compression on:
// big events both ways on one transport (driven by tests/tests/compression.rs).
//
// Env: PORT, TRANSPORT (websocket or polling).
// Output: {"step":"ext","extensions":...} (websocket), then
//         {"step":"done","big":bool,"plain":bool,"echo":bool,"transport":...}
import { io } from "socket.io-client";

const report = (o) => console.log(JSON.stringify(o));
const transport = process.env.TRANSPORT ?? "websocket";
setTimeout(() => {
  console.error("timed out");
  process.exit(1);
}, 20_000).unref();

const numbers = (n) => {
  let s = "";
  for (let i = 0; s.length < n; i++) s += `${i} `;
  return s.slice(0, n);
};

const socket = io(`http://127.0.0.1:${process.env.PORT}`, { transports: [transport] });
const once = (event) => new Promise((r) => socket.once(event, r));
socket.on("connect_error", (e) => {
  console.error(e);
  process.exit(1);
});
socket.on("connect", async () => {
  const engine = socket.io.engine;
  if (transport === "websocket") {
    const ws = engine.transport.ws;
    report({ step: "ext", extensions: ws.extensions, params: ws._extensions?.["permessage-deflate"]?.params ?? null });
  }
  socket.emit("big", 20000);
  const big = await once("big");
  socket.emit("plain", 20000);
  const plain = await once("plain");
  const text = numbers(30000);
  socket.emit("echo", text);
  const echo = await once("echo");
  report({
    step: "done",
    big: big === numbers(20000),
    plain: plain === numbers(20000),
    echo: echo === text,
    transport: engine.transport.name,
  });
  socket.disconnect();
  process.exit(0);
});
