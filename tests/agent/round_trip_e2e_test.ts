import { deepStrictEqual as assertEquals, ok as assert } from "node:assert/strict";
import { waitFor } from "../_helpers/wait_for.ts";
import { connectedWorkerId, gapFree, startSystem } from "./_e2e.ts";

Deno.test({
  name: "the agent registers, heartbeats, sends metrics and runs a command over the WebSocket",
  sanitizeResources: true,
  sanitizeOps: true,
  async fn() {
    await using sys = await startSystem();
    const workerId = await connectedWorkerId(sys.agent, { websocket: "open" });
    const worker = await sys.admin.worker(workerId);
    assert(worker.is_online, "the control plane shows the worker online");

    const id = await sys.admin.command(workerId, "ping");
    const row = await sys.admin.finished(workerId, id, 5_000); // far below the 5 s heartbeat poll
    assertEquals(row.status, "completed");
    assertEquals(typeof row.result?.data, "object");
    assert((row.result!.data as Record<string, unknown>).agent_time !== undefined);

    const samples = await waitFor(async () => {
      const list = await sys.admin.samples(workerId);
      return list.length >= 3 ? list : undefined;
    }, { timeoutMs: 15_000, message: "3 samples" });
    assert(gapFree(samples.map((s) => s.seq)));
    assertEquals(new Set(samples.map((s) => s.stream)).size, 1);

    assertEquals(await sys.agent.stop(), 0);
    const status = await sys.agent.status();
    assertEquals(status?.state, "stopped");
    assertEquals((await sys.admin.worker(workerId)).status, "offline");
  },
});

Deno.test("restart_agent reports its result first, then drains and exits 75", async () => {
  await using sys = await startSystem();
  const workerId = await connectedWorkerId(sys.agent, { websocket: "open" });
  const id = await sys.admin.command(workerId, "restart_agent");
  assertEquals(await sys.agent.exited, 75);
  const row = (await sys.admin.commands(workerId)).find((c) => c.command_id === id);
  assertEquals(row?.status, "completed");
  assertEquals((row?.result?.data as { restarting?: boolean }).restarting, true);
});

Deno.test("a worker deleted on the server registers again by itself and gets its WebSocket back", async () => {
  await using sys = await startSystem();
  const first = await connectedWorkerId(sys.agent, { websocket: "open" });
  const res = await sys.cp.admin(`/api/workers/${first}`, { method: "DELETE" });
  assertEquals(res.status, 200);
  await res.body?.cancel();
  const second = await waitFor(async () => {
    const s = await sys.agent.status();
    return s?.state === "connected" && s.websocket === "open" && s.worker_id !== first
      ? s.worker_id
      : undefined;
  }, { timeoutMs: 20_000, message: "a new registration" });
  const id = await sys.admin.command(second!, "ping");
  assertEquals((await sys.admin.finished(second!, id, 4_000)).status, "completed");
});
