import { deepStrictEqual as assertEquals, ok as assert } from "node:assert/strict";
import { startAgent } from "../_helpers/agent_process.ts";
import { startControlPlane } from "../_helpers/control_plane_process.ts";
import { startTcpProxy } from "../_helpers/tcp_proxy.ts";
import { waitFor } from "../_helpers/wait_for.ts";
import { Admin, connectedWorkerId, FAST_CP_ARGS } from "./_e2e.ts";

const MAIN = new URL("../../main.ts", import.meta.url).pathname;
const DENO_CONFIG = new URL("../../deno.json", import.meta.url).pathname;

Deno.test("with a revoked key the agent stops hammering and `status` says why", async () => {
  await using proxy = startTcpProxy();
  await using cp = await startControlPlane({
    args: [...FAST_CP_ARGS, "--public-url", `http://127.0.0.1:${proxy.port}`],
  });
  proxy.targetPort = cp.port;
  const admin = new Admin(cp);
  await using agent = await startAgent({
    baseUrl: `http://127.0.0.1:${proxy.port}`,
    apiKey: await cp.createKey("doomed"),
  });
  await connectedWorkerId(agent, { websocket: "open" });

  const { keys } = await admin.json<{ keys: { id: string; name: string }[] }>("/api/admin/keys");
  const keyId = keys.find((k) => k.name === "doomed")!.id;
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

  const status = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      "--quiet",
      "--config",
      DENO_CONFIG,
      MAIN,
      "status",
      "--config",
      agent.configPath,
    ],
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1" },
  }).output();
  const text = new TextDecoder().decode(status.stdout) + new TextDecoder().decode(status.stderr);
  assert(/auth_failed|key/i.test(text) && /401|invalid_api_key/.test(text), text);
  assertEquals(await agent.stop(), 0);
});
