/**
 * End to end: the agent run from source with exactly the flags release binaries are compiled
 * with (`src/build/compile_flags.ts`) works against a real control plane, including the
 * config write-back after it revoked what its config does not need; a revoked permission then
 * fails with a message that says it was revoked; and a flag set that lacks the config's host
 * is refused at start with the missing grant named.
 */
import { deepStrictEqual as assertEquals, ok as assert } from "node:assert/strict";
import { stringify } from "yaml";
import { agentBundleArgs, agentCompileFlags, compileOs } from "../../src/build/compile_flags.ts";
import { agentPermissionFlags } from "../../src/permissions/permission_flags.ts";
import { loadConfig } from "../../src/config/load_config.ts";
import { waitFor } from "../_helpers/wait_for.ts";
import { denoRunArgs, runMain, SAMPLE_KEY, tempHome } from "../_helpers/main_process.ts";
import { connectedWorkerId, startSystem } from "../agent/_e2e.ts";
import { startControlPlane } from "../_helpers/control_plane_process.ts";

const COMPILED = agentCompileFlags(compileOs(Deno.build.os));

Deno.test({
  name: "the agent bundle release binaries are compiled from runs under their flags and reports",
  ignore: Deno.build.os === "windows",
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "ftl-bundle-" });
    try {
      const bundle = `${dir}/worker-agent.js`;
      const built = await new Deno.Command(Deno.execPath(), {
        args: agentBundleArgs(bundle),
        cwd: new URL("../../", import.meta.url).pathname,
        stdout: "null",
        stderr: "piped",
      }).output();
      assert(built.success, new TextDecoder().decode(built.stderr));
      await using sys = await startSystem({ agent: { permissions: COMPILED, entry: bundle } });
      const workerId = await connectedWorkerId(sys.agent, { websocket: "open" });
      await waitFor(async () => (await sys.admin.samples(workerId)).find((s) => s.seq >= 1), {
        timeoutMs: 15_000,
        message: "a metrics sample",
      });
      const id = await sys.admin.command(workerId, "ping");
      assertEquals((await sys.admin.finished(workerId, id)).status, "completed");
      assertEquals(await sys.agent.stop(), 0);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test({
  name:
    "the agent under the compiled binary's flags connects, reports and rewrites its config after narrowing its permissions",
  ignore: Deno.build.os === "windows",
  async fn() {
    await using sys = await startSystem({ agent: { permissions: COMPILED } });
    const workerId = await connectedWorkerId(sys.agent, { websocket: "open" });
    await waitFor(async () => (await sys.admin.samples(workerId)).find((s) => s.seq >= 1), {
      timeoutMs: 15_000,
      message: "a metrics sample",
    });
    const log = sys.agent.output();
    assert(/permissions revoked at start/.test(log), log.slice(-3000));
    assert(/ffi, import: whole/.test(log), log.slice(-3000));
    assert(/env: FTL_CONFIG/.test(log), "the config variables are revoked once loaded");

    // update_config writes the file back through the yaml package, which still reads its
    // two debug switches: the narrowing must have kept exactly those.
    const id = await sys.admin.command(workerId, "update_config", {
      changes: { heartbeat_interval_seconds: 7 },
    });
    const row = await sys.admin.finished(workerId, id);
    assertEquals(row.status, "completed", JSON.stringify(row));
    assert(
      (await Deno.readTextFile(sys.agent.configPath)).includes("heartbeat_interval_seconds: 7"),
    );
    assertEquals(await sys.agent.stop(), 0);
  },
});

Deno.test({
  name: "a permission the agent revoked at start fails with a message that says it was revoked",
  ignore: Deno.build.os === "windows",
  async fn() {
    await using home = await tempHome();
    const configPath = `${home.dir}/config.yaml`;
    await Deno.writeTextFile(
      configPath,
      stringify({
        api_key: SAMPLE_KEY,
        base_url: "http://127.0.0.1:9",
        state_dir: `${home.dir}/state`,
      }),
      { mode: 0o600 },
    );
    const probe = new URL("./_revoked_probe.ts", import.meta.url).pathname;
    const out = await new Deno.Command(Deno.execPath(), {
      args: denoRunArgs(probe, {
        permissions: COMPILED,
        args: ["FTL_API_KEY", "run", "--config", configPath],
      }),
      env: { ...home.env, NO_COLOR: "1" },
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).output();
    const stderr = new TextDecoder().decode(out.stderr);
    assertEquals(out.code, 1, stderr);
    assert(stderr.includes('Requires env access to "FTL_API_KEY"'), stderr);
    assert(
      stderr.includes("the agent revoked this env permission at start because the loaded config"),
      stderr,
    );
  },
});

Deno.test({
  name:
    "run refuses to start, naming the missing grant, when its flags were made for another base_url",
  ignore: Deno.build.os === "windows",
  async fn() {
    await using home = await tempHome();
    const configPath = `${home.dir}/config.yaml`;
    const write = (port: number) =>
      Deno.writeTextFile(
        configPath,
        stringify({
          api_key: SAMPLE_KEY,
          base_url: `http://127.0.0.1:${port}`,
          state_dir: `${home.dir}/state`,
        }),
        { mode: 0o600 },
      );
    // The flags a service unit baked in for the old base_url …
    await write(9);
    const { config } = await loadConfig({ path: configPath, env: {} });
    const flags = agentPermissionFlags(config, configPath);
    // … and the config moved on.
    await write(10);
    const result = await runMain(["run", "--config", configPath], {
      env: home.env,
      permissions: flags,
    });
    assertEquals(result.code, 2, result.stderr);
    assert(result.stderr.includes("this config needs net 127.0.0.1:10"), result.stderr);
    assert(result.stderr.includes("service install"), result.stderr);
  },
});

Deno.test({
  name:
    "init, doctor, permissions and service install all work under the compiled binary's flags, and doctor prints them",
  ignore: Deno.build.os === "windows",
  async fn() {
    const cp = await startControlPlane();
    try {
      await using home = await tempHome();
      const apiKey = await cp.createKey("compiled-flags");
      const env = { ...home.env, FTL_API_KEY: apiKey };
      const init = await runMain(["init", "--base-url", cp.baseUrl], {
        env,
        permissions: COMPILED,
      });
      assertEquals(init.code, 0, init.stderr);
      const doctor = await runMain(["doctor"], { env: home.env, permissions: COMPILED });
      assertEquals(doctor.code, 0, doctor.stdout + doctor.stderr);
      for (
        const line of [
          "✓ permission net: all",
          "✓ permission env: 23 names (FTL_CONFIG",
          "✓ permission sys: hostname, osRelease",
          "✓ permission ffi: none",
          "✓ permission import: none",
          "✓ permissions after start: `run` revokes ffi, import: whole; env: FTL_CONFIG",
          "kept whole (granted whole): net, read, write, run",
        ]
      ) assert(doctor.stdout.includes(line), `${line}\n${doctor.stdout}`);
      const compiled = await runMain(["permissions", "--compiled", "--json"], {
        env: home.env,
        permissions: COMPILED,
      });
      assertEquals(JSON.parse(compiled.stdout), COMPILED);
      const service = await runMain(["service", "install", "--dry-run"], {
        env: home.env,
        permissions: COMPILED,
      });
      assertEquals(service.code, 0, service.stderr);
    } finally {
      await cp.stop();
    }
  },
});
