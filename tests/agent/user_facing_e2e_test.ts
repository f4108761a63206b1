/**
 * What a user of the real agent process sees: a first heartbeat with a full snapshot, one
 * line when the server is back after an outage, a doubled Ctrl-C (as under `deno task`)
 * that still drains and exits 0, and a `base_url` ending in `/api` named as the cause.
 */
import {
  deepStrictEqual as assertEquals,
  match as assertMatch,
  ok as assert,
} from "node:assert/strict";
import { startAgent } from "../_helpers/agent_process.ts";
import { waitFor } from "../_helpers/wait_for.ts";
import { connectedWorkerId } from "./_e2e.ts";
import { allScenarios, exitWatch, HOSTILE_KEY, pingCompletes, pingFor } from "./_hostile_steps.ts";
import { startHostileServer } from "./_hostile_server.ts";

Deno.test("first heartbeat, outage and Ctrl-C as a user meets them; a base_url ending in /api is named", async () => {
  await allScenarios({
    "full snapshot, 'connected again', doubled SIGINT drains and exits 0": async () => {
      await using server = startHostileServer({ websocket: true });
      await using agent = await startAgent({ baseUrl: server.baseUrl, apiKey: HOSTILE_KEY });
      await connectedWorkerId(agent);

      // The first heartbeat, sent right after registering, carries the full flat snapshot.
      const metrics = server.heartbeats[0]?.metrics as Record<string, unknown> | undefined;
      assert(metrics !== undefined, "a first heartbeat");
      for (const field of ["cpu_percent", "memory_used_mb", "memory_total_mb", "disk_total_gb"]) {
        assertEquals(typeof metrics[field], "number", `${field} in ${JSON.stringify(metrics)}`);
      }

      // An outage of a few seconds, then one line when the agent is back and has caught up.
      server.down = true;
      await waitFor(() => agent.output().includes("control plane unreachable; retrying"), {
        timeoutMs: 15_000,
        message: "the outage to be noticed",
      });
      server.down = false;
      const line = await waitFor(
        () =>
          /connected again after \d+ s; \d+ results, \d+ samples delivered/.exec(agent.output()),
        { timeoutMs: 20_000, message: `the reconnect line:\n${agent.output().slice(-3000)}` },
      );
      assertMatch(line[0], /samples delivered/);
      await pingCompletes(server, agent, "websocket");

      // One Ctrl-C in a terminal under `deno task`: the agent gets SIGINT twice, the second
      // a moment after the first. A result the server refuses for now keeps the drain busy.
      server.failResults = true;
      const pending = await pingFor(server);
      server.sendFrame(JSON.stringify({ type: "command", command: pending }));
      await waitFor(() => server.refusedResults > 0, { message: "a result waiting" });
      agent.signal("SIGINT");
      await waitFor(() => agent.output().includes("draining:"), { message: "the drain" });
      agent.signal("SIGINT");
      await waitFor(() => agent.output().includes("stop signal repeated within 1 s"), {
        message: `the repeat to be taken as the same stop:\n${agent.output().slice(-2000)}`,
      });
      server.failResults = false;
      assertEquals(await agent.exited, 0, agent.output().slice(-3000));
      assert(server.results.some((r) => r.command_id === pending.id), "the drain delivered it");
      assertEquals(server.heartbeats.at(-1)?.status, "offline", "a drain, not a forced stop");
    },

    "a base_url ending in /api": async () => {
      await using server = startHostileServer();
      await using agent = await startAgent({
        baseUrl: `${server.baseUrl}/api`,
        apiKey: HOSTILE_KEY,
      });
      const watch = exitWatch(agent);
      const status = await waitFor(async () => {
        const s = await agent.status();
        return s?.last_error ? s : undefined;
      }, { timeoutMs: 15_000, message: "a reason in status" });
      assertMatch(
        status.last_error!,
        new RegExp(
          `base_url ends in /api.*set base_url to ${server.baseUrl.replaceAll(".", "\\.")}`,
        ),
      );
      assertMatch(agent.output(), /WARN .*base_url ends in \/api/);
      assertEquals(watch.code, undefined);
    },
  });
});
