import { deepStrictEqual as assertEquals, ok as assert } from "node:assert/strict";
import { waitFor } from "../_helpers/wait_for.ts";
import { connectedWorkerId, startSystem } from "./_e2e.ts";

/** A workload that ignores SIGTERM, so stopping it takes the whole grace. */
const STUBBORN_WORKLOAD = ["/bin/sh", "-c", "trap '' TERM; while :; do sleep 0.1; done"];

async function alive(pid: number): Promise<boolean> {
  const { code } = await new Deno.Command("kill", { args: ["-0", String(pid)], stderr: "null" })
    .output();
  return code === 0;
}

async function startWithRunningWorkload(graceSeconds: number) {
  const sys = await startSystem({
    agent: {
      config: {
        trading_enabled: true,
        trading: { command: STUBBORN_WORKLOAD, stop_timeout_seconds: graceSeconds },
      },
    },
  });
  const workerId = await connectedWorkerId(sys.agent, { websocket: "open" });
  const start = await sys.admin.finished(
    workerId,
    await sys.admin.command(workerId, "start_trading"),
    10_000,
  );
  assertEquals(start.status, "completed");
  const pid = (start.result?.data as { pid: number }).pid;
  assert(await alive(pid));
  await waitFor(async () => {
    const samples = await sys.admin.samples(workerId) as unknown as { trading: { pid: number } }[];
    return samples.some((s) => s.trading?.pid === pid);
  }, { message: "the running workload in the metrics" });
  // A long command: stopping a workload that ignores SIGTERM takes the grace.
  const stopId = await sys.admin.command(workerId, "stop_trading", {}, 60);
  await waitFor(() => sys.agent.output().includes(`command accepted command_id=${stopId}`), {
    message: "the agent to take stop_trading",
  });
  return { sys, workerId, pid, stopId };
}

Deno.test({
  name: "a drain lets a long command finish and posts its result before the agent exits",
  ignore: Deno.build.os === "windows",
  async fn() {
    const { sys, workerId, pid, stopId } = await startWithRunningWorkload(2);
    await using _sys = sys;
    const t0 = Date.now();
    sys.agent.signal("SIGTERM");
    assertEquals(await sys.agent.exited, 0);
    assert(Date.now() - t0 >= 1_500, "the agent waited for the command");
    const row = (await sys.admin.commands(workerId)).find((c) => c.command_id === stopId);
    assertEquals(row?.status, "completed", "the result reached the server before exit");
    assertEquals((row?.result?.data as { killed: boolean }).killed, true);
    assert(!(await alive(pid)), "no orphan workload");
    assertEquals((await sys.admin.worker(workerId)).status, "offline");
  },
});

Deno.test({
  name: "a second stop signal makes the agent exit at once, leaving no workload behind",
  ignore: Deno.build.os === "windows",
  async fn() {
    const { sys, pid } = await startWithRunningWorkload(30);
    await using _sys = sys;
    const first = Date.now();
    sys.agent.signal("SIGTERM");
    await waitFor(() => sys.agent.output().includes("draining:"), { message: "the drain" });
    // A repeat within 1 s is the same stop (one Ctrl-C under `deno task` arrives twice).
    sys.agent.signal("SIGINT");
    await waitFor(() => sys.agent.output().includes("stop signal repeated within 1 s"), {
      message: "the early repeat to be noted",
    });
    // The force rule is about time since the first signal: this waits for that, not a condition.
    await waitFor(() => Date.now() - first >= 1_100, { message: "1 s after the first signal" });
    const t0 = Date.now();
    sys.agent.signal("SIGTERM");
    assertEquals(await sys.agent.exited, 1);
    assert(Date.now() - t0 < 5_000, `exited ${Date.now() - t0} ms after the second signal`);
    assert(!(await alive(pid)), "no orphan workload");
  },
});
