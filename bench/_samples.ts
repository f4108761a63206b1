/** Realistic samples for the control plane benches. */
import type { Sample, Snapshot } from "../src/protocol/metrics.ts";

/** A flat heartbeat snapshot, varying a little with `i`. */
export function snapshot(i: number): Snapshot {
  return {
    cpu_percent: 12.5 + (i % 10),
    memory_used_mb: 6_144,
    memory_total_mb: 16_384,
    disk_used_gb: 120.5,
    disk_total_gb: 512,
    network_sent_mb: 1_024.25 + i / 1000,
    network_recv_mb: 2_048.5 + i / 1000,
    trading_status: "running",
    active_trades: i % 7,
  };
}

/**
 * A full sample like an 8-core Linux box's (2 disks, 2 interfaces, no GPU): about 970 bytes of
 * JSON.
 */
export function sample(stream: string, seq: number): Sample {
  return {
    ...snapshot(seq),
    stream,
    seq,
    ts: Date.now(),
    cpu_per_core: Array.from({ length: 8 }, (_, c) => (seq + c * 7) % 100),
    load_avg: [0.52, 0.61, 0.7],
    memory_available_mb: 10_240,
    swap_used_mb: 0,
    swap_total_mb: 2_048,
    disks: [
      { mount: "/", fs_type: "ext4", total_bytes: 512e9, used_bytes: 120.5e9 },
      { mount: "/data", fs_type: "xfs", total_bytes: 2e12, used_bytes: 0.9e12 },
    ],
    net: [
      {
        iface: "eth0",
        rx_bytes: 2e9 + seq,
        tx_bytes: 1e9 + seq,
        rx_bytes_per_s: 12_000,
        tx_bytes_per_s: 8_000,
      },
      { iface: "lo", rx_bytes: 5e6, tx_bytes: 5e6, rx_bytes_per_s: 10, tx_bytes_per_s: 10 },
    ],
    gpus: [],
    agent: { rss_mb: 80.5, cpu_percent: 0.8, uptime_s: 3600, spool_depth: 0, dropped_samples: 0 },
    trading: { status: "running", pid: 4242, uptime_s: 1800, restarts: 0, active_trades: 3 },
  };
}
