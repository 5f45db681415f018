// Every operation of the cluster contract (cluster-node.mjs), checked in
// every direction between the SERVERS (see lib.mjs): for each ordered pair
// (from, to), including a server with itself, a client on `from` triggers
// the operation and clients on `to` observe it. Pairs run concurrently,
// each with its own clients and rooms. Then, per server: echo, echo-ack,
// servers; and a room with one member on every server, driven from each.
import { SERVERS, call, check, client, got, main, sleep, until } from "./lib.mjs";

const BIN = Buffer.from([0, 1, 2, 127, 128, 255]);
const BIN_JSON = { bytes: [0, 1, 2, 127, 128, 255] };

/** Emits a one-event "marker" fanout to `room` and waits until every client in `seen` has it. */
async function marker(from, room, seen) {
  const ack = await call(from, "fanout", { room, count: 1, payload: "marker" });
  if (ack[0] !== true) throw new Error(`marker fanout acked ${JSON.stringify(ack)}`);
  await until(() => seen.every((c) => got(c, "fanout").some(([p]) => p === "marker")), "the marker");
}

/** The fanout payloads `c` got before the marker. */
const before = (c) => {
  const all = got(c, "fanout").map(([p]) => p);
  return all.slice(0, all.indexOf("marker"));
};

const reset = (...cs) => cs.forEach((c) => (c.log.length = 0));

async function pair(F, T) {
  const tag = `${F.name}>${T.name}`;
  const at = (name) => ({ check: name, from: F.name, to: T.name });
  const room = `room:${tag}`;
  const all = `all:${tag}`;
  const f = await client(F, `${tag}/f`);
  const [t1, t2, t3] = await Promise.all(["t1", "t2", "t3"].map((n) => client(T, `${tag}/${n}`)));
  const ts = [t1, t2, t3];

  await check(at("join"), [[true], [true], [true], [true], [true]], async () =>
    Promise.all([
      call(t1, "join", room),
      call(t3, "join", room),
      call(t1, "join", all),
      call(t2, "join", all),
      call(t3, "join", all),
    ]),
  );

  const payload = { text: "héllo ☃", n: 42, list: [1, null, true] };
  await check(at("fanout"), { ack: [true], t1: [payload, payload, payload], t2: [], t3: [payload, payload, payload] }, async () => {
    reset(...ts);
    const ack = await call(f, "fanout", { room, count: 3, payload });
    await marker(f, all, ts);
    return { ack, t1: before(t1), t2: before(t2), t3: before(t3) };
  });

  await check(at("fanout-binary"), { t1: [{ data: BIN_JSON }], t2: [], t3: [{ data: BIN_JSON }] }, async () => {
    reset(...ts);
    await call(f, "fanout", { room, count: 1, payload: { data: BIN } });
    await marker(f, all, ts);
    return { t1: before(t1), t2: before(t2), t3: before(t3) };
  });

  await check(at("room-size"), [2], () => call(f, "room-size", room));

  await check(at("ack-all"), [[`${tag}/t1:who`, `${tag}/t3:who`]], () => call(f, "ack-all", room));

  // Extensions beyond the contract (see cluster-node.mjs).
  await check(at("fanout-except"), { t1: [], t2: ["except"], t3: [] }, async () => {
    reset(...ts);
    await call(f, "fanout", { room: all, except: [room], count: 1, payload: "except" });
    await marker(f, all, ts);
    return { t1: before(t1), t2: before(t2), t3: before(t3) };
  });

  const local = F === T ? ["local"] : [];
  await check(at("fanout-local"), { t1: local, t2: local, t3: local }, async () => {
    reset(...ts);
    await call(f, "fanout", { room: all, local: true, count: 1, payload: "local" });
    await marker(f, all, ts);
    return { t1: before(t1), t2: before(t2), t3: before(t3) };
  });

  const joined = `joined:${tag}`;
  const sizeOf = async (r) => (await call(f, "room-size", r))[0];
  const settle = async (cond) => {
    const deadline = Date.now() + 3000;
    while (!(await cond()) && Date.now() < deadline) await sleep(20);
  };
  await check(at("sockets-join"), { ack: [true], size: 2, t1: ["joined"], t2: [], t3: ["joined"] }, async () => {
    reset(...ts);
    const ack = await call(f, "sockets-join", { room, join: joined });
    await settle(async () => (await sizeOf(joined)) === 2);
    await call(f, "fanout", { room: joined, count: 1, payload: "joined" });
    await marker(f, all, ts);
    return { ack, size: await sizeOf(joined), t1: before(t1), t2: before(t2), t3: before(t3) };
  });

  await check(at("sockets-leave"), { ack: [true], size: 0, t1: [], t3: [] }, async () => {
    reset(...ts);
    const ack = await call(f, "sockets-leave", { room, leave: joined });
    await settle(async () => (await sizeOf(joined)) === 0);
    await call(f, "fanout", { room: joined, count: 1, payload: "still joined" });
    await marker(f, all, ts);
    return { ack, size: await sizeOf(joined), t1: before(t1), t3: before(t3) };
  });

  const data = (c) => ({ who: c.name, list: [1, "two"] });
  await check(at("fetch-data"), [[data(t1), data(t3)]], async () => {
    await Promise.all([call(t1, "set-data", data(t1)), call(t3, "set-data", data(t3))]);
    return call(f, "room-data", room);
  });

  await check(at("remote-emit"), { ack: [2], t1: [["direct"]], t2: [], t3: [["direct"]] }, async () => {
    reset(...ts);
    const ack = await call(f, "remote-emit", { room, event: "direct", payload: "direct" });
    await until(() => got(t1, "direct").length > 0 && got(t3, "direct").length > 0, "direct on t1 and t3");
    await marker(f, all, ts);
    return { ack, t1: got(t1, "direct"), t2: got(t2, "direct"), t3: got(t3, "direct") };
  });

  await check(at("leave"), { ack: [true], size: [1], t1: ["after leave"], t3: [] }, async () => {
    reset(...ts);
    const ack = await call(t3, "leave", room);
    const size = await call(f, "room-size", room);
    await call(f, "fanout", { room, count: 1, payload: "after leave" });
    await marker(f, all, ts);
    return { ack, size, t1: before(t1), t3: before(t3) };
  });

  await check(
    at("kick"),
    { ack: [true], t1: ["io server disconnect"], size: [0], t2: ["still here"], t3: ["still here"] },
    async () => {
      const ack = await call(f, "kick", room);
      await until(() => t1.reasons.length > 0, "t1 disconnected");
      const size = await call(f, "room-size", room);
      const [e2, e3] = await Promise.all([call(t2, "echo-ack", "still here"), call(t3, "echo-ack", "still here")]);
      return { ack, t1: t1.reasons, size, t2: e2, t3: e3 };
    },
  );
}

async function single(S) {
  const at = (name) => ({ check: name, from: S.name, to: S.name });
  const c = await client(S, `single@${S.name}`);
  const args = [1, "two", { three: [3] }, BIN, null];
  const argsJson = [1, "two", { three: [3] }, BIN_JSON, null];
  await check(at("echo"), argsJson, async () => {
    c.socket.emit("echo", ...args);
    await until(() => got(c, "echo").length > 0, "echo back");
    return got(c, "echo")[0];
  });
  await check(at("echo-ack"), argsJson, () => call(c, "echo-ack", ...args));
  await check(at("servers"), [SERVERS.length], () => call(c, "servers"));
}

async function everywhere() {
  const room = "everywhere";
  const cs = await Promise.all(SERVERS.map((S) => client(S, `g@${S.name}`)));
  for (const c of cs) await call(c, "join", room);
  const names = cs.map((c) => `${c.name}:who`).sort();
  for (const [i, S] of SERVERS.entries()) {
    const at = (name) => ({ check: name, from: S.name, to: "*" });
    const c = cs[i];
    await check(at("room-size"), [SERVERS.length], () => call(c, "room-size", room));
    await check(at("ack-all"), [names], () => call(c, "ack-all", room));
    await check(
      at("fanout"),
      cs.map(() => [`from ${S.name}`, `from ${S.name}`]),
      async () => {
        reset(...cs);
        await call(c, "fanout", { room, count: 2, payload: `from ${S.name}` });
        await marker(c, room, cs);
        return cs.map(before);
      },
    );
  }
}

main(async () => {
  const pairs = SERVERS.flatMap((F) => SERVERS.map((T) => [F, T]));
  await Promise.all([...pairs.map(([F, T]) => pair(F, T)), ...SERVERS.map(single)]);
  await everywhere();
  console.log(JSON.stringify({ done: true }));
});
