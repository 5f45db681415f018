// (a) Default transports: opens on polling, upgrades to websocket, echoes
// text and binary before and after the upgrade, then closes.
import { connect, deadline, echoBoth, emit, reportOpen } from "./common.mjs";

deadline(15000);
const c = connect({});
const upgraded = new Promise((resolve) => c.socket.on("upgrade", (t) => resolve(t.name)));
await reportOpen(c);
await echoBoth(c, "early");
const to = await upgraded;
emit({ event: "upgrade", transport: to });
await echoBoth(c, "upgraded");
c.socket.close();
const [reason] = await c.closed;
emit({ event: "close", reason });
// No process.exit(): node ends once the client's last request (the close
// packet's POST over polling) has gone out.
