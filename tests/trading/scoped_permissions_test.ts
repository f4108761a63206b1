import { deepStrictEqual as assertEquals, ok as assert } from "node:assert/strict";
import { generateApiKey } from "../../src/protocol/mod.ts";
import { assertNoWorkloadLeft } from "./_process_table.ts";

const runner = new URL("./_scoped_run.ts", import.meta.url).pathname;
const fixtures = new URL("../fixtures/workloads/", import.meta.url).pathname;

Deno.test("TradingSupervisor stops a whole tree under the agent's scoped permissions (no Deno.kill, no /proc)", async () => {
  const dir = await Deno.makeTempDir({ prefix: "ftl-scoped-" });
  const marker = `ftl-test-${crypto.randomUUID()}`;
  try {
    const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "--no-prompt",
        "--allow-run=sh",
        `--allow-read=${dir},${fixtures}`,
        `--allow-write=${dir}`,
        "--allow-env=FTL_API_KEY",
        runner,
        dir,
        `${fixtures}spawn_child.sh`,
        marker,
        "1",
      ],
      stdout: "piped",
      stderr: "piped",
    }).output();
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
    const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "--no-prompt",
        "--allow-run=sh",
        `--allow-read=${dir},${fixtures}`,
        `--allow-write=${dir}`,
        "--allow-env=FTL_API_KEY",
        runner,
        dir,
        `${fixtures}trades.sh`,
        marker,
        "1",
      ],
      env: { FTL_API_KEY: key, GREETING: "inherited-from-the-os" },
      stdout: "piped",
      stderr: "piped",
    }).output();
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
