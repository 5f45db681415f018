// A Node socket.io 4.8 server with @socket.io/admin-ui's instrument(), the
// reference the admin protocol test compares roomcast with
// (tests/tests/admin_protocol.rs).
//
// Env: ADMIN_HASH (bcrypt hash of the admin password; username "admin").
// Prints {"port": N} once listening; runs until killed.
import { createServer } from "node:http";
import { Server } from "socket.io";
import { instrument } from "@socket.io/admin-ui";

const http = createServer();
const io = new Server(http);
instrument(io, {
  auth: { type: "basic", username: "admin", password: process.env.ADMIN_HASH },
  mode: "development",
});
http.listen(0, "127.0.0.1", () => {
  console.log(JSON.stringify({ port: http.address().port }));
});
