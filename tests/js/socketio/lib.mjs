// Shared helpers for the Socket.IO interop scripts (driven by tests/tests/socketio_*.rs).
// Each script reports results as one JSON object per stdout line (`out`), and exits
// non-zero with an {"error": ...} line when a step fails or the deadline passes.
import { io, Manager } from "socket.io-client";
import msgpackParser from "socket.io-msgpack-parser";

export { io, Manager };

export const PORT = process.env.PORT;
if (!PORT) throw new Error("PORT is not set");
export const URL = `http://127.0.0.1:${PORT}`;
/** How long one wait may take before the script fails. */
export const STEP_MS = Number(process.env.STEP_MS ?? 10000);

export const out = (obj) => console.log(JSON.stringify(obj));
export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** Resolves with `promise`, or rejects after `ms` naming `what`. */
export function within(promise, what, ms = STEP_MS) {
  let timer;
  const deadline = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${what}`)), ms);
  });
  return Promise.race([promise, deadline]).finally(() => clearTimeout(timer));
}

/** The arguments of the next `event` on `emitter`. */
export function next(emitter, event, ms = STEP_MS) {
  return within(new Promise((resolve) => emitter.once(event, (...args) => resolve(args))), `event ${event}`, ms);
}

/** Waits until `cond()` holds, polling every 5 ms. */
export async function until(cond, what, ms = STEP_MS) {
  await within(
    (async () => {
      while (!cond()) await sleep(5);
    })(),
    what,
    ms,
  );
}

/** Resolves once `socket` is connected; rejects with its connect_error. */
export function connected(socket, ms = STEP_MS) {
  if (socket.connected) return Promise.resolve(socket);
  return within(
    new Promise((resolve, reject) => {
      socket.once("connect", () => resolve(socket));
      socket.once("connect_error", (err) => reject(new Error(`connect_error: ${err.message}`)));
    }),
    `connect to ${socket.nsp}`,
    ms,
  );
}

const clients = new Set();

/** PARSER=msgpack: every client of the script uses socket.io-msgpack-parser. */
export const parserOpts = process.env.PARSER === "msgpack" ? { parser: msgpackParser } : {};

/** A new client (its own connection, no automatic reconnection unless asked). */
export function client(nsp = "/", opts = {}) {
  const s = io(URL + nsp, { forceNew: true, reconnection: false, ...parserOpts, ...opts });
  clients.add(s);
  s.on("disconnect", () => {
    if (!s.active) clients.delete(s);
  });
  return s;
}

const isBinary = (v) => v instanceof ArrayBuffer || ArrayBuffer.isView(v);

/** JSON-friendly copy: binary values become {"bytes":[...]}. */
export function norm(v) {
  if (isBinary(v)) {
    const u8 = v instanceof ArrayBuffer ? new Uint8Array(v) : new Uint8Array(v.buffer, v.byteOffset, v.byteLength);
    return { bytes: Array.from(u8) };
  }
  if (Array.isArray(v)) return v.map(norm);
  if (v && typeof v === "object") return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, norm(x)]));
  return v === undefined ? null : v;
}

/**
 * Runs the script body. On success, clients made with `client()` that are still open
 * are disconnected, and node exits 0 once in-flight requests are done (so the last
 * packets a script sends, e.g. a polling client's close, do leave), at most 3 s later;
 * on failure it exits 1 at once with an {"error"} line.
 */
export async function main(body) {
  const deadline = Number(process.env.DEADLINE_MS ?? 60000);
  const guard = setTimeout(() => {
    out({ error: `script deadline of ${deadline} ms passed` });
    process.exit(2);
  }, deadline);
  try {
    await body();
    clearTimeout(guard);
    for (const s of clients) s.disconnect();
    process.exitCode = 0;
    setTimeout(() => process.exit(0), 3000).unref();
  } catch (e) {
    console.error(e);
    out({ error: String((e && e.stack) || e) });
    process.exit(1);
  }
}
