import {
  deepStrictEqual as assertEquals,
  match as assertMatch,
  ok as assert,
} from "node:assert/strict";
import { type AgentConfig, AgentConfigSchema } from "../../src/config/schema.ts";
import { Executor } from "../../src/executor/executor.ts";
import { createHandlers, type HandlerDeps } from "../../src/executor/handlers/mod.ts";
import { createLogger } from "../../src/log/logger.ts";
import { generateApiKey } from "../../src/protocol/mod.ts";
import { TradingSupervisor } from "../../src/trading/trading_supervisor.ts";
import { assertNoWorkloadLeft } from "../trading/_process_table.ts";
import { commandOf } from "./_command.ts";

const CONFIG_TEXT = `# FineTuneLab worker agent
api_key: API_KEY # keep this secret
base_url: http://127.0.0.1:9
# how often to report
heartbeat_interval_seconds: 30
max_concurrency: 1
max_concurrency_limit: 2
trading_enabled: false
`;

interface Harness extends AsyncDisposable {
  executor: Executor;
  config: AgentConfig;
  applied: AgentConfig[];
  restarts: number;
  configPath: string;
  marker: string;
  events: string[];
}

async function harness(overrides: Partial<HandlerDeps> = {}): Promise<Harness> {
  const dir = await Deno.makeTempDir({ prefix: "ftl-handlers-" });
  const key = generateApiKey();
  const configPath = `${dir}/config.yaml`;
  await Deno.writeTextFile(configPath, CONFIG_TEXT.replace("API_KEY", key), { mode: 0o600 });
  const marker = `ftl-test-${crypto.randomUUID()}`;
  const logger = createLogger({ level: "error", write: () => {} });
  const h = {
    config: AgentConfigSchema.parse({
      api_key: key,
      base_url: "http://127.0.0.1:9",
      max_concurrency_limit: 2,
      trading: {
        command: [
          "sh",
          new URL("../fixtures/workloads/graceful.sh", import.meta.url).pathname,
          marker,
        ],
        env: { EXCHANGE_SECRET: "hunter2" },
      },
    }),
    applied: [] as AgentConfig[],
    restarts: 0,
    configPath,
    marker,
    events: [] as string[],
  } as Harness;
  const supervisor = new TradingSupervisor({
    getConfig: () => h.config,
    logFile: `${dir}/trading.log`,
    logger,
  });
  h.executor = new Executor({
    handlers: createHandlers({
      supervisor,
      getConfig: () => h.config,
      applyConfig: (next) => {
        h.applied.push(next);
        h.config = next;
      },
      configPath,
      requestRestart: () => {
        h.restarts++;
        h.events.push("restart requested");
      },
      diagnostics: () => Promise.resolve({ os: "linux", env_dump: `FTL_API_KEY=${key}` }),
      ...overrides,
    }),
    maxConcurrency: 1,
    logger,
  });
  h[Symbol.asyncDispose] = async () => {
    try {
      await supervisor.shutdown();
      await assertNoWorkloadLeft(marker);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  };
  return h;
}

Deno.test("ping answers at once with the agent's time", async () => {
  await using h = await harness({ now: () => 1_764_000_000_000 });
  const result = await h.executor.submit(commandOf("ping"));
  assertEquals(result.status, "completed");
  assertEquals(result.data, { received_at: 1_764_000_000_000, agent_time: 1_764_000_000_000 });
});

Deno.test("start_trading is refused while trading is disabled, and runs the workload once enabled", async () => {
  await using h = await harness();
  const refused = await h.executor.submit(commandOf("start_trading"));
  assertEquals([refused.status, refused.error_code], ["failed", "trading_disabled"]);

  h.config = { ...h.config, trading_enabled: true };
  const started = await h.executor.submit(commandOf("start_trading"));
  assertEquals(started.status, "completed");
  assertEquals(started.data?.trading_status, "running");
  const stopped = await h.executor.submit(commandOf("stop_trading", { force: true }));
  assertEquals(stopped.status, "completed");
  assertEquals(stopped.data?.trading_status, "stopped");
  assertEquals(stopped.data?.killed, true, "force skips SIGTERM");
  await assertNoWorkloadLeft(h.marker);
});

Deno.test("update_config applies and persists allowed keys, keeps comments and reports rejected ones", async () => {
  await using h = await harness();
  const result = await h.executor.submit(commandOf("update_config", {
    changes: {
      heartbeat_interval_seconds: 60,
      max_concurrency: 2,
      base_url: "https://evil.example",
    },
  }));
  assertEquals(result.status, "completed");
  assertEquals(result.data?.applied, {
    heartbeat_interval_seconds: [30, 60],
    max_concurrency: [1, 2],
  });
  assertMatch(
    (result.data?.rejected as Record<string, string>).base_url!,
    /not remotely updatable/,
  );
  assertEquals(h.applied.length, 1);
  assertEquals(h.config.heartbeat_interval_seconds, 60);
  assertEquals(h.config.base_url, "http://127.0.0.1:9");
  const text = await Deno.readTextFile(h.configPath);
  assertMatch(text, /^heartbeat_interval_seconds: 60$/m);
  assertMatch(text, /^max_concurrency: 2$/m);
  assertMatch(text, /# how often to report/);
  assertMatch(text, /# keep this secret/);
  assertMatch(text, /^base_url: http:\/\/127\.0\.0\.1:9$/m);
  assertEquals((await Deno.stat(h.configPath)).mode! & 0o777, 0o600);
});

Deno.test("update_config with nothing acceptable fails with invalid_params and changes nothing", async () => {
  await using h = await harness();
  const before = await Deno.readTextFile(h.configPath);
  const result = await h.executor.submit(commandOf("update_config", {
    changes: { api_key: generateApiKey(), max_concurrency: 3 },
  }));
  assertEquals([result.status, result.error_code], ["failed", "invalid_params"]);
  assertEquals(result.data?.applied, {});
  assertEquals(Object.keys(result.data?.rejected as object).sort(), ["api_key", "max_concurrency"]);
  assertEquals(await Deno.readTextFile(h.configPath), before);
  assertEquals(h.applied, []);
});

Deno.test("update_config applies nothing when the config file cannot be written", async () => {
  await using h = await harness({ configPath: "/nonexistent/dir/config.yaml" });
  const result = await h.executor.submit(commandOf("update_config", {
    changes: { log_level: "debug" },
  }));
  assertEquals([result.status, result.error_code], ["failed", "config_write_failed"]);
  assertEquals(h.applied, []);
  assertEquals(h.config.log_level, "info");
});

Deno.test("restart_agent reports restarting and requests the restart only after its result", async () => {
  await using h = await harness();
  const result = await h.executor.submit(commandOf("restart_agent")).then((r) => {
    h.events.push("result");
    return r;
  });
  assertEquals(result.status, "completed");
  assertEquals(result.data, { restarting: true });
  assertEquals(h.restarts, 0, "not before the result is out");
  await new Promise((resolve) => setTimeout(resolve, 0)); // one macrotask turn, as the handler uses
  assertEquals(h.events, ["result", "restart requested"]);
});

Deno.test("collect_diagnostics returns the diagnostics with every secret redacted", async () => {
  await using h = await harness();
  const result = await h.executor.submit(commandOf("collect_diagnostics"));
  assertEquals(result.status, "completed");
  const data = result.data as Record<string, unknown>;
  assertEquals(data.os, "linux");
  assertEquals((data.trading as { status: string }).status, "stopped");
  const config = data.config as AgentConfig;
  assertEquals(config.api_key, "[redacted]");
  assertEquals(config.trading.env, { EXCHANGE_SECRET: "[redacted]" });
  assertEquals(config.heartbeat_interval_seconds, 30);
  const text = JSON.stringify(result);
  assert(!text.includes(h.config.api_key.slice(8)), "the API key survived");
  assert(!text.includes("hunter2"), "a workload secret survived");
});
