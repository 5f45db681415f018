// Well-behaved clients for tests/tests/hardening_barrage.rs: CLIENTS real
// socket.io-client connections to /good (half WebSocket, half long-polling) that
// keep sending `ping` with an ack, one at a time, until the server emits `stop`.
// Each then prints one line: how many pings it sent and how many were acked with
// the right payload, ack errors, and any disconnect or connect_error seen before
// `stop` (there must be none).
import { io } from "socket.io-client";

const URL = `http://127.0.0.1:${process.env.PORT}/good`;
const CLIENTS = Number(process.env.CLIENTS ?? 10);
const ACK_MS = 10000;
const out = (obj) => console.log(JSON.stringify(obj));
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

const guard = setTimeout(() => {
  out({ error: "script deadline passed" });
  process.exit(2);
}, Number(process.env.DEADLINE_MS ?? 55000));

async function run(c) {
  const transport = c % 2 === 0 ? "websocket" : "polling";
  const socket = io(URL, { forceNew: true, reconnection: false, transports: [transport] });
  const report = { step: "client", c, transport, sent: 0, acked: 0, wrong: 0, ackErrors: [], disconnects: [], connectErrors: [] };
  let stopped = false;
  socket.on("stop", () => (stopped = true));
  socket.on("disconnect", (reason) => stopped || report.disconnects.push(reason));
  socket.on("connect_error", (err) => report.connectErrors.push(err.message));
  await new Promise((resolve) => {
    socket.once("connect", resolve);
    socket.once("connect_error", resolve);
  });
  while (!stopped && socket.connected) {
    const payload = { c, seq: report.sent, pad: "x".repeat(report.sent % 64) };
    report.sent += 1;
    try {
      const answer = await socket.timeout(ACK_MS).emitWithAck("ping", payload);
      if (answer && answer.c === c && answer.seq === payload.seq && answer.pad === payload.pad) report.acked += 1;
      else report.wrong += 1;
    } catch (e) {
      report.ackErrors.push(String(e.message ?? e));
    }
    await sleep(2);
  }
  report.connectedAtStop = socket.connected;
  socket.close();
  return report;
}

const reports = await Promise.all(Array.from({ length: CLIENTS }, (_, c) => run(c)));
for (const r of reports) out(r);
clearTimeout(guard);
setTimeout(() => process.exit(0), 200).unref();
