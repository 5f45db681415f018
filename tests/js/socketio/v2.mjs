// A Socket.IO v2 client (npm socket.io-client 2.5.0, Engine.IO v3, Socket.IO protocol
// v4) against a server with allow_eio3, next to a current client (socket.io-client 4).
// MODE=main (default): connect (TRANSPORTS=polling, or polling then the upgrade to
// websocket), events and acks both ways, binary both ways, a room broadcast reaching the
// v2 and the v4 client, a second namespace with a query, a middleware refusal reaching
// the v2 client's `error` event. MODE=ping-timeout: a v2 client that stops pinging.
// MODE=refused: the handshake against a server without allow_eio3.
// Against tests/tests/socketio_interop_v2.rs.
import io2 from "socket.io-client-v2";
import { client, connected, main, next, norm, out, STEP_MS, until, URL, within } from "./lib.mjs";

const MODE = process.env.MODE ?? "main";
const transports = (process.env.TRANSPORTS ?? "polling").split(",");

/** A v2 client of its own connection. */
function v2(nsp = "/", opts = {}) {
  return io2(URL + nsp, { forceNew: true, reconnection: false, transports, ...opts });
}

/** Resolves once a v2 socket is connected; rejects on its errors. */
function v2connected(socket) {
  if (socket.connected) return Promise.resolve(socket);
  return within(
    new Promise((resolve, reject) => {
      socket.once("connect", () => resolve(socket));
      socket.once("connect_error", (e) => reject(new Error(`connect_error: ${e}`)));
      socket.once("error", (e) => reject(new Error(`error: ${JSON.stringify(e)}`)));
    }),
    `v2 connect to ${socket.nsp}`,
  );
}

/** A v2 emit with an ack, as a promise. */
function ack(socket, ...args) {
  return within(new Promise((resolve) => socket.emit(...args, (...reply) => resolve(reply))), `ack of ${args[0]}`);
}

async function mainMode() {
  const a = v2("/", { query: { v: "2" } });
  a.on("question", (q, cb) => cb(`answer:${q}`));
  await v2connected(a);
  if (transports.includes("websocket")) {
    await until(() => a.io.engine.transport.name === "websocket", "the upgrade to websocket");
  }
  out({ step: "connect", id: a.id, engine_id: a.io.engine.id, transport: a.io.engine.transport.name });

  const echoed = next(a, "echo");
  a.emit("echo", { a: 1, s: "é😀" }, "x", [true, null]);
  out({ step: "echo", args: await echoed });

  out({ step: "sum", reply: await ack(a, "sum", 2, 3) });

  const answered = next(a, "answered");
  a.emit("ask");
  out({ step: "answered", args: await answered });

  const binEvent = next(a, "bin");
  const binAck = await ack(a, "bin", Buffer.from([1, 2, 3, 250]), { label: "t", thumb: Buffer.from([9]) });
  out({ step: "bin", event: norm(await binEvent), ack: norm(binAck) });

  out({ step: "id", server_id: (await ack(a, "whoami"))[0], id: a.id });

  // One room, one v2 and one v4 client; the v2 client makes the server broadcast.
  const b = client("/", { transports: ["websocket"] });
  await connected(b);
  await ack(a, "join", "r1");
  await within(new Promise((resolve) => b.emit("join", "r1", resolve)), "v4 join");
  const newsA = next(a, "news");
  const newsB = next(b, "news");
  a.emit("shout", "r1", "hello");
  out({ step: "news", v2: norm(await newsA), v4: norm(await newsB) });

  // A second namespace on the same connection, with a query.
  const chat = a.io.socket("/chat", { query: { token: "good", x: "1" } });
  const welcome = next(chat, "welcome");
  await v2connected(chat);
  out({ step: "chat", welcome: await welcome, id: chat.id });
  out({ step: "chat-sum", reply: await ack(chat, "sum", 4, 5) });

  // A refusal by a middleware reaches the v2 client's `error` event.
  const bad = v2("/chat", { query: { token: "bad" } });
  const refused = await next(bad, "error");
  out({ step: "refused", error: refused });
  bad.close();

  // A namespace that does not exist: the v5 object, as from Node.
  const nope = a.io.socket("/nope");
  out({ step: "nope", error: await next(nope, "error") });

  a.close();
  chat.close();
}

async function pingTimeoutMode() {
  const a = v2("/");
  await v2connected(a);
  const engine = a.io.engine;
  // Stop pinging, and stop the client's own timeout: only the server decides.
  engine.setPing = () => {};
  clearTimeout(engine.pingIntervalTimer);
  engine.removeAllListeners("heartbeat");
  clearTimeout(engine.pingTimeoutTimer);
  const started = Date.now();
  out({ step: "stopped-pinging", id: a.id });
  const [reason] = await next(a, "disconnect", STEP_MS);
  out({ step: "disconnect", reason, after_ms: Date.now() - started });
}

async function refusedMode() {
  const a = v2("/");
  const [err] = await next(a, "connect_error");
  out({ step: "refused", message: String(err && (err.message ?? err)), connected: a.connected });
  a.close();
}

main(async () => {
  if (MODE === "main") await mainMode();
  else if (MODE === "ping-timeout") await pingTimeoutMode();
  else if (MODE === "refused") await refusedMode();
  else throw new Error(`unknown MODE ${MODE}`);
});
