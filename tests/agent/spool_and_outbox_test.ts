import { deepStrictEqual as assertEquals, ok as assert, rejects } from "node:assert/strict";
import { ResultOutbox } from "../../src/agent/result_outbox.ts";
import { SampleSpool } from "../../src/agent/sample_spool.ts";
import { SeenIdStore } from "../../src/agent/seen_ids.ts";
import { openStateDir } from "../../src/state/state_dir.ts";
import { memoryLogger, openSpool, sampleDiskBytes, sampleOf } from "./_fixtures.ts";
import { DISK_BLOCK_BYTES, StateBudget } from "../../src/state/state_budget.ts";

Deno.test("SampleSpool keeps seq gap-free across a reopen and removes acknowledged samples", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const { logger } = memoryLogger();
    let spool = await openSpool(dir, logger, 1 << 20, "s1");
    for (let i = 0; i < 3; i++) await spool.add(sampleOf("s1", spool.nextSeq));
    await spool.removeThrough(1);
    spool = await openSpool(dir, logger, 1 << 20, "s1");
    assertEquals(spool.nextSeq, 3);
    assertEquals((await spool.peek(10)).map((s) => s.seq), [2]);
    await spool.removeThrough(2);
    spool = await openSpool(dir, logger, 1 << 20, "s1");
    assertEquals(spool.nextSeq, 3, "the counter survives an empty spool");
    await rejects(() => spool.add(sampleOf("s1", 7)), RangeError);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("SampleSpool drops the oldest samples when full, counts and logs them", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const { logger, lines } = memoryLogger();
    const spool = await openSpool(dir, logger, sampleDiskBytes(200) * 3);
    for (let i = 0; i < 5; i++) await spool.add(sampleOf("s", spool.nextSeq, 200));
    assertEquals(spool.depth, 3);
    assertEquals(spool.dropped, 2);
    assertEquals((await spool.peek(500)).map((s) => s.seq), [2, 3, 4]);
    assert(lines.some((l) => l.includes("dropped the oldest samples")));
    const reopened = await openSpool(dir, logger);
    assertEquals(reopened.dropped, 2, "the drop count is persisted");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("ResultOutbox returns results in order, also after a reopen", async () => {
  const dir = await Deno.makeTempDir();
  try {
    let outbox = await ResultOutbox.open(dir);
    for (const id of ["a", "b", "c"]) {
      await outbox.add({ command_id: id, status: "completed" });
    }
    await outbox.removeOldest();
    outbox = await ResultOutbox.open(dir);
    assertEquals(outbox.depth, 2);
    assertEquals(outbox.peek()?.command_id, "b");
    await outbox.add({ command_id: "d", status: "failed" });
    await outbox.removeOldest();
    await outbox.removeOldest();
    assertEquals(outbox.peek()?.command_id, "d");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("SeenIdStore persists ids and prunes the ones past retention", async () => {
  const dir = await Deno.makeTempDir();
  try {
    let now = 0;
    let state = await openStateDir(dir);
    const seen = await SeenIdStore.open(state, { now: () => now, retentionMs: 1000 });
    await seen.add("old");
    now = 500;
    await seen.add("new");
    await state.close();
    state = await openStateDir(dir);
    const reopened = await SeenIdStore.open(state, { now: () => now, retentionMs: 1000 });
    assert(reopened.has("old") && reopened.has("new"));
    now = 1200;
    await reopened.add("newest");
    assert(!reopened.has("old"));
    assert(reopened.has("new"));
    await state.close();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("the outbox and the spool share state_max_mb: results are never dropped, samples give way", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const { logger, lines } = memoryLogger();
    const budget = new StateBudget(10 * DISK_BLOCK_BYTES);
    const outbox = await ResultOutbox.open(dir, { budget });
    const spool = await SampleSpool.open(dir, { stream: "s", budget, logger });
    for (let i = 0; i < 8; i++) await spool.add(sampleOf("s", spool.nextSeq));
    assertEquals(budget.usedBy("samples"), 8 * DISK_BLOCK_BYTES, "each file counts whole blocks");
    for (let i = 0; i < 6; i++) await outbox.add({ command_id: `r${i}`, status: "completed" });
    assertEquals(outbox.depth, 6, "results are written whatever the budget");
    assert(budget.resultsFull, "results use half the budget or more");
    await spool.add(sampleOf("s", spool.nextSeq));
    assertEquals(spool.depth, 4, "the spool gets what the results leave");
    assertEquals(spool.dropped, 5);
    assert(budget.used <= budget.maxBytes);
    assertEquals(lines.filter((l) => l.includes("WARN") && l.includes("state_max_mb")).length, 1);
    // More results than the budget: the new sample cannot be stored and is counted as lost.
    for (let i = 6; i < 12; i++) await outbox.add({ command_id: `r${i}`, status: "completed" });
    const seq = spool.nextSeq;
    await spool.add(sampleOf("s", seq));
    assertEquals(spool.depth, 0);
    assertEquals(spool.nextSeq, seq + 1, "its seq is used, so the gap equals the count");
    assertEquals(spool.dropped, 5 + 4 + 1);
    // A reopen counts what is on disk again.
    const again = new StateBudget(10 * DISK_BLOCK_BYTES);
    await ResultOutbox.open(dir, { budget: again });
    assertEquals(again.usedBy("results"), 12 * DISK_BLOCK_BYTES);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a result kept in memory only never touches the disk and is still sent in order", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const budget = new StateBudget(1 << 20);
    const outbox = await ResultOutbox.open(dir, { budget });
    await outbox.add({ command_id: "a", status: "completed" });
    await outbox.add({ command_id: "forged", status: "failed" }, { durable: false });
    await outbox.add({ command_id: "b", status: "completed" });
    assertEquals(budget.usedBy("results"), 2 * DISK_BLOCK_BYTES);
    const files = [...Deno.readDirSync(`${dir}/outbox/results`)].map((e) => e.name);
    assertEquals(files.length, 2);
    const order: string[] = [];
    while (outbox.peek()) {
      order.push(outbox.peek()!.command_id);
      await outbox.removeOldest();
    }
    assertEquals(order, ["a", "forged", "b"]);
    assertEquals(budget.usedBy("results"), 0);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
