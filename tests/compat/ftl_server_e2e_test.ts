/**
 * Our agent (the real process) against a double of FineTuneLab's current server: it
 * registers and heartbeats, refuses each of that server's unverifiable commands once as
 * `bad_signature` without running anything, and keeps heartbeating (fail closed, no crash,
 * no spin). See docs/protocol.md, "Running against FineTuneLab today".
 */
import { deepStrictEqual as assertEquals, ok as assert } from "node:assert/strict";
import { startAgent } from "../_helpers/agent_process.ts";
import { waitFor } from "../_helpers/wait_for.ts";
import { startFtlServer } from "./_ftl_server.ts";

const KEY = "wak_" + "F".repeat(32);
const HEARTBEAT_MS = 5_000;

Deno.test("our agent against FineTuneLab's server refuses each command once as bad_signature, runs nothing and keeps heartbeating", async () => {
  // Each command comes in two consecutive heartbeat answers (the first right after
  // registering, the next one interval later): the second copy must not be reported again.
  await using ftl = startFtlServer({ apiKey: KEY, heartbeatIntervalSeconds: 5, deliveries: 2 });
  const work = await Deno.makeTempDir({ prefix: "ftl-compat-" });
  const marker = `${work}/trading-started`;
  const commands = [
    await ftl.queue("ping"),
    await ftl.queue("start_trading"),
    await ftl.queue("update_config", { changes: { log_level: "warn" } }),
  ];
  try {
    await using agent = await startAgent({
      baseUrl: ftl.baseUrl,
      apiKey: KEY,
      config: {
        trading_enabled: true,
        trading: { command: ["/bin/sh", "-c", `echo started > '${marker}'`], working_dir: work },
      },
    });
    const configBefore = await Deno.readTextFile(agent.configPath);
    // Heartbeat 1 and 2 carry the commands; heartbeat 3 shows the agent is still at it.
    await waitFor(() => ftl.heartbeats.length >= 3, {
      timeoutMs: 3 * HEARTBEAT_MS + 10_000,
      message: `three heartbeats (agent output:\n${agent.output().slice(-2000)})`,
    });
    await waitFor(() => ftl.results.length >= commands.length, { message: "the refusals" });

    assertEquals(ftl.registrations.length, 1, "registered once");
    assertEquals(ftl.registrations[0]!.instance_id !== undefined, true, "a v1.1 agent");
    assertEquals(
      ftl.results.map((r) => r.commandId).sort(),
      commands.map((c) => c.id).sort(),
      "each command refused exactly once, though each came twice",
    );
    for (const { commandId, body } of ftl.results) {
      assertEquals([body.status, body.error_code], ["failed", "bad_signature"], commandId);
      assert(String(body.error).includes("malformed command"), String(body.error));
    }
    assert(!agent.output().includes("command accepted"), "no command was accepted");
    assertEquals(await Deno.stat(marker).then(() => true, () => false), false, "no workload ran");
    assertEquals(await Deno.readTextFile(agent.configPath), configBefore, "config unchanged");

    const status = await agent.status();
    assertEquals(status?.worker_id, ftl.workerId);
    assertEquals(status?.state, "connected");
    // No spin: heartbeats keep the interval; the missing metrics endpoint is tried rarely.
    const gaps = ftl.heartbeats.slice(1).map((t, i) => t - ftl.heartbeats[i]!);
    assert(gaps.every((gap) => gap >= HEARTBEAT_MS - 250), `heartbeat gaps: ${gaps}`);
    const metricsTries = ftl.unknown.filter((u) => u.endsWith("/metrics")).length;
    assert(metricsTries <= 1, `${metricsTries} metrics posts (one per 10 min): ${ftl.unknown}`);
    assertEquals(ftl.unknown.filter((u) => !u.endsWith("/metrics")), [], "nothing else tried");
    let exited = false;
    agent.exited.then(() => exited = true);
    assertEquals(exited, false, "the agent is still running");
  } finally {
    await Deno.remove(work, { recursive: true });
  }
});
