/**
 * Legacy agents (protocol 4, v1.1): a worker registered without `instance_id` gets each
 * command once by heartbeat, its result status `error` is stored as `failed`, and heartbeat
 * metrics become history for workers that do not use the metrics endpoint.
 */
import { deepStrictEqual as assertEquals, ok as assert } from "node:assert/strict";
import {
  CommandSchema,
  deriveSigningKey,
  Paths,
  verifyCommandSignature,
} from "../../src/protocol/mod.ts";
import { AGENT_ERROR_CODE } from "../../src/control_plane/result_body.ts";
import { registerBody, sample, servedPlane, type TestPlane, testPlane } from "./_fixtures.ts";
import { ProtocolClient } from "./_protocol_client.ts";

async function registerLegacy(plane: TestPlane): Promise<{ key: string; workerId: string }> {
  const { key } = await plane.createKey();
  const res = await plane.call(Paths.register, {
    key,
    json: registerBody({ instance_id: undefined }),
  });
  const body = await res.json();
  assertEquals(res.status, 200, JSON.stringify(body));
  return { key, workerId: body.worker_id };
}

async function createCommand(
  plane: TestPlane,
  workerId: string,
  commandType = "ping",
  params: Record<string, unknown> = {},
): Promise<string> {
  const res = await plane.admin("/api/workers/commands", {
    json: { worker_id: workerId, command_type: commandType, params, timeout_seconds: 60 },
  });
  const body = await res.json();
  assertEquals(res.status, 201, JSON.stringify(body));
  return body.command_id;
}

async function commandOf(plane: TestPlane, id: string): Promise<Record<string, unknown>> {
  const body = await (await plane.admin("/api/workers/commands?limit=1000")).json();
  return body.commands.find((c: { command_id: string }) => c.command_id === id);
}

async function heartbeat(
  plane: TestPlane,
  key: string,
  workerId: string,
  body: Record<string, unknown> = { status: "online" },
): Promise<Record<string, unknown>[]> {
  const res = await plane.call(Paths.heartbeat(workerId), { key, json: body });
  const json = await res.json();
  assertEquals(res.status, 200, JSON.stringify(json));
  return json.pending_commands;
}

Deno.test("a worker registered without instance_id is legacy and gets each command once, by heartbeat, with an ISO created_at", async () => {
  using plane = testPlane();
  const { key, workerId } = await registerLegacy(plane);
  const view = (await (await plane.admin(`/api/workers/${workerId}`)).json()).worker;
  assertEquals(view.legacy, true);
  const ids = [await createCommand(plane, workerId), await createCommand(plane, workerId)];
  const createdAt = plane.clock.time;
  plane.clock.advance(1000);
  const first = await heartbeat(plane, key, workerId);
  assertEquals(first.map((c) => c.id), ids);
  const command = CommandSchema.parse(first[0]);
  assertEquals(command.created_at, new Date(createdAt).toISOString());
  const verifier = { alg: "hmac-sha256" as const, key: await deriveSigningKey(key) };
  assert(await verifyCommandSignature(first[0]!, verifier), "signed over the ISO string");
  for (const wait of [31_000, 31_000, 31_000]) {
    plane.clock.advance(wait);
    assertEquals(await heartbeat(plane, key, workerId), [], "never sent again (it never acks)");
  }
  assertEquals((await commandOf(plane, ids[0]!)).delivery_count, 1);
  assertEquals((await commandOf(plane, ids[0]!)).status, "delivered");
  plane.clock.advance(60_000 + 60_000);
  await plane.cp.sweep();
  assertEquals((await commandOf(plane, ids[0]!)).status, "timeout", "the deadline still applies");
});

Deno.test("two heartbeats answered at once hand a legacy worker's command out once", async () => {
  using plane = testPlane();
  const { key, workerId } = await registerLegacy(plane);
  const ids = new Set<string>();
  for (let i = 0; i < 5; i++) ids.add(await createCommand(plane, workerId));
  const answers = await Promise.all(
    Array.from({ length: 4 }, () => heartbeat(plane, key, workerId)),
  );
  const handed = answers.flat().map((c) => c.id as string);
  assertEquals(handed.length, 5, `handed out ${handed.length} times: ${handed}`);
  assertEquals(new Set(handed), ids);
});

Deno.test("a legacy worker's WebSocket session gets no pushed command: the heartbeat hands it out", async () => {
  await using s = servedPlane();
  const { key } = await s.plane.createKey();
  const client = new ProtocolClient(s.baseUrl, key);
  await client.register({ instance_id: undefined });
  const channel = await client.connect();
  await channel.next("welcome");
  const id = await createCommand(s.plane, client.workerId);
  // A push (had there been one) is sent before the admin call answers and marks it delivered.
  const pending = (await client.heartbeat()).pending_commands as { id: string }[];
  assertEquals(pending.map((c) => c.id), [id]);
  assertEquals(channel.frames.filter((f) => f.type === "command"), []);
  await channel.close();
});

Deno.test("a result with status error is stored as failed, with error_code agent_error unless given", async (t) => {
  using plane = testPlane();
  const { key, workerId } = await registerLegacy(plane);
  const cases: [string, Record<string, unknown>, string][] = [
    ["no code", { status: "error", error: "unknown command type: ping" }, AGENT_ERROR_CODE],
    [
      "a code of its own",
      { status: "error", error: "boom", error_code: "exec_failed" },
      "exec_failed",
    ],
  ];
  for (const [name, result, code] of cases) {
    await t.step(name, async () => {
      const id = await createCommand(plane, workerId);
      await heartbeat(plane, key, workerId);
      // As FineTuneLab's agent reports it: status error and a Unix-seconds timestamp.
      const res = await plane.call(Paths.result(id), {
        key,
        json: { command_id: id, ...result, timestamp: 1_764_000_000 },
      });
      assertEquals(res.status, 200, await res.text());
      const stored = await commandOf(plane, id);
      assertEquals(stored.status, "failed");
      const body = stored.result as Record<string, unknown>;
      assertEquals([body.status, body.error_code, body.error], ["failed", code, result.error]);
    });
  }
});

Deno.test("heartbeat metrics of a worker that does not use the metrics endpoint become history", async (t) => {
  using plane = testPlane();
  await t.step(
    "legacy: omitted numbers are zeros (Go omitempty), one sample per heartbeat",
    async () => {
      const { key, workerId } = await registerLegacy(plane);
      const flat = { memory_used_mb: 512, memory_total_mb: 2048, trading_status: "stopped" };
      await heartbeat(plane, key, workerId, { status: "online", metrics: flat });
      plane.clock.advance(30_000);
      await heartbeat(plane, key, workerId, {
        status: "online",
        metrics: { ...flat, cpu_percent: 7 },
      });
      const { samples } = await (await plane.admin(`/api/workers/${workerId}/metrics`)).json();
      assertEquals(samples.map((s: Record<string, unknown>) => [s.stream, s.seq, s.cpu_percent]), [
        ["heartbeat", 1, 0],
        ["heartbeat", 2, 7],
      ]);
      assertEquals(samples[0].memory_used_mb, 512);
      assertEquals(samples[0].disk_total_gb, 0);
      assertEquals(samples[1].ts - samples[0].ts, 30_000, "stamped with the server's receive time");
      const worker = (await (await plane.admin(`/api/workers/${workerId}`)).json()).worker;
      assertEquals(worker.metrics.cpu_percent, 7);
    },
  );
  await t.step(
    "v1.1: only after 3 intervals without a post (counted from registering)",
    async () => {
      const { workerId, key } = await plane.registerWorker();
      const flat = { cpu_percent: 5, trading_status: "stopped" };
      const history = async () =>
        ((await (await plane.admin(`/api/workers/${workerId}/metrics`)).json()).samples as {
          stream: string;
          cpu_percent: unknown;
          memory_used_mb?: unknown;
        }[]).filter((s) => s.stream === "heartbeat");
      await heartbeat(plane, key, workerId, { status: "online", metrics: flat });
      assertEquals((await history()).length, 0, "just registered: its first batch is on the way");
      plane.clock.advance(90_001);
      await heartbeat(plane, key, workerId, { status: "online", metrics: flat });
      assertEquals((await history()).length, 1, "3 intervals after registering without a post");
      // Missing fields read back as null (protocol 3.3, v1.1), never as a filled-in 0.
      assertEquals(
        (await history())[0]!.memory_used_mb ?? null,
        null,
        "not zero-filled",
      );
      const posted = await plane.call(Paths.metrics(workerId), {
        key,
        json: { samples: [sample("s", 1)] },
      });
      assertEquals(posted.status, 200, await posted.text());
      plane.clock.advance(30_000);
      await heartbeat(plane, key, workerId, { status: "online", metrics: flat });
      plane.clock.advance(60_000);
      await heartbeat(plane, key, workerId, { status: "online", metrics: flat });
      assertEquals(
        (await history()).length,
        1,
        "the worker posts samples: heartbeats are not kept",
      );
      plane.clock.advance(1);
      await heartbeat(plane, key, workerId, { status: "online", metrics: flat });
      assertEquals((await history()).length, 2, "3 intervals without a post: kept again");
    },
  );
});
