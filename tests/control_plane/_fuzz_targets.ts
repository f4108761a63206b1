/**
 * Property-based fuzzing (fast-check) of every control plane endpoint, the WebSocket frame
 * handler, the admin API and the connection guard's request framer. One property per
 * target: whatever arrives, the answer is never a 5xx, never carries a stack trace, and an
 * error answer has the protocol's `{error, code, server_time}` shape.
 *
 * Used small by `fuzz_test.ts` (part of `deno task test`) and large by `bench/fuzz.ts`
 * (`deno task fuzz`, at least 10,000 cases per target).
 */
import fc from "fast-check";
import {
  type FramerEvent,
  HttpRequestFramer,
} from "../../src/control_plane/_http_request_framer.ts";
import { Paths } from "../../src/protocol/mod.ts";
import { registerBody, sample, servedPlane, type TestPlane, testPlane } from "./_fixtures.ts";
import { ProtocolClient } from "./_protocol_client.ts";

/** What one fuzz target found. */
export interface FuzzReport {
  /** Cases run. */
  cases: number;
  /** How many answers had each HTTP status (for frames: `frame` results). */
  outcomes: Record<string, number>;
}

/** One fuzz target. */
export interface FuzzTarget {
  name: string;
  /** Runs `numRuns` cases; throws (with fast-check's shrunk counterexample) on a failure. */
  run(numRuns: number, seed?: number): Promise<FuzzReport>;
}

/** Text that looks like a stack trace or a source location. */
const STACK_TRACE = /(^|\n)\s*at\s+\S|file:\/\/|\.ts:\d+|\.js:\d+/;

// ---------------------------------------------------------------- arbitraries

const SPECIAL_STRINGS = [
  "",
  ".",
  "..",
  "%E0%A4%A",
  "%",
  "__proto__",
  "constructor",
  "toString",
  "\u0000",
  "\ud800",
  "\udfff",
  "wak_" + "A".repeat(32),
  "a".repeat(257),
  "x".repeat(70_000),
];

/** Strings of every kind: ASCII, any code point, lone surrogates, long, special names. */
const hostileString: fc.Arbitrary<string> = fc.oneof(
  fc.string(),
  fc.string({ unit: "binary" }),
  fc.array(fc.integer({ min: 0xd800, max: 0xdfff }), { minLength: 1, maxLength: 3 })
    .map((codes) => String.fromCharCode(...codes)),
  fc.constantFrom(...SPECIAL_STRINGS),
  fc.tuple(fc.string({ maxLength: 3 }), fc.integer({ min: 200, max: 300 }))
    .map(([s, n]) => (s || "s").repeat(n)),
);

const hostileNumber: fc.Arbitrary<number> = fc.oneof(
  fc.integer(),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.constantFrom(-1, 0, -0, 2 ** 53, 2 ** 63, 1e308, -1e308, 0.5, Number.MAX_SAFE_INTEGER + 2),
);

/** Any JSON value, with hostile strings and numbers. */
const hostileJson: fc.Arbitrary<unknown> = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: "small", withCrossShrink: true },
    fc.constant(null),
    fc.boolean(),
    hostileNumber,
    hostileString,
    fc.array(tie("value"), { maxLength: 4 }),
    fc.dictionary(hostileString, tie("value"), { maxKeys: 4 }),
  ),
})).value;

/** A value nested `depth` levels deep in arrays or objects. */
const deepJson: fc.Arbitrary<unknown> = fc.tuple(fc.integer({ min: 30, max: 5000 }), fc.boolean())
  .map(([depth, arrays]) => {
    let value: unknown = 1;
    for (let i = 0; i < depth; i++) value = arrays ? [value] : { a: value };
    return value;
  });

/**
 * Variations of a valid `example`: each member kept, given another value of the same kind,
 * replaced by anything, or dropped; unknown members added. Most cases stay close to valid,
 * so validation is passed and the code behind it is reached.
 */
function mutated(example: unknown): fc.Arbitrary<unknown> {
  let near: fc.Arbitrary<unknown>;
  if (Array.isArray(example)) {
    near = fc.array(mutated(example[0] ?? null), { maxLength: 6 });
  } else if (example !== null && typeof example === "object") {
    const members = Object.fromEntries(
      Object.entries(example).map((
        [key, value],
      ) => [
        key,
        fc.oneof({ weight: 12, arbitrary: mutated(value) }, {
          weight: 1,
          arbitrary: fc.constant(DROPPED),
        }),
      ]),
    );
    near = fc.tuple(
      fc.record(members),
      fc.dictionary(hostileString, hostileJson, { maxKeys: 2 }),
    ).map(([known, extra]) => ({
      ...extra,
      ...Object.fromEntries(Object.entries(known).filter(([, v]) => v !== DROPPED)),
    }));
  } else if (typeof example === "string") {
    near = fc.oneof({ weight: 6, arbitrary: fc.constant(example) }, {
      weight: 1,
      arbitrary: hostileString,
    });
  } else if (typeof example === "number") {
    near = fc.oneof({ weight: 6, arbitrary: fc.constant(example) }, {
      weight: 1,
      arbitrary: hostileNumber,
    });
  } else {
    near = fc.constant(example);
  }
  return fc.oneof(
    { weight: 24, arbitrary: near },
    { weight: 1, arbitrary: hostileJson },
    { weight: 1, arbitrary: deepJson },
  );
}

/** Marks a member left out by {@linkcode mutated}. */
const DROPPED = Symbol("dropped");

/** `example` with exactly one member (at any depth) replaced by a hostile value or dropped. */
function oneChange(example: unknown): fc.Arbitrary<unknown> {
  const paths: (string | number)[][] = [];
  const walk = (value: unknown, path: (string | number)[]) => {
    paths.push(path);
    if (value !== null && typeof value === "object") {
      for (const [key, child] of Object.entries(value)) {
        walk(child, [...path, Array.isArray(value) ? Number(key) : key]);
      }
    }
  };
  walk(example, []);
  return fc.tuple(
    fc.constantFrom(...paths),
    fc.oneof(hostileJson, hostileString, hostileNumber, fc.constant(DROPPED)),
  ).map(([path, replacement]) => {
    const copy = structuredClone(example);
    if (path.length === 0) return replacement === DROPPED ? {} : replacement;
    let parent = copy as Record<string | number, unknown>;
    for (const key of path.slice(0, -1)) parent = parent[key] as Record<string | number, unknown>;
    const last = path.at(-1)!;
    if (replacement === DROPPED) delete parent[last];
    else parent[last] = replacement;
    return copy;
  });
}

/** Request body text: mostly JSON of a mutated `example`, sometimes not JSON at all. */
function bodyText(example: unknown): fc.Arbitrary<string> {
  return fc.oneof(
    { weight: 4, arbitrary: mutated(example).map((value) => JSON.stringify(value) ?? "null") },
    { weight: 4, arbitrary: oneChange(example).map((value) => JSON.stringify(value) ?? "null") },
    { weight: 1, arbitrary: hostileString },
    {
      weight: 1,
      arbitrary: fc.tuple(mutated(example), fc.nat()).map(([value, cut]) => {
        const text = JSON.stringify(value) ?? "";
        return text.slice(0, cut % (text.length + 1)); // truncated JSON
      }),
    },
  );
}

/** `encodeURIComponent`, which throws on a lone surrogate: that becomes its WTF-8 bytes. */
function encodeSegment(text: string): string {
  return text.split(/([\ud800-\udfff])/).map((part) =>
    /^[\ud800-\udfff]$/.test(part) ? "%ED%A0%80" : encodeURIComponent(part)
  ).join("");
}

/** A path segment: a real id most of the time, else anything (URL-encoded). */
function segment(real: () => string): fc.Arbitrary<string> {
  return fc.oneof(
    { weight: 8, arbitrary: fc.constant(null).map(() => real()) },
    { weight: 2, arbitrary: hostileString.map(encodeSegment) },
    { weight: 1, arbitrary: fc.constantFrom("%E0%A4%A", "%", "..", ".", "%2e%2e", "a%00b") },
  );
}

// ---------------------------------------------------------------- checks

async function checkAnswer(
  method: string,
  res: Response,
  outcomes: Record<string, number>,
): Promise<void> {
  const text = await res.text();
  outcomes[res.status] = (outcomes[res.status] ?? 0) + 1;
  if (res.status >= 500) throw new Error(`answered ${res.status}: ${text.slice(0, 500)}`);
  if (STACK_TRACE.test(text)) throw new Error(`a stack trace in the answer: ${text.slice(0, 500)}`);
  if (res.status >= 400 && method !== "HEAD") {
    const body = JSON.parse(text);
    if (typeof body.error !== "string" || typeof body.code !== "string") {
      throw new Error(`an error answer without error/code: ${text.slice(0, 500)}`);
    }
  }
}

function noUnhandled(plane: TestPlane): void {
  const bad = plane.logs.find((l) => l.includes("unhandled error"));
  if (bad) throw new Error(`the server logged an unhandled error: ${bad.slice(0, 500)}`);
}

async function call(
  plane: TestPlane,
  method: string,
  path: string,
  init: { headers?: Record<string, string>; body?: string },
): Promise<Response | undefined> {
  let request: Request;
  try {
    request = new Request(`http://127.0.0.1:9${path}`, {
      method,
      headers: init.headers ?? {},
      ...(init.body !== undefined && method !== "GET" && method !== "HEAD"
        ? { body: init.body }
        : {}),
    });
  } catch {
    return undefined; // a request no client could send (invalid URL or header)
  }
  return await plane.cp.fetch(request, { remoteAddr: "127.0.0.1" });
}

/** A plane with a registered worker, a delivered command and no rate limit. */
async function preparedPlane() {
  const plane = testPlane({ rateLimitPerSecond: 0 });
  const worker = await plane.registerWorker();
  const created = await plane.admin("/api/workers/commands", {
    json: { worker_id: worker.workerId, command_type: "ping" },
  });
  const commandId = (await created.json()).command_id as string;
  await (await plane.call(Paths.heartbeat(worker.workerId), { key: worker.key, json: {} })).text();
  return { plane, ...worker, commandId };
}

const keyHeader = (key: string) =>
  fc.oneof(
    { weight: 8, arbitrary: fc.constant({ "X-API-Key": key }) },
    { weight: 1, arbitrary: fc.constant({ Authorization: `Bearer ${key}` }) },
    { weight: 1, arbitrary: hostileString.map((k) => ({ "X-API-Key": k })) },
  );

/** Runs an async property over `arbitrary` and counts the outcomes. */
async function runProperty<T>(
  arbitrary: fc.Arbitrary<T>,
  check: (value: T, outcomes: Record<string, number>) => Promise<void>,
  numRuns: number,
  seed: number | undefined,
): Promise<FuzzReport> {
  const outcomes: Record<string, number> = {};
  let cases = 0;
  await fc.assert(
    fc.asyncProperty(arbitrary, async (value) => {
      cases++;
      await check(value, outcomes);
    }),
    { numRuns, ...(seed === undefined ? {} : { seed }), endOnFailure: true },
  );
  return { cases, outcomes };
}

// ---------------------------------------------------------------- targets

/** An HTTP endpoint target: one plane, one request shape. */
function endpoint(
  name: string,
  request: (ctx: Awaited<ReturnType<typeof preparedPlane>>) => fc.Arbitrary<{
    method: string;
    path: string;
    headers?: Record<string, string>;
    body?: string;
  }>,
): FuzzTarget {
  return {
    name,
    async run(numRuns, seed) {
      const ctx = await preparedPlane();
      try {
        const report = await runProperty(
          request(ctx),
          async (req, outcomes) => {
            const res = await call(ctx.plane, req.method, req.path, req);
            if (res) await checkAnswer(req.method, res, outcomes);
          },
          numRuns,
          seed,
        );
        noUnhandled(ctx.plane);
        return report;
      } finally {
        ctx.plane[Symbol.dispose]();
      }
    },
  };
}

const resultExample = {
  command_id: "id",
  status: "completed",
  output: "ok",
  error: "e",
  error_code: "code",
  data: { a: 1 },
  started_at: 1,
  finished_at: 2,
  timestamp: 3,
};

const ADMIN_PATHS = [
  "/api/admin/keys",
  "/api/admin/keys/{key}/revoke",
  "/api/workers",
  "/api/workers/{worker}",
  "/api/workers/{worker}/metrics",
  "/api/workers/commands",
  "/api/workers/commands/{command}/result",
  "/api/workers/{worker}/heartbeat",
  "/",
  "/dashboard/app.js",
];

/** Every fuzz target. */
export const FUZZ_TARGETS: readonly FuzzTarget[] = [
  endpoint("POST /api/workers/register", (ctx) =>
    fc.record({
      method: fc.constant("POST"),
      path: fc.constant(Paths.register),
      headers: fc.oneof(keyHeader(ctx.key), fc.constant({})),
      body: fc.oneof(
        bodyText(registerBody()),
        bodyText({ ...registerBody(), api_key: ctx.key }),
      ),
    })),
  endpoint("POST /api/workers/{id}/heartbeat", (ctx) =>
    fc.record({
      method: fc.constant("POST"),
      path: segment(() => ctx.workerId).map((id) => `/api/workers/${id}/heartbeat`),
      headers: keyHeader(ctx.key),
      body: bodyText({
        status: "online",
        current_load: 0,
        metrics: {
          cpu_percent: 1,
          memory_used_mb: 1,
          trading_status: "stopped",
          active_trades: 0,
        },
        metadata: { arch: "x86_64" },
      }),
    })),
  endpoint("POST /api/workers/{id}/metrics", (ctx) =>
    fc.record({
      method: fc.constant("POST"),
      path: segment(() => ctx.workerId).map((id) => `/api/workers/${id}/metrics`),
      headers: keyHeader(ctx.key),
      body: bodyText({ samples: [sample("fuzz", 1)] }),
    })),
  endpoint("POST /api/workers/commands/{id}/result", (ctx) =>
    fc.record({
      method: fc.constant("POST"),
      path: segment(() => ctx.commandId).map((id) => `/api/workers/commands/${id}/result`),
      headers: keyHeader(ctx.key),
      body: bodyText({ ...resultExample, command_id: ctx.commandId }),
    })),
  endpoint("GET /api/v1/workers/ws (upgrade request)", (ctx) =>
    fc.record({
      method: fc.constantFrom("GET", "POST"),
      path: fc.constant(Paths.websocket),
      headers: fc.tuple(
        keyHeader(ctx.key),
        fc.record({
          "X-Worker-Id": fc.oneof(fc.constant(ctx.workerId), hostileString),
          Upgrade: fc.constantFrom("websocket", "h2c", ""),
          Connection: fc.constantFrom("Upgrade", "close", ""),
        }, { requiredKeys: [] }),
      ).map(([a, b]) => ({ ...a, ...b })),
    })),
  endpoint("admin API", (ctx) =>
    fc.record({
      method: fc.oneof(
        { weight: 3, arbitrary: fc.constantFrom("GET", "POST") },
        { weight: 1, arbitrary: fc.constantFrom("DELETE", "PUT", "PATCH", "HEAD", "OPTIONS") },
      ),
      path: fc.tuple(
        fc.oneof(
          { weight: 6, arbitrary: fc.constantFrom(...ADMIN_PATHS) },
          { weight: 1, arbitrary: hostileString.map((s) => `/${encodeSegment(s)}`) },
        ),
        segment(() => ctx.workerId),
        segment(() => ctx.keyId),
        segment(() => ctx.commandId),
        fc.dictionary(
          fc.constantFrom("limit", "status", "since", "until", "worker_id", "x"),
          hostileString,
          { maxKeys: 3 },
        ),
      ).map(([path, worker, key, command, query]) => {
        const filled = path.replace("{worker}", worker).replace("{key}", key)
          .replace("{command}", command);
        const search = Object.entries(query).map(([k, v]) => `${k}=${encodeSegment(v)}`)
          .join("&");
        return search ? `${filled}?${search}` : filled;
      }),
      headers: fc.oneof(
        { weight: 8, arbitrary: fc.constant({ Authorization: `Bearer ${ctx.plane.adminToken}` }) },
        { weight: 1, arbitrary: hostileString.map((t) => ({ Authorization: `Bearer ${t}` })) },
        { weight: 1, arbitrary: fc.constant({}) },
      ),
      body: fc.oneof(
        bodyText({
          worker_id: ctx.workerId,
          command_type: "ping",
          params: {},
          timeout_seconds: 30,
        }),
        bodyText({
          worker_id: ctx.workerId,
          command_type: "update_config",
          params: { changes: {} },
        }),
        bodyText({ name: "k", scopes: ["worker"] }),
      ),
    })),
  {
    name: "WebSocket frames",
    async run(numRuns, seed) {
      await using served = servedPlane({ frameRatePerSecond: 1_000_000 });
      const { key, workerId } = await served.plane.registerWorker();
      const client = new ProtocolClient(served.baseUrl, key);
      client.workerId = workerId;
      const channel = await client.connect();
      await channel.next("welcome");
      const frame = fc.oneof(
        { weight: 6, arbitrary: bodyText({ type: "ack", command_id: "x" }) },
        { weight: 3, arbitrary: bodyText({ type: "ping", ts: 1 }) },
        { weight: 2, arbitrary: bodyText({ type: "pong", ts: 1 }) },
        { weight: 1, arbitrary: fc.uint8Array({ maxLength: 64 }) },
      );
      // Each case ends with a ping; its pong is awaited a few cases later (small frames on
      // one socket wait for TCP's delayed ACK, so waiting on every case costs ~40 ms each).
      const pongs = new Map<number, PromiseWithResolvers<void>>();
      channel.socket.addEventListener("message", (event) => {
        channel.frames.splice(0); // only the pongs matter here; keep memory flat
        const frame = JSON.parse(String(event.data));
        if (frame.type === "pong") pongs.get(frame.ts)?.resolve();
      });
      let pings = 0;
      const awaitPong = async (ts: number) => {
        const pending = pongs.get(ts)!;
        const timer = setTimeout(() => pending.reject(new Error(`no pong ${ts} in 10 s`)), 10_000);
        try {
          await pending.promise;
        } finally {
          clearTimeout(timer);
          pongs.delete(ts);
        }
      };
      try {
        const report = await runProperty(
          fc.array(frame, { minLength: 1, maxLength: 8 }),
          async (
            frames,
            outcomes,
          ) => {
            for (const data of frames) channel.socket.send(data);
            // The session must still answer, in order, after whatever came before.
            pongs.set(++pings, Promise.withResolvers<void>());
            channel.send({ type: "ping", ts: pings });
            if (pings > 16) await awaitPong(pings - 16);
            outcomes.frames = (outcomes.frames ?? 0) + frames.length;
          },
          numRuns,
          seed,
        );
        for (const ts of [...pongs.keys()]) await awaitPong(ts);
        noUnhandled(served.plane);
        const failed = served.plane.logs.find((l) => l.includes("frame handling failed"));
        if (failed) throw new Error(`a frame failed on the server: ${failed.slice(0, 300)}`);
        return report;
      } finally {
        await channel.close();
      }
    },
  },
  {
    name: "connection guard request framer",
    run(numRuns, seed) {
      const request = fc.oneof(
        fc.uint8Array({ maxLength: 512 }),
        fc.string().map((s) => new TextEncoder().encode(s)),
        fc.constantFrom(
          "GET / HTTP/1.1\r\nHost: x\r\n\r\n",
          "POST / HTTP/1.1\r\nContent-Length: 3\r\n\r\nabc",
          "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n",
          "GET / HTTP/1.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n",
        ).map((s) => new TextEncoder().encode(s)),
      );
      return runProperty(
        fc.tuple(fc.array(request, { maxLength: 6 }), fc.array(fc.nat(600), { maxLength: 6 })),
        ([chunks, cuts]) => {
          // The same bytes split differently must frame the same way, and never throw.
          const whole = concat(chunks);
          const split = splitAt(whole, cuts);
          const a = kinds(new HttpRequestFramer({ maxHeaderBytes: 1024 }), [whole]);
          const b = kinds(new HttpRequestFramer({ maxHeaderBytes: 1024 }), split);
          if (a.join() !== b.join()) throw new Error(`framing depends on chunking: ${a} vs ${b}`);
          return Promise.resolve();
        },
        numRuns,
        seed,
      );
    },
  },
];

function concat(chunks: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let offset = 0;
  for (const chunk of chunks) {
    out.set(chunk, offset);
    offset += chunk.length;
  }
  return out;
}

function splitAt(bytes: Uint8Array, cuts: number[]): Uint8Array[] {
  const points = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
  const out: Uint8Array[] = [];
  let start = 0;
  for (const point of points) {
    out.push(bytes.subarray(start, point));
    start = point;
  }
  out.push(bytes.subarray(start));
  return out;
}

/** The events of `chunks`, body events merged into one per stretch of body. */
function kinds(framer: HttpRequestFramer, chunks: Uint8Array[]): string[] {
  const out: string[] = [];
  let body = 0;
  const add = (event: FramerEvent) => {
    if (event.kind === "body") {
      body += event.bytes;
      return;
    }
    if (body > 0) out.push(`body ${body}`);
    body = 0;
    out.push(event.kind);
  };
  for (const chunk of chunks) {
    framer.push(chunk).forEach(add);
    // Each round parses one more held request (or unpauses), so this ends.
    while (framer.paused) framer.resume().forEach(add);
  }
  if (body > 0) out.push(`body ${body}`);
  return out;
}
