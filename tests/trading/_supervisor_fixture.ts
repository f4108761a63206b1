/** A supervisor wired to real test workloads, a temp log file and a capturing logger. */
import { type AgentConfig, AgentConfigSchema } from "../../src/config/schema.ts";
import { createLogger } from "../../src/log/logger.ts";
import { generateApiKey, type TradingState, type TradingStatus } from "../../src/protocol/mod.ts";
import {
  TradingSupervisor,
  type TradingSupervisorOptions,
} from "../../src/trading/trading_supervisor.ts";
import { asCommands, type SupervisorAsCommands } from "./_as_commands.ts";
import { assertNoWorkloadLeft } from "./_process_table.ts";

/** Absolute path of a workload script under tests/fixtures/workloads. */
export function workload(name: string): string {
  return new URL(`../fixtures/workloads/${name}`, import.meta.url).pathname;
}

/** The `trading` section a test overrides. */
export type TradingOverrides = Partial<AgentConfig["trading"]>;

/** A full agent config with trading enabled and the given trading section. */
export function configWith(
  trading: TradingOverrides,
  top: Partial<AgentConfig> = {},
): AgentConfig {
  const base = AgentConfigSchema.parse({ api_key: generateApiKey(), trading_enabled: true });
  return { ...base, ...top, trading: { ...base.trading, ...trading } };
}

/** Everything a supervisor test needs, disposed with `await using`. */
export interface SupervisorFixture extends AsyncDisposable {
  supervisor: SupervisorAsCommands;
  /** The config the supervisor reads; tests may replace it. */
  config: AgentConfig;
  /** A marker unique to this test, passed to the workload as its last argument. */
  marker: string;
  /** Statuses in the order the supervisor reported them. */
  statuses: TradingStatus[];
  /** Every state the supervisor reported. */
  states: TradingState[];
  /** Lines the agent logger wrote. */
  logLines: string[];
  logFile: string;
  dir: string;
  /** The workload log's text so far. */
  readLog(): Promise<string>;
}

/** Options of {@linkcode supervisorFixture}. */
export interface SupervisorFixtureOptions {
  /** Script under tests/fixtures/workloads, run with `sh <script> <marker>`. */
  script?: string;
  trading?: TradingOverrides;
  top?: Partial<AgentConfig>;
  extra?: Partial<TradingSupervisorOptions>;
}

/**
 * Starts nothing yet; builds a supervisor for `script`. Disposal shuts the supervisor down,
 * asserts via `ps` that no process of the workload is left, and removes the temp dir.
 */
export async function supervisorFixture(
  options: SupervisorFixtureOptions = {},
): Promise<SupervisorFixture> {
  const dir = await Deno.makeTempDir({ prefix: "ftl-trading-" });
  const marker = `ftl-test-${crypto.randomUUID()}`;
  const logFile = `${dir}/logs/trading.log`;
  const command = options.script ? ["sh", workload(options.script), marker] : [];
  const statuses: TradingStatus[] = [];
  const states: TradingState[] = [];
  const logLines: string[] = [];
  const pgids = new Set<number>();
  const fixture = {
    config: configWith({ command, ...options.trading }, options.top),
    marker,
    statuses,
    states,
    logLines,
    logFile,
    dir,
    readLog: () => Deno.readTextFile(logFile).catch(() => ""),
  } as SupervisorFixture;
  fixture.supervisor = asCommands(
    new TradingSupervisor({
      getConfig: () => fixture.config,
      logFile,
      logger: createLogger({ level: "debug", write: (line) => logLines.push(line) }),
      onStateChange: (state) => {
        statuses.push(state.status);
        states.push(state);
        if (state.pid !== null) pgids.add(state.pid);
      },
      ...options.extra,
    }),
  );
  fixture[Symbol.asyncDispose] = async () => {
    try {
      await fixture.supervisor.shutdown();
      await assertNoWorkloadLeft(marker, [...pgids]);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  };
  return fixture;
}
