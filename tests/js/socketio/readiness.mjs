// $CONNECTIONS real clients ($TRANSPORT, default websocket), $BATCH at a time: each emits
// "first" the instant it is connected (in its first `connect` listener) and waits for the
// server's "got" answer. Reports how many got it. Against tests/tests/socketio_ordering.rs.
import { client, connected, main, out, within } from "./lib.mjs";

const total = Number(process.env.CONNECTIONS ?? 2000);
const batch = Number(process.env.BATCH ?? 200);
const transports = [process.env.TRANSPORT ?? "websocket"];

main(async () => {
  const started = Date.now();
  let ok = 0;
  const failed = [];
  const latencies = [];
  const one = async (i) => {
    const t0 = Date.now();
    const s = client("/", { transports });
    const got = new Promise((resolve) => s.once("got", resolve));
    s.once("connect", () => s.emit("first", i));
    try {
      await connected(s);
      const n = await within(got, `"got" for client ${i}`);
      if (n !== i) throw new Error(`client ${i} got ${n}`);
      latencies.push(Date.now() - t0);
      ok++;
    } catch (e) {
      failed.push(`${i}: ${e.message}`);
    } finally {
      s.disconnect();
    }
  };
  for (let start = 0; start < total; start += batch) {
    const ids = [];
    for (let i = start; i < Math.min(total, start + batch); i++) ids.push(i);
    await Promise.all(ids.map(one));
  }
  latencies.sort((a, b) => a - b);
  const pct = (p) => latencies[Math.min(latencies.length - 1, Math.floor((p / 100) * latencies.length))] ?? null;
  const latency = { p50: pct(50), p99: pct(99), max: latencies.at(-1) ?? null };
  out({ step: "done", total, ok, failed: failed.length, examples: failed.slice(0, 10), ms: Date.now() - started, latency });
});
