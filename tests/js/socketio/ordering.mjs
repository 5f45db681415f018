// $CLIENTS clients (alternately websocket and polling) each send $N numbered "num" events
// at once; the server answers each through a room the socket has just joined. Reports
// what each client received, in order. Against tests/tests/socketio_ordering.rs.
import { client, connected, main, out, until } from "./lib.mjs";

const clients = Number(process.env.CLIENTS ?? 10);
const N = Number(process.env.N ?? 200);

main(async () => {
  const all = [];
  for (let i = 0; i < clients; i++) {
    const transport = i % 2 === 0 ? "websocket" : "polling";
    const s = client("/", { transports: [transport] });
    const received = [];
    s.on("room", (n) => received.push(n));
    all.push({ s, transport, received });
  }
  await Promise.all(all.map(({ s }) => connected(s)));
  for (const { s } of all) for (let n = 0; n < N; n++) s.emit("num", n);
  await until(() => all.every(({ received }) => received.length >= N), `${N} room emits on every client`);
  out({ step: "done", clients: all.map(({ s, transport, received }) => ({ id: s.id, transport, received })) });
  for (const { s } of all) s.disconnect();
});
