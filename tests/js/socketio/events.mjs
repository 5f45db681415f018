// Events, acks and binary both ways over one transport ($TRANSPORT), against the server
// of tests/tests/socketio_interop_events.rs. One JSON line per step.
import { client, connected, main, next, norm, out, within } from "./lib.mjs";

const transport = process.env.TRANSPORT ?? "websocket";

const withCallback = (socket, ...args) =>
  within(new Promise((resolve) => socket.emit(...args, (...reply) => resolve(reply))), `ack of ${args[0]}`);

main(async () => {
  const s = client("/", { transports: [transport] });
  s.on("greet", (who, cb) => cb(`hi ${who}`));
  await connected(s);
  out({ step: "connected", id: s.id, transport: s.io.engine.transport.name });

  // Mixed argument types, several arguments.
  const profile = {
    name: "Ada",
    age: 36,
    tags: ["math", "engines"],
    address: { city: "London", zip: null },
    nick: null,
  };
  const list = [1, "two", { three: 3 }, [4], null];
  let reply = next(s, "mixed");
  s.emit("mixed", 'héllo ✓ "quoted"\n', -42, 3.25, true, null, profile, list);
  out({ step: "mixed", args: await reply });

  reply = next(s, "none");
  s.emit("no-args");
  out({ step: "no-args", args: await reply });

  reply = next(s, "spread");
  s.emit("spread", 1, 2, 3, 4, 5);
  out({ step: "spread", args: await reply });

  // Client → server acks.
  out({ step: "sum", result: await within(s.emitWithAck("sum", 40, 2), "sum ack") });
  out({ step: "multi-ack", args: await withCallback(s, "multi-ack") });

  // Binary both ways, nested in objects and arrays.
  reply = next(s, "bin");
  s.emit(
    "bin",
    {
      name: "file.bin",
      data: Buffer.from([1, 2, 3]),
      parts: [Buffer.from([4]), new Uint8Array([5, 6]), Buffer.alloc(0)],
      meta: { label: "m", thumb: Buffer.from([255, 0]) },
    },
    Buffer.from("extra"),
  );
  out({ step: "bin", args: norm(await reply) });
  out({ step: "bin-ack", args: norm(await withCallback(s, "bin-ack", Buffer.from([1, 2, 3, 250]))) });

  // Server → client acks: answered, answered with binary, never answered.
  const asked = [];
  s.on("question", (a, b, cb) => {
    asked.push({ event: "question", args: [a, b], cb: typeof cb });
    cb(`answer:${a}`, b * 2);
  });
  s.on("bin-question", (data, cb) => {
    asked.push({ event: "bin-question", args: norm([data]), cb: typeof cb });
    cb(Buffer.from(norm(data).bytes.reverse()));
  });
  s.on("never", (x, cb) => {
    asked.push({ event: "never", args: [x], cb: typeof cb });
  });
  const done = await within(s.emitWithAck("ask-me"), "ask-me ack");
  out({ step: "ask-me", result: done, asked });
  s.disconnect();
});
