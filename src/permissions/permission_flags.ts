/**
 * `worker-agent permissions`: the narrowest `deno run` flags a given config needs. The
 * end-to-end tests run the agent with exactly these flags, so they must be sufficient.
 *
 * @module
 */
import type { AgentConfig } from "../config/schema.ts";
import { CONFIG_ENV_VARS } from "../config/load_config.ts";
import { PATH_ENV_VARS } from "../platform/paths.ts";
import { collectorPermissions } from "../collector/permissions.ts";

/** Environment variables the agent itself reads (config, paths, proxies, libraries). */
export const AGENT_ENV_VARS: readonly string[] = [
  ...CONFIG_ENV_VARS,
  ...PATH_ENV_VARS,
  // Proxy settings, read by Deno's fetch and by the agent to report "proxy in use".
  "HTTPS_PROXY",
  "https_proxy",
  "HTTP_PROXY",
  "http_proxy",
  "ALL_PROXY",
  "all_proxy",
  "NO_PROXY",
  "no_proxy",
  // The yaml package checks these debug switches while parsing.
  "LOG_TOKENS",
  "LOG_STREAM",
  "NO_COLOR",
  // main.ts prints stack traces of runtime failures when FTL_DEBUG=1.
  "FTL_DEBUG",
];

/** System information calls the agent makes outside the collector. */
export const AGENT_SYS_CALLS: readonly string[] = ["hostname", "osRelease"];

/**
 * `--allow-sys` names the `service` command needs on each OS: macOS asks for the user id
 * (`launchctl bootstrap gui/<uid>`).
 */
export const SERVICE_SYS_CALLS: Partial<Record<typeof Deno.build.os, readonly string[]>> = {
  darwin: ["uid"],
};

/**
 * V8 flags for the agent, a small long-lived daemon (issue 17; what each was measured to give:
 * docs/benchmarks.md). The one list: the compile tasks bake it in (`build/compile_flags.ts`),
 * and `worker-agent permissions`, the service units and the tests that start the agent from
 * source pass it with {@linkcode agentRuntimeFlags}.
 */
export const AGENT_V8_FLAGS: readonly string[] = [
  // A young generation of at most 1 MiB per semi-space: the agent allocates little and
  // steadily, so a larger one only holds garbage longer.
  "--max-semi-space-size=1",
  // No optimizing compiler and lazy feedback vectors: less code and metadata in memory; the
  // agent's JavaScript is I/O glue, not hot loops.
  "--lite-mode",
];

/** The runtime flags (`--v8-flags=…`) that go with the permission flags of `deno run`. */
export function agentRuntimeFlags(): string[] {
  return AGENT_V8_FLAGS.length > 0 ? [`--v8-flags=${AGENT_V8_FLAGS.join(",")}`] : [];
}

/** Options of {@linkcode agentPermissionFlags}. */
export interface AgentPermissionOptions {
  /** The OS the agent will run on. @default {Deno.build.os} */
  os?: typeof Deno.build.os;
  /** What the collector needs. @default {collectorPermissions(os)} */
  collector?: { run: string[]; read: string[]; sys: string[]; env: string[] };
  /**
   * Whether a program exists. Optional programs (`nvidia-smi`, the OS helpers) that do not
   * are left out of `--allow-run`, so Deno does not warn "Failed to resolve" at every start.
   * @default {a search of PATH; everything counts as present when PATH cannot be read}
   */
  programExists?: (program: string) => boolean;
}

/**
 * The `deno run` permission flags (one array element per flag, not shell-quoted) for
 * running the agent with `config` loaded from `configPath`:
 * - net: the base_url host:port (the WebSocket is on the same host) and the proxy, if any;
 * - read/write: the config file's directory (for atomic replacement), state dir, log dir;
 *   read also ca_file, the trading working dir, the binary and the collector's files;
 * - env: the exact variables read (the trading workload inherits its environment from the
 *   OS, so the agent never needs to read the rest);
 * - sys: the calls used; run: the trading program, the collector's programs, and on
 *   Windows `taskkill` for stopping the workload's process tree, each only when it exists on
 *   this machine (the trading program is always listed: it is the user's choice). The agent
 *   never re-executes itself (`restart_agent` exits 75 for the service manager), so its own
 *   binary is not in the run list.
 */
export function agentPermissionFlags(
  config: AgentConfig,
  configPath: string,
  options: AgentPermissionOptions = {},
): string[] {
  const os = options.os ?? Deno.build.os;
  const collector = options.collector ?? collectorPermissions(os);

  const net = [hostPort(config.base_url)];
  if (config.proxy !== "") net.push(hostPort(config.proxy));

  const configDir = dirname(configPath);
  const writable = [configDir, config.state_dir];
  if (config.log_file !== "") writable.push(dirname(config.log_file));
  const readable = [...writable];
  if (config.ca_file !== "") readable.push(config.ca_file);
  if (config.trading.working_dir !== "") readable.push(config.trading.working_dir);
  readable.push(...collector.read);

  const exists = options.programExists ?? programOnPath;
  const run = [...collector.run];
  if (os === "windows") run.push("taskkill");
  for (let i = run.length - 1; i >= 0; i--) if (!exists(run[i]!)) run.splice(i, 1);
  const program = config.trading.command[0];
  if (program !== undefined) run.push(program);

  const envFlag = `--allow-env=${unique([...AGENT_ENV_VARS, ...collector.env]).join(",")}`;

  return [
    `--allow-net=${unique(net).join(",")}`,
    `--allow-read=${paths(readable).join(",")}`,
    `--allow-write=${paths(writable).join(",")}`,
    envFlag,
    `--allow-sys=${unique([...AGENT_SYS_CALLS, ...collector.sys]).join(",")}`,
    `--allow-run=${unique(run).join(",")}`,
  ];
}

/** Quotes each flag for a POSIX shell (or PowerShell on Windows) where needed. */
export function formatPermissionFlags(
  flags: string[],
  os: typeof Deno.build.os = Deno.build.os,
): string {
  return flags.map((flag) => quoteArg(flag, os)).join(" ");
}

function quoteArg(value: string, os: typeof Deno.build.os): string {
  if (/^[A-Za-z0-9_@%+=:,./-]+$/.test(value)) return value;
  if (os === "windows") return `"${value.replaceAll('"', '`"')}"`;
  return `'${value.replaceAll("'", `'\\''`)}'`;
}

/** Whether `program` (a bare name, or a path) is found on PATH; true when PATH is unreadable. */
export function programOnPath(program: string): boolean {
  const windows = Deno.build.os === "windows";
  const candidates = windows && !/\.\w+$/.test(program)
    ? [".exe", ".cmd", ".bat", ""].map((ext) => program + ext)
    : [program];
  const isFile = (path: string) => {
    try {
      return Deno.statSync(path).isFile;
    } catch (error) {
      // Not allowed to look: cannot tell, so count it as present.
      return error instanceof Deno.errors.NotCapable;
    }
  };
  if (/[\\/]/.test(program)) return candidates.some(isFile);
  let path: string | undefined;
  try {
    path = Deno.env.get("PATH");
  } catch {
    path = undefined;
  }
  if (path === undefined) return true;
  for (const dir of path.split(windows ? ";" : ":")) {
    if (dir === "") continue;
    if (candidates.some((name) => isFile(`${dir}${windows ? "\\" : "/"}${name}`))) return true;
  }
  return false;
}

function hostPort(url: string): string {
  const u = new URL(url);
  const port = u.port || (u.protocol === "https:" ? "443" : "80");
  return `${u.hostname}:${port}`;
}

function dirname(path: string): string {
  const i = Math.max(path.lastIndexOf("/"), path.lastIndexOf("\\"));
  return i > 0 ? path.slice(0, i) : i === 0 ? "/" : ".";
}

/** Unique paths; just the root when the root itself is in the list. */
function paths(values: string[]): string[] {
  const all = unique(values);
  return all.includes("/") ? ["/"] : all;
}

function unique(values: string[]): string[] {
  return [...new Set(values.filter((v) => v !== ""))];
}
