import {
  deepStrictEqual as assertEquals,
  match as assertMatch,
  ok as assert,
} from "node:assert/strict";
import { waitFor } from "../_helpers/wait_for.ts";
import { assertNoWorkloadLeft, workloadProcesses } from "./_process_table.ts";
import { supervisorFixture } from "./_supervisor_fixture.ts";

Deno.test("TradingSupervisor starts the workload, reports it running and stops it within the grace", async () => {
  await using f = await supervisorFixture({ script: "graceful.sh" });
  const started = await f.supervisor.start();
  assertEquals(started.status, "completed");
  assertEquals(started.data?.trading_status, "running");
  const pid = started.data?.pid as number;
  assert(pid > 1);
  const state = f.supervisor.state();
  assertEquals(state.status, "running");
  assertEquals(state.pid, pid);
  assertEquals(state.restarts, 0);
  await waitFor(async () => (await f.readLog()).includes("graceful: started"), {
    message: "the workload's first line in the log",
  });
  const [leader] = (await workloadProcesses(f.marker)).filter((row) => row.pid === pid);
  assertEquals(leader?.pgid, pid, "detached: true made the workload lead its own process group");

  const stopped = await f.supervisor.stop();
  assertEquals(stopped.status, "completed");
  assertEquals(stopped.data, {
    trading_status: "stopped",
    exit_code: 0,
    signal: null,
    killed: false,
  });
  assertEquals(f.statuses, ["starting", "running", "stopping", "stopped"]);
  assertEquals(f.supervisor.state(), {
    status: "stopped",
    pid: null,
    uptime_s: null,
    restarts: 0,
    active_trades: 0,
  });
  assertMatch(await f.readLog(), /out graceful: stopping/);
  await assertNoWorkloadLeft(f.marker, [pid]);
});

Deno.test("TradingSupervisor kills a workload that ignores SIGTERM once the grace has passed", async () => {
  await using f = await supervisorFixture({
    script: "ignore_term.sh",
    trading: { stop_timeout_seconds: 1 },
  });
  const pid = (await f.supervisor.start()).data?.pid as number;
  await waitFor(async () => (await f.readLog()).includes("ignore_term: started"));
  const begin = performance.now();
  const stopped = await f.supervisor.stop();
  const tookMs = performance.now() - begin;
  assertEquals(stopped.data?.killed, true);
  assertEquals(stopped.data?.signal, "SIGKILL");
  assert(tookMs >= 950, `SIGKILL came ${tookMs} ms after SIGTERM, before the grace was over`);
  assert(tookMs < 5_000, `stop took ${tookMs} ms`);
  assertEquals(f.supervisor.state().status, "stopped");
  await assertNoWorkloadLeft(f.marker, [pid]);
});

Deno.test("TradingSupervisor stop({ force: true }) skips the grace", async () => {
  await using f = await supervisorFixture({
    script: "ignore_term.sh",
    trading: { stop_timeout_seconds: 30 },
  });
  const pid = (await f.supervisor.start()).data?.pid as number;
  const begin = performance.now();
  const stopped = await f.supervisor.stop({ force: true });
  assert(performance.now() - begin < 5_000);
  assertEquals(stopped.data?.killed, true);
  await assertNoWorkloadLeft(f.marker, [pid]);
});

Deno.test("TradingSupervisor kills the whole process tree, including a child that ignores SIGTERM", async () => {
  await using f = await supervisorFixture({
    script: "spawn_child.sh",
    trading: { stop_timeout_seconds: 1 },
  });
  const pid = (await f.supervisor.start()).data?.pid as number;
  const childPid = await waitFor(async () => {
    const match = /FTL_CHILD_PID=(\d+)/.exec(await f.readLog());
    return match ? Number(match[1]) : undefined;
  }, { message: "the child's pid in the workload log" });
  assert(childPid !== pid);

  const stopped = await f.supervisor.stop();
  assertEquals(stopped.data?.exit_code, 0, "the parent itself left on SIGTERM");
  assertEquals(stopped.data?.killed, true, "the child needed SIGKILL");
  assertMatch(await f.readLog(), /spawn_child: parent stopping/);
  await assertNoWorkloadLeft(f.marker, [pid]);
});

Deno.test("TradingSupervisor refuses to start while trading is disabled or not configured", async (t) => {
  await t.step("trading_enabled: false → trading_disabled", async () => {
    await using f = await supervisorFixture({
      script: "graceful.sh",
      top: { trading_enabled: false },
    });
    const outcome = await f.supervisor.start();
    assertEquals(outcome.status, "failed");
    assertEquals(outcome.error_code, "trading_disabled");
    assertEquals(f.supervisor.state().pid, null);
    assertEquals(f.statuses, []);
    await assertNoWorkloadLeft(f.marker);
  });
  await t.step("empty trading.command → not_configured", async () => {
    await using f = await supervisorFixture();
    const outcome = await f.supervisor.start();
    assertEquals(outcome.error_code, "not_configured");
    assertEquals(f.supervisor.state().status, "stopped");
  });
  await t.step("a program that does not exist → spawn_failed", async () => {
    await using f = await supervisorFixture({
      trading: { command: ["/nonexistent/ftl-trading-bot"] },
    });
    const outcome = await f.supervisor.start();
    assertEquals(outcome.error_code, "spawn_failed");
    assertEquals(f.supervisor.state().status, "stopped");
  });
});

Deno.test("TradingSupervisor restarts a crashed workload with exponential backoff until stopped", async () => {
  const delays: { ms: number; release: () => void }[] = [];
  await using f = await supervisorFixture({
    script: "crash.sh",
    trading: { restart_on_crash: true },
    extra: {
      restartBackoff: { baseMs: 100, capMs: 300 },
      delay: (ms, signal) =>
        new Promise((resolve, reject) => {
          delays.push({ ms, release: resolve });
          signal.addEventListener("abort", () => reject(signal.reason), { once: true });
        }),
    },
  });
  assertEquals((await f.supervisor.start()).status, "completed");
  for (let crash = 1; crash <= 4; crash++) {
    await waitFor(() => delays.length === crash, { message: `crash ${crash}` });
    assertEquals(f.supervisor.state().status, "crashed");
    assertEquals(f.supervisor.state().pid, null);
    assertEquals(f.supervisor.state().restarts, crash - 1);
    if (crash < 4) delays[crash - 1]!.release();
  }
  assertEquals(delays.map((d) => d.ms), [100, 200, 300, 300]);
  assertMatch(await f.readLog(), /err crash: giving up/);

  const stopped = await f.supervisor.stop();
  assertEquals(stopped.data?.trading_status, "stopped");
  delays[3]!.release(); // too late: the restart was cancelled
  assertEquals(f.supervisor.state().status, "stopped");
  assertEquals(f.supervisor.state().restarts, 3);
  assert(f.logLines.some((l) => l.includes("trading workload crashed")));
  await assertNoWorkloadLeft(f.marker);
});

Deno.test("TradingSupervisor forgets earlier crashes after a long healthy run", async () => {
  let clock = 1_000_000;
  const delays: { ms: number; release: () => void }[] = [];
  await using f = await supervisorFixture({
    script: "graceful.sh",
    trading: { restart_on_crash: true },
    extra: {
      now: () => clock,
      restartBackoff: { baseMs: 100, capMs: 10_000, resetAfterMs: 60_000 },
      delay: (ms) => new Promise((resolve) => delays.push({ ms, release: resolve })),
    },
  });
  const killRunning = () => Deno.kill(f.supervisor.state().pid!, "SIGKILL");
  await f.supervisor.start();
  killRunning();
  await waitFor(() => delays.length === 1);
  delays[0]!.release();
  await waitFor(() => f.supervisor.state().status === "running");
  killRunning();
  await waitFor(() => delays.length === 2);
  delays[1]!.release();
  await waitFor(() => f.supervisor.state().status === "running");
  clock += 61_000; // this run lasts over a minute
  assertEquals(f.supervisor.state().uptime_s, 61);
  killRunning();
  await waitFor(() => delays.length === 3);
  assertEquals(delays.map((d) => d.ms), [100, 200, 100]);
  assertEquals(f.supervisor.state().restarts, 2);
});

Deno.test("TradingSupervisor leaves a crashed workload down when restart_on_crash is off", async () => {
  await using f = await supervisorFixture({ script: "crash.sh" });
  await f.supervisor.start();
  await waitFor(() => f.supervisor.state().status === "crashed");
  await waitFor(async () => (await f.readLog()).includes("exited by itself: exit code 3"));
  assertEquals(f.supervisor.state().restarts, 0);
  assertEquals(f.statuses, ["starting", "running", "crashed"]);
  const stopped = await f.supervisor.stop();
  assertEquals(stopped.data?.already_stopped, false);
  assertEquals(f.supervisor.state().status, "stopped");
});

Deno.test("TradingSupervisor treats a workload that exits 0 by itself as stopped, not crashed", async () => {
  await using f = await supervisorFixture({ trading: { restart_on_crash: true } });
  f.config.trading.command = ["sh", "-c", "echo done", f.marker];
  await f.supervisor.start();
  await waitFor(() => f.supervisor.state().status === "stopped");
  assertEquals(f.statuses, ["starting", "running", "stopped"]);
  await waitFor(async () => (await f.readLog()).includes("out done"));
  assertEquals(f.supervisor.state().restarts, 0);
});

Deno.test("TradingSupervisor reads active trades, passes env and working_dir, and withholds the agent's key", async () => {
  const workDir = await Deno.makeTempDir({ prefix: "ftl-workdir-" });
  try {
    await using f = await supervisorFixture({
      script: "trades.sh",
      trading: { env: { TRADES: "5", GREETING: "hello" }, working_dir: workDir },
      extra: {
        baseEnv: () => ({
          PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin",
          FTL_API_KEY: "wak_" + "A".repeat(32),
          MY_BOT_KEY: "wak_" + "B".repeat(32),
        }),
      },
    });
    await f.supervisor.start();
    await waitFor(() => f.supervisor.state().active_trades === 5, { message: "5 active trades" });
    const log = await waitFor(async () => {
      const text = await f.readLog();
      return text.includes("cwd:") && text;
    });
    assertMatch(log, /out greeting: hello/);
    assertMatch(log, /out api key seen: none none/);
    assert(log.includes(`out cwd: ${await Deno.realPath(workDir)}`), log);
    await f.supervisor.stop();
    assertEquals(f.supervisor.state().active_trades, 0);
  } finally {
    await Deno.remove(workDir, { recursive: true });
  }
});

Deno.test("TradingSupervisor.shutdown() stops the workload and refuses later starts", async () => {
  await using f = await supervisorFixture({ script: "graceful.sh" });
  const pid = (await f.supervisor.start()).data?.pid as number;
  await f.supervisor.shutdown();
  assertEquals(f.supervisor.state().status, "stopped");
  await assertNoWorkloadLeft(f.marker, [pid]);
  const again = await f.supervisor.start();
  assertEquals(again.error_code, "shutting_down");
});

Deno.test("TradingSupervisor answers a second start or stop without side effects", async () => {
  await using f = await supervisorFixture({ script: "graceful.sh" });
  const first = await f.supervisor.start();
  const second = await f.supervisor.start();
  assertEquals(second.data?.already_running, true);
  assertEquals(second.data?.pid, first.data?.pid);
  await f.supervisor.stop();
  const again = await f.supervisor.stop();
  assertEquals(again.data?.already_stopped, true);
  assertEquals(f.statuses, ["starting", "running", "stopping", "stopped"]);
});

Deno.test("TradingSupervisor rotates the workload log by size", async () => {
  await using f = await supervisorFixture({ extra: { logMaxBytes: 400, logMaxFiles: 2 } });
  f.config.trading.command = [
    "sh",
    "-c",
    'i=0; while [ $i -lt 40 ]; do echo "line $i"; i=$((i+1)); done',
    f.marker,
  ];
  await f.supervisor.start();
  await waitFor(async () => (await f.readLog()).includes("exited by itself"));
  const live = await Deno.stat(f.logFile);
  const first = await Deno.stat(`${f.logFile}.1`);
  const second = await Deno.stat(`${f.logFile}.2`);
  assert(live.size <= 400 && first.size <= 400 && second.size <= 400);
  assertEquals(live.mode! & 0o777, 0o600);
  await assertNoWorkloadLeft(f.marker);
});

Deno.test("TradingSupervisor.shutdown({ force: true }) kills at once, without the grace", async () => {
  await using f = await supervisorFixture({
    script: "ignore_term.sh",
    trading: { stop_timeout_seconds: 30 },
  });
  const pid = (await f.supervisor.start()).data?.pid as number;
  const begin = performance.now();
  await f.supervisor.shutdown({ force: true });
  assert(performance.now() - begin < 5_000);
  await assertNoWorkloadLeft(f.marker, [pid]);
});

Deno.test("TradingSupervisor: disabling trading stops nothing, but blocks later starts and restarts", async () => {
  const delays: number[] = [];
  await using f = await supervisorFixture({
    script: "graceful.sh",
    trading: { restart_on_crash: true },
    extra: { delay: (ms) => Promise.resolve(void delays.push(ms)) },
  });
  const pid = (await f.supervisor.start()).data?.pid as number;
  f.config = { ...f.config, trading_enabled: false };
  const refused = await f.supervisor.start();
  assertEquals(refused.error_code, "trading_disabled");
  assertEquals(refused.data, { trading_status: "running", pid });
  assertEquals(f.supervisor.state().status, "running");

  Deno.kill(pid, "SIGKILL");
  await waitFor(async () => (await f.readLog()).includes("exited by itself"));
  assertEquals(f.supervisor.state().status, "crashed");
  assertEquals(delays, [], "no restart is scheduled while trading is disabled");
  await assertNoWorkloadLeft(f.marker, [pid]);
});

Deno.test("TradingSupervisor.shutdown({ force: true }) cuts short a stop that is waiting out its grace", async () => {
  await using f = await supervisorFixture({
    script: "ignore_term.sh",
    trading: { stop_timeout_seconds: 30 },
  });
  const pid = (await f.supervisor.start()).data?.pid as number;
  await waitFor(async () => (await f.readLog()).includes("ignore_term: started"));
  const begin = performance.now();
  const stopping = f.supervisor.stop();
  await waitFor(() => f.supervisor.state().status === "stopping");
  await f.supervisor.shutdown({ force: true });
  assertEquals((await stopping).data?.trading_status, "stopped");
  assert(performance.now() - begin < 5_000, "the 30 s grace was waited out");
  await assertNoWorkloadLeft(f.marker, [pid]);
});
