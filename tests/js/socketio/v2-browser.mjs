// The Socket.IO v2 browser bundle (socket.io-client 2.5.0, dist/socket.io.js) in
// headless chromium over XHR long-polling, where (unlike in Node) the client supports
// binary: its handshake asks for no base64, so binary travels in Engine.IO v3's binary
// payload form (application/octet-stream) both ways. The page is opened on the server's
// origin (its 404 page) and the bundle injected, so requests are same-origin.
// Env: PORT, ROOMCAST_CHROMIUM, CHROMIUM_ARGS (JSON array); V2_DEBUG=1 forwards the
// page console with the client's debug logs on.
// Against tests/tests/socketio_interop_v2.rs.
import { mkdtempSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { chromium } from "playwright-core";

const require = createRequire(import.meta.url);
const bundle = join(dirname(require.resolve("socket.io-client-v2/package.json")), "dist", "socket.io.js");
const url = `http://127.0.0.1:${process.env.PORT}`;
const executablePath = process.env.ROOMCAST_CHROMIUM || "/usr/bin/chromium";
const args = JSON.parse(process.env.CHROMIUM_ARGS ?? "[]");
const out = (obj) => console.log(JSON.stringify(obj));

const profile = mkdtempSync(join(tmpdir(), "roomcast-v2-"));
let context;
try {
  context = await chromium.launchPersistentContext(profile, { executablePath, args, headless: true });
  const page = context.pages()[0] ?? (await context.newPage());
  const contentTypes = [];
  page.on("response", (r) => {
    if (r.url().includes("/socket.io/?")) contentTypes.push(r.headers()["content-type"] ?? "");
  });
  page.on("pageerror", (e) => out({ pageerror: e.message }));
  await page.goto(`${url}/blank`, { timeout: 20000 }).catch(() => {});
  if (process.env.V2_DEBUG) {
    page.on("console", (m) => out({ console: m.text() }));
    await page.evaluate(() => localStorage.setItem("debug", "*"));
  }
  await page.addScriptTag({ path: bundle });
  const result = await page.evaluate(
    (url) =>
      new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error("page timed out")), 15000);
        const bytes = (b) => Array.from(new Uint8Array(b));
        const socket = window.io(url, { transports: ["polling"], forceNew: true, reconnection: false });
        socket.on("connect_error", (e) => reject(new Error(`connect_error ${e}`)));
        socket.on("connect", () => {
          const got = { id: socket.id, engine_id: socket.io.engine.id };
          socket.once("bin", (data, label) => {
            got.event = [bytes(data), label];
            if (got.ack) done();
          });
          // ArrayBuffers: the v2 bundle's binary check does not see typed arrays.
          const buf = (a) => new Uint8Array(a).buffer;
          socket.emit("bin", buf([1, 2, 3, 250]), { label: "t", thumb: buf([9]) }, (thumb, ok) => {
            got.ack = [bytes(thumb), bytes(ok)];
            if (got.event) done();
          });
          function done() {
            clearTimeout(timer);
            got.transport = socket.io.engine.transport.name;
            got.supports_binary = socket.io.engine.transport.supportsBinary;
            socket.close();
            resolve(got);
          }
        });
      }),
    url,
  );
  out({ step: "browser", ...result, content_types: [...new Set(contentTypes)] });
  await context.close();
  context = undefined;
} catch (e) {
  out({ error: String(e?.stack ?? e) });
  process.exitCode = 1;
} finally {
  await context?.close().catch(() => {});
  rmSync(profile, { recursive: true, force: true });
}
