/**
 * A Web Worker for `recovery_bench.ts`: calls the admin API (`GET /api/workers?limit=50`), one
 * call at a time every `intervalMs`, on its own thread, so that the latencies it records are
 * the server's and not the bench's busy event loop. Started with `{ url, token, intervalMs }`;
 * answers `"stop"` with `{ latencies, statuses }`.
 *
 * @module
 */
/// <reference lib="deno.worker" />

let running = true;
const latencies: number[] = [];
const statuses: Record<string, number> = {};

self.onmessage = async (event: MessageEvent) => {
  if (event.data === "stop") {
    running = false;
    return;
  }
  const { url, token, intervalMs } = event.data as {
    url: string;
    token: string;
    intervalMs: number;
  };
  while (running) {
    const started = performance.now();
    let status = 0;
    try {
      const res = await fetch(`${url}/api/workers?limit=50`, {
        headers: { Authorization: `Bearer ${token}` },
        signal: AbortSignal.timeout(30_000),
      });
      await res.arrayBuffer();
      status = res.status;
    } catch { /* status 0 */ }
    latencies.push(performance.now() - started);
    statuses[status] = (statuses[status] ?? 0) + 1;
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
  self.postMessage({ latencies, statuses });
};
