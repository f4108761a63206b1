/**
 * Signalling and watching the trading workload's whole process tree.
 *
 * On Linux and macOS the workload is started as the leader of its own process group
 * (`Deno.Command` with `detached: true` calls `setsid()`), so one `kill(-pgid, sig)` reaches
 * the workload and every child it started, even after the leader itself has exited. On
 * Windows there are no process groups; `taskkill /T` walks the tree by parent pid instead.
 *
 * @module
 */
import { abortableDelay } from "../shared/delay.ts";

/** Operating systems as `Deno.build.os` names them. */
export type OperatingSystem = typeof Deno.build.os;

/** Options shared by the functions of this module. */
export interface ProcessGroupOptions {
  /** The OS whose mechanism is used. @default {Deno.build.os} */
  os?: OperatingSystem;
}

/**
 * Sends `signal` to every process in the group led by `pgid` (Unix), or asks Windows to end
 * the tree rooted at `pgid` (`SIGTERM` → `taskkill /T`, `SIGKILL` → `taskkill /T /F`).
 * Returns `false` when nothing was left to signal.
 *
 * On Unix this runs `kill` through `sh` rather than calling `Deno.kill`: under the agent's
 * scoped permissions (`--allow-run=sh,…`) `Deno.kill` is refused, since Deno lets only an
 * unscoped `--allow-run` signal arbitrary processes. The helper needs only `sh`, which the
 * collector runs anyway.
 */
export async function signalProcessGroup(
  pgid: number,
  signal: "SIGTERM" | "SIGKILL",
  options: ProcessGroupOptions = {},
): Promise<boolean> {
  checkPgid(pgid);
  const os = options.os ?? Deno.build.os;
  if (os === "windows") {
    const args = signal === "SIGKILL"
      ? ["/T", "/F", "/PID", String(pgid)]
      : ["/T", "/PID", String(pgid)];
    return (await run("taskkill", args)).code === 0;
  }
  const name = signal === "SIGKILL" ? "KILL" : "TERM";
  return (await sh('kill -s "$1" -- "-$2" 2>/dev/null', [name, String(pgid)])).code === 0;
}

/**
 * Whether any live process remains in the group `pgid`.
 *
 * Linux reads every `/proc/<pid>/stat` (through `sh`, because Deno opens `/proc` only with
 * `--allow-all`) and ignores zombies: in a container whose init does not reap orphans, a
 * killed grandchild stays a zombie forever, yet it runs nothing and holds nothing. macOS asks
 * `kill -0 -- -pgid`. On Windows the caller watches the leader instead, so this answers
 * `false`.
 */
export async function processGroupAlive(
  pgid: number,
  options: ProcessGroupOptions = {},
): Promise<boolean> {
  checkPgid(pgid);
  const os = options.os ?? Deno.build.os;
  if (os === "windows") return false;
  if (os === "linux") return (await livingGroupMembers(pgid)).length > 0;
  return (await sh('kill -0 -- "-$1" 2>/dev/null', [String(pgid)])).code === 0;
}

/** Pids of the non-zombie processes whose process group is `pgid`, read from Linux `/proc`. */
export async function livingGroupMembers(pgid: number): Promise<number[]> {
  // cat fails for processes that exit while it runs; what it printed is still good.
  const { stdout } = await sh("cat /proc/[0-9]*/stat 2>/dev/null", []);
  const members: number[] = [];
  for (const line of stdout.split("\n")) {
    const fields = parseProcStat(line);
    if (fields && fields.pgrp === pgid && fields.state !== "Z" && fields.state !== "X") {
      members.push(fields.pid);
    }
  }
  return members;
}

/** The fields of `/proc/<pid>/stat` this module needs, or `undefined` when it is garbled. */
export function parseProcStat(
  text: string,
): { pid: number; state: string; ppid: number; pgrp: number } | undefined {
  // The command name is in parentheses and may itself contain spaces or parentheses.
  const open = text.indexOf(" (");
  const close = text.lastIndexOf(")");
  if (open < 0 || close < open) return undefined;
  const pid = Number(text.slice(0, open));
  const [state, ppid, pgrp] = text.slice(close + 2).split(" ");
  if (!Number.isInteger(pid) || state === undefined || ppid === undefined || pgrp === undefined) {
    return undefined;
  }
  return { pid, state, ppid: Number(ppid), pgrp: Number(pgrp) };
}

async function sh(script: string, args: string[]): Promise<{ code: number; stdout: string }> {
  return await run("sh", ["-c", script, "sh", ...args]);
}

async function run(program: string, args: string[]): Promise<{ code: number; stdout: string }> {
  const { code, stdout } = await new Deno.Command(program, {
    args,
    stdin: "null",
    stdout: "piped",
    stderr: "null",
  }).output();
  return { code, stdout: new TextDecoder().decode(stdout) };
}

/** Options of {@linkcode waitForGroupExit}. */
export interface WaitForGroupExitOptions extends ProcessGroupOptions {
  /** Give up after this many milliseconds. */
  timeoutMs: number;
  /** Resolves when the group leader has exited. */
  leaderExited: Promise<unknown>;
  /** Poll the group this often. @default {50} */
  intervalMs?: number;
  /** Stops waiting early (answers `false`). */
  signal?: AbortSignal;
}

/**
 * Waits until the leader has exited and no live process remains in its group. Answers
 * `true` when that happened within `timeoutMs`.
 */
export async function waitForGroupExit(
  pgid: number,
  options: WaitForGroupExitOptions,
): Promise<boolean> {
  const { timeoutMs, leaderExited, intervalMs = 50, signal } = options;
  const deadline = performance.now() + timeoutMs;
  let leaderDone = false;
  leaderExited.then(() => leaderDone = true, () => leaderDone = true);
  while (!signal?.aborted) {
    if (leaderDone && !(await processGroupAlive(pgid, options))) return true;
    const left = deadline - performance.now();
    if (left <= 0) return false;
    await abortableDelay(Math.min(intervalMs, left), signal);
  }
  return false;
}

function checkPgid(pgid: number): void {
  // kill(0 or -1, …) would signal our own group or every process we may signal.
  if (!Number.isInteger(pgid) || pgid <= 1) {
    throw new RangeError(`A process group id must be an integer above 1, got ${pgid}`);
  }
}
