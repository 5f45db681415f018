// Recovery across two cluster nodes (tests/tests/cluster_interop_streams.rs):
// V connects to node A (PORT) and joins "r"; D, on node B (PORT_B), fans out
// "a" to "r"; V's transport is cut (MODE=cut or away) or V disconnects on
// purpose (MODE=disconnect); D fans out five "b"; V reconnects — to node B;
// D fans out "c". MODE=away waits AWAY_MS before reconnecting. MODE=fresh
// connects a new client to B with a made-up {pid, offset} in its auth.
// MODE=restart shuts the Redis at REDIS_URL down while V is away (the test
// starts it again), waits for the nodes to reconnect, and after V is back
// fans out "x" to "r", has V join "r" again, then fans out "c"; while Redis
// is down, D (on B, in "r2") must still get a fanout to "r2".
// Reports whether V was recovered, whether it kept its id, and its payloads.
import { connected, io, main, next, out, sleep, until } from "./lib.mjs";
import { missFanouts } from "./recovery-lib.mjs";

const transports = [process.env.TRANSPORT ?? "websocket"];
const MODE = process.env.MODE ?? "cut";
const B = `http://127.0.0.1:${process.env.PORT_B}`;

main(async () => {
  const d = io(B, { forceNew: true, reconnection: false, transports });
  await connected(d);
  if (MODE === "fresh") {
    const f = io(B, { forceNew: true, reconnection: false, transports, auth: { pid: "made-up", offset: "1-0" } });
    await connected(f);
    out({ step: "result", recovered: f.recovered === true, sameId: false, payloads: [] });
    f.close();
    d.close();
    return;
  }
  const leave = (v) => (MODE === "disconnect" ? v.disconnect() : v.io.engine.close());
  const { v, payloads, firstId } = await missFanouts(d, { transports }, leave);
  // The old node has to see the connection go (and store the session)
  // before V shows up elsewhere: a real client waits its reconnection
  // delay (at least 1 s by default).
  await sleep(MODE === "away" ? Number(process.env.AWAY_MS ?? 1500) : 1000);
  if (MODE === "restart") {
    const { createClient } = await import("redis");
    const r = createClient({ url: process.env.REDIS_URL });
    r.on("error", () => {});
    await r.connect();
    await d.emitWithAck("join", "r2");
    await r.sendCommand(["SHUTDOWN", "NOSAVE"]).catch(() => {});
    await r.disconnect().catch(() => {});
    // While Redis is away, a node still serves its own clients.
    const got = [];
    d.on("fanout", (p) => got.push(p));
    await sleep(200);
    await d.emitWithAck("fanout", { room: "r2", count: 1, payload: "down" });
    await until(() => got.includes("down"), "a local broadcast while redis is down");
    d.off("fanout");
    // Down, started again by the test, then the nodes' links come back
    // (their backoff is at most 2 s).
    await sleep(4000);
  }
  // Back through node B: the manager opens its next engine there.
  v.io.uri = B;
  const back = next(v, "connect");
  v.connect();
  await back;
  if (MODE === "restart") {
    await d.emitWithAck("fanout", { room: "r", count: 1, payload: "x" });
    await sleep(300);
    await v.emitWithAck("join", "r");
  }
  await d.emitWithAck("fanout", { room: "r", count: 1, payload: "c" });
  await until(() => payloads.includes("c") || (!v.recovered && MODE !== "restart"), "after reconnect");
  await sleep(200);
  out({ step: "result", recovered: v.recovered === true, sameId: v.id === firstId, payloads });
  v.close();
  d.close();
});
