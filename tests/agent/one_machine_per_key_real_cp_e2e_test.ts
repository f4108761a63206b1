/**
 * One machine per key (protocol 3.1, v1.1) between the real agent and the real control plane:
 * the agent's `instance_id` on register and its `X-Instance-Id` on the WebSocket upgrade meet
 * the control plane's claim check, so a copied config on a second machine neither takes the
 * session nor fights for it.
 */
import {
  deepStrictEqual as assertEquals,
  match as assertMatch,
  ok as assert,
} from "node:assert/strict";
import { startAgent } from "../_helpers/agent_process.ts";
import { waitFor } from "../_helpers/wait_for.ts";
import { connectedWorkerId, startSystem } from "./_e2e.ts";

Deno.test("a second machine with the same key gets key_in_use from the real control plane and the first keeps its session", async () => {
  await using system = await startSystem({ agent: { config: { hostname: "host-a" } } });
  const { cp, admin, apiKey } = system;
  const workerId = await connectedWorkerId(system.agent, { websocket: "open" });

  await using second = await startAgent({
    baseUrl: cp.baseUrl,
    apiKey,
    config: { hostname: "host-b" },
  });
  const refused = await waitFor(async () => {
    const s = await second.status();
    return s?.state === "key_in_use" ? s : undefined;
  }, { timeoutMs: 15_000, message: `key_in_use in status:\n${second.output().slice(-3000)}` });
  assertMatch(refused.last_error ?? "", /key in use by host "host-a"/);
  assertEquals(refused.worker_id, null, "the second machine holds no worker");

  // The first machine's session stays: still open, never replaced, and it runs a command.
  const first = await system.agent.status();
  assertEquals([first?.state, first?.websocket], ["connected", "open"]);
  assert(!/replaced|4008/.test(system.agent.output()), system.agent.output().slice(-3000));
  const ping = await admin.finished(workerId, await admin.command(workerId, "ping"));
  assertEquals(ping.status, "completed");
  const worker = await admin.json<{ worker: { hostname: string } }>(`/api/workers/${workerId}`);
  assertEquals(worker.worker.hostname, "host-a");
});
