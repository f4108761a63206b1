/**
 * CPU time and resident memory of a process from `/proc` (Linux), for the benches that watch a
 * server while a fleet runs against it (`fleet_bench.ts`, `recovery_bench.ts`).
 *
 * @module
 */

/** Clock ticks per second of `/proc/<pid>/stat` (USER_HZ, 100 on Linux). */
const TICKS = 100;

/** CPU milliseconds (user + system) and RSS (KiB) of `pid`; undefined once it is gone. */
export async function processUsage(
  pid: number,
): Promise<{ cpuMs: number; rssKb: number } | undefined> {
  try {
    const stat = await Deno.readTextFile(`/proc/${pid}/stat`);
    // The command name may hold spaces and parentheses: fields start after the last ")".
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    const ticks = Number(fields[11]) + Number(fields[12]); // utime, stime (fields 14, 15)
    const status = await Deno.readTextFile(`/proc/${pid}/status`);
    const rssKb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
    return { cpuMs: ticks * 1000 / TICKS, rssKb };
  } catch {
    return undefined;
  }
}

/**
 * Control-plane flags for a bench fleet of thousands of agents from one address: no
 * per-address cap, and room above the default 4096 connections (each takes 3 descriptors in
 * the guard; the bench machine allows 20,000 per process); warnings only in the log.
 */
export const FLEET_SERVER_ARGS: readonly string[] = [
  "--max-connections-per-address",
  "0",
  "--max-connections",
  "6000",
  "--log-level",
  "warn",
];
