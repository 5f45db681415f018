// Engine events seen from the real client: a refused handshake (allow_request
// rejects token=bad) on polling and on websocket; then a client with a cookie jar
// (`withCredentials`) that opens on polling and upgrades once (held back, then probed by
// hand as transports.mjs does, so the server's upgrade listener is surely registered):
// it reports the cookies its jar got from the server's `initial_headers` / `headers`
// answers, and the server reports how often its `socket.conn().on_upgrade` fired;
// then a default client, which upgrades on its own.
// Against tests/tests/socketio_interop_engine_events.rs.
import { client, connected, main, next, out, until } from "./lib.mjs";

main(async () => {
  for (const transport of ["polling", "websocket"]) {
    const s = client("/", { transports: [transport], query: { token: "bad" } });
    const [err] = await next(s, "connect_error");
    out({ step: "refused", transport, message: err.message });
    s.disconnect();
  }
  const s = client("/", { withCredentials: true, upgrade: false });
  await connected(s);
  const opened = s.io.engine.transport.name;
  s.io.engine._probe("websocket");
  await until(() => s.io.engine.transport.name === "websocket", "the upgrade to websocket");
  const report = await s.emitWithAck("report");
  const jar = Object.fromEntries([...s.io.engine._cookieJar.cookies].map(([k, c]) => [k, c.value]));
  out({ step: "upgraded", sid: s.io.engine.id, opened, jar, report });
  s.disconnect();
  // The default client: it upgrades on its own, as soon as it can.
  const d = client("/");
  await connected(d);
  await until(() => d.io.engine.transport.name === "websocket", "the default upgrade");
  out({ step: "default", report: await d.emitWithAck("report") });
  d.disconnect();
});
