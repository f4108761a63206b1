/**
 * Live accuracy on Linux: the collector against independent tools run in the same test
 * (`free -b`, `df -B1 /`, `cat /proc/net/dev`, `cat /proc/stat`), and under the scoped
 * permission flags the agent runs with.
 */
import { deepStrictEqual as assertEquals, ok as assert } from "node:assert/strict";
import os from "node:os";
import { SampleSchema } from "../../src/protocol/mod.ts";
import type { Sample } from "../../src/protocol/mod.ts";
import { createCollector } from "../../src/collector/mod.ts";
import type { CollectorInput } from "../../src/collector/collector.ts";
import { collectorPermissionFlags } from "../../src/collector/permissions.ts";
import { isLoopbackName, parseProcNetDev } from "../../src/collector/parse_proc_net_dev.ts";
import { waitFor } from "../_helpers/wait_for.ts";

const linux = Deno.build.os === "linux";
const MIB = 2 ** 20;
const GIB = 2 ** 30;

function input(): CollectorInput {
  return {
    spoolDepth: 0,
    droppedSamples: 0,
    trading: { status: "stopped", pid: null, uptime_s: null, restarts: 0, active_trades: 0 },
  };
}

async function run(command: string, args: string[]): Promise<string> {
  const output = await new Deno.Command(command, { args, stdout: "piped", stderr: "null" })
    .output();
  assert(output.success, `${command} ${args.join(" ")} failed`);
  return new TextDecoder().decode(output.stdout);
}

/** `free -b` as total and total − available (what the collector calls used). */
async function free(): Promise<{ total: number; used: number }> {
  const line = (await run("free", ["-b"])).split("\n").find((l) => l.startsWith("Mem:"));
  const fields = (line ?? "").trim().split(/\s+/).map(Number);
  const total = fields[1] as number;
  const available = fields[6] as number;
  return { total, used: total - available };
}

/** `df -B1 /` as total and used bytes. */
async function df(): Promise<{ total: number; used: number }> {
  const line = (await run("df", ["-B1", "/"])).trim().split("\n")[1] ?? "";
  const fields = line.trim().split(/\s+/);
  return { total: Number(fields[1]), used: Number(fields[2]) };
}

/** Aggregate busy and total jiffies from `cat /proc/stat` (top's definition). */
async function procStat(): Promise<{ busy: number; total: number }> {
  const line = (await run("cat", ["/proc/stat"])).split("\n")[0] ?? "";
  const [, user, nice, system, idle, iowait, irq, softirq, steal] = line.trim().split(/\s+/)
    .map(Number) as number[];
  const busy = (user ?? 0) + (nice ?? 0) + (system ?? 0) + (irq ?? 0) + (softirq ?? 0) +
    (steal ?? 0);
  return { busy, total: busy + (idle ?? 0) + (iowait ?? 0) };
}

function within(value: number, low: number, high: number, tolerance: number): boolean {
  return value >= low * (1 - tolerance) && value <= high * (1 + tolerance);
}

Deno.test({
  name: "live: memory used and total are within 2 % of free -b",
  ignore: !linux,
  async fn() {
    const collector = createCollector();
    try {
      const before = await free();
      const sample = await collector.sample(input());
      const after = await free();
      const total = (sample.memory_total_mb as number) * MIB;
      const used = (sample.memory_used_mb as number) * MIB;
      assert(within(total, before.total, before.total, 0.02), `total ${total} vs ${before.total}`);
      const low = Math.min(before.used, after.used);
      const high = Math.max(before.used, after.used);
      assert(within(used, low, high, 0.02), `used ${used} vs free ${low}..${high}`);
    } finally {
      await collector.close();
    }
  },
});

Deno.test({
  name: "live: disk used and total of / are within 1 % of df -B1 /",
  ignore: !linux,
  async fn() {
    const collector = createCollector({ diskPath: "/" });
    try {
      const before = await df();
      const sample = await collector.sample(input());
      const after = await df();
      const total = (sample.disk_total_gb as number) * GIB;
      const used = (sample.disk_used_gb as number) * GIB;
      assert(within(total, before.total, before.total, 0.01), `total ${total} vs ${before.total}`);
      const low = Math.min(before.used, after.used);
      const high = Math.max(before.used, after.used);
      assert(within(used, low, high, 0.01), `used ${used} vs df ${low}..${high}`);
      const root = sample.disks.find((d) => d.mount === "/");
      assert(root, "the disks list includes /");
      assert(within(root.total_bytes, before.total, before.total, 0.01));
    } finally {
      await collector.close();
    }
  },
});

Deno.test({
  name: "live: network counters lie between two reads of /proc/net/dev by cat",
  ignore: !linux,
  async fn() {
    const collector = createCollector();
    try {
      const before = parseProcNetDev(await run("cat", ["/proc/net/dev"]));
      const sample = await collector.sample(input());
      const after = parseProcNetDev(await run("cat", ["/proc/net/dev"]));
      const expected = before.filter((row) => !isLoopbackName(row.iface)).map((row) => row.iface);
      assertEquals(sample.net.map((n) => n.iface), expected);
      for (const net of sample.net) {
        const low = before.find((r) => r.iface === net.iface);
        const high = after.find((r) => r.iface === net.iface);
        assert(low && high);
        assert(net.rx_bytes >= low.rxBytes && net.rx_bytes <= high.rxBytes, net.iface);
        assert(net.tx_bytes >= low.txBytes && net.tx_bytes <= high.txBytes, net.iface);
      }
      const recv = sample.net.reduce((sum, n) => sum + n.rx_bytes, 0) / MIB;
      assert(Math.abs((sample.network_recv_mb as number) - recv) <= 0.01);
    } finally {
      await collector.close();
    }
  },
});

Deno.test({
  name: "live: CPU agrees with /proc/stat over the same interval and is high under busy children",
  ignore: !linux,
  sanitizeResources: true,
  async fn() {
    const collector = createCollector();
    const children: Deno.ChildProcess[] = [];
    try {
      // Agreement with an independent reading over one and the same window.
      await collector.sample(input());
      const start = await procStat();
      await new Promise((resolve) => setTimeout(resolve, 400));
      const end = await procStat();
      const sample = await collector.sample(input());
      const independent = 100 * (end.busy - start.busy) / (end.total - start.total);
      assert(
        Math.abs((sample.cpu_percent as number) - independent) <= 20,
        `collector ${sample.cpu_percent} vs /proc/stat ${independent.toFixed(1)}`,
      );
      // One busy loop per core (at most 8): the machine must read as busy.
      const count = Math.min(os.cpus().length, 8);
      for (let i = 0; i < count; i++) {
        children.push(
          new Deno.Command("sh", { args: ["-c", "while :; do :; done"], stdin: "null" }).spawn(),
        );
      }
      const busy = await waitFor(async () => {
        const s = await collector.sample(input());
        return (s.cpu_percent ?? 0) >= 70 ? s : undefined;
      }, { timeoutMs: 10_000, intervalMs: 250, message: "CPU ≥ 70 % under busy children" });
      assert(busy.cpu_per_core.every((p) => p !== null && p >= 0 && p <= 100));
    } finally {
      for (const child of children) child.kill("SIGKILL");
      await Promise.all(children.map((child) => child.status));
      await collector.close();
    }
  },
});

Deno.test({
  name: "live: the agent's own CPU share rises while it works",
  ignore: !linux,
  async fn() {
    const collector = createCollector();
    try {
      await collector.sample(input());
      const until = performance.now() + 300;
      let spin = 0;
      while (performance.now() < until) spin++;
      const sample = await collector.sample(input());
      assert(spin > 0);
      assert((sample.agent.cpu_percent as number) > 0, `agent cpu ${sample.agent.cpu_percent}`);
      assert((sample.agent.rss_mb as number) > 1);
    } finally {
      await collector.close();
    }
  },
});

Deno.test({
  name: "live: a sample taken under the scoped permission flags is complete and valid",
  ignore: !linux,
  async fn() {
    const stateDir = await Deno.makeTempDir({ prefix: "ftl-scoped-" });
    const outside = await Deno.makeTempFile({ prefix: "ftl-outside-" });
    try {
      const flags = collectorPermissionFlags("linux", { diskPath: stateDir });
      // Least privilege: the only readable path is the disk path, never the whole tree.
      const reads = flags.filter((f) => f.startsWith("--allow-read"));
      assertEquals(reads, [`--allow-read=${stateDir}`]);
      assert(!flags.includes("--allow-read=/") && !flags.includes("--allow-read"), flags.join(" "));
      assert(
        !collectorPermissionFlags("linux").some((f) => f.startsWith("--allow-read")),
        "no read flag at all without a disk path",
      );
      const before = await df();
      const output = await new Deno.Command(Deno.execPath(), {
        args: [
          "run",
          "--no-prompt",
          ...flags,
          new URL("./_sample_once.ts", import.meta.url).pathname,
          stateDir,
          outside,
        ],
        stdout: "piped",
        stderr: "piped",
        env: { NO_COLOR: "1" },
      }).output();
      const after = await df();
      const stderr = new TextDecoder().decode(output.stderr);
      assert(output.success, stderr);
      const [sampleLine = "", accessLine = ""] = new TextDecoder().decode(output.stdout).trim()
        .split("\n");
      const sample: Sample = JSON.parse(sampleLine);
      const parsed = SampleSchema.safeParse(sample);
      assert(parsed.success, JSON.stringify(parsed.error?.issues));
      // The child could not read outside its disk path, and `/` was not granted.
      assertEquals(JSON.parse(accessLine), { root: "prompt", outsideRead: "refused" });
      // /proc and the mount points are closed to Deno under these flags: net and disks come
      // through the sh helper, disk_* from statfs of the (readable) disk path.
      assert(sample.net.length > 0, "network counters under scoped flags");
      const root = sample.disks.find((d) => d.mount === "/");
      assert(root, "disks under scoped flags");
      assert(within(root.total_bytes, before.total, before.total, 0.01), `/ ${root.total_bytes}`);
      const low = Math.min(before.used, after.used);
      const high = Math.max(before.used, after.used);
      assert(
        within(root.used_bytes, low, high, 0.01),
        `/ used ${root.used_bytes} vs ${low}..${high}`,
      );
      for (
        const field of ["cpu_percent", "memory_used_mb", "disk_used_gb", "network_recv_mb"] as const
      ) {
        assert(sample[field] !== null, `${field} under scoped flags`);
      }
      assert(!/probe failed/.test(stderr), stderr);
    } finally {
      await Deno.remove(stateDir, { recursive: true });
      await Deno.remove(outside);
    }
  },
});
