// Connection state recovery against tests/tests/socketio_interop_recovery.rs.
// SCENARIO:
//  - "cut": a victim V (in room "r", joined by the server on a fresh connect only)
//    and a driver D. D asks the server to stream N events to "r"; V cuts its
//    transport (engine.close()) after 20 of them; once the stream is done (D's ack) V
//    reconnects and must be recovered (same id, socket.recovered), get every event
//    0..N-1 exactly once and in order, and still be in "r" (a later broadcast).
//  - "expired": V gets one event, cuts, waits AWAY_MS, reconnects: not recovered.
//  - "on-purpose": V gets one event, disconnects itself, reconnects: not recovered.
// Reports {step:"result", ...} with what V saw.
import { client, connected, main, next, norm, out, sleep, until } from "./lib.mjs";

const transports = [process.env.TRANSPORT ?? "websocket"];
const scenario = process.env.SCENARIO ?? "cut";
const N = Number(process.env.N ?? 200);

main(async () => {
  const v = client("/", { transports, auth: { room: "r" } });
  const seen = [];
  const offsets = [];
  const hellos = [];
  v.on("n", (i, offset) => {
    seen.push(i);
    offsets.push(offset);
  });
  v.on("hello", (h) => hellos.push(h));
  const bins = [];
  v.on("bin", (i, b, offset) => bins.push([i, norm(b), typeof offset]));
  let volatiles = 0;
  v.on("v", () => volatiles++);
  await connected(v);
  const firstId = v.id;
  const fresh = v.recovered;
  await until(() => hellos.length === 1, "hello");
  // A socket's own emit carries an offset too.
  v.emit("own");
  const [ownValue, ownOffset] = await next(v, "own");

  const reconnect = async () => {
    const c = next(v, "connect");
    v.connect();
    await c;
    await until(() => hellos.length === 2, "second hello");
  };

  if (scenario === "cut") {
    const d = client("/", { transports, auth: { room: "d" } });
    await connected(d);
    const streamed = d.emitWithAck("stream", { from: 0, count: N });
    await until(() => seen.length >= 20, "20 events before the cut");
    const seenBeforeCut = seen.length;
    v.io.engine.close();
    await streamed;
    const awayId = v.id; // undefined while disconnected
    await reconnect();
    await until(() => seen.length >= N, `all ${N} events`);
    // Still in "r" without the server joining it again.
    await d.emitWithAck("stream", { from: N, count: 3 });
    await until(() => seen.length >= N + 3, "events after recovery");
    await sleep(100); // a duplicate would show up here
    out({
      step: "result",
      fresh,
      firstId,
      id: v.id,
      awayId: awayId ?? null,
      recovered: v.recovered,
      hellos,
      seen,
      bins: bins.map(([i, b]) => [i, b]),
      binOffsets: bins.map(([, , o]) => o),
      volatiles,
      seenBeforeCut,
      ownValue,
      ownOffset,
      offsetsAreStrings: offsets.every((o) => typeof o === "string"),
      distinctOffsets: new Set(offsets).size,
    });
    return;
  }

  const d = client("/", { transports, auth: { room: "d" } });
  await connected(d);
  await d.emitWithAck("stream", { from: 0, count: 1 });
  await until(() => seen.length === 1, "one event");
  if (scenario === "expired") {
    v.io.engine.close();
    await sleep(Number(process.env.AWAY_MS ?? 1500));
    await d.emitWithAck("stream", { from: 1, count: 2 });
  } else {
    v.disconnect();
    await d.emitWithAck("stream", { from: 1, count: 2 });
  }
  await reconnect();
  await sleep(300);
  out({ step: "result", fresh, firstId, id: v.id, recovered: v.recovered, hellos, seen });
});
