/** `worker-agent status`: what the running (or last) agent wrote to its state dir. */
import { type AgentStatus, AgentStatusSchema, STATUS_FILE } from "../state/agent_status.ts";
import { probeStateDirLock } from "../state/state_dir.ts";
import { redactSecrets } from "../protocol/api_key.ts";
import type { CliIo } from "./cli_io.ts";

/** What `status --json` prints. */
export interface StatusReport {
  /** The state dir read. */
  state_dir: string;
  /** Whether an agent holds the state dir's lock right now. */
  running: boolean;
  /** Pid of the running agent, if any. */
  pid: number | null;
  /** The last status the agent wrote, or null when none was ever written. */
  status: AgentStatus | null;
}

/** Reads the status of the agent using `stateDir`. */
export async function readStatusReport(stateDir: string): Promise<StatusReport> {
  const lock = await probeStateDirLock(stateDir);
  let status: AgentStatus | null = null;
  try {
    const text = await Deno.readTextFile(`${stateDir}/${STATUS_FILE}`);
    const parsed = AgentStatusSchema.safeParse(JSON.parse(text));
    if (parsed.success) status = parsed.data;
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound) && !(error instanceof SyntaxError)) throw error;
  }
  return {
    state_dir: stateDir,
    running: lock.locked,
    pid: lock.locked ? (lock.pid ?? status?.pid ?? null) : null,
    status,
  };
}

/** Prints the status; exit code 0 when a status exists, 1 when no agent ever ran here. */
export async function statusCommand(
  options: { stateDir: string; json?: boolean; now?: () => number },
  io: CliIo,
): Promise<number> {
  const report = await readStatusReport(options.stateDir);
  if (options.json) {
    io.stdout(redactSecrets(JSON.stringify(report, null, 2)) + "\n");
  } else {
    io.stdout(redactSecrets(formatStatus(report, (options.now ?? Date.now)())));
  }
  return report.status === null ? 1 : 0;
}

/** Human-readable status, one `label: value` line each. */
export function formatStatus(report: StatusReport, now: number): string {
  const s = report.status;
  if (s === null) {
    const running = report.running ? ` (an agent with pid ${report.pid ?? "?"} holds it)` : "";
    return `no agent status in ${report.state_dir} yet${running}; start one with: worker-agent run\n`;
  }
  const rows: [string, string][] = [
    [
      "agent",
      report.running ? `running (pid ${report.pid ?? s.pid})` : `not running (last pid ${s.pid})`,
    ],
    ["state", s.state],
    ["worker id", s.worker_id ?? "(not registered yet)"],
    ["base url", s.base_url],
    ["last heartbeat", s.last_heartbeat_at === null ? "never" : when(s.last_heartbeat_at, now)],
    ["websocket", s.websocket],
    ["spool depth", String(s.spool_depth)],
    ["dropped samples", String(s.dropped_samples)],
    ["pending results", String(s.pending_results)],

    ["trading", s.trading_status],
    ["last error", s.last_error ?? "none"],
  ];
  if (s.next_retry_at !== null) rows.push(["next retry", when(s.next_retry_at, now)]);
  if (s.state_used_bytes !== undefined && s.state_max_bytes !== undefined) {
    rows.push(["state budget", `${mib(s.state_used_bytes)} of ${mib(s.state_max_bytes)} used`]);
  }
  if (s.instance_id !== undefined) rows.push(["instance id", s.instance_id]);
  rows.push(["version", s.version], ["started", when(s.started_at, now)], [
    "updated",
    when(s.updated_at, now),
  ], ["state dir", report.state_dir]);
  const width = Math.max(...rows.map(([label]) => label.length)) + 1;
  return rows.map(([label, value]) => `${`${label}:`.padEnd(width)} ${value}\n`).join("");
}

function when(ms: number, now: number): string {
  const seconds = Math.round((now - ms) / 1000);
  const rel = seconds >= 0 ? `${age(seconds)} ago` : `in ${age(-seconds)}`;
  return `${new Date(ms).toISOString()} (${rel})`;
}

function age(seconds: number): string {
  if (seconds < 120) return `${seconds} s`;
  if (seconds < 7200) return `${Math.round(seconds / 60)} min`;
  if (seconds < 172800) return `${Math.round(seconds / 3600)} h`;
  return `${Math.round(seconds / 86400)} d`;
}

function mib(bytes: number): string {
  return `${(bytes / 2 ** 20).toFixed(1)} MiB`;
}
