import { deepStrictEqual as assertEquals, ok as assert } from "node:assert/strict";
import { signedCommand } from "./_fixtures.ts";
import { startAgent } from "../_helpers/agent_process.ts";
import { startControlPlane } from "../_helpers/control_plane_process.ts";
import { waitFor } from "../_helpers/wait_for.ts";
import { Admin, connectedWorkerId, FAST_CP_ARGS } from "./_e2e.ts";
import { type HostileServer, startHostileServer } from "./_hostile_server.ts";
import type { Command } from "../../src/protocol/mod.ts";

const KEY = "wak_" + "Q".repeat(32);
const OTHER_KEY = "wak_" + "R".repeat(32);

function command(workerId: string, overrides: Record<string, unknown> = {}, key = KEY) {
  return signedCommand(key, { overrides: { worker_id: workerId, ...overrides } });
}

/**
 * Starts a second agent on `dir`, hands it `genuine` again followed by a marker, and asserts
 * that only the marker ran: `genuine` was a replay.
 */
async function assertReplayIgnoredAfterRestart(
  server: HostileServer,
  dir: string,
  genuine: Command,
): Promise<void> {
  const second = await startAgent({ baseUrl: server.baseUrl, apiKey: KEY, dir });
  const marker = await command(server.workerId);
  server.queue(genuine, marker);
  await waitFor(() => server.results.some((r) => r.command_id === marker.id), {
    timeoutMs: 20_000,
    message: "the marker's result",
  });
  assertEquals(server.results.filter((r) => r.command_id === genuine.id).length, 1);
  assert(/replayed command ignored/.test(second.output()));
  assertEquals(
    (second.output().match(/command accepted/g) ?? []).length,
    1,
    "only the marker ran in the second agent",
  );
  assertEquals(await second.stop(), 0);
}

Deno.test("forged, tampered, expired and wrong-worker commands are refused with their codes, and a replay stays refused after a restart", async () => {
  await using server = startHostileServer();
  const me = server.workerId;
  const forged = await command(me, {}, OTHER_KEY);
  const tampered = { ...(await command(me)), command_type: "restart_agent" };
  const expired = await command(me, {
    issued_at: Date.now() - 3_600_000,
    expires_at: Date.now() - 1_800_000,
  });
  const wrongWorker = await command("wkr_someoneelse000000000000");
  const genuine = await command(me);
  server.queue(forged, tampered, expired, wrongWorker, genuine);

  const dir = await Deno.makeTempDir({ prefix: "ftl-agent-" });
  try {
    const first = await startAgent({ baseUrl: server.baseUrl, apiKey: KEY, dir });
    await waitFor(() => server.results.length >= 5, {
      timeoutMs: 20_000,
      message: "five results",
    });
    const codes = Object.fromEntries(
      server.results.map((r) => [r.command_id, `${r.status}/${r.error_code ?? ""}`]),
    );
    assertEquals(codes, {
      [forged.id]: "failed/bad_signature",
      [tampered.id]: "failed/bad_signature",
      [expired.id]: "failed/expired",
      [wrongWorker.id]: "failed/wrong_worker",
      [genuine.id]: "completed/",
    });
    // The upgrade answered 404: the agent stays on heartbeat polling.
    await waitFor(async () => (await first.status())?.websocket === "unsupported", {
      message: "websocket unsupported",
    });
    assertEquals(await first.stop(), 0);

    // Same state dir: the genuine command handed out again must not run again.
    await assertReplayIgnoredAfterRestart(server, dir, genuine);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a command type missing from allowed_commands is refused as not_allowed by the real control plane's agent", async () => {
  await using cp = await startControlPlane({ args: FAST_CP_ARGS });
  const admin = new Admin(cp);
  await using agent = await startAgent({
    baseUrl: cp.baseUrl,
    apiKey: await cp.createKey("allow"),
    config: { allowed_commands: ["ping"] },
  });
  const workerId = await connectedWorkerId(agent, { websocket: "open" });
  const id = await admin.command(workerId, "collect_diagnostics");
  const row = await admin.finished(workerId, id, 5_000);
  assertEquals(row.status, "failed");
  assertEquals(row.result?.error_code, "not_allowed");
  assert(!/command accepted/.test(agent.output()));
});

Deno.test("results wait in the outbox through server errors and an agent crash, then arrive in order", async () => {
  await using server = startHostileServer();
  server.failResults = true;
  const commands = [
    await command(server.workerId),
    await command(server.workerId),
    await command(server.workerId),
  ];
  server.queue(...commands);
  const dir = await Deno.makeTempDir({ prefix: "ftl-agent-" });
  try {
    const first = await startAgent({ baseUrl: server.baseUrl, apiKey: KEY, dir });
    await waitFor(async () => (await first.status())?.pending_results === 3, {
      timeoutMs: 15_000,
      message: "three results in the outbox",
    });
    await waitFor(() => server.refusedResults >= 1, { message: "a refused result post" });
    first.signal("SIGKILL"); // a crash: nothing is flushed
    await first.exited;
    server.failResults = false;
    const second = await startAgent({ baseUrl: server.baseUrl, apiKey: KEY, dir });
    await waitFor(() => server.results.length >= 3, { timeoutMs: 15_000, message: "3 results" });
    assertEquals(server.results.map((r) => r.command_id), commands.map((c) => c.id));
    assertEquals(server.results.map((r) => r.status), ["completed", "completed", "completed"]);
    assertEquals((second.output().match(/command accepted/g) ?? []).length, 0, "nothing re-ran");
    assertEquals(await second.stop(), 0);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a command that ran before a crash (SIGKILL) is a replay when handed out after the restart", async () => {
  await using server = startHostileServer();
  const genuine = await command(server.workerId);
  server.queue(genuine);
  const dir = await Deno.makeTempDir({ prefix: "ftl-agent-" });
  try {
    const first = await startAgent({ baseUrl: server.baseUrl, apiKey: KEY, dir });
    await waitFor(() => server.results.some((r) => r.command_id === genuine.id), {
      timeoutMs: 20_000,
      message: "the command's result",
    });
    first.signal("SIGKILL"); // a crash: the seen-id log is all that is left of it
    await first.exited;
    await assertReplayIgnoredAfterRestart(server, dir, genuine);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
