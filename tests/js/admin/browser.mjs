// The Socket.IO Admin UI in headless chromium against a roomcast server
// (the chapter example with ADMIN=1), with real socket.io-client clients
// in a room (driven by tests/tests/admin_browser.rs).
//
// Env: PORT, ADMIN_USER, ADMIN_PASSWORD, ROOMCAST_CHROMIUM, CHROMIUM_ARGS.
// Output, one JSON object per line:
//   {"refused": text}          the page's error for a wrong password
//   {"sockets_page": bool}     both clients' ids on the Sockets page
//   {"rooms_page": bool}       their room on the Rooms page
//   {"servers_page": bool}     this server's row on the Servers page
//   {"joined": args}           what client B got, sent to the room the UI made it join
//   {"disconnected": reason}   why client B was disconnected (from the UI)
//   {"done": true}
import { mkdtempSync, rmSync } from "node:fs";
import { hostname, tmpdir } from "node:os";
import { join } from "node:path";
import { chromium } from "playwright-core";
import { io, URL, out, next, until, within } from "../socketio/lib.mjs";

const executablePath = process.env.ROOMCAST_CHROMIUM || "/usr/bin/chromium";
const args = JSON.parse(process.env.CHROMIUM_ARGS ?? "[]");
const TIMEOUT = 15_000;
const user = process.env.ADMIN_USER;
const password = process.env.ADMIN_PASSWORD;

const profile = mkdtempSync(join(tmpdir(), "roomcast-admin-"));
let context;
let code = 0;
try {
  // Two clients of the chapter, in its room.
  const a = io(URL, { forceNew: true });
  const b = io(URL, { forceNew: true });
  await Promise.all([next(a, "connect"), next(b, "connect")]);
  for (const s of [a, b]) s.emit("IO_CLIENT_JOIN_ROOM", "hello-1234");
  // An admin client of our own, to send to the room the UI joins.
  const probe = io(`${URL}/admin`, { forceNew: true, auth: { username: user, password } });
  const joined = [];
  probe.on("room_joined", (...args) => joined.push(args));
  await next(probe, "connect");

  context = await chromium.launchPersistentContext(profile, { executablePath, args, headless: true });
  const page = context.pages()[0] ?? (await context.newPage());
  page.setDefaultTimeout(TIMEOUT);
  // No internet: the page's web fonts and icon font are not needed.
  await page.route(/^https?:\/\/(?!127\.0\.0\.1)/, (route) => route.abort());
  await page.goto(`${URL}/admin/`);

  const login = async (pw) => {
    await page.getByLabel("Server URL").fill(URL);
    await page.getByLabel("Username").fill(user);
    await page.getByLabel("Password").fill(pw);
    await page.getByRole("button", { name: "Connect" }).click();
  };
  await login("not-the-password");
  await page.getByText("Invalid credentials").waitFor();
  out({ refused: (await page.getByText("Invalid credentials").first().textContent()).trim() });
  await login(password);
  await page.getByRole("button", { name: "Connect" }).waitFor({ state: "hidden" });

  const shows = async (hash, texts) => {
    await page.goto(`${URL}/admin/#${hash}`);
    for (const t of texts) await page.getByText(t, { exact: false }).first().waitFor();
    return true;
  };
  out({ sockets_page: await shows("/sockets/", [a.id, b.id]) });
  out({ rooms_page: await shows("/rooms/", ["hello-1234"]) });
  out({ servers_page: await shows("/servers/", [hostname()]) });

  // Join a room from the UI, on B's page; B gets what is sent to that room.
  await page.goto(`${URL}/admin/#/n/${encodeURIComponent("/")}/sockets/${b.id}`);
  await page.getByLabel("Join a room").fill("from-ui");
  await page.locator("button[type=submit]:has(.mdi-tag-plus-outline)").click();
  await until(() => joined.some((j) => j[1] === "from-ui" && j[2] === b.id), "room_joined from-ui", TIMEOUT);
  const got = next(b, "to-the-room");
  probe.emit("emit", "/", "from-ui", "to-the-room", "hi");
  out({ joined: await got });

  // Disconnect B from the UI.
  const gone = next(b, "disconnect");
  await page.locator("button:has(.mdi-logout)").first().click();
  const [reason] = await gone;
  out({ disconnected: reason });
  for (const s of [a, b, probe]) s.close();
  out({ done: true });
} catch (e) {
  out({ error: String(e?.stack ?? e) });
  code = 1;
} finally {
  await within(context?.close() ?? Promise.resolve(), "closing the browser").catch(() => {});
  rmSync(profile, { recursive: true, force: true });
  process.exit(code);
}
