import { deepStrictEqual as assertEquals, ok as assert } from "node:assert/strict";
import { CommandIntake } from "../../src/agent/command_intake.ts";
import { SeenIdStore } from "../../src/agent/seen_ids.ts";
import {
  type Command,
  COMMAND_TYPES,
  type CommandResult,
  deriveSigningKey,
} from "../../src/protocol/mod.ts";
import { openStateDir, type StateDir } from "../../src/state/state_dir.ts";
import { memoryLogger, signedCommand } from "./_fixtures.ts";

const KEY = "wak_" + "b".repeat(32);
const NOW = 1_764_000_000_000;

function signed(overrides: Record<string, unknown> = {}, key = KEY) {
  return signedCommand(key, { now: NOW, overrides });
}

async function setup(
  options: { allowlist?: string[]; draining?: boolean; room?: () => boolean } = {},
) {
  const dir = await Deno.makeTempDir();
  const state: StateDir = await openStateDir(dir);
  const seen = await SeenIdStore.open(state, { now: () => NOW });
  const executed: Command[] = [];
  const delivered: CommandResult[] = [];
  const seenWhenExecuted: boolean[] = [];
  const intake = new CommandIntake({
    workerId: () => "wkr_me",
    allowlist: () => options.allowlist ?? [...COMMAND_TYPES],
    verifier: { alg: "hmac-sha256", key: await deriveSigningKey(KEY) },
    seen,
    execute: (command) => {
      executed.push(command);
      seenWhenExecuted.push(seen.has(command.id));
      return Promise.resolve({ command_id: command.id, status: "completed" });
    },
    deliver: (result) => {
      delivered.push(result);
      return Promise.resolve();
    },
    draining: () => options.draining ?? false,
    ...(options.room ? { roomForResults: options.room } : {}),
    logger: memoryLogger().logger,
    now: () => NOW,
  });
  return {
    intake,
    seen,
    executed,
    delivered,
    seenWhenExecuted,
    async [Symbol.asyncDispose]() {
      await state.close();
      await Deno.remove(dir, { recursive: true });
    },
  };
}

Deno.test("CommandIntake persists the id as seen before executing, and runs it once", async () => {
  await using s = await setup();
  const command = await signed();
  const decisions = await Promise.all([
    s.intake.receive(command, "websocket"),
    s.intake.receive(command, "heartbeat"),
  ]);
  await s.intake.settled();
  assertEquals(decisions, ["accepted", "replayed"]);
  assertEquals(s.executed.length, 1);
  assertEquals(s.seenWhenExecuted, [true]);
  assertEquals(s.delivered.map((r) => r.status), ["completed"]);
});

Deno.test("CommandIntake refuses bad commands with the protocol's error codes", async (t) => {
  const cases: Array<[string, () => Promise<Record<string, unknown>>, string]> = [
    ["forged with another key", () => signed({}, "wak_" + "c".repeat(32)), "bad_signature"],
    [
      "tampered after signing",
      async () => ({ ...(await signed()), timeout_seconds: 31 }),
      "bad_signature",
    ],
    ["signed for another worker", () => signed({ worker_id: "wkr_other" }), "wrong_worker"],
    [
      "expired",
      () => signed({ issued_at: NOW - 3_600_000, expires_at: NOW - 1_000_000 }),
      "expired",
    ],
    ["not allowed locally", () => signed({ command_type: "restart_agent" }), "not_allowed"],
    ["of an unknown type", () => signed({ command_type: "format_disk" }), "unknown_command"],
    [
      "with bad params",
      () => signed({ params: { force: "yes" }, command_type: "stop_trading" }),
      "invalid_params",
    ],
  ];
  for (const [name, make, code] of cases) {
    await t.step(`a command ${name} is refused with ${code} and never executed`, async () => {
      await using s = await setup({ allowlist: ["ping", "stop_trading"] });
      const command = await make();
      assertEquals(await s.intake.receive(command, "websocket"), "refused");
      await s.intake.settled();
      assertEquals(s.executed.length, 0);
      assertEquals(s.delivered.length, 1);
      assertEquals(s.delivered[0]!.status, "failed");
      assertEquals(s.delivered[0]!.error_code, code);
      assertEquals(s.delivered[0]!.command_id, command.id);
      // An unauthenticated id must not be able to block a genuine command later.
      assertEquals(s.seen.has(command.id as string), code !== "bad_signature");
    });
  }
});

Deno.test("CommandIntake takes nothing while draining, so the server keeps the command", async () => {
  await using s = await setup({ draining: true });
  const command = await signed();
  assertEquals(await s.intake.receive(command, "heartbeat"), "deferred");
  assert(!s.seen.has(command.id));
  assertEquals(s.executed.length + s.delivered.length, 0);
});

Deno.test("CommandIntake defers commands while results have no room, then takes them again", async () => {
  let room = false;
  await using s = await setup({ allowlist: ["ping"], room: () => room });
  const ping = await signed();
  const notAllowed = await signed({ command_type: "restart_agent" });
  assertEquals(await s.intake.receive(ping, "websocket"), "deferred");
  assertEquals(await s.intake.receive(notAllowed, "websocket"), "deferred");
  // A forged command needs no disk: it is still refused (in memory).
  const forged = await signed({}, "wak_" + "z".repeat(32));
  assertEquals(await s.intake.receive(forged, "websocket"), "refused");
  assertEquals(s.executed.length, 0);
  assert(!s.seen.has(ping.id) && !s.seen.has(notAllowed.id));
  room = true;
  assertEquals(await s.intake.receive(ping, "heartbeat"), "accepted");
  assertEquals(await s.intake.receive(notAllowed, "heartbeat"), "refused");
  await s.intake.settled();
  assertEquals(s.executed.map((c) => c.id), [ping.id]);
});

Deno.test("CommandIntake refuses a command without a canonical form as bad_signature, and keeps going", async () => {
  await using s = await setup();
  const genuine = await signed();
  const lone = { ...(await signed()), params: { x: "\ud800" } };
  assertEquals(await s.intake.receive(lone, "websocket"), "refused");
  assertEquals(s.delivered.map((r) => r.error_code), ["bad_signature"]);
  assert(/canonical/.test(s.delivered[0]!.error ?? ""), s.delivered[0]!.error);
  assertEquals(await s.intake.receive(genuine, "websocket"), "accepted");
});
