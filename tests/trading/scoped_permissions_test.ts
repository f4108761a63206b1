import { deepStrictEqual as assertEquals, ok as assert } from "node:assert/strict";
import { generateApiKey } from "../../src/protocol/mod.ts";
import { assertNoWorkloadLeft } from "./_process_table.ts";

const runner = new URL("./_scoped_run.ts", import.meta.url).pathname;
const fixtures = new URL("../fixtures/workloads/", import.meta.url).pathname;

/**
 * Runs `_scoped_run.ts` (start `sh <script> <marker>`, stop it) under the agent's scoped
 * flags: run only `sh`, read and write only `dir`, and only the env variable the agent reads.
 */
function runScoped(dir: string, script: string, marker: string, env: Record<string, string> = {}) {
  return new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--no-prompt",
      "--allow-run=sh",
      `--allow-read=${dir},${fixtures}`,
      `--allow-write=${dir}`,
      "--allow-env=FTL_API_KEY",
      runner,
      dir,
      `${fixtures}${script}`,
      marker,
      "1",
    ],
    env,
    stdout: "piped",
    stderr: "piped",
  }).output();
}

Deno.test("TradingSupervisor stops a whole tree under the agent's scoped permissions (no Deno.kill, no /proc)", async () => {
  const dir = await Deno.makeTempDir({ prefix: "ftl-scoped-" });
  const marker = `ftl-test-${crypto.randomUUID()}`;
  try {
    const { code, stdout, stderr } = await runScoped(dir, "spawn_child.sh", marker);
    const err = new TextDecoder().decode(stderr);
    assertEquals(code, 0, err);
    const { pid, stopped } = JSON.parse(new TextDecoder().decode(stdout));
    assertEquals(stopped.status, "completed", err);
    assertEquals(stopped.data.killed, true, "the SIGTERM-ignoring child needed SIGKILL");
    assert(pid > 1);
    await assertNoWorkloadLeft(marker, [pid]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("TradingSupervisor under scoped --allow-env hands the workload its environment without the agent's key", async () => {
  const dir = await Deno.makeTempDir({ prefix: "ftl-scoped-" });
  const marker = `ftl-test-${crypto.randomUUID()}`;
  const key = generateApiKey();
  try {
    const { code, stdout, stderr } = await runScoped(dir, "trades.sh", marker, {
      FTL_API_KEY: key,
      GREETING: "inherited-from-the-os",
    });
    assertEquals(code, 0, new TextDecoder().decode(stderr));
    const { pid } = JSON.parse(new TextDecoder().decode(stdout));
    const log = await Deno.readTextFile(`${dir}/trading.log`);
    assert(log.includes("greeting: inherited-from-the-os"), log);
    assert(log.includes("api key seen: none"), log);
    assert(!log.includes(key), "the agent's key reached the workload");
    await assertNoWorkloadLeft(marker, [pid]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
