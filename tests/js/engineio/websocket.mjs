// (b) WebSocket only: opens directly on websocket, echoes text and binary,
// closes.
import { connect, deadline, echoBoth, emit, reportOpen } from "./common.mjs";

deadline(15000);
const c = connect({ transports: ["websocket"] });
await reportOpen(c);
await echoBoth(c, "ws");
c.socket.close();
const [reason] = await c.closed;
emit({ event: "close", reason });
// No process.exit(): node ends once the client's last request (the close
// packet's POST over polling) has gone out.
