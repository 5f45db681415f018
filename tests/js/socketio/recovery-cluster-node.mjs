// Against the `cluster-node` example (tests/tests/cluster_interop_recovery.rs): V joins
// "r" and gets one `fanout`; V's transport is cut; D fans out 5 more to "r"; V
// reconnects. Reports whether V was recovered, its ids and every payload it got.
import { client, connected, main, next, out, until } from "./lib.mjs";

const transports = [process.env.TRANSPORT ?? "websocket"];

main(async () => {
  const v = client("/", { transports });
  const payloads = [];
  v.on("fanout", (p) => payloads.push(p));
  await connected(v);
  const firstId = v.id;
  await v.emitWithAck("join", "r");
  const d = client("/", { transports });
  await connected(d);
  await d.emitWithAck("fanout", { room: "r", count: 1, payload: "a" });
  await until(() => payloads.length === 1, "first fanout");
  const gone = next(v, "disconnect");
  v.io.engine.close();
  await gone;
  await d.emitWithAck("fanout", { room: "r", count: 5, payload: "b" });
  const back = next(v, "connect");
  v.connect();
  await back;
  await d.emitWithAck("fanout", { room: "r", count: 1, payload: "c" });
  await until(() => payloads.includes("c") || !v.recovered, "after reconnect");
  out({ step: "result", recovered: v.recovered === true, sameId: v.id === firstId, payloads });
});
