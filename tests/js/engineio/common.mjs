// Shared helpers for the engine.io-client interop scripts (driven by
// tests/tests/engineio_interop.rs). Results go to stdout as one JSON object
// per line; any failure prints {"event":"error",...} and exits non-zero.
import { Socket } from "engine.io-client";

export const url = process.env.EIO_URL;
if (!url) {
  console.error("EIO_URL is not set");
  process.exit(2);
}

export function emit(obj) {
  console.log(JSON.stringify(obj));
}

export function fail(message) {
  emit({ event: "error", message: String(message) });
  process.exit(1);
}

// The whole script must finish within `ms`.
export function deadline(ms) {
  setTimeout(() => fail(`script deadline of ${ms} ms exceeded`), ms).unref();
}

export function hex(data) {
  if (typeof data === "string") return null;
  const bytes = data instanceof ArrayBuffer ? new Uint8Array(data) : data;
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("hex");
}

// Opens a socket and returns helpers around it: `next()` resolves with the
// next message, `opened` with the open, `closed` with [reason, description].
export function connect(opts) {
  const socket = new Socket(url, opts);
  const queue = [];
  const waiters = [];
  socket.on("message", (data) => {
    const w = waiters.shift();
    if (w) w(data);
    else queue.push(data);
  });
  socket.on("error", (err) => fail(`socket error: ${err && err.message}`));
  // The open packet's data, as the server sent it.
  const handshake = new Promise((resolve) => socket.on("handshake", resolve));
  const opened = new Promise((resolve) => socket.on("open", resolve));
  const closed = new Promise((resolve) =>
    socket.on("close", (reason, description) => resolve([reason, description])),
  );
  const next = () =>
    queue.length > 0 ? Promise.resolve(queue.shift()) : new Promise((r) => waiters.push(r));
  return { socket, handshake, opened, closed, next };
}

// Sends a text and a binary message and reports both echoes.
// Reports the open: transport, sid and the handshake's upgrades.
export async function reportOpen(c) {
  const hs = await c.handshake;
  await c.opened;
  emit({
    event: "open",
    transport: c.socket.transport.name,
    sid: c.socket.id,
    upgrades: hs.upgrades,
    pingInterval: hs.pingInterval,
  });
}

export async function echoBoth(c, label) {
  const text = `hello ${label} ✓`;
  c.socket.send(text);
  const gotText = await c.next();
  emit({ event: "echo", kind: "text", label, sent: text, got: gotText, transport: c.socket.transport.name });
  const bytes = Uint8Array.from([0, 1, 2, 127, 128, 254, 255]);
  c.socket.send(bytes);
  const gotBin = await c.next();
  emit({
    event: "echo",
    kind: "binary",
    label,
    sent: hex(bytes),
    got: hex(gotBin),
    isString: typeof gotBin === "string",
    transport: c.socket.transport.name,
  });
}
