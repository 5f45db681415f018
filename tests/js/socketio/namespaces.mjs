// Several namespaces on one connection (a Manager): `/`, `/chat`, a dynamic
// `/room-42`, and `/nope` (refused). Against tests/tests/socketio_interop_events.rs.
import { Manager, URL, client, connected, main, next, out, until, within } from "./lib.mjs";

main(async () => {
  const m = new Manager(URL, {
    transports: ["websocket"],
    reconnection: false,
  });
  const sockets = { main: m.socket("/"), chat: m.socket("/chat"), dyn: m.socket("/room-42") };
  const logs = { main: [], chat: [], dyn: [], other: [] };
  for (const [name, s] of Object.entries(sockets)) s.onAny((...a) => logs[name].push(a));
  const bad = m.socket("/nope");
  const refused = next(bad, "connect_error");

  await Promise.all(Object.values(sockets).map((s) => connected(s)));
  out({ step: "ids", ids: Object.fromEntries(Object.entries(sockets).map(([k, s]) => [k, s.id])) });
  const [err] = await refused;
  out({ step: "refused", message: err.message, connected: bad.connected });

  const other = client("/", { transports: ["websocket"] });
  other.onAny((...a) => logs.other.push(a));
  await connected(other);
  out({ step: "other", id: other.id });

  for (const [name, s] of Object.entries(sockets)) {
    out({ step: "where", name, answer: await within(s.emitWithAck("where"), `where on ${name}`) });
  }

  await within(sockets.main.emitWithAck("poke"), "poke ack");
  // The namespaced emits share main's connection, so they came before the ack;
  // `other` has its own connection: wait for it.
  await until(() => logs.other.some(([ev]) => ev === "main-only"), "main-only on the other client");
  out({ step: "logs", logs });

  // Leaving /chat keeps the others on the same connection.
  sockets.chat.disconnect();
  out({ step: "after-leave", answer: await within(sockets.main.emitWithAck("where"), "where after leave") });
  sockets.main.disconnect();
  sockets.dyn.disconnect();
  other.disconnect();
});
