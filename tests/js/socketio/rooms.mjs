// Four clients A..D in one process (auth {name}), each recording every event it gets,
// answering "ask" acks (all but D). The Rust test drives the broadcasts; the script ends
// once every client has seen "done" and been disconnected by the server.
// Against tests/tests/socketio_interop_rooms.rs.
import { client, connected, main, out, sleep, until } from "./lib.mjs";

const names = ["A", "B", "C", "D"];

main(async () => {
  const logs = {};
  const reasons = {};
  const sockets = names.map((name) => {
    const s = client("/", { transports: [process.env.TRANSPORT ?? "websocket"], auth: { name } });
    logs[name] = [];
    s.onAny((...args) => logs[name].push(args.filter((a) => typeof a !== "function")));
    s.on("ask", (x, cb) => {
      if (name !== "D") cb(`${name}:${x}`);
    });
    s.on("disconnect", (reason) => {
      (reasons[name] ??= []).push(reason);
    });
    return s;
  });
  await Promise.all(sockets.map((s) => connected(s)));
  out({ step: "ids", ids: Object.fromEntries(sockets.map((s, i) => [names[i], s.id])) });
  try {
    await until(() => names.every((n) => logs[n].some(([ev]) => ev === "done")), "done on every client");
    await until(() => names.every((n) => reasons[n]), "every client disconnected by the server");
    await sleep(50); // a second "disconnect" would show up here
  } finally {
    out({ step: "logs", logs, reasons });
  }
});
