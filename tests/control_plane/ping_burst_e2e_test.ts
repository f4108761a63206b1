/**
 * A burst of commands to one worker, end to end (real control plane, real agent): the
 * results and acks of delivered commands must not run into the per-key rate limit
 * (issue: one key got about 20 requests/s and a burst of pings hit 429 every ~20 commands).
 */
import { deepStrictEqual as assertEquals } from "node:assert/strict";
import { waitFor } from "../_helpers/wait_for.ts";
import { connectedWorkerId, startSystem } from "../agent/_e2e.ts";

Deno.test("a burst of 100 pings to one worker completes with no 429 at the default rate limit", async () => {
  await using sys = await startSystem();
  const workerId = await connectedWorkerId(sys.agent, { websocket: "open" });
  const ids = await Promise.all(
    Array.from({ length: 100 }, () => sys.admin.command(workerId, "ping")),
  );
  const rows = await waitFor(async () => {
    const all = await sys.admin.commands(workerId);
    const done = all.filter((c) => ids.includes(c.command_id) && c.status === "completed");
    return done.length === ids.length ? done : undefined;
  }, { timeoutMs: 30_000, intervalMs: 200, message: "100 pings to complete" });
  assertEquals(rows.length, 100);
  const limited = sys.cp.output().split("\n").filter((line) => /status[=":]+429/.test(line));
  assertEquals(limited, [], "no request was rate limited");
});
