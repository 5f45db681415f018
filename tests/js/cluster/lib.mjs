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
export { STEP_MS, out, sleep, within, next, until, norm } from "../script.mjs";
import { out, within, norm, runMain } from "../script.mjs";

/** PARSER=msgpack: the clients use socket.io-msgpack-parser (the servers must too). */
const parserOpts = process.env.PARSER === "msgpack" ? { parser: msgpackParser } : {};

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
export function main(body) {
  return runMain(body, { clients, deadlineMs: 90000, lingerMs: 500 });
}
