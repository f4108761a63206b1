/** The control plane app called in process (no socket), with an injected clock. */
import {
  deepStrictEqual as assertEquals,
  match as assertMatch,
  notStrictEqual,
  ok as assert,
} from "node:assert/strict";

function assertExists<T>(value: T, message?: string): asserts value is NonNullable<T> {
  notStrictEqual(value ?? undefined, undefined, message);
}
import {
  CommandSchema,
  deriveSigningKey,
  ErrorBodySchema,
  MAX_BODY_BYTES,
  Paths,
  verifyCommand,
} from "../../src/protocol/mod.ts";
import { registerBody, sample, testPlane } from "./_fixtures.ts";

async function errorOf(res: Response): Promise<{ status: number; code: string; error: string }> {
  const body = ErrorBodySchema.parse(await res.json());
  assertExists(body.server_time, "error bodies carry server_time");
  return { status: res.status, code: body.code, error: body.error };
}

Deno.test("register binds one worker per key and answers the protocol 3.1 shape", async () => {
  using plane = testPlane();
  const { key } = await plane.createKey();
  const first = await plane.call(Paths.register, { key, json: registerBody() });
  assertEquals(first.status, 200);
  const body = await first.json();
  assertMatch(body.worker_id, /^wkr_[a-z0-9]{24}$/);
  assertEquals(body.websocket_url, "ws://127.0.0.1:9/api/v1/workers/ws");
  assertEquals(body.signature_alg, "hmac-sha256");
  assertEquals(body.heartbeat_interval_seconds, 30);
  assertEquals(body.metrics_interval_seconds, 10);
  assertEquals(body.max_concurrency, 2);
  assertEquals(body.server_time, plane.clock.time);

  const again = await plane.call(Paths.register, {
    json: { ...registerBody({ hostname: "renamed" }), api_key: key },
  });
  assertEquals((await again.json()).worker_id, body.worker_id, "same key, same worker");
  const shown = await (await plane.admin(`/api/workers/${body.worker_id}`)).json();
  assertEquals(shown.worker.hostname, "renamed");
  assertEquals(shown.worker.is_online, true);
});

Deno.test("worker endpoints refuse bad credentials with the documented codes", async (t) => {
  using plane = testPlane();
  const { key, workerId } = await plane.registerWorker();
  const other = await plane.registerWorker();
  const readOnly = await plane.createKey(["read"]);
  const cases: [string, string, RequestInit & { key?: string; json?: unknown }, number, string][] =
    [
      ["no key", Paths.register, { json: registerBody() }, 401, "missing_api_key"],
      [
        "an unknown key",
        Paths.register,
        { key: "wak_" + "A".repeat(32), json: registerBody() },
        401,
        "invalid_api_key",
      ],
      [
        "a malformed key",
        Paths.register,
        { key: "nope", json: registerBody() },
        401,
        "invalid_api_key",
      ],
      [
        "a key without the worker scope",
        Paths.register,
        { key: readOnly.key, json: registerBody() },
        403,
        "forbidden",
      ],
      [
        "another worker's heartbeat",
        Paths.heartbeat(other.workerId),
        { key, json: {} },
        403,
        "worker_mismatch",
      ],
      [
        "an unknown worker",
        Paths.heartbeat("wkr_" + "0".repeat(24)),
        { key, json: {} },
        404,
        "not_found",
      ],
      ["an unknown route", "/api/nothing", { key, json: {} }, 404, "not_found"],
    ];
  for (const [name, path, init, status, code] of cases) {
    await t.step(`${name} → ${status} ${code}`, async () => {
      const res = await plane.call(path, init);
      const error = await errorOf(res);
      assertEquals([error.status, error.code], [status, code]);
      assert(!error.error.includes(key), "the message never repeats a key");
    });
  }
  await t.step("Authorization: Bearer works like X-API-Key", async () => {
    const res = await plane.call(Paths.heartbeat(workerId), {
      headers: { authorization: `Bearer ${key}` },
      json: {},
    });
    assertEquals(res.status, 200);
  });
});

Deno.test("a 400 names the bad field", async (t) => {
  using plane = testPlane();
  const { key, workerId } = await plane.registerWorker();
  const created = await plane.admin("/api/workers/commands", {
    json: { worker_id: workerId, command_type: "ping" },
  });
  const commandId = (await created.json()).command_id;
  const cases: [string, string, unknown, string][] = [
    [
      "register without hostname",
      Paths.register,
      registerBody({ hostname: undefined }),
      "hostname",
    ],
    [
      "register with a bad platform",
      Paths.register,
      registerBody({ platform: "beos" }),
      "platform",
    ],
    ["heartbeat with a bad status", Paths.heartbeat(workerId), { status: "sleepy" }, "status"],
    ["metrics with a string seq", Paths.metrics(workerId), {
      samples: [{ ...sample("s", 1), seq: "x" }],
    }, "samples.0.seq"],
    ["metrics without samples", Paths.metrics(workerId), {}, "samples"],
    [
      "a result with a bad status",
      Paths.result(commandId),
      { command_id: commandId, status: "done" },
      "status",
    ],
  ];
  for (const [name, path, body, field] of cases) {
    await t.step(name, async () => {
      const error = await errorOf(await plane.call(path, { key, json: body }));
      assertEquals(error.status, 400);
      assertEquals(error.code, "invalid_request");
      assert(error.error.startsWith(`${field}:`), `"${error.error}" names ${field}`);
    });
  }
  await t.step("malformed JSON names the body", async () => {
    const res = await plane.call(Paths.heartbeat(workerId), {
      key,
      method: "POST",
      body: "{not json",
    });
    const error = await errorOf(res);
    assertEquals([error.status, error.code], [400, "invalid_request"]);
    assertMatch(error.error, /^\(body\):/);
  });
});

Deno.test("bodies over 1 MiB are refused with 413, with or without Content-Length", async () => {
  using plane = testPlane();
  const { key, workerId } = await plane.registerWorker();
  const big = `{"samples":[],"pad":"${"x".repeat(MAX_BODY_BYTES)}"}`;
  const declared = await plane.call(Paths.metrics(workerId), { key, method: "POST", body: big });
  assertEquals((await errorOf(declared)).code, "payload_too_large");
  const chunk = new TextEncoder().encode("x".repeat(64 * 1024));
  let sent = 0;
  const stream = new ReadableStream<Uint8Array>({
    pull(controller) {
      if (sent > MAX_BODY_BYTES * 4) return controller.close();
      sent += chunk.byteLength;
      controller.enqueue(chunk);
    },
  });
  const streamed = await plane.call(Paths.metrics(workerId), { key, method: "POST", body: stream });
  const error = await errorOf(streamed);
  assertEquals([error.status, error.code], [413, "payload_too_large"]);
  assert(sent < MAX_BODY_BYTES * 2, `reading stopped early (read ${sent} bytes)`);
});

Deno.test("a key over its rate gets 429 with Retry-After, and recovers with time", async () => {
  using plane = testPlane({ rateLimitPerSecond: 2, rateLimitBurst: 3 });
  const { key, workerId } = await plane.registerWorker(); // 1 token used by register
  const statuses: number[] = [];
  let retryAfter: string | null = null;
  for (let i = 0; i < 4; i++) {
    const res = await plane.call(Paths.heartbeat(workerId), { key, json: {} });
    statuses.push(res.status);
    if (res.status === 429) {
      retryAfter = res.headers.get("retry-after");
      assertEquals((await errorOf(res)).code, "rate_limited");
    } else await res.body?.cancel();
  }
  assertEquals(statuses, [200, 200, 429, 429]);
  assertEquals(retryAfter, "1");
  plane.clock.advance(1000);
  assertEquals((await plane.call(Paths.heartbeat(workerId), { key, json: {} })).status, 200);
});

Deno.test("heartbeat hands out pending commands signed at delivery, at most 10", async () => {
  using plane = testPlane();
  const { key, workerId } = await plane.registerWorker();
  for (let i = 0; i < 12; i++) {
    const res = await plane.admin("/api/workers/commands", {
      json: { worker_id: workerId, command_type: "ping" },
    });
    assertEquals(res.status, 201);
    assertEquals((await res.json()).status, "pending");
    plane.clock.advance(1);
  }
  plane.clock.advance(5000);
  const res = await plane.call(Paths.heartbeat(workerId), { key, json: { status: "online" } });
  const body = await res.json();
  assertEquals(body.ok, true);
  assertEquals(body.pending_commands.length, 10);
  const verifier = { alg: "hmac-sha256" as const, key: await deriveSigningKey(key) };
  const first = CommandSchema.parse(body.pending_commands[0]);
  assertEquals(first.issued_at, plane.clock.time, "issued_at is the delivery time");
  assertEquals(first.expires_at, plane.clock.time + 600_000);
  const verdict = await verifyCommand(first, {
    workerId,
    now: plane.clock.time,
    seen: new Set<string>(),
    allowlist: ["ping"],
    verifier,
  });
  assert(verdict.accept, JSON.stringify(verdict));
  const created = body.pending_commands.map((c: { created_at: string }) =>
    Date.parse(c.created_at)
  );
  assertEquals(created, [...created].sort((a: number, b: number) => a - b), "oldest first");

  const next = await (await plane.call(Paths.heartbeat(workerId), { key, json: {} })).json();
  assertEquals(next.pending_commands.length, 2, "the rest, not the ones just delivered");
  plane.clock.advance(30_000);
  const redelivered = await (await plane.call(Paths.heartbeat(workerId), { key, json: {} })).json();
  assertEquals(redelivered.pending_commands.length, 10, "unacked commands come again after 30 s");
  const again = CommandSchema.parse(redelivered.pending_commands[0]);
  assertEquals(again.id, first.id);
  assert(again.issued_at > first.issued_at, "each delivery re-signs with a fresh issued_at");
});

Deno.test("metrics are stored once per (worker, stream, seq)", async () => {
  using plane = testPlane();
  const { key, workerId } = await plane.registerWorker();
  const batch = [sample("s1", 1), sample("s1", 2), sample("s2", 1)];
  const first = await (await plane.call(Paths.metrics(workerId), { key, json: { samples: batch } }))
    .json();
  assertEquals([first.ok, first.accepted, first.duplicates], [true, 3, 0]);
  const resent = await (await plane.call(Paths.metrics(workerId), {
    key,
    json: { samples: [...batch, sample("s1", 3)] },
  })).json();
  assertEquals([resent.accepted, resent.duplicates], [1, 3]);
  const listed = await (await plane.admin(`/api/workers/${workerId}/metrics`)).json();
  assertEquals(listed.samples.length, 4);
  const window = await (await plane.admin(
    `/api/workers/${workerId}/metrics?since=${batch[1]!.ts}&limit=2`,
  )).json();
  assertEquals(window.samples.map((s: { seq: number }) => s.seq).length, 2);
  const bad = await plane.admin(`/api/workers/${workerId}/metrics?limit=abc`);
  assertEquals((await errorOf(bad)).status, 400);
});

Deno.test("a command result is stored once; later results change nothing", async (t) => {
  using plane = testPlane();
  const { key, workerId } = await plane.registerWorker();
  const other = await plane.registerWorker();
  const { command_id } = await (await plane.admin("/api/workers/commands", {
    json: { worker_id: workerId, command_type: "ping", timeout_seconds: 5 },
  })).json();
  const result = {
    command_id,
    status: "completed",
    output: "pong",
    data: { received_at: 1 },
    started_at: 1,
    finished_at: 2,
    timestamp: 3,
  };
  await t.step("another worker's key gets 403 worker_mismatch", async () => {
    const error = await errorOf(
      await plane.call(Paths.result(command_id), { key: other.key, json: result }),
    );
    assertEquals([error.status, error.code], [403, "worker_mismatch"]);
  });
  await t.step("an unknown command is 404", async () => {
    const error = await errorOf(
      await plane.call(Paths.result("nope"), { key, json: { ...result, command_id: "nope" } }),
    );
    assertEquals([error.status, error.code], [404, "not_found"]);
  });
  await t.step("a body naming another command is 400 command_id", async () => {
    const error = await errorOf(
      await plane.call(Paths.result(command_id), { key, json: { ...result, command_id: "x" } }),
    );
    assertEquals([error.status, error.code], [400, "invalid_request"]);
    assertMatch(error.error, /^command_id:/);
  });
  await t.step("the first result is stored", async () => {
    const body = await (await plane.call(Paths.result(command_id), { key, json: result })).json();
    assertEquals(body.ok, true);
    assertEquals(body.message, undefined);
  });
  await t.step("a second result answers 200 and changes nothing", async () => {
    const res = await plane.call(Paths.result(command_id), {
      key,
      json: { ...result, status: "failed", error: "late" },
    });
    assertEquals(res.status, 200);
    assertEquals((await res.json()).message, "Command already completed");
    const list = await (await plane.admin(`/api/workers/commands?worker_id=${workerId}`)).json();
    assertEquals(list.commands[0].status, "completed");
    assertEquals(list.commands[0].result.output, "pong");
  });
});

Deno.test("the sweeper times out commands past their deadline and marks silent workers offline", async () => {
  using plane = testPlane({ deliveryWindowMs: 10_000, resultGraceMs: 1000 });
  const { key, workerId } = await plane.registerWorker();
  const create = async () =>
    (await (await plane.admin("/api/workers/commands", {
      json: { worker_id: workerId, command_type: "ping", timeout_seconds: 2 },
    })).json()).command_id as string;
  const undelivered = await create();
  plane.clock.advance(10_001);
  await plane.cp.sweep();
  const status = async (id: string) =>
    (await (await plane.admin(`/api/workers/commands?worker_id=${workerId}`)).json()).commands
      .find((c: { command_id: string }) => c.command_id === id).status;
  assertEquals(await status(undelivered), "timeout", "never delivered within the window");

  const delivered = await create();
  await plane.call(Paths.heartbeat(workerId), { key, json: {} });
  plane.clock.advance(2_500);
  await plane.cp.sweep();
  assertEquals(await status(delivered), "delivered", "still inside timeout + grace");
  plane.clock.advance(1_000);
  await plane.cp.sweep();
  assertEquals(await status(delivered), "timeout");

  const worker = async () => (await (await plane.admin(`/api/workers/${workerId}`)).json()).worker;
  assertEquals((await worker()).status, "online");
  plane.clock.advance(3 * 30_000 + 1);
  await plane.cp.sweep();
  assertEquals((await worker()).is_online, false, "offline after 3 missed heartbeats");
  await plane.call(Paths.heartbeat(workerId), { key, json: {} });
  assertEquals((await worker()).status, "online");
  await plane.call(Paths.heartbeat(workerId), { key, json: { status: "offline" } });
  assertEquals((await worker()).status, "offline", "offline at once after an offline heartbeat");
});

Deno.test("the admin API needs the token and follows interfaces.md section 3", async (t) => {
  using plane = testPlane();
  const { key, keyId, workerId } = await plane.registerWorker();
  await t.step("no token or a wrong one is 401", async () => {
    assertEquals((await errorOf(await plane.call("/api/workers"))).status, 401);
    const wrong = await plane.call("/api/admin/keys", {
      headers: { authorization: "Bearer nope" },
    });
    assertEquals((await errorOf(wrong)).code, "invalid_api_key");
  });
  await t.step("GET /api/workers lists workers and filters by status", async () => {
    const all = await (await plane.admin("/api/workers")).json();
    assertEquals(all.workers.length, 1);
    assertEquals(all.workers[0].worker_id, workerId);
    assertEquals(typeof all.workers[0].last_heartbeat, "number");
    const offline = await (await plane.admin("/api/workers?status=offline")).json();
    assertEquals(offline.workers.length, 0);
    assertEquals((await errorOf(await plane.admin("/api/workers?status=nap"))).status, 400);
  });
  await t.step("POST /api/workers/commands validates the params of known types", async () => {
    const bad = await plane.admin("/api/workers/commands", {
      json: { worker_id: workerId, command_type: "stop_trading", params: { force: "yes" } },
    });
    const error = await errorOf(bad);
    assertEquals(error.status, 400);
    assertMatch(error.error, /^params\.force:/);
    const missing = await plane.admin("/api/workers/commands", {
      json: { worker_id: "wkr_" + "0".repeat(24), command_type: "ping" },
    });
    assertEquals((await errorOf(missing)).status, 404);
  });
  await t.step("GET /api/admin/keys shows keys without secrets", async () => {
    const text = await (await plane.admin("/api/admin/keys")).text();
    assert(!text.includes(key), "the raw key is never shown again");
    const keys = JSON.parse(text).keys;
    assertEquals(keys[0].key_prefix, key.slice(0, 12));
    assertEquals(keys[0].worker_id, workerId);
  });
  await t.step("a revoked key gets 401 on worker calls", async () => {
    const res = await plane.admin(`/api/admin/keys/${keyId}/revoke`, { method: "POST" });
    assertEquals((await res.json()).ok, true);
    const error = await errorOf(await plane.call(Paths.heartbeat(workerId), { key, json: {} }));
    assertEquals([error.status, error.code], [401, "invalid_api_key"]);
    assertEquals(
      (await errorOf(await plane.admin("/api/admin/keys/key_x/revoke", { method: "POST" }))).status,
      404,
    );
  });
  await t.step("DELETE /api/workers/{id} removes it; its heartbeat then gets 404", async () => {
    const fresh = await plane.registerWorker();
    assertEquals(
      (await (await plane.admin(`/api/workers/${fresh.workerId}`, { method: "DELETE" })).json()).ok,
      true,
    );
    const error = await errorOf(
      await plane.call(Paths.heartbeat(fresh.workerId), { key: fresh.key, json: {} }),
    );
    assertEquals([error.status, error.code], [404, "not_found"]);
    const again = await (await plane.call(Paths.register, { key: fresh.key, json: registerBody() }))
      .json();
    assert(again.worker_id !== fresh.workerId, "registering again creates a new worker");
  });
});

Deno.test("logs name method, path, status and worker but never a key", async () => {
  using plane = testPlane();
  const { key, workerId } = await plane.registerWorker();
  await plane.call(Paths.heartbeat(workerId), { key, json: {} });
  await plane.call(Paths.heartbeat(workerId), {
    headers: { authorization: `Bearer ${key}` },
    json: {},
  });
  const all = plane.logs.join("");
  assert(!all.includes(key), "no raw key in the logs");
  assert(!all.includes(plane.adminToken), "no admin token in the logs");
  const line = plane.logs.map((l) => JSON.parse(l)).find((l) =>
    l.path === Paths.heartbeat(workerId)
  );
  assertExists(line);
  assertEquals([line.method, line.status, line.worker_id], ["POST", 200, workerId]);
  assertEquals(typeof line.duration_ms, "number");
});

Deno.test("GET requests no API route matched go to the dashboard; the rest are JSON 404s", async () => {
  using plane = testPlane();
  const page = await plane.call("/");
  assertEquals(page.status, 200);
  assertMatch(page.headers.get("content-type") ?? "", /text\/html/);
  await page.body?.cancel();
  const missing = await errorOf(await plane.call("/api/nope"));
  assertEquals([missing.status, missing.code], [404, "not_found"]);
  const post = await errorOf(await plane.call("/", { method: "POST", body: "{}" }));
  assertEquals(post.status, 404);
});

Deno.test("the sweeper deletes samples older than the retention", async () => {
  using plane = testPlane({ metricsRetentionMs: 60 * 60_000 });
  const { key, workerId } = await plane.registerWorker();
  await plane.call(Paths.metrics(workerId), { key, json: { samples: [sample("s", 1)] } });
  plane.clock.advance(30 * 60_000);
  await plane.call(Paths.metrics(workerId), { key, json: { samples: [sample("s", 2)] } });
  plane.clock.advance(31 * 60_000);
  await plane.cp.sweep();
  const listed = await (await plane.admin(`/api/workers/${workerId}/metrics`)).json();
  assertEquals(listed.samples.map((s: { seq: number }) => s.seq), [2]);
});

Deno.test("forged keys that share a victim's prefix use up their sender's budget, not the victim's", async () => {
  using plane = testPlane({ rateLimitPerSecond: 2, rateLimitBurst: 3 });
  const { key, workerId } = await plane.registerWorker(); // 1 of the victim's 3 tokens
  const forged = key.slice(0, 12) + "x".repeat(24);
  const forgedStatuses: number[] = [];
  for (let i = 0; i < 5; i++) {
    const res = await plane.call(Paths.heartbeat(workerId), { key: forged, json: {} });
    forgedStatuses.push(res.status);
    await res.body?.cancel();
  }
  // The address bucket (burst 3) runs dry: 401, 401, 401, then 429.
  assertEquals(forgedStatuses, [401, 401, 401, 429, 429]);
  // The victim's own budget is untouched: 2 tokens left.
  const victim = await plane.call(Paths.heartbeat(workerId), { key, json: {} });
  assertEquals(victim.status, 200);
  await victim.body?.cancel();
});
