// (d) The server closes the session: the client sees "close". Transports
// from EIO_TRANSPORTS (comma-separated; default both). The Rust side closes
// the session once it has seen the message "close me".
import { connect, deadline, emit, reportOpen } from "./common.mjs";

deadline(15000);
const transports = (process.env.EIO_TRANSPORTS || "polling,websocket").split(",");
const c = connect({ transports, upgrade: transports.length > 1 });
await reportOpen(c);
if (transports.length > 1) {
  await new Promise((resolve) => c.socket.on("upgrade", resolve));
  emit({ event: "upgrade", transport: c.socket.transport.name });
}
c.socket.send("close me");
const [reason, description] = await c.closed;
emit({
  event: "close",
  reason,
  description: description && description.description ? String(description.description) : null,
});
// No process.exit(): node ends once the client's last request (the close
// packet's POST over polling) has gone out.
