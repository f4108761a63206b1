import { deepStrictEqual as assertEquals, match as assertMatch } from "node:assert/strict";
import { waitFor } from "../_helpers/wait_for.ts";
import { connectedWorkerId, startSystem } from "../agent/_e2e.ts";
import { assertNoWorkloadLeft, workloadProcesses } from "./_process_table.ts";
import { workload } from "./_supervisor_fixture.ts";

interface TradingSample {
  seq: number;
  trading_status: string;
  active_trades: number;
  trading: { status: string; pid: number | null; active_trades: number };
}

Deno.test({
  name:
    "a real agent refuses trading while disabled, then starts, reports, stops and finally takes its workload tree down on exit",
  sanitizeOps: true,
  sanitizeResources: true,
  async fn() {
    const marker = `ftl-test-${crypto.randomUUID()}`;
    const pgids: number[] = [];
    try {
      await using sys = await startSystem({
        agent: {
          config: {
            trading_enabled: false,
            trading: {
              command: ["sh", workload("trades.sh"), marker],
              env: { TRADES: "4" },
              stop_timeout_seconds: 2,
            },
          },
        },
      });
      const workerId = await connectedWorkerId(sys.agent, { websocket: "open" });
      const run = async (type: string, params: Record<string, unknown> = {}) =>
        await sys.admin.finished(workerId, await sys.admin.command(workerId, type, params));

      const refused = await run("start_trading");
      assertEquals([refused.status, refused.result?.error_code], ["failed", "trading_disabled"]);
      assertEquals(await workloadProcesses(marker), []);

      const updated = await run("update_config", { changes: { trading_enabled: true } });
      assertEquals(updated.status, "completed");
      assertMatch(await Deno.readTextFile(sys.agent.configPath), /trading_enabled: true/);

      const started = await run("start_trading");
      assertEquals(started.status, "completed", JSON.stringify(started.result));
      const pid = (started.result?.data as { pid: number }).pid;
      pgids.push(pid);
      const sample = await waitFor(async () => {
        const samples = await sys.admin.samples(workerId) as unknown as TradingSample[];
        return samples.find((s) => s.trading?.status === "running" && s.active_trades === 4);
      }, { timeoutMs: 15_000, message: "a sample showing the workload running with 4 trades" });
      assertEquals(sample.trading.pid, pid);
      assertEquals(sample.trading_status, "running");

      const stopped = await run("stop_trading");
      assertEquals(stopped.status, "completed");
      assertEquals((stopped.result?.data as { exit_code: number }).exit_code, 0);
      await assertNoWorkloadLeft(marker, pgids);

      const again = await run("start_trading");
      pgids.push((again.result?.data as { pid: number }).pid);
      await waitFor(async () => (await workloadProcesses(marker)).length > 0);
      assertEquals(await sys.agent.stop(), 0, sys.agent.output().slice(-2000));
      assertEquals((await sys.agent.status())?.trading_status, "stopped");
      await assertNoWorkloadLeft(marker, pgids);
    } finally {
      await assertNoWorkloadLeft(marker, pgids);
    }
  },
});
