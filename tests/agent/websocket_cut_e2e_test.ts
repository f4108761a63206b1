import { deepStrictEqual as assertEquals, ok as assert } from "node:assert/strict";
import { startTcpProxy } from "../_helpers/tcp_proxy.ts";
import { waitFor } from "../_helpers/wait_for.ts";
import { connectedWorkerId, startSystem } from "./_e2e.ts";

Deno.test("commands arrive by heartbeat polling while the WebSocket is cut and HTTP stays up, and by WebSocket again after", async () => {
  // Agent -> proxy -> control plane, for HTTP and the WebSocket alike.
  await using proxy = startTcpProxy();
  await using sys = await startSystem({ via: proxy });
  const { admin, agent } = sys;
  const workerId = await connectedWorkerId(agent, { websocket: "open" });

  const viaWebSocket = await admin.command(workerId, "ping");
  assertEquals((await admin.finished(workerId, viaWebSocket, 4_000)).status, "completed");

  proxy.blockUpgrades = true;
  assert(proxy.killUpgraded() >= 1);
  await waitFor(async () => (await agent.status())?.websocket !== "open", {
    message: "the agent to notice the cut",
  });

  const viaPolling = await admin.command(workerId, "ping");
  const row = await admin.finished(workerId, viaPolling, 15_000);
  assertEquals(row.status, "completed");
  assert(
    new RegExp(`command accepted command_id=${viaPolling} type=ping via=heartbeat`).test(
      agent.output(),
    ),
    "the command came by heartbeat",
  );
  assertEquals((await agent.status())?.state, "connected");

  // The WebSocket comes back by itself once upgrades pass again (full-jitter backoff, so
  // the wait is random but bounded by the attempts made while it was cut).
  proxy.blockUpgrades = false;
  await waitFor(async () => (await agent.status())?.websocket === "open", {
    timeoutMs: 65_000,
    intervalMs: 100,
    message: "the WebSocket to come back",
  });
  const backOnWebSocket = await admin.command(workerId, "ping");
  assertEquals((await admin.finished(workerId, backOnWebSocket, 4_000)).status, "completed");
  assert(
    new RegExp(`command accepted command_id=${backOnWebSocket} type=ping via=websocket`).test(
      agent.output(),
    ),
  );
  assertEquals(await agent.stop(), 0);
});
