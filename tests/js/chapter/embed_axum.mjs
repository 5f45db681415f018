// Socket.IO clients of the embed-axum example (tests/tests/embed_axum.rs):
// one joins ROOM and waits for a `message` posted to it through the REST API;
// another joins a different room and must get nothing.
//
// Env: URL (the app), ROOM. Output, one JSON object per line:
//   {"joined": <room size acked by the server>}     (member, then outsider)
//   {"message": <the event's argument>, "outsider": [<what the other got>]}
import { io } from "socket.io-client";

const url = process.env.URL;
const room = process.env.ROOM;
const report = (obj) => console.log(JSON.stringify(obj));

const member = io(url, { transports: ["websocket"] });
const outsider = io(url);
const outsiderGot = [];
outsider.on("message", (m) => outsiderGot.push(m));

const join = (socket, name) => socket.timeout(5000).emitWithAck("join", name);
report({ joined: await join(member, room) });
report({ joined: await join(outsider, `${room}-other`) });

const message = await new Promise((resolve, reject) => {
  member.once("message", resolve);
  setTimeout(() => reject(new Error("no message within 15 s")), 15_000).unref();
});
// Leave time for a wrongly targeted copy to arrive.
await new Promise((r) => setTimeout(r, 300));
report({ message, outsider: outsiderGot });
member.close();
outsider.close();
