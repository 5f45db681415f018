// Disconnections and reconnections, one $SCENARIO per run, over $TRANSPORT.
// Against tests/tests/socketio_interop_lifecycle.rs.
import { Manager, URL, client, connected, main, out, sleep, until, within } from "./lib.mjs";

const scenario = process.env.SCENARIO;
const transports = [process.env.TRANSPORT ?? "websocket"];
// Fast automatic reconnection: a reconnection, if any, happens within ~100 ms.
const fast = { reconnection: true, reconnectionDelay: 50, reconnectionDelayMax: 100, randomizationFactor: 0 };

function track(s) {
  const t = { connects: 0, ids: [], reasons: [] };
  s.on("connect", () => {
    t.connects++;
    t.ids.push(s.id);
  });
  s.on("disconnect", (reason) => t.reasons.push(reason));
  return t;
}

/**
 * A separate websocket client that the server tells of every disconnect ("gone", id,
 * reason), so a script can wait until the server has seen its last packet.
 */
async function observer() {
  const o = client("/", { transports: ["websocket"], auth: { observer: true } });
  const gone = new Map();
  o.on("gone", (id, reason) => gone.set(id, reason));
  await connected(o);
  return async (id) => {
    await until(() => gone.has(id), `the server seeing ${id} leave`);
    return gone.get(id);
  };
}

async function reconnectAfter(trigger) {
  const left = await observer();
  const s = client("/", { transports, ...fast });
  const t = track(s);
  await connected(s);
  const eid = s.io.engine.id;
  out({ step: "ids", id: s.id, eid });
  trigger(s, eid);
  await until(() => t.connects >= 2, "automatic reconnection");
  const where = await within(s.emitWithAck("where"), "where after reconnecting");
  const second = s.id;
  s.disconnect();
  out({ step: "done", t, where, newEngine: s.io.engine.id !== eid, transport: s.io.engine.transport.name });
  out({ step: "server-reasons", first: await left(t.ids[0]), second: await left(second) });
}

const scenarios = {
  // The client leaves `/`; `/chat` on the same connection goes on; leaving it too
  // closes the connection.
  "client-disconnect": async () => {
    const left = await observer();
    const m = new Manager(URL, { transports, reconnection: false });
    const root = m.socket("/");
    const chat = m.socket("/chat");
    const tr = track(root);
    const tc = track(chat);
    await Promise.all([connected(root), connected(chat)]);
    out({ step: "ids", root: root.id, chat: chat.id });
    root.disconnect();
    out({ step: "chat-still", where: await within(chat.emitWithAck("where"), "where on /chat") });
    chat.disconnect();
    await until(() => m.engine.readyState === "closed", "the manager closing its connection");
    out({ step: "done", root: tr, chat: tc });
    out({ step: "server-reasons", root: await left(tr.ids[0]), chat: await left(tc.ids[0]) });
  },

  // The server disconnects the socket (`kick`: `socket.disconnect()`, `kick-all`:
  // `socket.disconnect_all()`): "io server disconnect", and no reconnection.
  "server-disconnect": async () => {
    const left = await observer();
    const s = client("/", { transports, ...fast });
    const t = track(s);
    await connected(s);
    out({ step: "ids", id: s.id });
    s.emit(process.env.KICK);
    await until(() => t.reasons.length > 0, "disconnect");
    await sleep(600); // a reconnection would have happened by now
    out({ step: "done", t, connected: s.connected, active: s.active });
    out({ step: "server-reasons", id: await left(t.ids[0]) });
  },

  // The server shuts down (`io.shutdown(grace)`): no DISCONNECT packet, the connection
  // closes.
  "server-close": async () => {
    const s = client("/", { transports });
    const t = track(s);
    await connected(s);
    out({ step: "ids", id: s.id });
    s.emit("shutdown");
    await until(() => t.reasons.length > 0, "disconnect");
    out({ step: "done", t });
  },

  // The client closes its Engine.IO connection.
  "engine-close": async () => {
    const left = await observer();
    const s = client("/", { transports });
    const t = track(s);
    await connected(s);
    out({ step: "ids", id: s.id });
    s.io.engine.close();
    await until(() => t.reasons.length > 0, "disconnect");
    out({ step: "done", t });
    out({ step: "server-reasons", id: await left(t.ids[0]) });
  },

  // The process dies without closing anything.
  killed: async () => {
    const s = client("/", { transports });
    await connected(s);
    out({ step: "ids", id: s.id });
    process.kill(process.pid, "SIGKILL");
    await sleep(10000);
  },

  // The server closes the Engine.IO session: the client reconnects, with a new id.
  "reconnect-forced": () => reconnectAfter((s, eid) => s.emit("close-engine", eid)),

  // The client stops answering pings: the server times it out, the client reconnects
  // (on a new Engine.IO connection, which answers pings again).
  "reconnect-ping-timeout": () =>
    reconnectAfter((s) => {
      const engine = s.io.engine;
      const send = engine._sendPacket.bind(engine);
      engine._sendPacket = (type, ...rest) => (type === "pong" ? undefined : send(type, ...rest));
    }),
};

main(async () => {
  const run = scenarios[scenario];
  if (!run) throw new Error(`unknown SCENARIO ${scenario}`);
  await run();
});
