// Shared helpers for the Socket.IO interop scripts (driven by tests/tests/socketio_*.rs).
// Each script reports results as one JSON object per stdout line (`out`), and exits
// non-zero with an {"error": ...} line when a step fails or the deadline passes.
import { io, Manager } from "socket.io-client";
import msgpackParser from "socket.io-msgpack-parser";

export { io, Manager };

export const PORT = process.env.PORT;
if (!PORT) throw new Error("PORT is not set");
export const URL = `http://127.0.0.1:${PORT}`;
export { STEP_MS, out, sleep, within, next, until, norm } from "../script.mjs";
import { STEP_MS, out, within, runMain } from "../script.mjs";

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

/**
 * Runs the script body. On success, clients made with `client()` that are still open
 * are disconnected, and node exits 0 once in-flight requests are done (so the last
 * packets a script sends, e.g. a polling client's close, do leave), at most 3 s later;
 * on failure it exits 1 at once with an {"error"} line.
 */
export function main(body) {
  return runMain(body, { clients, deadlineMs: 60000, lingerMs: 3000 });
}
