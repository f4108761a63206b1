/**
 * Every loop of the agent runs under `superviseLoop`: an exception restarts that loop with
 * backoff and one log line, and never stops the agent.
 */
import { deepStrictEqual as assertEquals, ok as assert } from "node:assert/strict";
import type { AgentContext } from "../../src/agent/agent_context.ts";
import { AgentState } from "../../src/agent/agent_state.ts";
import { CommandIntake } from "../../src/agent/command_intake.ts";
import { runHeartbeatLoop } from "../../src/agent/heartbeat_loop.ts";
import { OutageLog } from "../../src/agent/outage_log.ts";
import { ResultOutbox } from "../../src/agent/result_outbox.ts";
import { SampleSpool } from "../../src/agent/sample_spool.ts";
import { SeenIdStore } from "../../src/agent/seen_ids.ts";
import { StateBudget } from "../../src/state/state_budget.ts";
import { superviseLoop } from "../../src/agent/supervise_loop.ts";
import { WorkerClient } from "../../src/client/worker_client.ts";
import { AgentConfigSchema } from "../../src/config/schema.ts";
import { deriveSigningKey } from "../../src/protocol/mod.ts";
import { openStateDir } from "../../src/state/state_dir.ts";
import { waitFor } from "../_helpers/wait_for.ts";
import { memoryLogger, sampleOf } from "./_fixtures.ts";
import { startHostileServer } from "./_hostile_server.ts";

const KEY = "wak_" + "S".repeat(32);

Deno.test("superviseLoop() restarts a throwing loop with backoff and one line each, while the others keep working", async () => {
  const { logger, lines } = memoryLogger();
  const stop = new AbortController();
  let starts = 0;
  let ticks = 0;
  const flaky = superviseLoop("flaky", async (signal) => {
    starts++;
    if (starts <= 2) throw new TypeError(`boom ${starts}`);
    while (!signal.aborted) await new Promise((r) => setTimeout(r, 5));
  }, { logger, signal: stop.signal, random: () => 0, minWaitMs: 20 });
  const steady = superviseLoop("steady", async (signal) => {
    while (!signal.aborted) {
      ticks++;
      await new Promise((r) => setTimeout(r, 5));
    }
  }, { logger, signal: stop.signal, minWaitMs: 20 });
  await waitFor(() => starts === 3, { message: "the third start" });
  const ticksAtRecovery = ticks;
  await waitFor(() => ticks > ticksAtRecovery + 3, { message: "the steady loop to go on" });
  stop.abort();
  await Promise.all([flaky, steady]); // never rejects
  const failures = lines.filter((l) => l.includes("flaky loop failed; restarting it"));
  assertEquals(failures.length, 2, lines.join(""));
  assert(failures[0]!.includes("TypeError: boom 1") && failures[0]!.includes("restart_in_ms="));
  assert(!lines.some((l) => l.includes("steady loop failed")));
});

Deno.test("superviseLoop() restarts a loop that returns while the agent runs, and ends quietly on abort", async () => {
  const { logger, lines } = memoryLogger();
  const stop = new AbortController();
  let starts = 0;
  const done = superviseLoop("quitter", () => {
    starts++;
    if (starts === 2) stop.abort();
    return Promise.resolve();
  }, { logger, signal: stop.signal, minWaitMs: 1, random: () => 0 });
  await done;
  assertEquals(starts, 2);
  assertEquals(lines.filter((l) => l.includes("quitter loop failed")).length, 1);
});

Deno.test("the heartbeat loop under its supervisor survives an exception and keeps heartbeating", async () => {
  await using server = startHostileServer();
  const dir = await Deno.makeTempDir({ prefix: "ftl-supervise-" });
  const state = await openStateDir(dir);
  const stop = new AbortController();
  try {
    const { logger, lines } = memoryLogger();
    const config = AgentConfigSchema.parse({ api_key: KEY, base_url: server.baseUrl });
    const budget = new StateBudget(1 << 20);
    const results = await ResultOutbox.open(dir, { budget });
    const spool = await SampleSpool.open(dir, { stream: state.streamId, budget, logger });
    const session = new AgentState({ heartbeatMs: 5_000, metricsMs: 1_000 });
    session.latestSample = sampleOf(state.streamId, 0);
    let bodies = 0;
    const context: AgentContext = {
      config: () => config,
      client: new WorkerClient({ baseUrl: server.baseUrl, apiKey: KEY }),
      state: session,
      instanceId: state.instanceId,
      outage: new OutageLog({ logger, host: "test", backlog: () => ({ results: 0, samples: 0 }) }),
      results,
      spool,
      budget,
      intake: new CommandIntake({
        workerId: () => session.workerId,
        allowlist: () => config.allowed_commands,
        verifier: { alg: "hmac-sha256", key: await deriveSigningKey(KEY) },
        seen: await SeenIdStore.open(state),
        execute: (command) => Promise.resolve({ command_id: command.id, status: "completed" }),
        deliver: (result, options) => results.add(result, options),
        draining: () => false,
        logger,
      }),
      executor: { running: 0 },
      trading: {
        state: () => {
          // The first heartbeat's body cannot be built: an exception inside the loop.
          if (++bodies === 1) throw new RangeError("injected failure");
          return { status: "stopped", pid: null, uptime_s: null, restarts: 0, active_trades: 0 };
        },
      },
      logger,
      now: Date.now,
      random: () => 0,
      statusChanged: () => {},
    };
    const supervised = superviseLoop("heartbeat", (s) => runHeartbeatLoop(context, s), {
      logger,
      signal: stop.signal,
      random: () => 0,
    });
    await waitFor(() => server.heartbeats.length >= 1, {
      message: `a heartbeat after the restart:\n${lines.join("")}`,
    });
    assertEquals(
      lines.filter((l) => l.includes("heartbeat loop failed; restarting it")).length,
      1,
    );
    assert(lines.some((l) => l.includes("RangeError: injected failure")));
    assertEquals(session.connection, "connected");
    assertEquals(server.registers[0]?.instance_id, state.instanceId, "instance_id on register");
    stop.abort();
    await supervised;
  } finally {
    stop.abort();
    await state.close();
    await Deno.remove(dir, { recursive: true });
  }
});
