// A raw `ws` client (Node's WebSocket library, which speaks
// permessage-deflate) talking Engine.IO/Socket.IO by hand to a roomcast
// server, with a tap on the socket's bytes to see which server frames
// carry RSV1 (driven by tests/tests/compression.rs).
//
// Env: PORT, WS_OPTS (JSON: ws's perMessageDeflate option, or false).
// Output, one JSON object per line:
//   {"step":"ext","extensions":"...","params":{...}}   what was agreed
//   {"step":"frame","event":"...","rsv1":bool,"len":n,"ok":bool}  per reply
import WebSocket from "ws";

const port = process.env.PORT;
const opts = JSON.parse(process.env.WS_OPTS ?? "{}");
const report = (o) => console.log(JSON.stringify(o));
const fail = (e) => {
  console.error(e);
  process.exit(1);
};
setTimeout(() => fail(new Error("timed out")), 20_000).unref();

const numbers = (n) => {
  let s = "";
  for (let i = 0; s.length < n; i++) s += `${i} `;
  return s.slice(0, n);
};

const ws = new WebSocket(`ws://127.0.0.1:${port}/socket.io/?EIO=4&transport=websocket`, {
  perMessageDeflate: opts,
});

// Server frames as they arrive on the wire: [rsv1, opcode, length].
const wire = [];
let pending = Buffer.alloc(0);
const tap = (chunk) => {
  pending = Buffer.concat([pending, chunk]);
  for (;;) {
    if (pending.length < 2) return;
    let len = pending[1] & 0x7f;
    let at = 2;
    if (len === 126) {
      if (pending.length < 4) return;
      len = pending.readUInt16BE(2);
      at = 4;
    } else if (len === 127) {
      if (pending.length < 10) return;
      len = Number(pending.readBigUInt64BE(2));
      at = 10;
    }
    if (pending.length < at + len) return;
    wire.push({ rsv1: (pending[0] & 0x40) !== 0, opcode: pending[0] & 0x0f, len });
    pending = pending.subarray(at + len);
  }
};

const inbox = [];
let wake = null;
ws.on("message", (data, isBinary) => {
  inbox.push(isBinary ? data : data.toString());
  if (wake) wake();
});
const next = async () => {
  while (inbox.length === 0) await new Promise((r) => (wake = r));
  return inbox.shift();
};
ws.on("error", fail);

ws.on("open", async () => {
  try {
    ws._socket.on("data", tap);
    const ext = ws._extensions["permessage-deflate"];
    report({ step: "ext", extensions: ws.extensions, params: ext ? ext.params : null });
    let open = await next();
    if (!open.startsWith("0")) open = await next();
    ws.send("40");
    const connect = await next();
    if (!connect.startsWith("40")) throw new Error(`no connect: ${connect}`);
    // Replies from the server: [event asked, expected payload].
    const asks = [
      ["big", 3000],
      ["big", 3000],
      ["big", 100],
      ["plain", 3000],
    ];
    for (const [event, n] of asks) {
      const before = wire.length;
      ws.send(`42["${event}",${n}]`);
      const msg = await next();
      while (wire.length === before) await new Promise((r) => setImmediate(r));
      const frame = wire[wire.length - 1];
      const ok = msg === `42${JSON.stringify([event, numbers(n)])}`;
      report({ step: "frame", event, n, rsv1: frame.rsv1, len: frame.len, ok });
    }
    // The client compresses this one (ws's threshold is 1024): the server
    // inflates it and echoes it.
    const text = numbers(5000);
    ws.send(`42${JSON.stringify(["echo", text])}`);
    const echo = await next();
    report({ step: "echo", ok: echo === `42${JSON.stringify(["echo", text])}` });
    ws.close();
  } catch (e) {
    fail(e);
  }
});
ws.on("close", () => process.exit(0));
