/**
 * What the agent's durable stores do when a write fails (a full disk, say): nothing already
 * stored is lost or miscounted, no command runs without its id being durable, and the intake
 * keeps working instead of taking the loop that called it down.
 */
import { deepStrictEqual as assertEquals, ok as assert, rejects } from "node:assert/strict";
import { CommandIntake, MAX_FORGED_REPORTS_PER_RUN } from "../../src/agent/command_intake.ts";
import { ResultOutbox } from "../../src/agent/result_outbox.ts";
import { SeenIdStore } from "../../src/agent/seen_ids.ts";
import {
  type Command,
  COMMAND_TYPES,
  type CommandResult,
  deriveSigningKey,
} from "../../src/protocol/mod.ts";
import { memoryLogger, openSpool, sampleDiskBytes, sampleOf, signedCommand } from "./_fixtures.ts";

const KEY = "wak_" + "f".repeat(32);
const NOW = 1_764_000_000_000;

function noSpace(): Error {
  return new Error("No space left on device (os error 28)");
}

/** A state dir whose seen-id log fails while `full` is true; what was written is kept. */
function flakyDir() {
  const dir = {
    path: "/nonexistent",
    full: false,
    writes: 0,
    text: "",
    readJson: () => Promise.resolve(undefined),
    log: {
      read: () => Promise.resolve(dir.text === "" ? undefined : dir.text),
      append: (text: string) => {
        if (dir.full) return Promise.reject(noSpace());
        dir.writes++;
        dir.text += text;
        return Promise.resolve();
      },
      replace: (text: string) => {
        if (dir.full) return Promise.reject(noSpace());
        dir.writes++;
        dir.text = text;
        return Promise.resolve();
      },
      close: () => {},
    },
  };
  return dir;
}

function signed(overrides: Record<string, unknown> = {}) {
  return signedCommand(KEY, { now: NOW, overrides });
}

async function intakeWith(
  seen: SeenIdStore,
  deliver: (result: CommandResult, options: { durable: boolean }) => Promise<void>,
  allowlist: string[] = [...COMMAND_TYPES],
) {
  const executed: Command[] = [];
  const { logger, lines } = memoryLogger();
  const intake = new CommandIntake({
    workerId: () => "wkr_me",
    allowlist: () => allowlist,
    verifier: { alg: "hmac-sha256", key: await deriveSigningKey(KEY) },
    seen,
    execute: (command) => {
      executed.push(command);
      return Promise.resolve({ command_id: command.id, status: "completed" });
    },
    deliver,
    draining: () => false,
    logger,
    now: () => NOW,
  });
  return { intake, executed, lines };
}

Deno.test("SeenIdStore forgets an id whose write failed, so it is not taken for a replay", async () => {
  const dir = flakyDir();
  const seen = await SeenIdStore.open(dir, { now: () => NOW, log: dir.log });
  dir.full = true;
  await rejects(() => seen.add("a"), /No space/);
  assert(!seen.has("a"), "an id that is not on disk is not seen");
  dir.full = false;
  await seen.add("b");
  assertEquals(dir.text.split("\n").filter((l) => l !== ""), [`["b",${NOW}]`]);
  const reopened = await SeenIdStore.open(dir, { now: () => NOW, log: dir.log });
  assert(reopened.has("b") && !reopened.has("a"));
});

Deno.test("CommandIntake defers a command whose id cannot be persisted, and runs it later", async () => {
  const dir = flakyDir();
  const seen = await SeenIdStore.open(dir, { now: () => NOW, log: dir.log });
  const delivered: CommandResult[] = [];
  const s = await intakeWith(seen, (r) => {
    delivered.push(r);
    return Promise.resolve();
  });
  const command = await signed();
  dir.full = true;
  // Not acked (deferred): the server resends it. Not executed: its id is not durable.
  assertEquals(await s.intake.receive(command, "heartbeat"), "deferred");
  await s.intake.settled();
  assertEquals(s.executed.length, 0);
  assertEquals(delivered.length, 0);
  assert(s.lines.some((l) => l.includes("No space")), "the failure is logged");
  dir.full = false;
  assertEquals(await s.intake.receive(command, "websocket"), "accepted");
  await s.intake.settled();
  assertEquals(s.executed.map((c) => c.id), [command.id]);
  assertEquals(delivered.map((r) => r.status), ["completed"]);
});

Deno.test("CommandIntake defers a refusal whose result cannot be stored", async () => {
  const dir = flakyDir();
  const seen = await SeenIdStore.open(dir, { now: () => NOW, log: dir.log });
  let full = true;
  const delivered: CommandResult[] = [];
  const s = await intakeWith(seen, (r) => {
    if (full) return Promise.reject(noSpace());
    delivered.push(r);
    return Promise.resolve();
  }, ["ping"]);
  const command = await signed({ command_type: "restart_agent" });
  assertEquals(await s.intake.receive(command, "heartbeat"), "deferred");
  assert(!seen.has(command.id), "a refusal with no stored result is judged again on resend");
  full = false;
  assertEquals(await s.intake.receive(command, "heartbeat"), "refused");
  assertEquals(delivered.map((r) => r.error_code), ["not_allowed"]);
  assert(seen.has(command.id));
});

Deno.test("ResultOutbox keeps a result it cannot write in memory and still hands it out", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const outbox = await ResultOutbox.open(dir);
    await outbox.add({ command_id: "a", status: "completed" });
    // The next file name is taken by a directory: the write fails like a full disk would.
    await Deno.mkdir(`${dir}/outbox/results/0000000000000002.json`);
    await rejects(() => outbox.add({ command_id: "b", status: "completed" }));
    assertEquals(outbox.depth, 2);
    await outbox.removeOldest();
    assertEquals(outbox.peek()?.command_id, "b", "the unwritten result is still sent");
    await outbox.removeOldest();
    assertEquals(outbox.depth, 0);
    await outbox.add({ command_id: "c", status: "completed" });
    const reopened = await ResultOutbox.open(dir);
    assertEquals(reopened.peek()?.command_id, "c");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("SampleSpool counts the samples it dropped for space even when the new write fails", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const { logger } = memoryLogger();
    const spool = await openSpool(dir, logger, sampleDiskBytes(200) * 3);
    for (let i = 0; i < 3; i++) await spool.add(sampleOf("s", spool.nextSeq, 200));
    await Deno.mkdir(`${dir}/outbox/samples/0000000000000003.json`);
    await rejects(() => spool.add(sampleOf("s", 3, 200)));
    // Sample 0 was deleted to make room: it is gone, so it must be counted.
    assertEquals((await spool.peek(10)).map((s) => s.seq), [1, 2]);
    assertEquals(spool.dropped, 1);
    assertEquals(spool.nextSeq, 3, "no seq was used up by the failed write");
    const reopened = await openSpool(dir, logger);
    assertEquals(reopened.dropped, 1, "the count is persisted");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("SampleSpool counts a stored sample it cannot read as lost, and keeps going", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const { logger, lines } = memoryLogger();
    const spool = await openSpool(dir, logger);
    for (let i = 0; i < 4; i++) await spool.add(sampleOf("s", spool.nextSeq));
    const files = `${dir}/outbox/samples`;
    await Deno.writeTextFile(`${files}/0000000000000001.json`, '{"truncated');
    // Unreadable (a read error other than NotFound): a directory where the file was.
    await Deno.remove(`${files}/0000000000000002.json`);
    await Deno.mkdir(`${files}/0000000000000002.json`);
    assertEquals((await spool.peek(10)).map((s) => s.seq), [0, 3]);
    // A gap in seq must be exactly the count of samples lost.
    assertEquals(spool.dropped, 2);
    assertEquals(spool.depth, 2);
    assert(lines.some((l) => l.includes("unreadable")), "the loss is logged");
    const reopened = await openSpool(dir, logger);
    assertEquals(reopened.dropped, 2, "the count is persisted");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("SampleSpool counts samples removed without delivery (a rejected batch) as lost", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const { logger } = memoryLogger();
    const spool = await openSpool(dir, logger);
    for (let i = 0; i < 4; i++) await spool.add(sampleOf("s", spool.nextSeq));
    await spool.removeThrough(0);
    assertEquals(spool.dropped, 0, "delivered samples are not lost");
    await spool.removeThrough(2, { lost: true });
    assertEquals(spool.dropped, 2);
    assertEquals((await spool.peek(10)).map((s) => s.seq), [3]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("CommandIntake reports at most 100 forged commands per run, each once and in memory only", async () => {
  const dir = flakyDir();
  const seen = await SeenIdStore.open(dir, { now: () => NOW, log: dir.log });
  const delivered: { result: CommandResult; durable: boolean }[] = [];
  const s = await intakeWith(seen, (result, options) => {
    delivered.push({ result, durable: options.durable });
    return Promise.resolve();
  });
  const forged = (id: string) => ({
    id,
    worker_id: "wkr_me",
    command_type: "ping",
    params: {},
    timeout_seconds: 30,
    created_at: new Date(NOW).toISOString(),
    issued_at: NOW,
    expires_at: NOW + 600_000,
    signature_alg: "hmac-sha256",
    signature: "00".repeat(32),
  });
  assertEquals(await s.intake.receive(forged("f-0"), "websocket"), "refused");
  assertEquals(await s.intake.receive(forged("f-0"), "websocket"), "refused");
  assertEquals(delivered.length, 1, "reported once per run");
  // A flood of distinct forged ids: every one is acked (refused), at most 100 are reported.
  for (let i = 1; i <= 1_000; i++) {
    assertEquals(await s.intake.receive(forged(`f-${i}`), "websocket"), "refused");
  }
  assertEquals(delivered.length, MAX_FORGED_REPORTS_PER_RUN);
  assert(delivered.every((d) => !d.durable && d.result.error_code === "bad_signature"));
  assertEquals(s.intake.unreportedForged, 1_000 + 1 - MAX_FORGED_REPORTS_PER_RUN);
  assertEquals(seen.size, 0, "no forged id is persisted");
  assertEquals(dir.writes, 0, "nothing about forged commands reaches the disk");
  assertEquals(
    s.lines.filter((l) => l.includes("WARN") && l.includes("failed authentication")).length,
    1,
    "one line for the rest of the flood",
  );
  // A genuine command still runs after the flood.
  assertEquals(await s.intake.receive(await signed(), "websocket"), "accepted");
});
