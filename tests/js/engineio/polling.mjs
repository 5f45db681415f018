// (c) Polling only, no upgrade: echoes text and binary (several messages in
// flight at once), stays on polling, closes.
import { connect, deadline, echoBoth, emit, reportOpen } from "./common.mjs";

deadline(15000);
const c = connect({ transports: ["polling"], upgrade: false });
await reportOpen(c);
await echoBoth(c, "polling");
// A burst: sent in few POSTs, echoed in few GETs, in order.
const burst = Array.from({ length: 20 }, (_, i) => `m${i}`);
for (const m of burst) c.socket.send(m);
const got = [];
for (let i = 0; i < burst.length; i++) got.push(await c.next());
emit({ event: "burst", sent: burst, got, transport: c.socket.transport.name });
c.socket.close();
const [reason] = await c.closed;
emit({ event: "close", reason });
// No process.exit(): node ends once the client's last request (the close
// packet's POST over polling) has gone out.
