/** The `worker-agent` command line as a user meets it: real `main.ts` processes. */
import {
  deepStrictEqual as assertEquals,
  match as assertMatch,
  ok as assert,
} from "node:assert/strict";
import { VERSION } from "../../src/version.ts";
import { runMain, SAMPLE_KEY, tempHome } from "../_helpers/main_process.ts";

const VERSION_LINE = new RegExp(
  `^worker-agent ${VERSION.replaceAll(".", "\\.")} \\(deno \\d+\\.\\d+\\.\\d+, \\w+-\\w+\\)\\n$`,
);

Deno.test("version, --version and the seed's -version print the same version line", async () => {
  const results = await Promise.all([
    runMain(["version"]),
    runMain(["--version"]),
    runMain(["-version"]),
  ]);
  for (const result of results) {
    assertEquals(result.code, 0, result.stderr);
    assertMatch(result.stdout, VERSION_LINE);
  }
});

Deno.test("every command's --help describes it with examples and exits 0", async (t) => {
  const commands = [
    [],
    ["init"],
    ["run"],
    ["status"],
    ["doctor"],
    ["permissions"],
    ["service"],
    ["version"],
  ];
  const results = await Promise.all(commands.map((words) => runMain([...words, "--help"])));
  for (const [i, words] of commands.entries()) {
    await t.step(`worker-agent ${words.join(" ")} --help`.replace("  ", " "), () => {
      const result = results[i]!;
      assertEquals(result.code, 0, result.stderr);
      assert(result.stdout.startsWith("Usage: worker-agent"), result.stdout);
      assert(/Examples?:|Start here:/.test(result.stdout), result.stdout);
    });
  }
});

Deno.test("init writes a commented 0600 config, refuses to overwrite it, and --force replaces it", async () => {
  await using home = await tempHome();
  const path = `${home.dir}/deep/new/dir/config.yaml`;
  const first = await runMain(
    ["init", "--config", path, "--api-key", SAMPLE_KEY, "--base-url", "http://127.0.0.1:9"],
    { env: home.env },
  );
  assertEquals(first.code, 0, first.stderr);
  assert(first.stdout.includes(`wrote ${path}`), first.stdout);
  assert(!first.stdout.includes(SAMPLE_KEY) && !first.stderr.includes(SAMPLE_KEY));
  const text = await Deno.readTextFile(path);
  assert(text.includes(`api_key: "${SAMPLE_KEY}"`));
  assert(text.includes('base_url: "http://127.0.0.1:9"'));
  assert(text.includes("# Worker key from the FineTuneLab dashboard"));
  assertEquals((await Deno.stat(path)).mode! & 0o777, 0o600);

  const again = await runMain(["init", "--config", path, "--api-key", SAMPLE_KEY], {
    env: home.env,
  });
  assertEquals(again.code, 2);
  assertEquals(again.stderr.trim().split("\n").length, 1, again.stderr);
  assert(again.stderr.includes("already exists") && again.stderr.includes("--force"));
  assertEquals(await Deno.readTextFile(path), text);

  // The seed's flags, and --force through the environment's key.
  const forced = await runMain(["-init", "-config", path, "--force"], {
    env: { ...home.env, FTL_API_KEY: SAMPLE_KEY },
  });
  assertEquals(forced.code, 0, forced.stderr);
  const replaced = await Deno.readTextFile(path);
  assert(replaced.includes('base_url: "https://app.finetunelab.ai"'));
  assertEquals((await Deno.stat(path)).mode! & 0o777, 0o600);
});

Deno.test("init without a key anywhere exits 2 with the three ways to give one, and writes nothing", async () => {
  await using home = await tempHome();
  const result = await runMain(["init"], { env: home.env });
  assertEquals(result.code, 2, result.stdout + result.stderr);
  assertEquals(result.stderr.trim().split("\n").length, 1, result.stderr);
  assertMatch(result.stderr, /^error: no API key given; give it one of three ways: /);
  assert(result.stderr.includes("--api-key") && result.stderr.includes("FTL_API_KEY"));
  assert(result.stderr.includes("| worker-agent init"), "names stdin");
  const path = `${home.dir}/config/finetunelab/worker-agent/config.yaml`;
  await Deno.stat(path).then(
    () => assert(false, "init wrote a config without a key"),
    (error) => assert(error instanceof Deno.errors.NotFound),
  );
});

Deno.test("init reads the key from stdin when stdin is not a terminal", async () => {
  await using home = await tempHome();
  const path = `${home.dir}/c.yaml`;
  const result = await runMain(["init", "--config", path], {
    env: home.env,
    stdin: `\n${SAMPLE_KEY}\n`,
  });
  assertEquals(result.code, 0, result.stderr);
  assert(!result.stdout.includes(SAMPLE_KEY) && !result.stderr.includes(SAMPLE_KEY));
  assert((await Deno.readTextFile(path)).includes(`api_key: "${SAMPLE_KEY}"`));
  const bad = await runMain(["init", "--config", `${home.dir}/d.yaml`], {
    env: home.env,
    stdin: "wak_short\n",
  });
  assertEquals(bad.code, 2);
  assertMatch(bad.stderr, /^error: the key on stdin is not valid: a worker key is 36 characters/);
  assert(!bad.stderr.includes("wak_short"));
});

Deno.test("--config and the seed's -config work before the command too", async () => {
  await using home = await tempHome();
  const path = `${home.dir}/c.yaml`;
  await Deno.writeTextFile(path, `api_key: ${SAMPLE_KEY}\nstate_dir: ${home.dir}/st\n`);
  const runs = await Promise.all([
    runMain(["--config", path, "status"], { env: home.env }),
    runMain(["-config", path, "status"], { env: home.env }),
    runMain(["status", "--config", path], { env: home.env }),
  ]);
  for (const result of runs) {
    assertEquals(result.code, 1, result.stderr);
    assertEquals(
      result.stdout,
      `no agent status in ${home.dir}/st yet; start one with: worker-agent run\n`,
    );
  }
});

Deno.test("an unusable log_file or state_dir is a one-line config error naming the key (exit 2)", async () => {
  await using home = await tempHome();
  const blocker = `${home.dir}/a-file`;
  await Deno.writeTextFile(blocker, "not a directory\n");
  const cases: [string, string][] = [
    ["log_file", `log_file: ${blocker}/agent.log\nstate_dir: ${home.dir}/st`],
    ["state_dir", `state_dir: ${blocker}/state`],
  ];
  const runs = await Promise.all(cases.map(async ([key, yaml]) => {
    const path = `${home.dir}/${key}.yaml`;
    await Deno.writeTextFile(
      path,
      `api_key: ${SAMPLE_KEY}\nbase_url: http://127.0.0.1:9\n${yaml}\n`,
    );
    return await runMain(["run", "--config", path], { env: home.env });
  }));
  for (const [i, [key]] of cases.entries()) {
    const result = runs[i]!;
    assertEquals(result.code, 2, `${key}: ${result.stderr}`);
    const lines = result.stderr.trim().split("\n");
    assertEquals(lines.length, 1, result.stderr);
    assert(lines[0]!.startsWith(`config error in '${key}'`), lines[0]);
    assert(lines[0]!.includes(blocker), lines[0]);
  }
});

Deno.test("a missing Deno permission is named as the flag to add, not as an unreadable file", async () => {
  await using home = await tempHome();
  const path = `${home.dir}/c.yaml`;
  await Deno.writeTextFile(path, `api_key: ${SAMPLE_KEY}\n`);
  const result = await runMain(["permissions", "--config", path], {
    env: home.env,
    permissions: ["--allow-env"],
  });
  assertEquals(result.code, 2, result.stderr);
  assertMatch(
    result.stderr,
    new RegExp(`fix: run with --allow-read=${path.replaceAll(".", "\\.")}`),
  );
  assert(!result.stderr.includes("make the file readable"), result.stderr);
});

Deno.test("init refuses a malformed --api-key with exit 2 without echoing it", async () => {
  await using home = await tempHome();
  const bad = "wak_tooShortButSecretish123";
  const result = await runMain(["init", "--api-key", bad], { env: home.env });
  assertEquals(result.code, 2);
  assert(result.stderr.includes("--api-key") && result.stderr.includes("36 characters"));
  assert(!result.stderr.includes(bad) && !result.stdout.includes(bad));
});

Deno.test("a bad config value prints one line with the key, the value and the fix, exit 2, no stack trace", async (t) => {
  await using home = await tempHome();
  const cases: [string, string, RegExp][] = [
    [
      "heartbeat_interval_seconds: 2",
      "heartbeat_interval_seconds",
      /2 is not valid.*fix: use a whole number of seconds from 5 to 300/,
    ],
    [
      "base_url: http://example.com",
      "base_url",
      /"http:\/\/example.com" is not valid: plain http is allowed only for loopback.*fix: use https/,
    ],
    [
      "log_level: loud",
      "log_level",
      /"loud" is not valid.*fix: use one of: debug, info, warn, error/,
    ],
    ["max_concurrency: 9", "max_concurrency", /9 is not valid: above max_concurrency_limit \(4\)/],
    [
      "allowed_commands: [ping, rm_rf]",
      "allowed_commands",
      /fix: use a list of command types from: start_trading/,
    ],
    [
      "command_signature: ed25519",
      "server_public_key",
      /required when command_signature is ed25519/,
    ],
    [
      "trading:\n  stop_timeout_seconds: 0",
      "trading.stop_timeout_seconds",
      /0 is not valid.*from 1 to 600/,
    ],
    ["heartbeat_interval_seconds: [", "config", /YAML syntax error at line \d+, column \d+/],
  ];
  // The processes run in parallel; each step checks one of them.
  const runs = cases.map(async ([yaml, key]) => {
    const path = `${home.dir}/${key}.yaml`;
    const base = yaml.startsWith("base_url") ? "" : "base_url: http://127.0.0.1:9\n";
    await Deno.writeTextFile(path, `api_key: ${SAMPLE_KEY}\n${base}${yaml}\n`);
    return { path, result: await runMain(["permissions", "--config", path], { env: home.env }) };
  });
  for (const [i, [yaml, key, pattern]] of cases.entries()) {
    await t.step(`${key} (${yaml.split("\n")[0]})`, async () => {
      const { path, result } = await runs[i]!;
      assertEquals(result.code, 2, result.stdout + result.stderr);
      const lines = result.stderr.trim().split("\n");
      assertEquals(lines.length, 1, result.stderr);
      assert(lines[0]!.startsWith(`config error in '${key}' `), lines[0]);
      assertMatch(lines[0]!, pattern);
      assert(lines[0]!.includes(path), "names the file");
      assert(!result.stderr.includes(SAMPLE_KEY) && !/\bat .*\.ts:\d+/.test(result.stderr));
    });
  }
  await t.step("a malformed key in the file is described, never echoed", async () => {
    const secret = "wak_ThisIsNotValid!!ButStillSecretXYZ";
    const path = `${home.dir}/badkey.yaml`;
    await Deno.writeTextFile(path, `api_key: "${secret}"\n`);
    const result = await runMain(["status", "--config", path], { env: home.env });
    assertEquals(result.code, 2);
    assert(result.stderr.startsWith("config error in 'api_key' "), result.stderr);
    assert(!result.stderr.includes(secret) && !result.stderr.includes("ThisIsNotValid"));
  });
  await t.step("a missing config file names the path and says to run init", async () => {
    const result = await runMain(["status"], { env: home.env });
    assertEquals(result.code, 2);
    assertMatch(
      result.stderr,
      /^config error in 'config' \(default path\): no config file at .*fix: run `worker-agent init`/,
    );
  });
  await t.step("FTL_BASE_URL is named as the source of a bad value", async () => {
    const path = `${home.dir}/ok.yaml`;
    await Deno.writeTextFile(path, `api_key: ${SAMPLE_KEY}\n`);
    const result = await runMain(["permissions", "--config", path], {
      env: { ...home.env, FTL_BASE_URL: "ftp://x" },
    });
    assertEquals(result.code, 2);
    assertMatch(
      result.stderr,
      /^config error in 'base_url' \(FTL_BASE_URL\): "ftp:\/\/x" is not valid: scheme ftp/,
    );
  });
});

Deno.test("unknown config keys are warned about by name with a suggestion, not fatal", async () => {
  await using home = await tempHome();
  const path = `${home.dir}/c.yaml`;
  await Deno.writeTextFile(
    path,
    `api_key: ${SAMPLE_KEY}\nbase_url: http://127.0.0.1:9\nheartbeat_intervall_seconds: 10\n`,
  );
  const result = await runMain(["permissions", "--config", path], { env: home.env });
  assertEquals(result.code, 0, result.stderr);
  assertMatch(
    result.stderr,
    /warning: unknown config key "heartbeat_intervall_seconds" .* did you mean heartbeat_interval_seconds\?/,
  );
});

Deno.test("an unknown command or option exits 2 with one line and no stack trace", async () => {
  const [command, option] = await Promise.all([
    runMain(["stauts"]),
    runMain(["status", "--jsn"]),
  ]);
  assertEquals(command.code, 2);
  assertMatch(
    command.stderr,
    /^error: unknown command 'stauts'; the commands are init, run, status/,
  );
  assertEquals(option.code, 2);
  assertMatch(option.stderr, /^error: unknown option '--jsn'/);
});

Deno.test("permissions prints scoped flags naming the control plane, config dir and state dir", async () => {
  await using home = await tempHome();
  const path = `${home.dir}/c.yaml`;
  await Deno.writeTextFile(
    path,
    `api_key: ${SAMPLE_KEY}\nbase_url: https://cp.example:8443\nstate_dir: ${home.dir}/st\nlog_file: ${home.dir}/logs/agent.log\n`,
  );
  const [text, json] = await Promise.all([
    runMain(["permissions", "--config", path], { env: home.env }),
    runMain(["permissions", "--config", path, "--json"], { env: home.env }),
  ]);
  assertEquals(text.code, 0, text.stderr);
  const flags = JSON.parse(json.stdout) as string[];
  assertEquals(text.stdout.trim(), flags.join(" "));
  assert(flags.includes("--allow-net=cp.example:8443"), flags.join(" "));
  const write = flags.find((f) => f.startsWith("--allow-write="))!;
  assertEquals(write, `--allow-write=${home.dir},${home.dir}/st,${home.dir}/logs`);
  assert(flags.some((f) => f.startsWith("--allow-env=") && f.includes("FTL_API_KEY")));
  assert(!flags.some((f) => f === "-A" || f === "--allow-all" || f === "--allow-net"));
});

Deno.test("service install --dry-run prints a systemd user unit that runs this config and changes nothing", async () => {
  await using home = await tempHome();
  const path = `${home.dir}/c.yaml`;
  await Deno.writeTextFile(path, `api_key: ${SAMPLE_KEY}\nbase_url: http://127.0.0.1:9\n`);
  const result = await runMain(["service", "install", "--dry-run", "--config", path], {
    env: home.env,
  });
  assertEquals(result.code, 0, result.stderr);
  const unitPath = `${home.dir}/config/systemd/user/finetunelab-worker-agent.service`;
  assert(result.stdout.includes(`# ${unitPath}`), result.stdout);
  assertMatch(result.stdout, /ExecStart=.*--allow-net=127\.0\.0\.1:9 .*main\.ts run --config /);
  assert(result.stdout.includes("RestartPreventExitStatus=2"));
  assert(result.stdout.includes("systemctl --user enable --now finetunelab-worker-agent.service"));
  assert(!result.stdout.includes(SAMPLE_KEY));
  await Deno.stat(unitPath).then(
    () => assert(false, "dry run wrote the unit"),
    (error) => assert(error instanceof Deno.errors.NotFound),
  );
});

Deno.test("status exits 1 with one line when no agent has used the state dir yet", async () => {
  await using home = await tempHome();
  const path = `${home.dir}/c.yaml`;
  await Deno.writeTextFile(path, `api_key: ${SAMPLE_KEY}\nstate_dir: ${home.dir}/st\n`);
  const [text, json] = await Promise.all([
    runMain(["status", "--config", path], { env: home.env }),
    runMain(["status", "--config", path, "--json"], { env: home.env }),
  ]);
  assertEquals(text.code, 1);
  assertEquals(
    text.stdout,
    `no agent status in ${home.dir}/st yet; start one with: worker-agent run\n`,
  );
  assertEquals(json.code, 1);
  assertEquals(JSON.parse(json.stdout), {
    state_dir: `${home.dir}/st`,
    running: false,
    pid: null,
    status: null,
  });
});
