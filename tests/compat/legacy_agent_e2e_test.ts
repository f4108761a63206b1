/**
 * FineTuneLab's own agent (as a double built from its wire facts) against the real control
 * plane process: it registers, runs each command exactly once, reports, has a metrics
 * history from its heartbeats, and goes offline 3 intervals after it stops.
 */
import { deepStrictEqual as assertEquals, ok as assert } from "node:assert/strict";
import { COMMAND_TYPES } from "../../src/protocol/mod.ts";
import { startControlPlane } from "../_helpers/control_plane_process.ts";
import { waitFor } from "../_helpers/wait_for.ts";
import { LEGACY_KNOWN_TYPES, LegacyClient } from "./_legacy_client.ts";

const HEARTBEAT_S = 1;

const PARAMS: Record<string, Record<string, unknown>> = {
  stop_trading: { force: false },
  update_config: { changes: { log_level: "debug" } },
};

interface CommandRow {
  command_id: string;
  command_type: string;
  status: string;
  delivery_count: number;
  result: Record<string, unknown> | null;
}

Deno.test("FineTuneLab's agent runs each command exactly once against our control plane, has a history and goes offline 3 intervals after it stops", async (t) => {
  await using cp = await startControlPlane({
    // An ack timeout shorter than a command's run: a re-send would reach the double while it
    // still runs the first copy, and it runs every copy it gets.
    args: [
      "--heartbeat-interval",
      String(HEARTBEAT_S),
      "--ack-timeout",
      "0.5",
      "--sweep-interval",
      "0.1",
      "--rate-limit",
      "0",
    ],
  });
  const legacy = new LegacyClient({
    baseUrl: cp.baseUrl,
    apiKey: await cp.createKey("ftl-go-agent"),
    executeMs: 1_500,
    // Every other heartbeat has 0 % CPU, which the Go agent leaves out.
    metrics: (n) => ({
      cpu_percent: n % 2 === 0 ? 12.5 : 0,
      memory_used_mb: 1024,
      memory_total_mb: 4096,
      disk_used_gb: 20,
      disk_total_gb: 100,
      network_sent_mb: 0,
      network_recv_mb: 3,
      trading_status: "stopped",
      active_trades: 0,
    }),
  });
  legacy.start();
  try {
    const workerId = await waitFor(() => legacy.workerId, { message: "the double to register" });

    await t.step("it is listed as a legacy worker", async () => {
      const { worker } = await (await cp.admin(`/api/workers/${workerId}`)).json();
      assertEquals([worker.legacy, worker.hostname], [true, "ftl-legacy-agent"]);
    });

    const ids = new Map<string, string>();
    await t.step(
      "each command type reaches completed or failed, executed exactly once",
      async () => {
        for (const type of COMMAND_TYPES) {
          const res = await cp.admin("/api/workers/commands", {
            method: "POST",
            body: JSON.stringify({ worker_id: workerId, command_type: type, params: PARAMS[type] }),
          });
          const body = await res.json();
          assertEquals(res.status, 201, JSON.stringify(body));
          ids.set(body.command_id, type);
        }
        const rows = await waitFor(async () => {
          const { commands } = await (await cp.admin(`/api/workers/commands?worker_id=${workerId}`))
            .json() as { commands: CommandRow[] };
          return commands.length === ids.size &&
            commands.every((c) => ["completed", "failed", "timeout"].includes(c.status)) &&
            commands;
        }, { timeoutMs: 20_000, message: "every command to be terminal" });
        // Heartbeats after the results: nothing may come again.
        const seen = legacy.record.heartbeatsSentAt.length;
        await waitFor(() => legacy.record.heartbeatsSentAt.length >= seen + 2, {
          message: "two more heartbeats",
        });
        assertEquals(legacy.record.decodeErrors, [], "every answer decodes like Go would");
        for (const row of rows) {
          const type = ids.get(row.command_id)!;
          assertEquals(legacy.record.executions.get(row.command_id), 1, `${type} executions`);
          assertEquals(row.delivery_count, 1, `${type} deliveries`);
          if (LEGACY_KNOWN_TYPES.includes(type)) {
            assertEquals(row.status, "completed", `${type}: ${JSON.stringify(row.result)}`);
          } else {
            assertEquals([row.status, row.result?.error_code], ["failed", "agent_error"], type);
          }
        }
        assertEquals(legacy.record.results.map((r) => r.http), rows.map(() => 200));
      },
    );

    await t.step("its heartbeat metrics show up as history, omitted zeros as 0", async () => {
      const samples = await waitFor(async () => {
        const body = await (await cp.admin(`/api/workers/${workerId}/metrics`)).json();
        return body.samples.length >= 4 && body.samples as Record<string, unknown>[];
      }, { message: "four heartbeat samples" });
      assert(samples.every((s) => s.stream === "heartbeat"));
      const cpu = new Set(samples.map((s) => s.cpu_percent));
      assert(cpu.has(0) && cpu.has(12.5), `cpu_percent values: ${[...cpu]}`);
      assert(samples.every((s) => s.network_sent_mb === 0 && s.memory_total_mb === 4096));
    });

    await t.step(
      "it goes offline 3 intervals after it stops (it sends no offline heartbeat)",
      async () => {
        await legacy.stop();
        const last = legacy.record.heartbeatsSentAt.at(-1)!;
        const offlineAt = await waitFor(async () => {
          const { worker } = await (await cp.admin(`/api/workers/${workerId}`)).json();
          return worker.status === "offline" && Date.now();
        }, { timeoutMs: 15_000, message: "the worker to show offline" });
        const after = offlineAt - last;
        assert(after >= 3 * HEARTBEAT_S * 1000, `offline ${after} ms after the last heartbeat`);
        assert(after < 3 * HEARTBEAT_S * 1000 + 5_000, `offline only ${after} ms after`);
      },
    );
  } finally {
    await legacy.stop();
  }
});
