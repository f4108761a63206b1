/**
 * The CLI against a real control plane: `doctor` passing and failing, and `run` under
 * exactly the flags `permissions` prints, followed by `status` while it runs.
 */
import {
  deepStrictEqual as assertEquals,
  match as assertMatch,
  ok as assert,
} from "node:assert/strict";
import { startControlPlane } from "../_helpers/control_plane_process.ts";
import { freePort, waitFor } from "../_helpers/wait_for.ts";
import { denoRunArgs, MAIN, runMain, SAMPLE_KEY, tempHome } from "../_helpers/main_process.ts";

Deno.test("doctor passes every check against a live control plane and never prints the key", async () => {
  await using cp = await startControlPlane();
  await using home = await tempHome();
  const key = await cp.createKey("doctor");
  const path = `${home.dir}/c.yaml`;
  await Deno.writeTextFile(path, `api_key: ${key}\nbase_url: ${cp.baseUrl}\n`, { mode: 0o600 });
  const result = await runMain(["doctor", "--config", path], { env: home.env });
  assertEquals(result.code, 0, result.stdout + result.stderr);
  for (
    const check of [
      "config",
      "key format",
      "base_url scheme",
      "proxy",
      "DNS",
      "TCP",
      "TLS",
      "clock skew",
      "key accepted",
      "WebSocket",
    ]
  ) {
    assertMatch(result.stdout, new RegExp(`^✓ ${check}: `, "m"), `${check}:\n${result.stdout}`);
  }
  assertMatch(result.stdout, /✓ key accepted: registered as wkr_[a-z0-9]{24}/);
  assertMatch(
    result.stdout,
    /✓ WebSocket: upgrade to ws:\/\/127\.0\.0\.1:\d+\/api\/v1\/workers\/ws ok/,
  );
  assert(result.stdout.endsWith("all checks passed\n"));
  assert(!result.stdout.includes(key) && !result.stderr.includes(key));
});

Deno.test("doctor fails against a revoked-looking key and against a closed port, with hints and exit 1", async (t) => {
  await using cp = await startControlPlane();
  await using home = await tempHome();
  await t.step("an unknown key is refused by the server", async () => {
    const path = `${home.dir}/unknown.yaml`;
    await Deno.writeTextFile(path, `api_key: ${SAMPLE_KEY}\nbase_url: ${cp.baseUrl}\n`);
    const result = await runMain(["doctor", "--config", path], { env: home.env });
    assertEquals(result.code, 1, result.stdout + result.stderr);
    assertMatch(result.stdout, /^✓ TCP: connected/m);
    assertMatch(
      result.stdout,
      /^✗ key accepted: the server refused the key \(HTTP 401 invalid_api_key\)\n {4}hint: /m,
    );
    assertMatch(result.stdout, /^- WebSocket: skipped: the key was not accepted/m);
    assert(!result.stdout.includes(SAMPLE_KEY));
  });
  await t.step("nothing listens on the port", async () => {
    const path = `${home.dir}/closed.yaml`;
    await Deno.writeTextFile(
      path,
      `api_key: ${SAMPLE_KEY}\nbase_url: http://127.0.0.1:${freePort()}\n`,
    );
    const result = await runMain(["doctor", "--config", path, "--timeout", "3"], { env: home.env });
    assertEquals(result.code, 1, result.stdout + result.stderr);
    assertMatch(result.stdout, /^✓ config: /m);
    assertMatch(
      result.stdout,
      /^✗ TCP: cannot connect to 127\.0\.0\.1:\d+ \(.+\)\n {4}hint: check that the control plane is running/m,
    );
    assertMatch(result.stdout, /^✗ key accepted: register call failed: network error/m);
    assertMatch(result.stdout, /\d check\(s\) failed\n$/);
  });
  await t.step("a config error is the first failed check and the rest are skipped", async () => {
    const path = `${home.dir}/bad.yaml`;
    await Deno.writeTextFile(path, `api_key: ${SAMPLE_KEY}\nbase_url: http://example.com\n`);
    const result = await runMain(["doctor", "--config", path], { env: home.env });
    assertEquals(result.code, 1);
    assertMatch(result.stdout, /^✗ config: 'base_url' .* plain http is allowed only for loopback/m);
    assertMatch(result.stdout, /^ {4}hint: use https:\/\//m);
    assertMatch(result.stdout, /^- remaining checks: skipped/m);
  });
});

Deno.test("run works under exactly the flags permissions prints; status reports it; a second agent on the state dir is refused", async () => {
  await using cp = await startControlPlane();
  await using home = await tempHome();
  const key = await cp.createKey("run");
  const path = `${home.dir}/agent/config.yaml`;
  const stateDir = `${home.dir}/agent-state`;
  const init = await runMain(["init", "--config", path, "--base-url", cp.baseUrl], {
    env: { ...home.env, FTL_API_KEY: key },
  });
  assertEquals(init.code, 0, init.stderr);
  // The user's only edit: a state dir and a log file of their own choosing.
  const text = await Deno.readTextFile(path);
  await Deno.writeTextFile(
    path,
    text.replace('state_dir: ""', `state_dir: ${stateDir}`)
      .replace('log_file: ""', `log_file: ${home.dir}/logs/agent.log`)
      .replace("log_level: info", "log_level: debug")
      .replace("heartbeat_interval_seconds: 30", "heartbeat_interval_seconds: 5"),
  );
  const printed = await runMain(["permissions", "--config", path, "--json"], { env: home.env });
  assertEquals(printed.code, 0, printed.stderr);
  const flags = JSON.parse(printed.stdout) as string[];

  const agent = new Deno.Command(Deno.execPath(), {
    args: denoRunArgs(MAIN, { permissions: flags, args: ["run", "--config", path] }),
    env: { ...home.env, NO_COLOR: "1", FTL_API_KEY: "", FTL_CONFIG: "", FTL_STATE_DIR: "" },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const output = Promise.all([
    new Response(agent.stdout).text(),
    new Response(agent.stderr).text(),
  ]);
  let exited = false;
  const status = agent.status.then((s) => {
    exited = true;
    return s;
  });
  try {
    const connected = await waitFor(async () => {
      if (exited) throw new Error("the agent exited early");
      const result = await runMain(["status", "--config", path, "--json"], { env: home.env });
      if (result.code !== 0) return undefined;
      const report = JSON.parse(result.stdout);
      return report.status?.state === "connected" && report.status.worker_id ? report : undefined;
    }, { timeoutMs: 30_000, message: "the agent to report connected" });
    assertEquals(connected.running, true);
    assertEquals(connected.pid, agent.pid);

    const human = await runMain(["status", "--config", path], { env: home.env });
    assertEquals(human.code, 0, human.stderr);
    assertMatch(human.stdout, new RegExp(`^agent: +running \\(pid ${agent.pid}\\)$`, "m"));
    assertMatch(human.stdout, /^state: +connected$/m);
    assertMatch(human.stdout, /^worker id: +wkr_[a-z0-9]{24}$/m);
    assertMatch(human.stdout, /^last heartbeat: +\S+ \(\d+ s ago\)$/m);

    const second = await runMain(["run", "--config", path], { env: home.env, timeoutMs: 20_000 });
    assertEquals(second.code, 2, second.stderr);
    assertEquals(
      second.stderr,
      `worker-agent: logging to ${home.dir}/logs/agent.log\nerror: state dir ${stateDir} is in use by another agent (pid ${agent.pid}); stop that agent first, or give this one its own state_dir\n`,
    );
  } finally {
    if (!exited) agent.kill("SIGTERM");
  }
  const { code } = await status;
  const [stdout, stderr] = await output;
  assertEquals(code, 0, stdout + stderr);
  const log = await Deno.readTextFile(`${home.dir}/logs/agent.log`);
  assert(log.length > 0, "the agent logged to its file");
  for (const text of [stdout, stderr, log]) {
    assert(!text.includes(key), "the key never appears in any output or log line");
    assert(!/NotCapable|Requires .* access/.test(text), `a permission was missing:\n${text}`);
  }
  const after = await runMain(["status", "--config", path], { env: home.env });
  assertMatch(after.stdout, /^agent: +not running \(last pid \d+\)$/m);
});
