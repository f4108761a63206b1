/** Unit tests of the CLI's pure parts: seed flags, permission flags, service text, proxies. */
import {
  deepStrictEqual as assertEquals,
  match as assertMatch,
  ok as assert,
  rejects,
} from "node:assert/strict";
import { moveConfigFlagsLast, rewriteLegacyFlags } from "../../src/cli/legacy_flags.ts";
import { agentPermissionFlags, programOnPath } from "../../src/permissions/permission_flags.ts";
import { formatCheck } from "../../src/cli/doctor.ts";
import { AgentConfigSchema } from "../../src/config/schema.ts";
import {
  launchAgentPlist,
  systemdUnit,
  windowsTaskXml,
} from "../../src/cli/service_definitions.ts";
import { planService } from "../../src/cli/service_command.ts";
import { proxyInUse } from "../../src/cli/proxy_in_use.ts";
import { readHiddenLine } from "../../src/cli/read_hidden_line.ts";
import { UsageError } from "../../src/shared/usage_error.ts";
import { formatStatus } from "../../src/cli/status_command.ts";
import { defaultConfigPath, defaultStateDir } from "../../src/platform/paths.ts";

const KEY = "wak_0123456789ABCDEFGHIJabcdefghijkl";

Deno.test("rewriteLegacyFlags() turns the seed's single-dash flags into this CLI's forms", async (t) => {
  const cases: [string[], string[]][] = [
    [["-init"], ["init"]],
    [["-config", "a.yaml", "-init"], ["init", "--config", "a.yaml"]],
    [["-config=a.yaml"], ["--config=a.yaml"]],
    [["-version"], ["version"]],
    [["run", "--config", "x"], ["run", "--config", "x"]],
    [["status", "-c", "x"], ["status", "-c", "x"]],
  ];
  for (const [input, want] of cases) {
    await t.step(input.join(" "), () => assertEquals(rewriteLegacyFlags(input), want));
  }
});

Deno.test("agentPermissionFlags() scopes every permission to what the config names", () => {
  const config = AgentConfigSchema.parse({
    api_key: KEY,
    base_url: "https://cp.example",
    proxy: "http://proxy.example:3128",
    state_dir: "/var/lib/agent",
    log_file: "/var/log/agent/agent.log",
    ca_file: "/etc/agent/ca.pem",
  });
  const flags = agentPermissionFlags(config, "/etc/agent/config.yaml", {
    os: "linux",
    collector: { run: ["sh"], read: ["/proc"], sys: ["loadavg"], env: ["COLLECTOR_VAR"] },
  });
  assertEquals(flags[0], "--allow-net=cp.example:443,proxy.example:3128");
  assertEquals(
    flags[1],
    "--allow-read=/etc/agent,/var/lib/agent,/var/log/agent,/etc/agent/ca.pem,/proc",
  );
  assertEquals(flags[2], "--allow-write=/etc/agent,/var/lib/agent,/var/log/agent");
  assertMatch(
    flags[3]!,
    /^--allow-env=FTL_CONFIG,FTL_API_KEY,.*HTTPS_PROXY.*NO_PROXY.*,COLLECTOR_VAR$/,
  );
  assertEquals(flags[4], "--allow-sys=hostname,osRelease,loadavg");
  assertEquals(flags[5], "--allow-run=sh");
});

Deno.test("agentPermissionFlags() with the real collector reads only the agent's own paths", () => {
  const config = AgentConfigSchema.parse({
    api_key: KEY,
    base_url: "https://cp.example",
    state_dir: "/var/lib/agent",
    log_file: "/var/log/agent/agent.log",
  });
  // The collector stats only the state dir's volume in Deno (its disks list comes through
  // its sh helper), so no OS widens the read list beyond the config's own paths.
  for (const os of ["linux", "darwin", "windows"] as const) {
    const flags = agentPermissionFlags(config, "/etc/agent/config.yaml", { os });
    assertEquals(flags[1], "--allow-read=/etc/agent,/var/lib/agent,/var/log/agent", os);
  }
});

Deno.test("agentPermissionFlags() allows the trading program and keeps the environment scoped", () => {
  const config = AgentConfigSchema.parse({
    api_key: KEY,
    base_url: "http://127.0.0.1:8080",
    state_dir: "/s",
    trading_enabled: true,
    trading: { command: ["python3", "bot.py"], working_dir: "/opt/bot" },
  });
  const flags = agentPermissionFlags(config, "/c/config.yaml", {
    os: "linux",
    collector: { run: [], read: [], sys: [], env: [] },
  });
  assertEquals(flags[0], "--allow-net=127.0.0.1:8080");
  assert(flags.includes("--allow-read=/c,/s,/opt/bot"), flags.join(" "));
  assert(!flags.includes("--allow-env"), "the environment must stay scoped");
  assert(flags.includes("--allow-run=python3"), flags.join(" "));
  const windows = agentPermissionFlags(config, "C:/c/config.yaml", {
    os: "windows",
    collector: { run: ["powershell"], read: [], sys: [], env: [] },
    programExists: () => true,
  });
  assert(windows.includes("--allow-run=powershell,taskkill,python3"), windows.join(" "));
});

Deno.test("agentPermissionFlags() lists only the collector's programs that exist on this machine", () => {
  const config = AgentConfigSchema.parse({ api_key: KEY, base_url: "https://cp.example" });
  const collector = { run: ["sh", "nvidia-smi"], read: [], sys: [], env: [] };
  const without = agentPermissionFlags(config, "/c/config.yaml", {
    os: "linux",
    collector,
    programExists: (program) => program !== "nvidia-smi",
  });
  assertEquals(without[5], "--allow-run=sh");
  const withGpu = agentPermissionFlags(config, "/c/config.yaml", {
    os: "linux",
    collector,
    programExists: () => true,
  });
  assertEquals(withGpu[5], "--allow-run=sh,nvidia-smi");
  assert(programOnPath("sh"), "sh is on PATH here");
  assert(!programOnPath("ftl-no-such-program-9"));
  // The real default on this machine: nvidia-smi is listed exactly when it exists.
  const real = agentPermissionFlags(config, "/c/config.yaml", { os: "linux" });
  assertEquals(
    real[5]!.split("=")[1]!.split(",").includes("nvidia-smi"),
    programOnPath("nvidia-smi"),
  );
});

Deno.test("moveConfigFlagsLast() lets --config stand anywhere on the line", async (t) => {
  const cases: [string[], string[]][] = [
    [["--config", "a.yaml", "status"], ["status", "--config", "a.yaml"]],
    [["-c", "a.yaml", "status", "--json"], ["status", "--json", "-c", "a.yaml"]],
    [["--config=a.yaml", "service", "status"], ["service", "status", "--config=a.yaml"]],
    [["status", "--config", "a.yaml"], ["status", "--config", "a.yaml"]],
    [["run", "--", "--config", "x"], ["run", "--", "--config", "x"]],
  ];
  for (const [input, want] of cases) {
    await t.step(input.join(" "), () => assertEquals(moveConfigFlagsLast(input), want));
  }
  assertEquals(moveConfigFlagsLast(rewriteLegacyFlags(["-config", "a", "status"])), [
    "status",
    "--config",
    "a",
  ]);
});

Deno.test("service definitions run the given command, restart it, and never loop on a config error", () => {
  const spec = {
    command: ["/opt/worker agent/worker-agent", "run", "--config", "/home/u/c.yaml"],
    workingDir: "/home/u",
    logFile: "/home/u/agent.log",
  };
  const unit = systemdUnit(spec);
  assertMatch(
    unit,
    /^ExecStart="\/opt\/worker agent\/worker-agent" run --config \/home\/u\/c\.yaml$/m,
  );
  assertMatch(unit, /^Restart=always$/m);
  assertMatch(unit, /^RestartPreventExitStatus=2$/m);
  assertMatch(unit, /^WantedBy=default\.target$/m);
  const plist = launchAgentPlist(spec);
  assertMatch(
    plist,
    /<string>\/opt\/worker agent\/worker-agent<\/string>\n {4}<string>run<\/string>/,
  );
  assertMatch(plist, /<key>SuccessfulExit<\/key>\n {4}<false\/>/);
  const task = windowsTaskXml({ ...spec, command: ["C:\\a b\\agent.exe", "run"] });
  assertMatch(task, /<Command>C:\\a b\\agent\.exe<\/Command>/);
  assertMatch(task, /<LogonTrigger>/);
  assertMatch(task, /<RunLevel>LeastPrivilege<\/RunLevel>/);
});

Deno.test("planService() puts each OS's definition in the per-user place", () => {
  const env = (name: string) =>
    ({ HOME: "/home/u", APPDATA: "C:\\Users\\u\\AppData\\Roaming", LOCALAPPDATA: "C:\\L" })[name];
  const spec = { command: ["a"], workingDir: "/" };
  assertEquals(
    planService("install", { os: "linux", env, spec }).file,
    "/home/u/.config/systemd/user/finetunelab-worker-agent.service",
  );
  assertEquals(
    planService("install", { os: "darwin", env, spec }).file,
    "/home/u/Library/LaunchAgents/ai.finetunelab.worker-agent.plist",
  );
  const windows = planService("install", { os: "windows", env, spec });
  assertEquals(
    windows.file,
    "C:\\L\\FineTuneLab\\worker-agent\\state\\finetunelab-worker-agent.xml",
  );
  assertEquals(windows.commands[0]!.slice(0, 2), ["schtasks", "/Create"]);
});

Deno.test("default paths follow each OS's conventions", () => {
  const env = (name: string) =>
    ({
      HOME: "/home/u",
      APPDATA: "C:\\Users\\u\\AppData\\Roaming",
      LOCALAPPDATA: "C:\\Users\\u\\AppData\\Local",
    })[name];
  assertEquals(
    defaultConfigPath({ os: "linux", env }),
    "/home/u/.config/finetunelab/worker-agent/config.yaml",
  );
  assertEquals(
    defaultStateDir({ os: "linux", env }),
    "/home/u/.local/state/finetunelab/worker-agent",
  );
  assertEquals(
    defaultConfigPath({ os: "darwin", env }),
    "/home/u/Library/Application Support/FineTuneLab/worker-agent/config.yaml",
  );
  assertEquals(
    defaultStateDir({ os: "darwin", env }),
    "/home/u/Library/Application Support/FineTuneLab/worker-agent/state",
  );
  assertEquals(
    defaultConfigPath({ os: "windows", env }),
    "C:\\Users\\u\\AppData\\Roaming\\FineTuneLab\\worker-agent\\config.yaml",
  );
  assertEquals(
    defaultStateDir({ os: "windows", env }),
    "C:\\Users\\u\\AppData\\Local\\FineTuneLab\\worker-agent\\state",
  );
});

Deno.test("proxyInUse() prefers the config, then HTTPS_PROXY unless NO_PROXY matches", async (t) => {
  const base = { proxy: "", base_url: "https://cp.example.com" };
  const cases: [string, typeof base, Record<string, string>, string | undefined][] = [
    ["none", base, {}, undefined],
    ["config wins", { ...base, proxy: "http://p:1" }, { HTTPS_PROXY: "http://q:2" }, "http://p:1"],
    ["HTTPS_PROXY", base, { HTTPS_PROXY: "q:2" }, "http://q:2"],
    ["lower case", base, { https_proxy: "http://q:3" }, "http://q:3"],
    [
      "NO_PROXY suffix",
      base,
      { HTTPS_PROXY: "http://q:2", NO_PROXY: "localhost,.example.com" },
      undefined,
    ],
    [
      "NO_PROXY other host",
      base,
      { HTTPS_PROXY: "http://q:2", NO_PROXY: "other.org" },
      "http://q:2",
    ],
    ["http base uses HTTP_PROXY", { ...base, base_url: "http://127.0.0.1:8" }, {
      HTTPS_PROXY: "http://q:2",
    }, undefined],
  ];
  for (const [name, config, env, want] of cases) {
    await t.step(name, () => assertEquals(proxyInUse(config, (n) => env[n])?.url, want));
  }
});

Deno.test("readHiddenLine() reads in raw mode, handles backspace, and restores the terminal", async () => {
  const modes: boolean[] = [];
  const chunks = ["wak_ab", "x\x7fc", "d\r", "ignored"].map((s) => new TextEncoder().encode(s));
  const input = {
    setRaw: (mode: boolean) => void modes.push(mode),
    read: (p: Uint8Array) => {
      const next = chunks.shift();
      if (!next) return Promise.resolve(null);
      p.set(next);
      return Promise.resolve(next.length);
    },
  };
  assertEquals(await readHiddenLine(input), "wak_abcd");
  assertEquals(modes, [true, false]);

  const cancelled: boolean[] = [];
  await rejects(
    readHiddenLine({
      setRaw: (mode) => void cancelled.push(mode),
      read: (p) => {
        p.set([3]);
        return Promise.resolve(1);
      },
    }),
    UsageError,
  );
  assertEquals(cancelled, [true, false]);
});

Deno.test("formatStatus() shows each field with ages, and says when no agent ran yet", () => {
  const now = 1_800_000_000_000;
  const text = formatStatus({
    state_dir: "/s",
    running: true,
    pid: 42,
    status: {
      version: "0.1.0",
      pid: 42,
      state: "auth_failed",
      worker_id: "wkr_abc",
      base_url: "https://cp",
      started_at: now - 3_600_000,
      updated_at: now - 1000,
      last_heartbeat_at: now - 12_000,
      websocket: "closed",
      spool_depth: 7,
      dropped_samples: 2,
      pending_results: 1,
      trading_status: "running",
      last_error: "401 invalid_api_key",
      next_retry_at: now + 300_000,
    },
  }, now);
  assertMatch(text, /^agent: +running \(pid 42\)$/m);
  assertMatch(text, /^last heartbeat: +\S+ \(12 s ago\)$/m);
  assertMatch(text, /^spool depth: +7$/m);
  assertMatch(text, /^dropped samples: +2$/m);
  assertMatch(text, /^last error: +401 invalid_api_key$/m);
  assertMatch(text, /^next retry: +\S+ \(in 5 min\)$/m);
  assertMatch(
    formatStatus({ state_dir: "/s", running: false, pid: null, status: null }, now),
    /^no agent status in \/s yet; start one with: worker-agent run\n$/,
  );
});

Deno.test("formatCheck() marks passes, warnings, failures with their hint, and skips apart", () => {
  assertEquals(formatCheck({ name: "DNS", ok: true, detail: "resolved" }), "✓ DNS: resolved");
  assertEquals(
    formatCheck({ name: "config warning", ok: true, detail: "unknown key", warning: true }),
    "! config warning: unknown key",
  );
  assertEquals(
    formatCheck({ name: "TCP", ok: false, detail: "refused", hint: "start it" }),
    "✗ TCP: refused\n    hint: start it",
  );
  assertEquals(formatCheck({ name: "TLS", ok: null, detail: "skipped" }), "- TLS: skipped");
});
