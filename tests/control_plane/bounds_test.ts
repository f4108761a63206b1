/**
 * Bounds that keep one key or one command from hurting anyone else (protocol v1.1): poison
 * params, sample string and array caps, the per-worker storage quota, bodies read only after
 * authentication, and the liberal readers for samples and results.
 */
import { deepStrictEqual as assertEquals, ok as assert } from "node:assert/strict";
import { MAX_PARAMS_CANONICAL_BYTES, MAX_PARAMS_DEPTH, Paths } from "../../src/protocol/mod.ts";
import { MAX_REGISTER_BODY_BYTES } from "../../src/control_plane/app.ts";
import { registerBody, sample, servedPlane, type TestPlane, testPlane } from "./_fixtures.ts";
import { ProtocolClient } from "./_protocol_client.ts";

function nested(depth: number): Record<string, unknown> {
  let value: Record<string, unknown> = {};
  for (let i = 1; i < depth; i++) value = { a: value };
  return value;
}

async function createCommand(
  plane: TestPlane,
  workerId: string,
  extra: Record<string, unknown> = {},
): Promise<Response> {
  return await plane.admin("/api/workers/commands", {
    json: { worker_id: workerId, command_type: "custom_thing", ...extra },
  });
}

async function commandOf(plane: TestPlane, id: string): Promise<Record<string, unknown>> {
  const body = await (await plane.admin("/api/workers/commands?limit=1000")).json();
  return body.commands.find((c: { command_id: string }) => c.command_id === id);
}

Deno.test("params that cannot be signed or are too deep or too large are refused with 400", async (t) => {
  using plane = testPlane();
  const { workerId } = await plane.registerWorker();
  const cases: [string, string, RegExp][] = [
    ["a lone surrogate", '{"x":"\\ud800"}', /cannot be canonicalized/],
    ["a lone low surrogate in a key", '{"\\udc00k":1}', /cannot be canonicalized/],
    [`${MAX_PARAMS_DEPTH + 1} levels`, JSON.stringify(nested(MAX_PARAMS_DEPTH + 1)), /deeper/],
    [
      "more than 64 KiB canonical",
      JSON.stringify({ x: "a".repeat(MAX_PARAMS_CANONICAL_BYTES) }),
      /canonical form/,
    ],
  ];
  for (const [name, params, message] of cases) {
    await t.step(name, async () => {
      const res = await plane.admin("/api/workers/commands", {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: `{"worker_id":"${workerId}","command_type":"custom_thing","params":${params}}`,
      });
      const body = await res.json();
      assertEquals(res.status, 400, JSON.stringify(body));
      assertEquals(body.code, "invalid_request");
      assert(message.test(body.error), body.error);
    });
  }
  await t.step(`${MAX_PARAMS_DEPTH} levels are fine`, async () => {
    const res = await createCommand(plane, workerId, { params: nested(MAX_PARAMS_DEPTH) });
    assertEquals(res.status, 201, await res.text());
  });
});

Deno.test("a command that cannot be signed is marked failed and the ones behind it still go out", async () => {
  await using s = servedPlane();
  const { key, workerId } = await s.plane.registerWorker();
  // Params stored before they were bounded (or written by another tool): the admin API now
  // refuses to create such a command, so put one in the database directly.
  const poison = await (await createCommand(s.plane, workerId)).json();
  s.plane.db.prepare("UPDATE commands SET params = ? WHERE id = ?").run(
    '{"x":"\\ud800"}',
    poison.command_id,
  );
  const ping = await (await s.plane.admin("/api/workers/commands", {
    json: { worker_id: workerId, command_type: "ping" },
  })).json();

  const res = await s.plane.call(Paths.heartbeat(workerId), { key, json: {} });
  const body = await res.json();
  assertEquals(res.status, 200, JSON.stringify(body));
  assertEquals(body.pending_commands.map((c: { id: string }) => c.id), [ping.command_id]);
  const failed = await commandOf(s.plane, poison.command_id);
  assertEquals(failed.status, "failed");
  assertEquals((failed.result as { error_code: string }).error_code, "signing_failed");
  assert(s.plane.logs.some((l) => l.includes("could not be signed")));

  // The WebSocket path too: a second poison does not stop the push of the next ping.
  const second = await (await createCommand(s.plane, workerId)).json();
  s.plane.db.prepare("UPDATE commands SET params = ? WHERE id = ?").run(
    '{"y":"\\udfff"}',
    second.command_id,
  );
  const client = new ProtocolClient(s.baseUrl, key);
  client.workerId = workerId;
  const channel = await client.connect();
  await channel.next("welcome");
  const next = await (await s.plane.admin("/api/workers/commands", {
    json: { worker_id: workerId, command_type: "ping" },
  })).json();
  const frame = await channel.next("command");
  assertEquals((frame.command as { id: string }).id, next.command_id);
  assertEquals((await commandOf(s.plane, second.command_id)).status, "failed");
  await channel.close();
});

Deno.test("sample strings over 256 characters and arrays over 256 entries are refused with 400", async (t) => {
  using plane = testPlane();
  const { key, workerId } = await plane.registerWorker();
  const disk = { mount: "/", fs_type: "ext4", total_bytes: 1, used_bytes: 0 };
  const cases: [string, Record<string, unknown>, string][] = [
    [
      "a long mount",
      { disks: [{ ...disk, mount: "/" + "m".repeat(256) }] },
      "samples.0.disks.0.mount",
    ],
    ["a long GPU name", { gpus: [{ index: 0, name: "g".repeat(257) }] }, "samples.0.gpus.0.name"],
    ["a long trading status", { trading_status: "s".repeat(257) }, "samples.0.trading_status"],
    ["257 disks", { disks: Array(257).fill(disk) }, "samples.0.disks"],
    ["257 cores", { cpu_per_core: Array(257).fill(1) }, "samples.0.cpu_per_core"],
    ["a 65-character stream", { stream: "s".repeat(65) }, "samples.0.stream"],
  ];
  for (const [name, change, field] of cases) {
    await t.step(name, async () => {
      const res = await plane.call(Paths.metrics(workerId), {
        key,
        json: { samples: [{ ...sample("s", 1), ...change }] },
      });
      const body = await res.json();
      assertEquals(res.status, 400, JSON.stringify(body));
      assert(body.error.startsWith(`${field}:`), body.error);
    });
  }
  await t.step("256 of each are fine", async () => {
    const res = await plane.call(Paths.metrics(workerId), {
      key,
      json: {
        samples: [{
          ...sample("s", 2),
          disks: Array(256).fill({ ...disk, mount: "m".repeat(256) }),
          cpu_per_core: Array(256).fill(null),
        }],
      },
    });
    assertEquals(res.status, 200, await res.text());
  });
});

Deno.test("a worker over its storage quota gets 429 on samples until retention frees room", async () => {
  using plane = testPlane({ workerQuotaBytes: 20_000, metricsRetentionMs: 60 * 60_000 });
  const { key, workerId } = await plane.registerWorker();
  const other = await plane.registerWorker();
  const post = (k: string, id: string, from: number) =>
    plane.call(Paths.metrics(id), {
      key: k,
      json: { samples: Array.from({ length: 10 }, (_, i) => sample("s", from + i)) },
    });
  let refused: Response | undefined;
  for (let batch = 0; batch < 20 && !refused; batch++) {
    const res = await post(key, workerId, batch * 10);
    if (res.status === 429) refused = res;
    else assertEquals(res.status, 200, await res.text());
  }
  assert(refused, "the quota was reached");
  const body = await refused.json();
  assertEquals(body.code, "rate_limited");
  assert(/storage quota/.test(body.error), body.error);
  assertEquals(refused.headers.get("retry-after"), "60");
  assertEquals((await post(other.key, other.workerId, 0)).status, 200, "other workers go on");

  plane.clock.advance(2 * 60 * 60_000);
  await plane.cp.sweep(); // retention deletes the old samples and frees the quota
  assertEquals((await post(key, workerId, 1000)).status, 200);
});

Deno.test("samples carrying only stream, seq, ts and the flat FTL fields are stored with nulls", async () => {
  using plane = testPlane();
  const { key, workerId } = await plane.registerWorker();
  const res = await plane.call(Paths.metrics(workerId), {
    key,
    json: {
      samples: [
        { stream: "ftl", seq: 1, ts: 1_764_000_000_000, cpu_percent: 5, memory_used_mb: 100 },
        { stream: "ftl", seq: 2, ts: 1_764_000_001_000, future_field: "ignored" },
      ],
    },
  });
  const answer = await res.json();
  assertEquals(res.status, 200, JSON.stringify(answer));
  assertEquals(answer.accepted, 2);
  const listed = await (await plane.admin(`/api/workers/${workerId}/metrics`)).json();
  const [first, second] = listed.samples;
  assertEquals(first.cpu_percent, 5);
  assertEquals(first.memory_total_mb, null);
  assertEquals(first.disks, null);
  assertEquals(first.trading, null);
  assertEquals(second.cpu_percent, null);
  assertEquals("future_field" in second, false);
  const stored = plane.db.prepare("SELECT sample FROM metric_samples WHERE seq = 2").get() as {
    sample: string;
  };
  assert(stored.sample.length < 60, `nulls are not stored: ${stored.sample}`);
  const missingSeq = await plane.call(Paths.metrics(workerId), {
    key,
    json: { samples: [{ stream: "ftl", ts: 1 }] },
  });
  assertEquals(missingSeq.status, 400);
  assert((await missingSeq.json()).error.startsWith("samples.0.seq:"));
});

Deno.test("a result body without command_id is taken; one naming another command is a 400", async () => {
  using plane = testPlane();
  const { key, workerId } = await plane.registerWorker();
  const ids: string[] = [];
  for (let i = 0; i < 2; i++) {
    ids.push(
      (await (await plane.admin("/api/workers/commands", {
        json: { worker_id: workerId, command_type: "ping" },
      })).json()).command_id,
    );
  }
  await (await plane.call(Paths.heartbeat(workerId), { key, json: {} })).body?.cancel();
  const ok = await plane.call(Paths.result(ids[0]!), { key, json: { status: "completed" } });
  assertEquals(ok.status, 200, await ok.text());
  assertEquals((await commandOf(plane, ids[0]!)).status, "completed");
  const mismatch = await plane.call(Paths.result(ids[1]!), {
    key,
    json: { command_id: ids[0], status: "completed" },
  });
  const body = await mismatch.json();
  assertEquals(mismatch.status, 400);
  assert(body.error.startsWith("command_id:"), body.error);
  assertEquals((await commandOf(plane, ids[1]!)).status, "delivered", "nothing stored");
});

Deno.test("results and acks of delivered commands do not spend the key's request budget", async () => {
  await using s = servedPlane({ rateLimitPerSecond: 1, rateLimitBurst: 3, frameRatePerSecond: 1 });
  const { key, workerId } = await s.plane.registerWorker(); // 1 of 3
  const ids: string[] = [];
  for (let i = 0; i < 30; i++) {
    ids.push(
      (await (await s.plane.admin("/api/workers/commands", {
        json: { worker_id: workerId, command_type: "ping" },
      })).json()).command_id,
    );
  }
  const client = new ProtocolClient(s.baseUrl, key);
  client.workerId = workerId;
  const channel = await client.connect(); // 2 of 3
  await channel.next("welcome");
  for (let i = 0; i < 30; i++) {
    const frame = await channel.next("command");
    channel.send({ type: "ack", command_id: (frame.command as { id: string }).id });
  }
  const statuses = [];
  for (const id of ids) {
    const res = await s.plane.call(Paths.result(id), {
      key,
      json: { command_id: id, status: "completed" },
    });
    statuses.push(res.status);
    await res.body?.cancel();
  }
  assertEquals(statuses, Array(30).fill(200));
  channel.send({ type: "ping", ts: 1 });
  assertEquals((await channel.next("pong")).ts, 1, "30 acks at a 1 frame/s budget: still open");
  // A second result for the same command is not free, nor is a heartbeat.
  const codes = [];
  for (let i = 0; i < 3; i++) {
    const res = await s.plane.call(Paths.result(ids[0]!), {
      key,
      json: { status: "completed" },
    });
    codes.push(res.status);
    await res.body?.cancel();
  }
  assert(codes.includes(429), `repeats are charged: ${codes}`);
  await channel.close();
});

Deno.test("register reads no body before a key in a header is checked, and at most 64 KiB otherwise", async (t) => {
  using plane = testPlane({ bodyTimeoutMs: 300 });
  const { key } = await plane.createKey();
  const endless = () =>
    new ReadableStream<Uint8Array>({
      pull: () => new Promise(() => {}), // sends nothing, never ends
    });
  await t.step("a wrong header key is 401 without waiting for the body", async () => {
    const res = await plane.cp.fetch(
      new Request(`http://127.0.0.1:9${Paths.register}`, {
        method: "POST",
        headers: { "X-API-Key": "wak_" + "B".repeat(32) },
        body: endless(),
      }),
      { remoteAddr: "127.0.0.1" },
    );
    assertEquals(res.status, 401);
    await res.body?.cancel();
  });
  await t.step("a body key: more than 64 KiB is 413", async () => {
    const res = await plane.call(Paths.register, {
      json: { ...registerBody(), api_key: key, pad: "p".repeat(MAX_REGISTER_BODY_BYTES) },
    });
    assertEquals(res.status, 413);
    await res.body?.cancel();
  });
  await t.step("a body that never ends is 408 at the deadline", async () => {
    const started = Date.now();
    const res = await plane.cp.fetch(
      new Request(`http://127.0.0.1:9${Paths.register}`, { method: "POST", body: endless() }),
      { remoteAddr: "127.0.0.1" },
    );
    assertEquals(res.status, 408);
    assertEquals((await res.json()).code, "invalid_request");
    assert(Date.now() - started < 3000);
  });
  await t.step("FTL's key in a small body still works", async () => {
    const res = await plane.call(Paths.register, { json: { ...registerBody(), api_key: key } });
    assertEquals(res.status, 200, await res.text());
  });
});
