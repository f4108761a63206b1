/**
 * Cost of one full metrics sample on this machine (`deno task bench`).
 *
 * Measures, with 100 samples each: the raw ways of reading `/proc/net/dev` (direct read,
 * one `cat` per sample, the long-lived `sh` helper), the two ways of sizing the mounts
 * (`statfs` of each real mount point in Deno, which needs `--allow-read=/`, against one
 * `stat -f` through the helper, which the collector does at most every 30 s), then full
 * samples with `/proc` read directly (what `-A` allows) and through the helper (what scoped
 * flags force), and finally a full sample in a child process started with exactly the flags
 * of `collectorPermissions()` for a temporary disk path. Wall time is the median and p95 per
 * sample; CPU is the mean per sample over the run: the agent's own (`process.cpuUsage`), its
 * exited children's (`cat`), and the live helper's with its exited children (`stat -f`), both
 * from `/proc` at 10 ms resolution, hence means over the whole run.
 *
 * @module
 */
import process from "node:process";
import { createCollector } from "../src/collector/mod.ts";
import type { CollectorInput } from "../src/collector/collector.ts";
import {
  createLinuxReader,
  disksFromStatF,
  disksRequest,
  LINUX_PROC_HELPER_SCRIPT,
  type ProcMode,
} from "../src/collector/linux.ts";
import { parseProcMounts, realMounts } from "../src/collector/parse_proc_mounts.ts";
import { volumeUsage } from "../src/collector/statfs_disk.ts";
import { collectorPermissionFlags } from "../src/collector/permissions.ts";
import { runCommand } from "../src/collector/run_command.ts";
import { SamplingCollector } from "../src/collector/sampling_collector.ts";
import { ProbeProcess } from "../src/collector/probe_process.ts";

const N = 100;

const INPUT: CollectorInput = {
  spoolDepth: 0,
  droppedSamples: 0,
  trading: { status: "stopped", pid: null, uptime_s: null, restarts: 0, active_trades: 0 },
};

/** One benchmark result. */
interface Row {
  name: string;
  wallMedianMs: number;
  wallP95Ms: number;
  cpuMeanMs: number;
  spawnsPerSample: number;
}

function quantile(sorted: number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? Number.NaN;
}

/** This process's CPU plus that of its exited children (`cutime + cstime`, 100 Hz). */
function selfCpuMicros(): number {
  const usage = process.cpuUsage();
  let children = 0;
  try {
    const stat = Deno.readTextFileSync("/proc/self/stat");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    children = (Number(fields[13]) + Number(fields[14])) * 10_000;
  } catch {
    // Under scoped flags /proc is closed: own CPU only.
  }
  return usage.user + usage.system + children;
}

/** CPU milliseconds a process and its exited children (the helper's `stat -f`) have used,
 * from /proc/<pid>/stat (utime + stime + cutime + cstime, 100 Hz). */
function processCpuMs(pid: number | undefined): number {
  if (pid === undefined) return 0;
  try {
    const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return (Number(fields[11]) + Number(fields[12]) + Number(fields[13]) + Number(fields[14])) *
      10;
  } catch {
    return 0;
  }
}

async function measure(
  name: string,
  once: () => Promise<unknown>,
  options: { helperPid?: () => number | undefined; spawnsPerSample?: number } = {},
): Promise<Row> {
  await once(); // warm-up: first helper start, first mount read, JIT
  const walls: number[] = [];
  const cpuStart = selfCpuMicros();
  const helperStart = processCpuMs(options.helperPid?.());
  for (let i = 0; i < N; i++) {
    const started = performance.now();
    await once();
    walls.push(performance.now() - started);
  }
  const cpuMs = (selfCpuMicros() - cpuStart) / 1000 +
    (processCpuMs(options.helperPid?.()) - helperStart);
  walls.sort((a, b) => a - b);
  return {
    name,
    wallMedianMs: quantile(walls, 0.5),
    wallP95Ms: quantile(walls, 0.95),
    cpuMeanMs: cpuMs / N,
    spawnsPerSample: options.spawnsPerSample ?? 0,
  };
}

async function fullSample(name: string, procMode: ProcMode, mountRefreshMs = 30_000) {
  const reader = createLinuxReader({ procMode, mountRefreshMs });
  const collector = new SamplingCollector({ reader });
  try {
    return await measure(name, () => collector.sample(INPUT), {
      helperPid: () => reader.proc.helper.pid,
      // A disks refresh runs one `stat -f` inside the helper.
      spawnsPerSample: mountRefreshMs === 0 ? 1 : 0,
    });
  } finally {
    await collector.close();
  }
}

/** In the child started with the scoped flags: measure and print JSON. */
async function childMain(diskPath: string): Promise<void> {
  const collector = createCollector({ diskPath });
  try {
    const row = await measure(
      "full sample, child under collectorPermissions() flags",
      () => collector.sample(INPUT),
    );
    console.log(JSON.stringify(row));
  } finally {
    await collector.close();
  }
}

async function scopedChild(): Promise<Row> {
  // The agent passes its state dir as the disk path; a fresh temporary dir stands in for it.
  const diskPath = await Deno.makeTempDir({ prefix: "ftl-bench-" });
  let output: Deno.CommandOutput;
  try {
    output = await new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "--no-prompt",
        ...collectorPermissionFlags(Deno.build.os, { diskPath }),
        new URL(import.meta.url).pathname,
        "--child",
        diskPath,
      ],
      stdout: "piped",
      stderr: "piped",
      env: { NO_COLOR: "1" },
    }).output();
  } finally {
    await Deno.remove(diskPath, { recursive: true });
  }
  if (!output.success) throw new Error(new TextDecoder().decode(output.stderr));
  const row: Row = JSON.parse(new TextDecoder().decode(output.stdout).trim());
  row.name += " (own CPU only)";
  return row;
}

function table(rows: Row[]): string {
  const lines = [
    "| measurement | wall median ms | wall p95 ms | CPU mean ms | spawns per sample |",
    "|---|---:|---:|---:|---:|",
  ];
  for (const r of rows) {
    lines.push(
      `| ${r.name} | ${r.wallMedianMs.toFixed(3)} | ${r.wallP95Ms.toFixed(3)} | ${
        r.cpuMeanMs.toFixed(3)
      } | ${r.spawnsPerSample} |`,
    );
  }
  return lines.join("\n");
}

async function main(): Promise<void> {
  if (Deno.build.os !== "linux") {
    console.log("The benchmark measures the Linux collector; run it on Linux.");
    return;
  }
  const rows: Row[] = [];
  rows.push(
    await measure(
      "read /proc/net/dev directly (-A only)",
      () => Deno.readTextFile("/proc/net/dev"),
    ),
  );
  rows.push(
    await measure(
      "read /proc/net/dev with one `cat` per sample",
      () => runCommand("cat", ["/proc/net/dev"]),
      { spawnsPerSample: 1 },
    ),
  );
  const helper = new ProbeProcess({ command: "sh", args: ["-c", LINUX_PROC_HELPER_SCRIPT] });
  try {
    rows.push(
      await measure(
        "read /proc/net/dev through the long-lived sh helper",
        () => helper.request("net"),
        { helperPid: () => helper.pid },
      ),
    );
    const mounts = realMounts(parseProcMounts(await Deno.readTextFile("/proc/self/mounts")));
    rows.push(
      await measure(
        `size ${mounts.length} real mount(s): statfs of each in Deno (needs --allow-read=/)`,
        () => Promise.all(mounts.map((m) => volumeUsage(m.mount))),
      ),
    );
    rows.push(
      await measure(
        `size ${mounts.length} real mount(s): one stat -f through the helper`,
        async () =>
          disksFromStatF(mounts, await helper.request(disksRequest(mounts.map((m) => m.mount)))),
        { helperPid: () => helper.pid, spawnsPerSample: 1 },
      ),
    );
  } finally {
    await helper.close();
  }
  rows.push(await fullSample("full sample, /proc read directly (-A)", "direct"));
  rows.push(await fullSample("full sample, /proc through the helper (scoped flags)", "helper"));
  rows.push(
    await fullSample("full sample, helper, disks list refreshed every sample", "helper", 0),
  );
  rows.push(await scopedChild());
  const cpus = (await import("node:os")).default.cpus();
  console.log(
    `Collector benchmark: ${N} samples each, deno ${Deno.version.deno}, ${Deno.build.os}-${Deno.build.arch}, ` +
      `${cpus.length} × ${cpus[0]?.model ?? "unknown CPU"}, load ${
        Deno.loadavg().map((l) => l.toFixed(2)).join(" ")
      }\n`,
  );
  console.log(table(rows));
}

if (Deno.args[0] === "--child") await childMain(Deno.args[1] ?? "/");
else await main();
