// Helpers for the cluster scripts (driven by tests/tests/cluster_*.rs).
// SERVERS is a JSON array [{"name": "...", "port": N}, ...] of the cluster's
// servers (each running the contract of cluster-node.mjs); TRANSPORT is
// "websocket" or "polling". Every check prints one JSON line
// {"check": ..., "from": ..., "to": ..., "ok": bool} (with "got" and "want"
// when not ok);
// the Rust test asserts that every expected check is there and ok.
import { io } from "socket.io-client";
import msgpackParser from "socket.io-msgpack-parser";
import { isDeepStrictEqual } from "node:util";

export const SERVERS = JSON.parse(process.env.SERVERS ?? "[]");
if (SERVERS.length === 0) throw new Error("SERVERS is not set");
export const TRANSPORT = process.env.TRANSPORT ?? "websocket";
/** PARSER=msgpack: the clients use socket.io-msgpack-parser (the servers must too). */
const parserOpts = process.env.PARSER === "msgpack" ? { parser: msgpackParser } : {};
/** How long one wait may take before the check fails. */
export const STEP_MS = Number(process.env.STEP_MS ?? 8000);

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

const clients = new Set();

/**
 * A connected client of `server` named `name`: it records every event it
 * gets (`log`, arguments normalized) and its disconnect reasons, and answers
 * "ask" with `${name}:${arg}`.
 */
export async function client(server, name) {
  const socket = io(`http://127.0.0.1:${server.port}`, {
    forceNew: true,
    reconnection: false,
    transports: [TRANSPORT],
    ...parserOpts,
  });
  clients.add(socket);
  const c = { name, socket, log: [], reasons: [] };
  socket.onAny((event, ...args) => {
    c.log.push([event, ...norm(args.filter((a) => typeof a !== "function"))]);
  });
  socket.on("ask", (arg, ack) => ack(`${name}:${arg}`));
  socket.on("disconnect", (reason) => c.reasons.push(reason));
  await within(
    new Promise((resolve, reject) => {
      socket.once("connect", resolve);
      socket.once("connect_error", (err) => reject(new Error(`connect_error: ${err.message}`)));
    }),
    `${name} connects to ${server.name}`,
  );
  return c;
}

/** The events named `event` that client `c` got, without the name. */
export const got = (c, event) => c.log.filter(([ev]) => ev === event).map(([, ...args]) => args);

/** Emits `event` with `args` and resolves with the ack's arguments. */
export function call(c, event, ...args) {
  return within(
    new Promise((resolve) => c.socket.emit(event, ...args, (...answer) => resolve(norm(answer)))),
    `${c.name}: ack of ${event}`,
  );
}

/**
 * Runs `body` (which returns the value observed) and prints the check's
 * line; a thrown error is a failed check with the error as `got`.
 */
export async function check(fields, want, body) {
  let value;
  try {
    value = await body();
  } catch (e) {
    out({ ...fields, ok: false, got: `error: ${e.message}`, want });
    return false;
  }
  const ok = isDeepStrictEqual(value, want);
  out(ok ? { ...fields, ok } : { ...fields, ok, got: value, want });
  return ok;
}

/** Runs the script body, then disconnects every client and exits. */
export async function main(body) {
  const deadline = Number(process.env.DEADLINE_MS ?? 90000);
  const guard = setTimeout(() => {
    out({ error: `script deadline of ${deadline} ms passed` });
    process.exit(2);
  }, deadline);
  try {
    await body();
    clearTimeout(guard);
    for (const s of clients) s.disconnect();
    setTimeout(() => process.exit(0), 500).unref();
  } catch (e) {
    console.error(e);
    out({ error: String((e && e.stack) || e) });
    process.exit(1);
  }
}
