// Middleware rejections (`connect_error` with err.message and err.data), handshake data
// (auth, query, headers) and an unknown namespace, over $TRANSPORT.
// Against tests/tests/socketio_interop_connect.rs.
import { client, connected, main, next, out } from "./lib.mjs";

const transports = [process.env.TRANSPORT ?? "websocket"];

async function refused(step, nsp, opts) {
  const s = client(nsp, { transports, ...opts });
  const [err] = await next(s, "connect_error");
  out({ step, message: err.message, data: err.data ?? null, connected: s.connected, active: s.active });
  s.disconnect();
}

main(async () => {
  await refused("bad-token", "/", { auth: { token: "bad" } });
  await refused("no-auth", "/", {});
  const good = client("/", {
    transports,
    auth: { token: "good", user: "ada" },
    query: { room: "lobby", "odd key": "a&b=c" },
    extraHeaders: { "x-roomcast": "yes" },
  });
  await connected(good);
  const seen = await good.emitWithAck("handshake");
  out({ step: "good", id: good.id, seen });
  await refused("admin", "/admin", { auth: { token: "good" } });
  await refused("nope", "/nope", {});
  good.disconnect();
});
