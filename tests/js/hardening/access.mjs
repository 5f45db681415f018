// The access example (examples/src/access.rs) against the real socket.io-client:
// a good token from an allowed origin connects and can talk; a bad or missing
// token gets connect_error "unauthorized" with data {reason: "bad token"}; an
// origin not on the allow-list (or none) is refused at the handshake, before any
// token is looked at. One JSON line per case. Against tests/tests/hardening_access.rs.
import { io } from "socket.io-client";

const URL = `http://127.0.0.1:${process.env.PORT}`;
const transports = [process.env.TRANSPORT ?? "websocket"];
const ALLOWED = process.env.ALLOWED_ORIGIN;
const STEP_MS = 10000;
const out = (obj) => console.log(JSON.stringify(obj));

function attempt(name, { token, origin }) {
  const opts = { forceNew: true, reconnection: false, transports };
  if (token !== undefined) opts.auth = { token };
  if (origin !== undefined) opts.extraHeaders = { Origin: origin };
  const socket = io(URL, opts);
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      socket.close();
      resolve({ step: name, error: "timed out" });
    }, STEP_MS);
    socket.on("connect", async () => {
      const id = await socket.timeout(STEP_MS).emitWithAck("whoami").catch((e) => `error: ${e}`);
      clearTimeout(timer);
      resolve({ step: name, connected: true, whoami_matches: id === socket.id, id: socket.id });
      socket.close();
    });
    socket.on("connect_error", (err) => {
      clearTimeout(timer);
      socket.close();
      resolve({ step: name, connected: false, message: err.message, data: err.data ?? null });
    });
  });
}

const guard = setTimeout(() => {
  out({ error: "script deadline passed" });
  process.exit(2);
}, 40000);
const cases = [
  ["good", { token: "s3cret", origin: ALLOWED }],
  ["bad-token", { token: "guess", origin: ALLOWED }],
  ["no-token", { origin: ALLOWED }],
  ["evil-origin", { token: "s3cret", origin: "https://evil.example" }],
  ["no-origin", { token: "s3cret" }],
];
for (const [name, c] of cases) out(await attempt(name, c));
clearTimeout(guard);
setTimeout(() => process.exit(0), 200).unref();
