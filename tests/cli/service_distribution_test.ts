import { deepStrictEqual as assertEquals, ok as assert } from "node:assert/strict";
import { stringify } from "yaml";
import { planService } from "../../src/cli/service_command.ts";
import { serviceSourceNote } from "../../src/cli/service_source_note.ts";
import { runMain, SAMPLE_KEY, tempHome } from "../_helpers/main_process.ts";

Deno.test("macOS service commands use launchctl bootstrap/bootout in gui/<uid>, never the deprecated load -w", () => {
  const env = (name: string) => ({ HOME: "/Users/u" })[name];
  const spec = { command: ["/usr/local/bin/worker-agent", "run"], workingDir: "/Users/u" };
  const install = planService("install", { os: "darwin", env, spec, uid: 501 });
  const file = "/Users/u/Library/LaunchAgents/ai.finetunelab.worker-agent.plist";
  assertEquals(install.prepare, [["launchctl", "bootout", "gui/501/ai.finetunelab.worker-agent"]]);
  assertEquals(install.commands, [
    ["launchctl", "enable", "gui/501/ai.finetunelab.worker-agent"],
    ["launchctl", "bootstrap", "gui/501", file],
  ]);
  assertEquals(planService("uninstall", { os: "darwin", env, spec, uid: 501 }).commands, [
    ["launchctl", "bootout", "gui/501/ai.finetunelab.worker-agent"],
  ]);
  assertEquals(planService("status", { os: "darwin", env, spec, uid: 501 }).commands, [
    ["launchctl", "print", "gui/501/ai.finetunelab.worker-agent"],
  ]);
  for (const action of ["install", "uninstall", "status"] as const) {
    const plan = planService(action, { os: "darwin", env, spec, uid: 501 });
    assert(
      ![...plan.commands, ...(plan.prepare ?? [])].flat().some((w) => w === "load" || w === "-w"),
    );
  }
});

Deno.test("serviceSourceNote() names what a source-checkout service bakes in, and says nothing for a binary", () => {
  const note = serviceSourceNote([
    "/home/u/.deno/bin/deno",
    "run",
    "--allow-net=cp.example.com:443",
    "/src/worker-agent/main.ts",
    "run",
  ]);
  assert(note?.includes("runs /home/u/.deno/bin/deno on /src/worker-agent/main.ts"), note);
  assert(note?.includes("(--allow-net=cp.example.com:443)"), note);
  assert(note?.includes("deno task agent service install"), note);
  assertEquals(serviceSourceNote(["/usr/bin/worker-agent", "run"]), undefined);
});

Deno.test("service install --dry-run from a source checkout prints the sandboxed unit and what it bakes in", async () => {
  await using home = await tempHome();
  const path = `${home.dir}/config.yaml`;
  await Deno.writeTextFile(
    path,
    stringify({ api_key: SAMPLE_KEY, base_url: "http://127.0.0.1:8123" }),
    { mode: 0o600 },
  );
  const result = await runMain(["service", "install", "--dry-run", "--config", path], {
    env: home.env,
  });
  assertEquals(result.code, 0, result.stderr);
  assert(result.stdout.includes("NoNewPrivileges=yes"), result.stdout);
  assert(result.stdout.includes("SystemCallFilter=@system-service"), result.stdout);
  assert(result.stdout.includes("note: installed from a source checkout"), result.stdout);
  assert(result.stdout.includes("(--allow-net=127.0.0.1:8123)"), result.stdout);
});
