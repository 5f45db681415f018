// Harness self-test (tests/tests/js_harness.rs): proves the pinned clients import and
// that results come back as one JSON object per stdout line.
import { readFileSync } from "node:fs";
import { io, protocol as sioProtocol } from "socket.io-client";
import { Socket, protocol as eioProtocol } from "engine.io-client";
import { chromium } from "playwright-core";

const version = (pkg) =>
  JSON.parse(readFileSync(new URL(`./node_modules/${pkg}/package.json`, import.meta.url))).version;

console.log("selftest: plain log lines are ignored by json_lines()");
console.log(JSON.stringify({
  ok: typeof io === "function" && typeof Socket === "function" && typeof chromium.launch === "function",
  sio: version("socket.io-client"),
  eio: version("engine.io-client"),
  playwright: version("playwright-core"),
  sioProtocol,
  eioProtocol,
  echo: process.env.ROOMCAST_SELFTEST_ECHO ?? null,
}));
