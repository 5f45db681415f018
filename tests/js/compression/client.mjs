// socket.io-client (Node) against a roomcast server with compression on:
// big events both ways on one transport (driven by tests/tests/compression.rs).
//
// Env: PORT, TRANSPORT (websocket or polling).
// Output: {"step":"ext","extensions":...} (websocket), then
//         {"step":"done","big":bool,"plain":bool,"echo":bool,"transport":...}
import { io } from "socket.io-client";

import { exchange } from "./exchange.mjs";

const report = (o) => console.log(JSON.stringify(o));
const transport = process.env.TRANSPORT ?? "websocket";
setTimeout(() => {
  console.error("timed out");
  process.exit(1);
}, 20_000).unref();

const socket = io(`http://127.0.0.1:${process.env.PORT}`, { transports: [transport] });
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
  const result = await exchange(socket);
  report({ step: "done", ...result, transport: engine.transport.name });
  socket.disconnect();
  process.exit(0);
});
