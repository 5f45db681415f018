// Opens the chapter example's page in headless chromium and reports what its
// console shows (driven by tests/tests/chapter_browser.rs).
//
// Env: CHAPTER_URL (the page, with ?transports=… if wanted), EXPECT_TRANSPORT
// (the engine transport the page must end up on: websocket or polling),
// CLOSE_WITH (page: close the page; disconnect: call socket.disconnect() and
// wait for "[socket.io] Disconnected." first), ROOMCAST_CHROMIUM (default
// /usr/bin/chromium), CHROMIUM_ARGS (JSON array).
//
// Output, one JSON object per line:
//   {"console": "<text>", "type": "log"}   every console message, in order
//   {"transport": "...", "websockets": [...], "errors": [...]}
//   {"closed": true}                       after the page and browser closed
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium } from "playwright-core";

const url = process.env.CHAPTER_URL;
const expectTransport = process.env.EXPECT_TRANSPORT ?? "websocket";
const executablePath = process.env.ROOMCAST_CHROMIUM || "/usr/bin/chromium";
const args = JSON.parse(process.env.CHROMIUM_ARGS ?? "[]");
// "page": just close the page; "disconnect": socket.disconnect() first.
const closeWith = process.env.CLOSE_WITH ?? "page";
const TIMEOUT = 20_000;

const EXPECTED = [
  "[socket.io] Connected.",
  "[socket.io] Server: Hello everyone!",
  "[socket.io] Server: Hello clients of room hello-1234!",
  "[socket.io] Server: Hello you!",
];

const report = (obj) => console.log(JSON.stringify(obj));
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

const seen = [];
const errors = [];
const websockets = [];
let waiters = [];
const onConsole = (msg) => {
  seen.push(msg.text());
  report({ console: msg.text(), type: msg.type() });
  if (msg.type() === "error") errors.push(msg.text());
  waiters = waiters.filter((w) => !w());
};
const until = (done, what) =>
  new Promise((resolve, reject) => {
    let timer;
    const check = () => done() && (clearTimeout(timer), resolve(), true);
    if (check()) return;
    waiters.push(check);
    timer = setTimeout(() => {
      reject(new Error(`timed out waiting for ${what}; console: ${JSON.stringify(seen)}`));
    }, TIMEOUT);
  });

const profile = mkdtempSync(join(tmpdir(), "roomcast-chapter-"));
let context;
try {
  context = await chromium.launchPersistentContext(profile, { executablePath, args, headless: true });
  const page = context.pages()[0] ?? (await context.newPage());
  page.on("console", onConsole);
  page.on("pageerror", (e) => errors.push(`pageerror: ${e.message}`));
  page.on("websocket", (ws) => websockets.push(ws.url()));
  page.on("requestfailed", (r) => {
    // Closing the page aborts the pending long-poll: not an error of the page.
    if (!r.url().includes("/socket.io/?")) errors.push(`requestfailed: ${r.url()} ${r.failure()?.errorText}`);
  });

  await page.goto(url, { timeout: TIMEOUT });
  await until(() => EXPECTED.every((line) => seen.includes(line)), "the chapter's console lines");
  await page.waitForFunction(
    (t) => window.socket?.io?.engine?.transport?.name === t,
    expectTransport,
    { timeout: TIMEOUT },
  );
  // Give an upgrade that should not happen the time to happen.
  await sleep(500);
  const transport = await page.evaluate(() => window.socket.io.engine.transport.name);
  report({ transport, websockets, errors });

  if (closeWith === "disconnect") {
    await page.evaluate(() => window.socket.disconnect());
    await until(() => seen.includes("[socket.io] Disconnected."), "the client's disconnect");
  }
  await page.close();
  await context.close();
  context = undefined;
  report({ closed: true });
} catch (e) {
  report({ failure: String(e?.stack ?? e) });
  process.exitCode = 1;
} finally {
  await context?.close().catch(() => {});
  rmSync(profile, { recursive: true, force: true });
}
