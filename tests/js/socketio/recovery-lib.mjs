// What the cluster recovery scripts (recovery-across.mjs,
// recovery-cluster-node.mjs) share: the part of their scenario before V
// comes back, against a server with a `join` handler and a `fanout`
// handler ({room, count, payload}: `count` events "fanout" with `payload`
// to `room`).
import { client, connected, next, until } from "./lib.mjs";

/**
 * V, a new client of "/" (`opts`), joins "r" and gets one "fanout" ("a")
 * sent by D; then V leaves (`leave(v)`, its transport cut by default) and
 * D fans out five "b" to "r" while V is away. Resolves to {v, payloads,
 * firstId}: `payloads` collects every "fanout" V gets, from then on too.
 */
export async function missFanouts(d, opts, leave = (v) => v.io.engine.close()) {
  const v = client("/", opts);
  const payloads = [];
  v.on("fanout", (p) => payloads.push(p));
  await connected(v);
  const firstId = v.id;
  await v.emitWithAck("join", "r");
  await d.emitWithAck("fanout", { room: "r", count: 1, payload: "a" });
  await until(() => payloads.length === 1, "first fanout");
  const gone = next(v, "disconnect");
  leave(v);
  await gone;
  await d.emitWithAck("fanout", { room: "r", count: 5, payload: "b" });
  return { v, payloads, firstId };
}
