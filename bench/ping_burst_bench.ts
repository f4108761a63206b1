/**
 * A burst of `ping` commands to one worker (issue 10): a real control plane at its default rate
 * limit (20 requests/s per key, burst 40) and a real agent. Two rows: N pings (default 100)
 * back to back (each queued as soon as the previous one completed, as fast as the agent goes),
 * then N pings queued at once. Prints how many requests the control plane answered 429 in each
 * row, and the round trip of each command on the server clock (`created_at` → `finished_at`):
 * median, p99, max. In the second row the round trip includes waiting behind the others.
 *
 * `deno run -A bench/ping_burst_bench.ts [N]`. Uses the end-to-end helpers of `tests/`, so the
 * same file measures an older checkout too.
 */
import { connectedWorkerId, startSystem } from "../tests/agent/_e2e.ts";
import { waitFor } from "../tests/_helpers/wait_for.ts";

const N = Number(Deno.args[0] ?? 100);

/** Unix ms of a command time, which is ms or (protocol v1.1 `created_at`) an ISO string. */
function ms(value: unknown): number {
  return typeof value === "string" ? Date.parse(value) : Number(value);
}

function pct(sorted: number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
}

interface Row {
  command_id: string;
  status: string;
  created_at: unknown;
  finished_at: unknown;
}

await using sys = await startSystem();
const workerId = await connectedWorkerId(sys.agent, { websocket: "open" });

async function finished(ids: string[]): Promise<Row[]> {
  return await waitFor(async () => {
    const all = await sys.admin.json<{ commands: Row[] }>(
      `/api/workers/commands?worker_id=${workerId}&limit=1000`,
    );
    const done = all.commands.filter((c) =>
      ids.includes(c.command_id) && ["completed", "failed", "timeout"].includes(c.status)
    );
    return done.length === ids.length ? done : undefined;
  }, { timeoutMs: 120_000, intervalMs: ids.length === 1 ? 2 : 50, message: "pings to finish" });
}

function count429(): number {
  return sys.cp.output().split("\n").filter((l) => /status[=":]+429/.test(l)).length;
}

const table: string[] = [];
async function row(name: string, run: () => Promise<Row[]>): Promise<void> {
  const limitedBefore = count429();
  const rows = await run();
  const trips = rows.map((r) => ms(r.finished_at) - ms(r.created_at)).sort((a, b) => a - b);
  const completed = rows.filter((r) => r.status === "completed").length;
  table.push(
    `| ${name} | ${N} | ${completed} | ${count429() - limitedBefore} | ${pct(trips, 0.5)} | ${
      pct(trips, 0.99)
    } | ${trips.at(-1)} |`,
  );
}

await row("back to back", async () => {
  const rows: Row[] = [];
  for (let i = 0; i < N; i++) {
    rows.push(...await finished([await sys.admin.command(workerId, "ping")]));
  }
  return rows;
});
await new Promise((resolve) => setTimeout(resolve, 3000)); // let the key's bucket refill
await row("all at once", async () => {
  const ids = await Promise.all(
    Array.from({ length: N }, () => sys.admin.command(workerId, "ping")),
  );
  return await finished(ids);
});

console.log(`${N} pings to one worker, default rate limit, deno ${Deno.version.deno}\n`);
console.log("| pings sent | pings | completed | 429 answers | median ms | p99 ms | max ms |");
console.log("| --- | ---: | ---: | ---: | ---: | ---: | ---: |");
for (const line of table) console.log(line);
