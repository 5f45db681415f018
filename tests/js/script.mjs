// What every interop script shares: one deadline per step (STEP_MS, 10 s
// unless the test sets it, as the Rust side's kit has one), output as one
// JSON object per line, values normalised for JSON, and the script's main.
export const STEP_MS = Number(process.env.STEP_MS ?? 10000);

export const out = (obj) => console.log(JSON.stringify(obj));
export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** Resolves with `promise`, or rejects after `ms` naming `what`. */
export function within(promise, what, ms = STEP_MS) {
  let timer;
  const deadline = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${what}`)), ms);
  });
  return Promise.race([promise, deadline]).finally(() => clearTimeout(timer));
}

/** The arguments of the next `event` on `emitter`. */
export function next(emitter, event, ms = STEP_MS) {
  return within(new Promise((resolve) => emitter.once(event, (...args) => resolve(args))), `event ${event}`, ms);
}

/** Waits until `cond()` holds, polling every 5 ms. */
export async function until(cond, what, ms = STEP_MS) {
  await within(
    (async () => {
      while (!cond()) await sleep(5);
    })(),
    what,
    ms,
  );
}

const isBinary = (v) => v instanceof ArrayBuffer || ArrayBuffer.isView(v);

/** JSON-friendly copy: binary values become {"bytes":[...]}. */
export function norm(v) {
  if (isBinary(v)) {
    const u8 = v instanceof ArrayBuffer ? new Uint8Array(v) : new Uint8Array(v.buffer, v.byteOffset, v.byteLength);
    return { bytes: Array.from(u8) };
  }
  if (Array.isArray(v)) return v.map(norm);
  if (v && typeof v === "object") return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, norm(x)]));
  return v === undefined ? null : v;
}

/**
 * Runs a script's body within DEADLINE_MS (`deadlineMs` unless set). On
 * success the `clients` still open are disconnected and node exits 0 once
 * in-flight requests are done (so the last packets a script sends, e.g. a
 * polling client's close, do leave), at most `lingerMs` later; on failure
 * it exits 1 at once with an {"error"} line, 2 when the deadline passed.
 */
export async function runMain(body, { clients, deadlineMs, lingerMs }) {
  const deadline = Number(process.env.DEADLINE_MS ?? deadlineMs);
  const guard = setTimeout(() => {
    out({ error: `script deadline of ${deadline} ms passed` });
    process.exit(2);
  }, deadline);
  try {
    await body();
    clearTimeout(guard);
    for (const s of clients) s.disconnect();
    process.exitCode = 0;
    setTimeout(() => process.exit(0), lingerMs).unref();
  } catch (e) {
    console.error(e);
    out({ error: String((e && e.stack) || e) });
    process.exit(1);
  }
}
