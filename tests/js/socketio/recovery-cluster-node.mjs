// Against the `cluster-node` example (tests/tests/cluster_interop_recovery.rs): V joins
// "r" and gets one `fanout`; V's transport is cut; D fans out 5 more to "r"; V
// reconnects. Reports whether V was recovered, its ids and every payload it got.
import { client, connected, main, next, out, until } from "./lib.mjs";
import { missFanouts } from "./recovery-lib.mjs";

const transports = [process.env.TRANSPORT ?? "websocket"];

main(async () => {
  const d = client("/", { transports });
  await connected(d);
  const { v, payloads, firstId } = await missFanouts(d, { transports });
  const back = next(v, "connect");
  v.connect();
  await back;
  await d.emitWithAck("fanout", { room: "r", count: 1, payload: "c" });
  await until(() => payloads.includes("c") || !v.recovered, "after reconnect");
  out({ step: "result", recovered: v.recovered === true, sameId: v.id === firstId, payloads });
});
