// One admin-UI scenario against a server with the admin namespace (Node's
// instrument() or roomcast's), reporting the first arguments of each admin
// event and what the plain clients saw (driven by tests/tests/admin_protocol.rs).
//
// Env: PORT; the admin login is admin / ADMIN_PASSWORD.
// Output, one JSON object per line:
//   {"event": name, "args": [...]}   the first of each admin event
//   {"refused": message}             a login with a wrong password
//   {"pinged": args}                 what client B got from the admin's emit
//   {"disconnected": reason}         why client B was disconnected
//   {"done": true}
import { io, URL, out, next, until, sleep } from "../socketio/lib.mjs";

const password = process.env.ADMIN_PASSWORD;
const seen = new Map();
const record = (event) => (...args) => {
  if (!seen.has(event)) {
    seen.set(event, args);
    out({ event, args });
  }
};
const EVENTS = [
  "session", "config", "server_stats", "all_sockets", "socket_connected", "socket_updated",
  "socket_disconnected", "room_joined", "room_left", "event_received", "event_sent",
];

try {
  // A bad login is refused.
  const intruder = io(`${URL}/admin`, { auth: { username: "admin", password: "wrong" }, forceNew: true, reconnection: false });
  const [err] = await next(intruder, "connect_error");
  out({ refused: err.message });
  intruder.close();

  const a = io(URL, { forceNew: true, transports: ["websocket"] });
  await next(a, "connect");

  const admin = io(`${URL}/admin`, { auth: { username: "admin", password }, forceNew: true, transports: ["websocket"] });
  const roomJoins = [];
  for (const event of EVENTS) admin.on(event, record(event));
  admin.on("room_joined", (...args) => roomJoins.push(args));
  await next(admin, "connect");
  await until(() => seen.has("all_sockets") && seen.has("server_stats"), "all_sockets and server_stats");

  // Polling first, then the upgrade: socket_updated.
  const b = io(URL, { forceNew: true });
  await next(b, "connect");
  await until(() => seen.has("socket_connected"), "socket_connected");
  await until(() => seen.has("socket_updated"), "socket_updated");

  admin.emit("join", "/", "room-x", b.id);
  await until(() => roomJoins.some((j) => j[1] === "room-x" && j[2] === b.id), "room_joined room-x");

  const pinged = next(b, "ping-from-admin");
  admin.emit("emit", "/", b.id, "ping-from-admin", 1, "two");
  out({ pinged: await pinged });
  a.emit("hello", { n: 1 });
  await until(() => seen.has("event_received") && seen.has("event_sent"), "event_received and event_sent");

  admin.emit("leave", "/", "room-x", b.id);
  await until(() => seen.has("room_left"), "room_left");

  const gone = next(b, "disconnect");
  admin.emit("_disconnect", "/", false, b.id);
  const [reason] = await gone;
  out({ disconnected: reason });
  await until(() => seen.has("socket_disconnected"), "socket_disconnected");

  // The session id logs in again without the password.
  const again = io(`${URL}/admin`, { auth: { sessionId: seen.get("session")[0] }, forceNew: true, transports: ["websocket"] });
  await next(again, "connect");
  out({ session_login: true });
  for (const s of [a, b, admin, again]) s.close();
  await sleep(50);
  out({ done: true });
  process.exit(0);
} catch (e) {
  out({ error: String(e?.stack ?? e) });
  process.exit(1);
}
