// A bare engine.io-client connection that never joins a namespace is closed by the server
// after its connect timeout, while a socket.io client on the same server stays connected.
// Against tests/tests/socketio_interop_connect.rs.
import { Socket } from "engine.io-client";
import { URL, client, connected, main, out, sleep, within } from "./lib.mjs";

// TRANSPORT: "websocket", "polling" or "polling,websocket" (the default client's upgrade).
const transports = (process.env.TRANSPORT ?? "websocket").split(",");
const timeoutMs = Number(process.env.CONNECT_TIMEOUT_MS);

main(async () => {
  const started = Date.now();
  const bare = new Socket(URL, { path: "/socket.io/", transports });
  const closed = within(
    new Promise((resolve) => {
      bare.on("open", () => out({ step: "bare-open", at: Date.now() - started, sid: bare.id }));
      bare.on("close", (reason) => resolve(reason));
    }),
    "the server closing the bare connection",
  );
  const joined = client("/", { transports });
  await connected(joined);
  const reason = await closed;
  out({ step: "bare-closed", at: Date.now() - started, reason });
  // Well past the timeout, the joined client still works.
  await sleep(Math.max(0, 2 * timeoutMs - (Date.now() - started)));
  out({ step: "joined", connected: joined.connected, answer: await within(joined.emitWithAck("alive"), "alive ack") });
  joined.disconnect();
});
