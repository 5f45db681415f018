// socket.io-client with socket.io-msgpack-parser (PARSER=msgpack) over one transport
// ($TRANSPORT), against tests/tests/socketio_interop_msgpack.rs: events, acks both ways,
// binary, rooms and broadcasts; then a client that sends a frame which is not a
// MessagePack packet is closed while the others stay up. One JSON line per step.
import { client, connected, main, next, norm, out, sleep, within } from "./lib.mjs";

const transports = [process.env.TRANSPORT ?? "websocket"];

/** Every argument of the ack (emitWithAck would take a first one as an error). */
const withCallback = (socket, ...args) =>
  within(new Promise((resolve) => socket.emit(...args, (...reply) => resolve(reply))), `ack of ${args[0]}`);

main(async () => {
  const a = client("/", { transports });
  const b = client("/", { transports });
  await Promise.all([connected(a), connected(b)]);
  out({ step: "connected", transport: a.io.engine.transport.name });

  // Client → server with ack, binary nested and on top.
  const echo = await withCallback(a, "echo", "héllo", 41, {
    name: "f",
    data: Buffer.from([1, 2, 3]),
    parts: [new Uint8Array([7, 8])],
  });
  out({ step: "echo", args: norm(echo), isBuffer: Buffer.isBuffer(echo[0].data) });

  // Server → client with ack (binary in the question and in the answer).
  a.on("question", (what, data, cb) => cb(`answer:${what}`, Buffer.from(norm(data).bytes.reverse())));
  out({ step: "ask-me", result: await within(a.emitWithAck("ask-me"), "ask-me ack") });

  // Rooms: a joins "r"; b broadcasts to "r" (a gets it, b does not).
  await within(a.emitWithAck("join", "r"), "join ack");
  const bRoom = [];
  b.on("room-msg", (...args) => bRoom.push(args));
  let got = next(a, "room-msg");
  await within(b.emitWithAck("to-room", "r", Buffer.from("hi r")), "to-room ack");
  out({ step: "room", a: norm(await got) });

  // A broadcast to everyone, and one from b to everyone else.
  const all = [next(a, "all-msg"), next(b, "all-msg")];
  await within(b.emitWithAck("to-all", 5), "to-all ack");
  out({ step: "all", args: norm(await Promise.all(all)) });
  const others = [];
  b.on("others-msg", (...args) => others.push(args));
  got = next(a, "others-msg");
  b.emit("to-others", { big: "x".repeat(3000) });
  out({ step: "others", a: (await got)[0].big.length });
  await sleep(100);
  out({ step: "b-room", count: bRoom.length, others: others.length });

  // A frame the server cannot decode closes only that connection.
  const c = client("/", { transports });
  await connected(c);
  const reason = next(c, "disconnect");
  c.io.engine.write(Buffer.from([0xc1, 0x00]));
  out({ step: "bad", reason: (await reason)[0] });
  const still = await withCallback(a, "echo", "still", 1, { name: "g", data: Buffer.alloc(0), parts: [] });
  out({ step: "after-bad", args: norm(still), aConnected: a.connected, bConnected: b.connected });
});
