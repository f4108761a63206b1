/**
 * Protocol 8, v1.1: an agent is back within about half an outage's length after it ends.
 * Real control plane, real agent: the control plane is SIGKILLed, stays down 6 s, and comes
 * back on the same port and data dir; the agent's heartbeat must reach it within 4 s (the
 * exponent alone drew waits of 16–32 s after such an outage: issue 15).
 */
import { deepStrictEqual as assertEquals, ok as assert } from "node:assert/strict";
import { abortableDelay } from "../../src/shared/delay.ts";
import { waitFor } from "../_helpers/wait_for.ts";
import { connectedWorkerId, startSystem } from "./_e2e.ts";

const OUTAGE_MS = 6_000;
const BACK_WITHIN_MS = 4_000;

Deno.test("after a 6 s outage the agent's heartbeat reaches the restarted control plane within 4 s", async () => {
  // The default heartbeat interval (30 s): the agent may be between heartbeats when the
  // server dies, and must not wait for the next one, nor for a full-interval retry.
  await using sys = await startSystem({ cp: { args: ["--heartbeat-interval", "30"] } });
  const { agent, admin, cp } = sys;
  const workerId = await connectedWorkerId(agent, { websocket: "open" });

  await cp.kill("SIGKILL");
  const killedAt = Date.now();
  // The agent notices (its WebSocket drops at once) and retries while the server is gone.
  await waitFor(async () => (await agent.status())?.websocket !== "open", {
    timeoutMs: 5_000,
    message: "the agent to see the WebSocket drop",
  });
  // The outage itself: the server stays down for its full length (not a wait for a condition).
  await abortableDelay(killedAt + OUTAGE_MS - Date.now());

  await cp.restart();
  const listeningAt = Date.now();
  const worker = await waitFor(async () => {
    const w = await admin.json<{ worker: { last_heartbeat: number | null } }>(
      `/api/workers/${workerId}`,
    );
    const last = w.worker.last_heartbeat;
    return last !== null && last > killedAt ? w.worker : undefined;
  }, {
    timeoutMs: BACK_WITHIN_MS + 2_000,
    intervalMs: 50,
    message: `a heartbeat after the restart; agent output:\n${agent.output().slice(-3000)}`,
  });
  const backAfterMs = worker.last_heartbeat! - listeningAt;
  assert(
    backAfterMs <= BACK_WITHIN_MS,
    `the first heartbeat came ${backAfterMs} ms after the server listened again (goal 4000 ms)`,
  );
  // The WebSocket follows the HTTP calls back rather than keeping its own schedule.
  await waitFor(async () => (await agent.status())?.websocket === "open", {
    timeoutMs: BACK_WITHIN_MS,
    message: "the WebSocket to reopen",
  });
  const status = await agent.status();
  assertEquals(status?.state, "connected");
});
