import {
  deepStrictEqual as assertEquals,
  match as assertMatch,
  ok as assert,
  rejects,
} from "node:assert/strict";
import { loadConfig } from "../../src/config/load_config.ts";
import { ConfigError } from "../../src/config/config_error.ts";
import { AgentConfigSchema } from "../../src/config/schema.ts";
import { COMMAND_TYPES } from "../../src/protocol/command_types.ts";

const KEY_FILE = "wak_FileFileFileFileFileFileFileFile";
const KEY_ENV = "wak_EnvvEnvvEnvvEnvvEnvvEnvvEnvvEnvv";
const KEY_FLAG = "wak_FlagFlagFlagFlagFlagFlagFlagFlag";

async function withConfig<T>(
  text: string,
  fn: (path: string, dir: string) => Promise<T>,
): Promise<T> {
  const dir = await Deno.makeTempDir({ prefix: "ftl-config-" });
  try {
    await Deno.writeTextFile(`${dir}/config.yaml`, text);
    return await fn(`${dir}/config.yaml`, dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

const HOME = { HOME: "/home/u" };

Deno.test("loadConfig() fills every default from a file holding only the key", async () => {
  await withConfig(`api_key: ${KEY_FILE}\n`, async (path) => {
    const { config, warnings } = await loadConfig({ path, env: HOME, hostname: () => "box" });
    assertEquals(warnings, []);
    assertEquals(config.base_url, "https://app.finetunelab.ai");
    assertEquals(config.hostname, "box");
    assertEquals(config.heartbeat_interval_seconds, 30);
    assertEquals(config.metrics_interval_seconds, 10);
    assertEquals(config.max_concurrency, 1);
    assertEquals(config.max_concurrency_limit, 4);
    assertEquals(config.capabilities, ["metrics", "trading"]);
    assertEquals(config.allowed_commands, [...COMMAND_TYPES]);
    assertEquals(config.command_signature, "hmac-sha256");
    assertEquals(config.log_level, "info");
    assertEquals(config.log_format, "text");
    assertEquals(config.state_dir, "/home/u/.local/state/finetunelab/worker-agent");
    assertEquals(config.state_max_mb, 64);
    assertEquals(config.spool_max_mb, undefined);
    assertEquals(config.trading_enabled, false);
    assertEquals(config.trading, {
      command: [],
      working_dir: "",
      env: {},
      stop_timeout_seconds: 10,
      restart_on_crash: false,
    });
  });
});

Deno.test("loadConfig() reads the deprecated spool_max_mb as state_max_mb, with a warning", async () => {
  await withConfig(`api_key: ${KEY_FILE}\nspool_max_mb: 16\n`, async (path) => {
    const { config, warnings } = await loadConfig({ path, env: HOME, hostname: () => "box" });
    assertEquals(config.state_max_mb, 16);
    assertEquals(warnings.length, 1);
    assert(warnings[0]!.includes("spool_max_mb") && warnings[0]!.includes("deprecated"));
  });
  await withConfig(
    `api_key: ${KEY_FILE}\nspool_max_mb: 16\nstate_max_mb: 32\n`,
    async (path) => {
      const { config, warnings } = await loadConfig({ path, env: HOME, hostname: () => "box" });
      assertEquals(config.state_max_mb, 32, "the new key wins");
      assert(warnings[0]!.includes("ignored"), warnings[0]);
    },
  );
});

Deno.test("loadConfig() takes flags over environment over file over defaults", async (t) => {
  const file =
    `api_key: ${KEY_FILE}\nbase_url: https://file.example\nlog_level: warn\nstate_dir: /file/state\n`;
  const env = {
    ...HOME,
    FTL_API_KEY: KEY_ENV,
    FTL_BASE_URL: "https://env.example",
    FTL_LOG_LEVEL: "error",
    FTL_STATE_DIR: "/env/state",
  };
  const flags = {
    apiKey: KEY_FLAG,
    baseUrl: "https://flag.example/",
    logLevel: "debug",
    stateDir: "/flag/state",
  };
  const cases = [
    {
      name: "file over defaults",
      text: file,
      env: HOME,
      flags: {},
      want: [KEY_FILE, "https://file.example", "warn", "/file/state"],
    },
    {
      name: "defaults where the file is silent",
      text: `api_key: ${KEY_FILE}\n`,
      env: HOME,
      flags: {},
      want: [
        KEY_FILE,
        "https://app.finetunelab.ai",
        "info",
        "/home/u/.local/state/finetunelab/worker-agent",
      ],
    },
    {
      name: "environment over file",
      text: file,
      env,
      flags: {},
      want: [KEY_ENV, "https://env.example", "error", "/env/state"],
    },
    {
      name: "flags over environment",
      text: file,
      env,
      flags,
      want: [KEY_FLAG, "https://flag.example", "debug", "/flag/state"],
    },
    {
      name: "empty environment values count as unset",
      text: file,
      env: { ...HOME, FTL_API_KEY: "", FTL_LOG_LEVEL: "" },
      flags: {},
      want: [KEY_FILE, "https://file.example", "warn", "/file/state"],
    },
  ];
  for (const c of cases) {
    await t.step(c.name, async () => {
      await withConfig(c.text, async (path) => {
        const { config } = await loadConfig({
          path,
          env: c.env,
          flags: c.flags,
          hostname: () => "h",
        });
        assertEquals([config.api_key, config.base_url, config.log_level, config.state_dir], c.want);
      });
    });
  }
});

Deno.test("loadConfig() finds the file through FTL_CONFIG and the XDG default, and resolves relative paths", async (t) => {
  await t.step("FTL_CONFIG names the file", async () => {
    await withConfig(
      `api_key: ${KEY_FILE}\nstate_dir: st\nlog_file: logs/a.log\n`,
      async (path, dir) => {
        const loaded = await loadConfig({ env: { ...HOME, FTL_CONFIG: path } });
        assertEquals(loaded.path, path);
        assertEquals(loaded.config.state_dir, `${dir}/st`);
        assertEquals(loaded.config.log_file, `${dir}/logs/a.log`);
      },
    );
  });
  await t.step("the XDG default path is used without --config", async () => {
    const dir = await Deno.makeTempDir();
    try {
      await Deno.mkdir(`${dir}/finetunelab/worker-agent`, { recursive: true });
      await Deno.writeTextFile(
        `${dir}/finetunelab/worker-agent/config.yaml`,
        `api_key: ${KEY_FILE}\n`,
      );
      const loaded = await loadConfig({
        env: { ...HOME, XDG_CONFIG_HOME: dir, XDG_STATE_HOME: "/xdg/state" },
      });
      assertEquals(loaded.path, `${dir}/finetunelab/worker-agent/config.yaml`);
      assertEquals(loaded.config.state_dir, "/xdg/state/finetunelab/worker-agent");
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  });
  await t.step("a state dir from a flag is relative to the working directory", async () => {
    await withConfig(`api_key: ${KEY_FILE}\n`, async (path) => {
      const { config } = await loadConfig({
        path,
        env: HOME,
        flags: { stateDir: "rel" },
        cwd: "/work",
      });
      assertEquals(config.state_dir, "/work/rel");
    });
  });
  await t.step("without a file, a key from the environment is enough", async () => {
    const { config } = await loadConfig({
      env: { ...HOME, XDG_CONFIG_HOME: "/nonexistent", FTL_API_KEY: KEY_ENV },
    });
    assertEquals(config.api_key, KEY_ENV);
  });
});

Deno.test("loadConfig() rejects each bad value with a ConfigError naming the key, the value and the fix", async (t) => {
  const cases: [string, string, RegExp][] = [
    [
      "base_url: ftp://x",
      "base_url",
      /"ftp:\/\/x" is not valid: scheme ftp is not http or https; fix: use https/,
    ],
    ["base_url: not a url", "base_url", /not a URL/],
    ["base_url: https://u:p@host.example", "base_url", /credentials in the URL are not allowed/],
    [
      "heartbeat_interval_seconds: 301",
      "heartbeat_interval_seconds",
      /301 is not valid: out of range.*from 5 to 300/,
    ],
    ["heartbeat_interval_seconds: 7.5", "heartbeat_interval_seconds", /7\.5 is not valid/],
    [
      'heartbeat_interval_seconds: "30"',
      "heartbeat_interval_seconds",
      /"30" is not valid: expected number/,
    ],
    ["metrics_interval_seconds: 0", "metrics_interval_seconds", /from 1 to 300/],
    ["max_concurrency: 0", "max_concurrency", /from 1 up to max_concurrency_limit/],
    ["max_concurrency_limit: 65", "max_concurrency_limit", /from 1 to 64/],
    ["capabilities: metrics", "capabilities", /"metrics" is not valid.*fix: use a list of names/],
    ["allowed_commands: [shell]", "allowed_commands", /from: start_trading, stop_trading/],
    [
      "command_signature: rsa",
      "command_signature",
      /"rsa" is not valid.*fix: use one of: hmac-sha256, ed25519/,
    ],
    ["server_public_key: abc", "server_public_key", /not base64 of a 32-byte Ed25519 public key/],
    ["log_format: xml", "log_format", /use text or json/],
    ["state_max_mb: 0", "state_max_mb", /from 1 to 4096/],
    ["spool_max_mb: 0", "spool_max_mb", /rename it to state_max_mb.*from 1 to 4096/],
    ["proxy: socks://p", "proxy", /not an http:\/\/ or https:\/\/ proxy URL/],
    [
      "trading_enabled: yes please",
      "trading_enabled",
      /"yes please" is not valid.*use true or false/,
    ],
    ["trading: [a]", "trading", /make trading a mapping/],
    [
      "trading:\n  command: python3 bot.py",
      "trading.command",
      /fix: use a list: the program and its arguments/,
    ],
    ["trading:\n  env: {A: 1}", "trading.env", /NAME: value strings/],
    ["ca_file: /nonexistent/ca.pem", "ca_file", /cannot read \/nonexistent\/ca\.pem/],
    ["[1, 2]", "config", /the file is not a mapping/],
    ["a: b: c", "config", /YAML syntax error at line 1/],
  ];
  for (const [yaml, key, pattern] of cases) {
    await t.step(`${key}: ${yaml.replace("\n", " ")}`, async () => {
      const text = yaml.startsWith("[") || yaml.startsWith("a:")
        ? yaml
        : `api_key: ${KEY_FILE}\n${yaml}\n`;
      await withConfig(text, async (path) => {
        const error = await loadConfig({ path, env: HOME }).then(
          () => undefined,
          (e: unknown) => e,
        );
        assert(error instanceof ConfigError, `expected a ConfigError, got ${error}`);
        assertEquals(error.key, key);
        assertEquals(error.message.split("\n").length, 1);
        assert(error.message.startsWith(`config error in '${key}' (${path}): `), error.message);
        assertMatch(error.message, pattern);
        assert(error.message.includes("; fix: "));
        assert(!error.message.includes(KEY_FILE));
      });
    });
  }
  await t.step("api_key problems describe the key's shape and never repeat it", async () => {
    for (
      const key of [
        "",
        "sk_live_abcdefghijklmnopqrstuvwxyz0123456789",
        "wak_short",
        "wak_0123456789abcdefghij0123456789-_",
      ]
    ) {
      await withConfig(`api_key: "${key}"\n`, async (path) => {
        const error = await loadConfig({ path, env: HOME }).then(
          () => undefined,
          (e: unknown) => e,
        );
        assert(error instanceof ConfigError);
        assertEquals(error.key, "api_key");
        if (key) assert(!error.message.includes(key) && !error.message.includes(key.slice(4, 12)));
      });
    }
  });
  await t.step(
    "an explicit path that does not exist is an error even with a key in the environment",
    async () => {
      await rejects(
        loadConfig({ path: "/nonexistent/c.yaml", env: { ...HOME, FTL_API_KEY: KEY_ENV } }),
        (e: unknown) =>
          e instanceof ConfigError && e.key === "config" &&
          /no config file at \/nonexistent\/c\.yaml/.test(e.message),
      );
    },
  );
});

Deno.test("loadConfig() warns about unknown keys by name, suggesting the nearest known one", async () => {
  await withConfig(
    `api_key: ${KEY_FILE}\nlog_levle: debug\nfrobnicate: 1\ntrading:\n  restart_on_crsh: true\ntrading_enabled: true\n`,
    async (path) => {
      const { warnings, config } = await loadConfig({ path, env: HOME });
      assertEquals(config.log_level, "info");
      assertEquals(warnings.length, 4, warnings.join("\n"));
      assertMatch(warnings[0]!, /unknown config key "log_levle" .* did you mean log_level\?/);
      assertMatch(
        warnings[1]!,
        /unknown config key "frobnicate" .* see configs\/config\.example\.yaml/,
      );
      assertMatch(
        warnings[2]!,
        /"trading\.restart_on_crsh" .* did you mean trading\.restart_on_crash\?/,
      );
      assertMatch(warnings[3]!, /trading_enabled is true but trading\.command is empty/);
    },
  );
});

Deno.test("AgentConfigSchema keeps a non-empty hostname and normalises base_url", () => {
  const config = AgentConfigSchema.parse({
    api_key: KEY_FILE,
    hostname: "rig-7",
    base_url: "http://[::1]:8080//",
  });
  assertEquals(config.hostname, "rig-7");
  assertEquals(config.base_url, "http://[::1]:8080");
});
