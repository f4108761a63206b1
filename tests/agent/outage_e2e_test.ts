import { deepStrictEqual as assertEquals, ok as assert } from "node:assert/strict";
import { waitFor } from "../_helpers/wait_for.ts";
import { connectedWorkerId, gapFree, startSystem } from "./_e2e.ts";

Deno.test("after the control plane is SIGKILLed and restarted, every sample and result arrives exactly once", async () => {
  await using sys = await startSystem();
  const { agent, admin, cp } = sys;
  const workerId = await connectedWorkerId(agent, { websocket: "open" });
  const before = await admin.command(workerId, "ping");
  assertEquals((await admin.finished(workerId, before, 5_000)).status, "completed");

  await cp.kill("SIGKILL");
  // The agent keeps sampling into its spool while the server is gone.
  const offline = await waitFor(async () => {
    const s = await agent.status();
    return s && s.spool_depth >= 4 && s.state === "reconnecting" ? s : undefined;
  }, { timeoutMs: 20_000, message: "samples to pile up in the spool" });
  assert(offline.last_error !== null);

  await cp.restart();
  await waitFor(async () => {
    const s = await agent.status();
    return s?.state === "connected" && s.spool_depth <= 1 && s.websocket === "open";
  }, { timeoutMs: 30_000, message: "the agent to reconnect alone and empty its spool" });

  const after = await admin.command(workerId, "ping");
  assertEquals((await admin.finished(workerId, after, 10_000)).status, "completed");

  assertEquals(await agent.stop(), 0);
  const samples = await admin.samples(workerId);
  const seqs = samples.map((s) => s.seq);
  assertEquals(new Set(seqs).size, seqs.length, "no sample stored twice");
  assert(gapFree(seqs), `seq has no gap: ${seqs.join(",")}`);
  assertEquals(Math.min(...seqs), 0);
  const status = await agent.status();
  assertEquals(status?.spool_depth, 0);
  assertEquals(status?.dropped_samples, 0);
  assertEquals(Math.max(...seqs) + 1, seqs.length, "every sample taken arrived");

  const accepted = agent.output().match(/command accepted command_id=\S+/g) ?? [];
  assertEquals(new Set(accepted).size, accepted.length, "no command ran twice");
  assertEquals(accepted.length, 2);
});
