// @socket.io/redis-emitter publishing to the clients of every server in
// SERVERS (see lib.mjs): to all, to a room, except a room, binary, a
// server-side emit (the "tell" extension of cluster-node.mjs), then
// socketsJoin / socketsLeave / disconnectSockets. REDIS_URL and KEY as for
// the servers. Each server has two clients: "in" (room E) and "out" (room X).
import { Emitter } from "@socket.io/redis-emitter";
import { createClient } from "redis";
import { SERVERS, STEP_MS, call, check, client, got, main, sleep, until } from "./lib.mjs";

const REDIS_URL = process.env.REDIS_URL || "redis://127.0.0.1:6379";
const KEY = process.env.KEY || "socket.io";
const BIN = Buffer.from([0, 1, 2, 127, 128, 255]);
const BIN_JSON = { bytes: [0, 1, 2, 127, 128, 255] };

main(async () => {
  const redis = createClient({ url: REDIS_URL });
  redis.on("error", (err) => console.error(`redis: ${err.message}`));
  await redis.connect();
  const emitter = new Emitter(redis, { key: KEY });

  const nodes = await Promise.all(
    SERVERS.map(async (S) => {
      const [cin, cout] = await Promise.all([client(S, `in@${S.name}`), client(S, `out@${S.name}`)]);
      await call(cin, "join", "E");
      await call(cout, "join", "X");
      return { S, cin, cout };
    }),
  );
  const everyone = nodes.flatMap((n) => [n.cin, n.cout]);
  const probe = nodes[0].cin;
  const roomSize = async (room) => (await call(probe, "room-size", room))[0];
  const each = async (name, want, observe) => {
    for (const n of nodes) await check({ check: name, from: "emitter", to: n.S.name }, want, () => observe(n));
  };
  /** Everything `c` got of `event` (arguments). */
  const args = (c, event) => got(c, event);

  // Broadcasts, then a marker to all: one Redis connection publishes them
  // all, so each server gets them in this order.
  emitter.emit("e-all", 1, { a: "b" }, BIN);
  emitter.to("E").emit("e-room", "x");
  emitter.except("X").emit("e-except", "y");
  emitter.to(["E", "X"]).except("X").emit("e-rooms-except", "z");
  emitter.emit("e-end");
  await until(() => everyone.every((c) => args(c, "e-end").length === 1), "e-end on every client").catch(() => {});
  const all = [1, { a: "b" }, BIN_JSON];
  await each("emit-all", { in: [all], out: [all] }, ({ cin, cout }) => ({ in: args(cin, "e-all"), out: args(cout, "e-all") }));
  await each("emit-room", { in: [["x"]], out: [] }, ({ cin, cout }) => ({ in: args(cin, "e-room"), out: args(cout, "e-room") }));
  await each("emit-except", { in: [["y"]], out: [] }, ({ cin, cout }) => ({ in: args(cin, "e-except"), out: args(cout, "e-except") }));
  await each("emit-rooms-except", { in: [["z"]], out: [] }, ({ cin, cout }) => ({
    in: args(cin, "e-rooms-except"),
    out: args(cout, "e-rooms-except"),
  }));

  // serverSideEmit reaches every server once; each tells its own clients.
  emitter.serverSideEmit("tell", "e-server", "hello", 7);
  await until(() => everyone.every((c) => args(c, "e-server").length > 0), "e-server on every client").catch(() => {});
  await sleep(200); // a duplicate would show up here
  await each("server-side-emit", { in: [["hello", 7]], out: [["hello", 7]] }, ({ cin, cout }) => ({
    in: args(cin, "e-server"),
    out: args(cout, "e-server"),
  }));

  // Room changes and disconnects on the request channel (polled: another
  // channel than the broadcasts, so no order with them).
  const settle = async (cond, what) => {
    const deadline = Date.now() + STEP_MS;
    while (!(await cond())) {
      if (Date.now() > deadline) return console.error(`gave up waiting: ${what}`);
      await sleep(20);
    }
  };
  const broadcastAndMark = async (event) => {
    emitter.to("J").emit(event, 1);
    emitter.emit(`${event}-end`);
    await until(() => everyone.every((c) => args(c, `${event}-end`).length === 1), `${event}-end`).catch(() => {});
  };
  emitter.in("E").socketsJoin("J");
  await settle(async () => (await roomSize("J")) === nodes.length, "J has every in-client");
  await broadcastAndMark("e-joined");
  await each("sockets-join", { in: [[1]], out: [] }, ({ cin, cout }) => ({ in: args(cin, "e-joined"), out: args(cout, "e-joined") }));

  emitter.in("E").socketsLeave("J");
  await settle(async () => (await roomSize("J")) === 0, "J empty");
  await broadcastAndMark("e-left");
  await each("sockets-leave", { in: [], out: [] }, ({ cin, cout }) => ({ in: args(cin, "e-left"), out: args(cout, "e-left") }));

  emitter.in("X").disconnectSockets();
  await until(() => nodes.every(({ cout }) => cout.reasons.length > 0), "every out-client disconnected").catch(() => {});
  await each("disconnect-sockets", { in: [], out: ["io server disconnect"] }, ({ cin, cout }) => ({
    in: cin.reasons,
    out: cout.reasons,
  }));
  await redis.quit();
  console.log(JSON.stringify({ done: true }));
});
