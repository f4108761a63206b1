/**
 * One machine per key (protocol 3.1, v1.1): the agent sends its state dir's `instance_id`,
 * and when a server answers 409 `key_in_use` it says once which host holds the key, shows
 * `key_in_use` in `status`, retries slowly and never fights. `doctor` leaves a running agent
 * alone. The server is the test's own (`_hostile_server.ts` with `oneMachinePerKey`); the
 * real control plane's side of v1.1 has its own tests.
 */
import {
  deepStrictEqual as assertEquals,
  match as assertMatch,
  ok as assert,
} from "node:assert/strict";
import { startAgent } from "../_helpers/agent_process.ts";
import { runMain } from "../_helpers/main_process.ts";
import { waitFor } from "../_helpers/wait_for.ts";
import { connectedWorkerId } from "./_e2e.ts";
import { exitWatch, HOSTILE_KEY } from "./_hostile_steps.ts";
import { startHostileServer } from "./_hostile_server.ts";

Deno.test("the same key on a second machine: one line naming the first host, status key_in_use, no fight", async () => {
  await using server = startHostileServer({ websocket: true, oneMachinePerKey: true });
  await using first = await startAgent({
    baseUrl: server.baseUrl,
    apiKey: HOSTILE_KEY,
    config: { hostname: "host-a" },
  });
  await connectedWorkerId(first, { websocket: "open" });
  const firstInstance = server.registers[0]?.instance_id;
  assert(firstInstance !== undefined && firstInstance.length > 0, "instance_id on register");
  assertEquals((await first.status())?.instance_id, firstInstance);

  // A copy of the config on a second machine: same key, its own state dir.
  await using second = await startAgent({
    baseUrl: server.baseUrl,
    apiKey: HOSTILE_KEY,
    config: { hostname: "host-b" },
  });
  const watch = exitWatch(second);
  const refused = await waitFor(async () => {
    const s = await second.status();
    return s?.state === "key_in_use" ? s : undefined;
  }, { timeoutMs: 15_000, message: `key_in_use in status:\n${second.output().slice(-3000)}` });
  assertMatch(refused.last_error ?? "", /register: key in use by host "host-a"/);
  assert(refused.next_retry_at !== null && refused.next_retry_at - Date.now() > 4 * 60_000);
  const lines = second.output().split("\n").filter((l) => l.includes('in use by host "host-a"'));
  assertEquals(lines.length, 1, second.output().slice(-3000));
  assertMatch(lines[0]!, /ERROR .*not taking it over/);

  // An observation window for what must not happen: a second register call, or the first
  // host's WebSocket being replaced.
  const registersFromB = () => server.registers.filter((r) => r.hostname === "host-b").length;
  const deadline = Date.now() + 3_000;
  await waitFor(() => registersFromB() > 1 || server.upgrades > 1 || Date.now() >= deadline, {
    message: "the window",
  });
  assertEquals(registersFromB(), 1, "the second machine retries slowly");
  assertEquals(server.upgrades, 1, "the first machine's WebSocket was never replaced");
  assertEquals((await first.status())?.state, "connected");
  assertEquals(watch.code, undefined, "the second agent keeps running");

  const status = await runMain(["status", "--config", second.configPath]);
  assertMatch(status.stdout, /state:\s+key_in_use/);
  assertMatch(status.stdout, /last error:\s+register: key in use by host "host-a"/);
});

Deno.test("doctor leaves a running agent alone: no register, no WebSocket, a report from status.json", async () => {
  await using server = startHostileServer({ websocket: true, oneMachinePerKey: true });
  await using agent = await startAgent({ baseUrl: server.baseUrl, apiKey: HOSTILE_KEY });
  const workerId = await connectedWorkerId(agent, { websocket: "open" });
  const registers = server.registers.length;
  const result = await runMain(["doctor", "--config", agent.configPath]);
  const text = result.stdout + result.stderr;
  assertEquals(result.code, 0, text);
  assertMatch(
    text,
    /✓ running agent: the agent running with this state dir \(pid \d+\) holds the session; register and WebSocket checks are skipped/,
  );
  assertMatch(
    text,
    new RegExp(`✓ key accepted: registered as ${workerId}; last heartbeat answered \\d+ s ago`),
  );
  assertMatch(text, /✓ WebSocket: open in the agent running/);
  assertEquals(server.registers.length, registers, "doctor did not register");
  assertEquals(server.upgrades, 1, "doctor opened no WebSocket of its own");
  assertEquals((await agent.status())?.websocket, "open");

  // With the agent stopped, doctor registers as this machine: with the state dir's instance_id.
  const instance = (await agent.status())?.instance_id;
  assertEquals(await agent.stop(), 0);
  const alone = await runMain(["doctor", "--config", agent.configPath]);
  assertEquals(alone.code, 0, alone.stdout + alone.stderr);
  assertMatch(alone.stdout, /✓ key accepted: registered as wkr_/);
  assertEquals(server.registers.length, registers + 1);
  assertEquals(server.registers.at(-1)?.instance_id, instance);
  assertEquals(server.registers.at(-1)?.status, 200);
});
