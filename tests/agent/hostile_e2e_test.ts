/**
 * Nothing a server does stops the agent or fills its disk (protocol v1.1 section 8). The real
 * agent process, under the flags of `worker-agent permissions`, against a small hostile
 * server of the test's own (`_hostile_server.ts`): after each attack the agent is still
 * running and a valid ping completes. The scenarios run at the same time, each with its own
 * server and agent, so the file takes about as long as its slowest scenario (a server slower
 * than the agent's 15 s request timeout).
 */
import { deepStrictEqual as assertEquals, ok as assert } from "node:assert/strict";
import { startAgent } from "../_helpers/agent_process.ts";
import { waitFor } from "../_helpers/wait_for.ts";
import {
  allScenarios,
  diskUsage,
  exitWatch,
  FORGER_KEY,
  HOSTILE_KEY,
  pingCompletes,
  pingFor,
} from "./_hostile_steps.ts";
import { startHostileServer } from "./_hostile_server.ts";

const MIB = 2 ** 20;

function json(text: string): Response {
  return new Response(text, { headers: { "Content-Type": "application/json" } });
}

Deno.test("a hostile server's answers and frames cannot stop the agent", async () => {
  await allScenarios({
    "answers that are not JSON, 5 MiB, or 100 000 levels deep": async () => {
      await using server = startHostileServer();
      server.answerNextHeartbeat(
        () => json("<html><body>502 Bad Gateway</body></html>"),
        () => json(`{"ok":true,"pad":"${"x".repeat(5 * MIB)}"}`),
        () => json(`{"ok":true,"pending_commands":[${"[".repeat(100_000)}${"]".repeat(100_000)}]}`),
      );
      await using agent = await startAgent({ baseUrl: server.baseUrl, apiKey: HOSTILE_KEY });
      const watch = exitWatch(agent);
      await pingCompletes(server, agent, "heartbeat");
      assert(server.heartbeats.length >= 4, "three bad answers, then a good one");
      // Each was a failed request, retried with backoff (the retries are logged at debug).
      const output = agent.output();
      assert(/unreadable body: not JSON/.test(output), output.slice(-3000));
      assert(/answer body too large/.test(output), output.slice(-3000));
      assert(/nested deeper than 64 levels/.test(output), output.slice(-3000));
      assertEquals(watch.code, undefined, "the agent is still running");
    },

    "a lone UTF-16 surrogate in a command by heartbeat": async () => {
      await using server = startHostileServer();
      const lone = { ...(await pingFor(server)), params: { x: "\ud800" } };
      server.queue(lone);
      await using agent = await startAgent({ baseUrl: server.baseUrl, apiKey: HOSTILE_KEY });
      const watch = exitWatch(agent);
      await waitFor(() => server.results.some((r) => r.command_id === lone.id), {
        timeoutMs: 15_000,
        message: `the refusal:\n${agent.output().slice(-3000)}`,
      });
      const refusal = server.results.find((r) => r.command_id === lone.id)!;
      assertEquals([refusal.status, refusal.error_code], ["failed", "bad_signature"]);
      await pingCompletes(server, agent, "heartbeat");
      assert(!agent.output().includes("agent loop failed"), agent.output().slice(-3000));
      assertEquals(watch.code, undefined, "the agent is still running");
    },

    "a lone UTF-16 surrogate in a command over the WebSocket": async () => {
      await using server = startHostileServer({ websocket: true });
      await using agent = await startAgent({ baseUrl: server.baseUrl, apiKey: HOSTILE_KEY });
      const watch = exitWatch(agent);
      await waitFor(() => server.openSockets > 0, { message: "the WebSocket" });
      const lone = { ...(await pingFor(server)), params: { x: "\udc00" } };
      server.sendFrame(JSON.stringify({ type: "command", command: lone }));
      // Acked (so the server stops offering it) and answered as bad_signature.
      await waitFor(() => server.acks.includes(lone.id), { message: "the ack" });
      await waitFor(() => server.results.some((r) => r.command_id === lone.id), {
        timeoutMs: 15_000,
        message: "the refusal",
      });
      assertEquals(
        server.results.find((r) => r.command_id === lone.id)?.error_code,
        "bad_signature",
      );
      await pingCompletes(server, agent, "websocket");
      assertEquals(watch.code, undefined, "the agent is still running");
    },

    "garbage WebSocket frames": async () => {
      await using server = startHostileServer({ websocket: true });
      await using agent = await startAgent({ baseUrl: server.baseUrl, apiKey: HOSTILE_KEY });
      const watch = exitWatch(agent);
      const frames = [
        "\u0000\u0001 not JSON at all",
        `{"type":"ping","ts":${"[".repeat(10_000)}${"]".repeat(10_000)}}`,
        JSON.stringify({ type: "ping", pad: "€".repeat(100_000) }), // 300 000 bytes
      ];
      for (const [i, frame] of frames.entries()) {
        await waitFor(() => server.upgrades === i + 1 && server.openSockets === 1, {
          timeoutMs: 20_000,
          message: `WebSocket session ${i + 1}:\n${agent.output().slice(-2000)}`,
        });
        assertEquals(server.sendFrame(frame), 1);
      }
      await waitFor(() => server.upgrades === frames.length + 1 && server.openSockets === 1, {
        timeoutMs: 20_000,
        message: `one reconnect per unusable frame:\n${agent.output().slice(-2000)}`,
      });
      await pingCompletes(server, agent, "websocket");
      assertEquals(server.upgrades, frames.length + 1, "no reconnect beyond those");
      const lines = agent.output().match(/unusable WebSocket frame/g) ?? [];
      assertEquals(lines.length, frames.length, "one line per unusable frame, no more");
      assertEquals(watch.code, undefined, "the agent is still running");
    },

    "a server slower than the agent's request timeout": async () => {
      await using server = startHostileServer();
      let released = false;
      server.answerNextHeartbeat(async () => {
        // Longer than the agent's 15 s timeout, then a normal answer nobody reads any more.
        await waitFor(() => released, { timeoutMs: 30_000, intervalMs: 100 }).catch(() => {});
        return Response.json({ ok: true, pending_commands: [] });
      });
      await using agent = await startAgent({ baseUrl: server.baseUrl, apiKey: HOSTILE_KEY });
      const watch = exitWatch(agent);
      try {
        await waitFor(() => /request timed out after 15000 ms/.test(agent.output()), {
          timeoutMs: 25_000,
          message: `the timeout:\n${agent.output().slice(-2000)}`,
        });
        await pingCompletes(server, agent, "heartbeat");
        assertEquals(watch.code, undefined, "the agent is still running");
      } finally {
        released = true;
      }
    },
  });
});

Deno.test("a forged flood while results are refused keeps the state dir within state_max_mb", async () => {
  await using server = startHostileServer({ websocket: true });
  await using agent = await startAgent({
    baseUrl: server.baseUrl,
    apiKey: HOSTILE_KEY,
    config: { state_max_mb: 1, log_level: "info" },
  });
  const watch = exitWatch(agent);
  await pingCompletes(server, agent, "websocket");
  server.failResults = true;
  // Two genuine commands whose results must survive the flood.
  const genuine = [await pingFor(server), await pingFor(server)];
  server.sendFrame(JSON.stringify({ type: "command", command: genuine[0] }));
  const flood = 3_000;
  const forged = await Promise.all(
    Array.from({ length: flood }, () => pingFor(server, { key: FORGER_KEY })),
  );
  const started = Date.now();
  for (const command of forged) server.sendFrame(JSON.stringify({ type: "command", command }));
  server.sendFrame(JSON.stringify({ type: "command", command: genuine[1] }));
  await waitFor(() => server.acks.length >= flood + 3, {
    timeoutMs: 30_000,
    message: `every forged command acked (${server.acks.length})`,
  });
  const floodMs = Date.now() - started;
  await waitFor(() => server.refusedResults > 0, { message: "a refused result post" });
  const stateBytes = await diskUsage(agent.stateDir);
  const outboxFiles = [...Deno.readDirSync(`${agent.stateDir}/outbox/results`)].length;
  const status = await agent.status();
  console.log(
    `forged flood: ${flood} forged commands acked in ${floodMs} ms with results refused; ` +
      `state dir ${(stateBytes / 1024).toFixed(0)} KiB on disk (state_max_mb 1), ` +
      `${outboxFiles} result files, status.state_used_bytes ${status?.state_used_bytes}`,
  );
  assertEquals(outboxFiles, 2, "only the genuine results are on disk");
  // The budget covers outbox + spool; the state dir's few fixed files come on top.
  assert(stateBytes <= 1 * MIB + 64 * 1024, `state dir uses ${stateBytes} bytes`);
  assertEquals(status?.state_max_bytes, 1 * MIB);
  assert(agent.output().includes("failed authentication this run"), "the flood is named once");
  assertEquals(watch.code, undefined, "the agent is still running");

  server.failResults = false;
  await waitFor(
    () => genuine.every((g) => server.results.some((r) => r.command_id === g.id)),
    { timeoutMs: 20_000, message: "the genuine results after the refusals" },
  );
  const reported = server.results.filter((r) => r.error_code === "bad_signature").length;
  assert(reported <= 100, `${reported} forged commands reported`);
  await pingCompletes(server, agent, "websocket");
  assertEquals(watch.code, undefined);
});
