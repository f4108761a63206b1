/**
 * The light protocol client (tests/_helpers/light_agent.ts) against a real control plane: it
 * registers, heartbeats, posts samples, holds a WebSocket, receives a pushed command, acks it
 * and posts its result, and stops when its key is revoked.
 */
import { deepStrictEqual as assertEquals, ok as assert } from "node:assert/strict";
import { startControlPlane } from "../_helpers/control_plane_process.ts";
import { percentile, startLightFleet, summarize } from "../_helpers/light_agent.ts";
import { waitFor } from "../_helpers/wait_for.ts";

Deno.test("percentile and summarize use the nearest rank", () => {
  const values = Array.from({ length: 100 }, (_, i) => 100 - i);
  assertEquals(percentile(values, 0.5), 50);
  assertEquals(percentile(values, 0.99), 99);
  assertEquals(summarize(values).max, 100);
  assert(Number.isNaN(percentile([], 0.5)));
});

Deno.test("light agents register, heartbeat, post samples, take pushed commands, stop on revoke", async () => {
  await using cp = await startControlPlane({ args: ["--heartbeat-interval", "1"] });
  await using fleet = await startLightFleet({
    baseUrls: [cp.baseUrl],
    admin: cp.admin,
    count: 3,
    heartbeatIntervalMs: 300,
    metricsIntervalMs: 300,
  });
  assertEquals(fleet.agents.length, 3);
  await waitFor(() => fleet.agents.every((a) => a.connected), { message: "3 sessions" });
  await waitFor(() => fleet.stats.ok("heartbeat") >= 6 && fleet.stats.ok("metrics") >= 6, {
    message: "heartbeats and samples",
  });
  const target = fleet.agents[1]!;
  const created = await cp.admin("/api/workers/commands", {
    method: "POST",
    body: JSON.stringify({ worker_id: target.workerId, command_type: "ping" }),
  });
  const { command_id } = await created.json();
  const received = await waitFor(() => target.commands.get(command_id), { message: "the push" });
  assertEquals(received.via, "ws");
  assert(received.latencyMs !== undefined && received.latencyMs >= 0 && received.latencyMs < 5000);
  await waitFor(async () => {
    const list = await (await cp.admin(`/api/workers/commands?worker_id=${target.workerId}`))
      .json();
    return list.commands.find((c: { command_id: string; status: string }) =>
      c.command_id === command_id && c.status === "completed"
    );
  }, { message: "the result stored" });
  assertEquals(fleet.stats.commandLatency().count, 1);
  // The stored samples have no gaps.
  const samples = await (await cp.admin(`/api/workers/${target.workerId}/metrics?limit=1000`))
    .json();
  const seqs = (samples.samples as { seq: number }[]).map((s) => s.seq).sort((a, b) => a - b);
  assert(seqs.length >= 2);
  assertEquals(seqs, Array.from({ length: seqs.length }, (_, i) => seqs[0]! + i));

  const revoked = await cp.admin(`/api/admin/keys/${target.keyId}/revoke`, { method: "POST" });
  assertEquals(revoked.status, 200);
  await waitFor(() => target.refused !== undefined, { message: "the agent refused" });
  assertEquals(target.closeCodes.at(-1), 4001);
  assertEquals(fleet.stats.errors()["ws 4001"], undefined); // a welcomed session's close is no error
  assertEquals(fleet.agents.filter((a) => a.connected).length, 2);
});
