/** The command list's `type` filter and the command catalog of the admin API. */
import { deepStrictEqual as assertEquals } from "node:assert/strict";
import { COMMAND_TYPES } from "../../src/protocol/mod.ts";
import { testPlane } from "./_fixtures.ts";

Deno.test("GET /api/workers/commands filters by type, status and worker together", async () => {
  using plane = testPlane();
  const a = await plane.registerWorker();
  const b = await plane.registerWorker();
  for (
    const [workerId, type] of [[a.workerId, "ping"], [a.workerId, "collect_diagnostics"], [
      b.workerId,
      "ping",
    ]]
  ) {
    const res = await plane.admin("/api/workers/commands", {
      json: { worker_id: workerId, command_type: type },
    });
    assertEquals(res.status, 201);
    await res.body?.cancel();
  }
  const list = async (query: string) =>
    ((await (await plane.admin(`/api/workers/commands?${query}`)).json()).commands as {
      worker_id: string;
      command_type: string;
    }[]).map((c) => [c.worker_id, c.command_type]);
  assertEquals(await list("type=ping"), [[b.workerId, "ping"], [a.workerId, "ping"]]);
  assertEquals(await list(`type=ping&worker_id=${a.workerId}`), [[a.workerId, "ping"]]);
  assertEquals(await list("type=ping&status=completed"), []);
  assertEquals(await list("type=restart_agent"), []);
  const tooLong = await plane.admin(`/api/workers/commands?type=${"x".repeat(65)}`);
  assertEquals(tooLong.status, 400);
  await tooLong.body?.cancel();
});

Deno.test("GET /api/admin/command-types lists every protocol type with its params schema", async () => {
  using plane = testPlane();
  const body = await (await plane.admin("/api/admin/command-types")).json();
  assertEquals(body.command_types.map((e: { command_type: string }) => e.command_type), [
    ...COMMAND_TYPES,
  ]);
  const stop = body.command_types.find((e: { command_type: string }) =>
    e.command_type === "stop_trading"
  );
  assertEquals(stop.disruptive, true);
  assertEquals(stop.params_schema, {
    type: "object",
    properties: { force: { type: "boolean" } },
    additionalProperties: false,
  });
  const unauthenticated = await plane.call("/api/admin/command-types");
  assertEquals(unauthenticated.status, 401);
  await unauthenticated.body?.cancel();
});
