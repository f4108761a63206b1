import { deepStrictEqual as assertEquals, ok as assert, rejects } from "node:assert/strict";
import { type Sample, SampleSchema, snapshotOf, stampSample } from "../../src/protocol/mod.ts";
import { createLogger } from "../../src/log/logger.ts";
import type { Collector, CollectorInput } from "../../src/collector/collector.ts";
import type { CpuTimes } from "../../src/collector/counter_delta.ts";
import { SamplingCollector } from "../../src/collector/sampling_collector.ts";
import type { SystemReader, SystemReading } from "../../src/collector/system_reading.ts";

const MIB = 2 ** 20;
const GIB = 2 ** 30;

function input(): CollectorInput {
  return {
    spoolDepth: 3,
    droppedSamples: 1,
    trading: { status: "running", pid: 4242, uptime_s: 12, restarts: 0, active_trades: 2 },
  };
}

/** A measurement with its place in the stream, as the agent's spool stamps it. */
async function sampleAt(collector: Collector, seq: number, signal?: AbortSignal): Promise<Sample> {
  return stampSample(await collector.sample(input(), signal), { stream: "stream-1", seq });
}

function reading(rx: number, tx: number): SystemReading {
  return {
    memory: {
      totalBytes: 16 * GIB,
      availableBytes: 12 * GIB,
      swapTotalBytes: 2 * GIB,
      swapUsedBytes: 512 * MIB,
    },
    loadAvg: [0.5, 0.25, 0.125],
    disks: [{ mount: "/", fsType: "ext4", totalBytes: 100 * GIB, usedBytes: 40 * GIB }],
    mainDisk: { totalBytes: 100 * GIB, usedBytes: 40 * GIB },
    net: [
      { iface: "eth0", rxBytes: rx, txBytes: tx },
      { iface: "wlan0", rxBytes: MIB, txBytes: MIB },
    ],
  };
}

/** A reader that hands out prepared readings, one per call. */
function scriptedReader(readings: (SystemReading | null)[]): SystemReader & { closed: boolean } {
  let call = 0;
  const empty: SystemReading = {
    memory: null,
    loadAvg: null,
    disks: null,
    mainDisk: null,
    net: null,
  };
  return {
    closed: false,
    read() {
      return Promise.resolve(readings[call++] ?? empty);
    },
    close() {
      this.closed = true;
      return Promise.resolve();
    },
  };
}

function clock(start: number) {
  let now = start;
  return { now: () => now, advance: (ms: number) => void (now += ms) };
}

function cores(busy: number, idle: number): CpuTimes[] {
  return [
    { user: busy, nice: 0, sys: 0, idle, irq: 0 },
    { user: busy, nice: 0, sys: 0, idle, irq: 0 },
  ];
}

Deno.test("SamplingCollector builds a schema-valid sample with flat fields in MiB and GiB", async () => {
  const time = clock(1_700_000_000_000);
  let cpu = cores(0, 0);
  const collector = new SamplingCollector({
    reader: scriptedReader([reading(10 * MIB, 5 * MIB)]),
    now: time.now,
    cpuTimes: () => cpu,
    processCpuMicros: () => 0,
    rssBytes: () => 64 * MIB,
    startedAt: time.now() - 30_000,
  });
  cpu = cores(300, 100);
  time.advance(1000);
  const sample = await sampleAt(collector, 7);
  const parsed = SampleSchema.safeParse(sample);
  assert(parsed.success, JSON.stringify(parsed.error?.issues));
  assertEquals(snapshotOf(sample), {
    cpu_percent: 75,
    memory_used_mb: 4096,
    memory_total_mb: 16384,
    disk_used_gb: 40,
    disk_total_gb: 100,
    network_sent_mb: 6,
    network_recv_mb: 11,
    trading_status: "running",
    active_trades: 2,
  });
  assertEquals(sample.cpu_per_core, [75, 75]);
  assertEquals(sample.memory_available_mb, 12288);
  assertEquals([sample.swap_used_mb, sample.swap_total_mb], [512, 2048]);
  assertEquals(sample.load_avg, [0.5, 0.25, 0.13]);
  assertEquals(sample.ts, 1_700_000_001_000);
  assertEquals([sample.stream, sample.seq], ["stream-1", 7]);
  assertEquals(sample.agent, {
    rss_mb: 64,
    cpu_percent: 0,
    uptime_s: 31,
    spool_depth: 3,
    dropped_samples: 1,
  });
  assertEquals(sample.trading.pid, 4242);
  await collector.close();
});

Deno.test("SamplingCollector leaves rates null on the first sample and after a counter reset", async () => {
  const time = clock(1_000_000);
  const collector = new SamplingCollector({
    reader: scriptedReader([
      reading(1000, 1000),
      reading(3000, 1500),
      reading(100, 1600), // eth0 rx went backwards: a reset
    ]),
    now: time.now,
  });
  const first = await sampleAt(collector, 0);
  assertEquals(first.net.map((n) => [n.rx_bytes_per_s, n.tx_bytes_per_s]), [[null, null], [
    null,
    null,
  ]]);
  time.advance(2000);
  const second = await sampleAt(collector, 1);
  assertEquals(second.net[0], {
    iface: "eth0",
    rx_bytes: 3000,
    tx_bytes: 1500,
    rx_bytes_per_s: 1000,
    tx_bytes_per_s: 250,
  });
  assertEquals(second.net[1]?.rx_bytes_per_s, 0);
  time.advance(1000);
  const third = await sampleAt(collector, 2);
  assertEquals(third.net[0]?.rx_bytes_per_s, null);
  assertEquals(third.net[0]?.tx_bytes_per_s, 100);
  await collector.close();
});

Deno.test("SamplingCollector gives null rates when no time passed between samples", async () => {
  const time = clock(5_000);
  const collector = new SamplingCollector({
    reader: scriptedReader([reading(1000, 1000), reading(2000, 2000)]),
    now: time.now,
    cpuTimes: () => cores(10, 10),
  });
  await sampleAt(collector, 0);
  const again = await sampleAt(collector, 1);
  assertEquals(again.net[0]?.rx_bytes_per_s, null);
  assertEquals(again.cpu_percent, null);
  await collector.close();
});

Deno.test("SamplingCollector keeps sampling with null fields when probes fail, and logs once", async () => {
  const lines: string[] = [];
  const logger = createLogger({ write: (line) => lines.push(line) });
  const collector = new SamplingCollector({
    reader: scriptedReader([null, null]),
    logger,
    cpuTimes: () => {
      throw new Error("cpus unavailable");
    },
  });
  const first = await sampleAt(collector, 0);
  const second = await sampleAt(collector, 1);
  for (const sample of [first, second]) {
    assert(SampleSchema.safeParse(sample).success);
    assertEquals(sample.cpu_percent, null);
    assertEquals(sample.cpu_per_core, []);
    assertEquals(sample.memory_used_mb, null);
    assertEquals(sample.network_sent_mb, null);
    assertEquals(sample.net, []);
    assertEquals(sample.disks, []);
  }
  assertEquals(lines.filter((l) => l.includes("probe failed") && l.includes("cpu")).length, 1);
  await collector.close();
});

Deno.test("SamplingCollector honours an aborted signal and a closed state", async () => {
  const reader = scriptedReader([reading(1, 1)]);
  const collector = new SamplingCollector({ reader });
  const controller = new AbortController();
  controller.abort(new Error("shutting down"));
  await rejects(sampleAt(collector, 0, controller.signal), /shutting down/);
  await collector.close();
  await collector.close();
  assert(reader.closed);
  await rejects(sampleAt(collector, 0), /closed/);
});
