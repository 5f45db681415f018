// Headless chromium (through playwright-core) with the socket.io-client
// bundle against a roomcast server with compression on (driven by
// tests/tests/compression.rs). The page is served by playwright's router
// on the server's origin, so no CORS is involved; everything else goes to
// the server.
//
// Env: PORT, TRANSPORT (websocket or polling), ROOMCAST_CHROMIUM,
// CHROMIUM_ARGS (JSON array).
// Output: {"step":"handshake","extensions":"..."}    (websocket)
//         {"step":"poll","encoding":"...","length":n} (polling GETs)
//         {"step":"done","big":bool,"plain":bool,"echo":bool,"transport":"..."}
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";

import { exchange } from "./exchange.mjs";

const here = dirname(fileURLToPath(import.meta.url));
const bundle = readFileSync(
  join(here, "..", "node_modules", "socket.io-client", "dist", "socket.io.min.js"),
  "utf8",
);
const report = (o) => console.log(JSON.stringify(o));
const origin = `http://127.0.0.1:${process.env.PORT}`;
const transport = process.env.TRANSPORT ?? "websocket";
const browser = await chromium.launch({
  executablePath: process.env.ROOMCAST_CHROMIUM || "/usr/bin/chromium",
  // The page comes from playwright's router, not the network: chromium's
  // local-network checks would refuse its connections to 127.0.0.1.
  args: [
    ...JSON.parse(process.env.CHROMIUM_ARGS ?? "[]"),
    "--disable-features=LocalNetworkAccessChecks",
  ],
});
try {
  const page = await browser.newPage();
  page.on("console", (m) => report({ console: m.text() }));
  await page.route(`${origin}/page.html`, (route) =>
    route.fulfill({ contentType: "text/html", body: "<!doctype html><title>t</title>" }),
  );
  const cdp = await page.context().newCDPSession(page);
  await cdp.send("Network.enable");
  cdp.on("Network.webSocketHandshakeResponseReceived", (e) => {
    const h = e.response.headers;
    const ext = h["Sec-WebSocket-Extensions"] ?? h["sec-websocket-extensions"] ?? "";
    report({ step: "handshake", extensions: ext });
  });
  page.on("response", async (r) => {
    if (r.url().includes("transport=polling") && r.request().method() === "GET") {
      // A poll still open when the page closes has no headers to read.
      const h = await r.allHeaders().catch(() => null);
      if (h === null) return;
      const body = await r.body().catch(() => Buffer.alloc(0));
      report({ step: "poll", encoding: h["content-encoding"] ?? null, vary: h["vary"] ?? null, length: body.length });
    }
  });
  await page.goto(`${origin}/page.html`);
  await page.addScriptTag({ content: bundle });
  await page.addScriptTag({ content: `window.exchange = ${exchange};` });
  const result = await page.evaluate(
    ({ transport }) =>
      new Promise((resolve, reject) => {
        const socket = io({ transports: [transport] });
        socket.on("connect_error", (e) => reject(String(e)));
        socket.on("connect", async () => {
          const result = await window.exchange(socket);
          const name = socket.io.engine.transport.name;
          socket.disconnect();
          resolve({ ...result, transport: name });
        });
        setTimeout(() => reject("timed out in the page"), 15000);
      }),
    { transport },
  );
  report({ step: "done", ...result });
} finally {
  await browser.close();
}
