// Traffic both ways on one transport ($TRANSPORTS = "websocket" or "polling"), or across
// the polling → websocket upgrade ($TRANSPORTS = "polling,websocket"): the client sends
// numbered "n" events in bursts from the moment it connects until well after the
// upgrade, the server echoes each and streams "tick"s of its own; "stop" ends the ticks
// and acks the last one sent. With $UPGRADE=held the automatic upgrade is held back
// (`upgrade: false`) and the probe is started by hand (engine.io-client 6.6's `_probe`)
// once traffic flows over polling, so events are surely in flight during the upgrade;
// otherwise the client upgrades on its own, possibly before it is even connected.
// Against tests/tests/socketio_interop_transports.rs.
import { client, main, out, sleep, until, within } from "./lib.mjs";

const transports = (process.env.TRANSPORTS ?? "polling,websocket").split(",");
const upgrading = transports.length > 1;
const AFTER = 100; // events sent once on the final transport

const held = process.env.UPGRADE === "held";

main(async () => {
  const s = client("/", { transports, upgrade: !held });
  const echoes = [];
  const ticks = [];
  const sent = []; // [n, transport at send time]
  const upgrades = [];
  s.on("echo", (n) => echoes.push(n));
  s.on("tick", (n) => ticks.push(n));
  const opened = new Promise((resolve) => s.once("connect", resolve));
  s.io.on("open", () => s.io.engine.on("upgrade", (t) => upgrades.push(t.name)));
  let n = 0;
  const burst = () => {
    for (let i = 0; i < 5; i++) {
      sent.push([n, s.io.engine.transport.name]);
      s.emit("n", n++);
    }
  };
  // The first burst goes out in the connect listener, the instant the socket is ready.
  s.once("connect", burst);
  await within(opened, "connect");
  if (held) {
    for (let i = 0; i < 10; i++) {
      burst();
      await sleep(2);
    }
    if (s.io.engine.transport.name !== "polling") throw new Error("upgraded too early");
    s.io.engine._probe("websocket");
  }
  if (upgrading) {
    await until(() => {
      burst();
      return s.io.engine.transport.name === "websocket";
    }, "the upgrade to websocket");
  }
  const last = n + AFTER;
  while (n < last) {
    burst();
    await sleep(1);
  }
  await until(() => echoes.length >= n, `echoes of ${n} events`);
  const lastTick = await within(s.emitWithAck("stop"), "stop ack");
  out({
    step: "done",
    sent: n,
    echoes,
    sentOn: sent.map(([, t]) => t),
    ticks,
    lastTick,
    upgrades,
    transport: s.io.engine.transport.name,
  });
  s.disconnect();
  await sleep(20);
});
