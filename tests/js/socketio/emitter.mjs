// Node's EventEmitter habits on a roomcast socket, seen from the real client:
// several connect handlers, several listeners of one event sharing its ack,
// `once`, removing a listener, catch-alls in order, and `socket.use` packet
// middlewares (change, pass, reject → the socket's error hook).
// Against tests/tests/socketio_interop_emitter.rs.
import { client, connected, main, next, out, within } from "./lib.mjs";

const transports = [process.env.TRANSPORT ?? "websocket"];

main(async () => {
  const s = client("/", { transports, extraHeaders: { origin: "http://elsewhere.test" } });
  const hello = next(s, "hello");
  await connected(s);
  out({ step: "hello", args: await hello });
  out({ step: "multi", ack: await within(s.emitWithAck("multi"), "multi ack") });
  s.emit("once");
  s.emit("once");
  out({ step: "once", ack: await within(s.emitWithAck("count", "once"), "once count") });
  out({ step: "double", ack: await within(s.emitWithAck("double", 21), "double ack") });
  const seen = next(s, "error-seen");
  s.emit("forbidden", 1);
  out({ step: "error", args: await seen });
  out({ step: "temp", ack: await within(s.emitWithAck("temp"), "temp ack") });
  s.emit("drop-temp");
  out({ step: "dropped", ack: await within(s.emitWithAck("count", "temp"), "temp count") });
  out({ step: "log", ack: await within(s.emitWithAck("log"), "log") });
  s.disconnect();
});
