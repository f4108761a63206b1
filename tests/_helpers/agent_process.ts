/**
 * Starts the real agent (`main.ts run --config <tmp>`) as a subprocess for end-to-end tests,
 * under exactly the permission flags `worker-agent permissions` prints for its config.
 *
 * @example
 * ```ts
 * await using agent = await startAgent({ baseUrl: cp.baseUrl, apiKey });
 * await waitFor(async () => (await agent.status())?.state === "connected");
 * ```
 */
import { stringify } from "yaml";
import { agentPermissionFlags, agentRuntimeFlags } from "../../src/permissions/permission_flags.ts";
import { loadConfig } from "../../src/config/load_config.ts";
import { type AgentStatus, AgentStatusSchema, STATUS_FILE } from "../../src/state/agent_status.ts";
import { denoRunArgs, MAIN } from "./main_process.ts";

/** Options of {@linkcode startAgent}. */
export interface StartAgentOptions {
  /** The control plane (or proxy) URL. */
  baseUrl: string;
  /** The worker key. */
  apiKey: string;
  /** Extra config keys (snake_case, as in the YAML file). @default {} */
  config?: Record<string, unknown>;
  /** Reuse a directory (config + state) from an earlier agent; kept on stop. @default a new temp dir */
  dir?: string;
  /** Extra environment variables. @default {} */
  env?: Record<string, string>;
  /**
   * Deno permission flags. @default {the flags `worker-agent permissions` prints for the config,
   * the agent's V8 flags included}
   */
  permissions?: readonly string[];
  /** Runtime flags added after the permissions (e.g. `--v8-flags=…`, for benches). @default [] */
  runtimeFlags?: readonly string[];
  /** The script to run instead of `main.ts` (e.g. a `deno bundle` output, for benches). */
  entry?: string;
}

/** A running agent subprocess. */
export interface AgentProcess {
  /** Temp dir holding `config.yaml` and `state/`. */
  readonly dir: string;
  /** The config file. */
  readonly configPath: string;
  /** The state dir. */
  readonly stateDir: string;
  /** The process id. */
  readonly pid: number;
  /** Resolves with the exit code. */
  readonly exited: Promise<number>;
  /** Everything the agent wrote to stdout and stderr so far. */
  output(): string;
  /** The agent's `status.json`, or undefined while it does not exist. */
  status(): Promise<AgentStatus | undefined>;
  /** Sends a signal. */
  signal(signal: Deno.Signal): void;
  /** SIGTERM (drain) and wait; SIGKILL after `timeoutMs`. Returns the exit code. */
  stop(timeoutMs?: number): Promise<number>;
  /** Stops it and removes the temp dir if this helper created it. */
  [Symbol.asyncDispose](): Promise<void>;
}

/**
 * The variables the deno binary itself needs (its module cache, temp dir, Windows system
 * paths); nothing else leaks in, so an `FTL_*` variable of the developer cannot change a test.
 */
function inheritedEnv(): Record<string, string> {
  const names = [
    "PATH",
    "HOME",
    "DENO_DIR",
    "TMPDIR",
    "TEMP",
    "TMP",
    "USERPROFILE",
    "APPDATA",
    "LOCALAPPDATA",
    "SystemRoot",
  ];
  const env: Record<string, string> = {};
  for (const name of names) {
    const value = Deno.env.get(name);
    if (value !== undefined) env[name] = value;
  }
  return env;
}

/** Writes a config for `options` and starts the agent with its narrowest permissions. */
export async function startAgent(options: StartAgentOptions): Promise<AgentProcess> {
  const ownsDir = options.dir === undefined;
  const dir = options.dir ?? await Deno.makeTempDir({ prefix: "ftl-agent-" });
  const configPath = `${dir}/config.yaml`;
  const stateDir = `${dir}/state`;
  await Deno.writeTextFile(
    configPath,
    stringify({
      api_key: options.apiKey,
      base_url: options.baseUrl,
      state_dir: stateDir,
      hostname: "e2e-agent",
      log_level: "debug",
      metrics_interval_seconds: 1,
      heartbeat_interval_seconds: 5,
      ...options.config,
    }),
    { mode: 0o600 },
  );
  const { config } = await loadConfig({ path: configPath, env: {} });
  const child = new Deno.Command(Deno.execPath(), {
    args: denoRunArgs(options.entry ?? MAIN, {
      permissions: [
        ...(options.permissions ?? [
          ...agentPermissionFlags(config, configPath),
          ...agentRuntimeFlags(),
        ]),
        ...(options.runtimeFlags ?? []),
      ],
      args: ["run", "--config", configPath],
    }),
    cwd: dir,
    clearEnv: true,
    env: { ...inheritedEnv(), NO_COLOR: "1", ...options.env },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  let log = "";
  async function pump(stream: ReadableStream<Uint8Array>) {
    const decoder = new TextDecoder();
    for await (const chunk of stream) {
      log += decoder.decode(chunk, { stream: true });
      if (log.length > 400_000) log = log.slice(-200_000);
    }
  }
  const pumps = Promise.all([pump(child.stdout), pump(child.stderr)]);
  const exited = child.status.then(async (s) => {
    await pumps;
    return s.code;
  });
  let done = false;
  exited.then(() => done = true);

  function signal(name: Deno.Signal) {
    if (done) return;
    try {
      child.kill(name);
    } catch { /* already gone */ }
  }

  async function stop(timeoutMs = 30_000): Promise<number> {
    signal("SIGTERM");
    const timer = setTimeout(() => signal("SIGKILL"), timeoutMs);
    try {
      return await exited;
    } finally {
      clearTimeout(timer);
    }
  }

  return {
    dir,
    configPath,
    stateDir,
    pid: child.pid,
    exited,
    output: () => log,
    async status() {
      try {
        const parsed = AgentStatusSchema.safeParse(
          JSON.parse(await Deno.readTextFile(`${stateDir}/${STATUS_FILE}`)),
        );
        return parsed.success ? parsed.data : undefined;
      } catch {
        return undefined;
      }
    },
    signal,
    stop,
    async [Symbol.asyncDispose]() {
      await stop(10_000);
      if (ownsDir) await Deno.remove(dir, { recursive: true }).catch(() => {});
    },
  };
}
