import { deepStrictEqual as assertEquals, ok as assert } from "node:assert/strict";
import { runMain } from "../_helpers/main_process.ts";
import { startTcpProxy } from "../_helpers/tcp_proxy.ts";
import { waitFor } from "../_helpers/wait_for.ts";
import { connectedWorkerId, startSystem } from "./_e2e.ts";

Deno.test("with a revoked key the agent stops hammering and `status` says why", async () => {
  await using proxy = startTcpProxy();
  await using sys = await startSystem({ via: proxy });
  const { admin, agent } = sys;
  await connectedWorkerId(agent, { websocket: "open" });

  const { keys } = await admin.json<{ keys: { id: string; name: string }[] }>("/api/admin/keys");
  const keyId = keys.find((k) => k.name === "e2e")!.id;
  await admin.json(`/api/admin/keys/${keyId}/revoke`, { method: "POST" });

  const failed = await waitFor(async () => {
    const s = await agent.status();
    return s?.state === "auth_failed" ? s : undefined;
  }, { timeoutMs: 15_000, message: "auth_failed" });
  assert(failed.next_retry_at !== null && failed.next_retry_at - Date.now() > 4 * 60_000);
  assert(/401|invalid_api_key/.test(failed.last_error ?? ""), String(failed.last_error));

  // Count what the agent sends over a window longer than a heartbeat interval (5 s) plus
  // several metrics intervals (1 s): a measurement window, not a wait for a condition.
  const before = proxy.requestsSeen;
  const upgradesBefore = proxy.upgradesSeen;
  await new Promise((resolve) => setTimeout(resolve, 6_500));
  assertEquals(proxy.requestsSeen - before, 0, "no HTTP request while the key is refused");
  assertEquals(proxy.upgradesSeen - upgradesBefore, 0, "no WebSocket reconnect attempts");
  assertEquals(
    (agent.output().match(/refused the API key/g) ?? []).length,
    1,
    "one clear log line, not one per try",
  );

  const status = await runMain(["status", "--config", agent.configPath]);
  const text = status.stdout + status.stderr;
  assert(/auth_failed|key/i.test(text) && /401|invalid_api_key/.test(text), text);
  assertEquals(await agent.stop(), 0);
});
