import { deepStrictEqual as assertEquals, ok as assert, rejects } from "node:assert/strict";
import { ResultOutbox } from "../../src/agent/result_outbox.ts";
import { SampleSpool } from "../../src/agent/sample_spool.ts";
import { SeenIdStore } from "../../src/agent/seen_ids.ts";
import { openStateDir } from "../../src/state/state_dir.ts";
import { memoryLogger, sampleOf } from "./_fixtures.ts";
import { onDiskBytes, StateBudget } from "../../src/agent/state_budget.ts";

Deno.test("SampleSpool keeps seq gap-free across a reopen and removes acknowledged samples", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const { logger } = memoryLogger();
    let spool = await SampleSpool.open(dir, {
      stream: "s1",
      budget: new StateBudget(1 << 20),
      logger,
    });
    for (let i = 0; i < 3; i++) await spool.add(sampleOf("s1", spool.nextSeq));
    await spool.removeThrough(1);
    spool = await SampleSpool.open(dir, { stream: "s1", budget: new StateBudget(1 << 20), logger });
    assertEquals(spool.nextSeq, 3);
    assertEquals((await spool.peek(10)).map((s) => s.seq), [2]);
    await spool.removeThrough(2);
    spool = await SampleSpool.open(dir, { stream: "s1", budget: new StateBudget(1 << 20), logger });
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
    const size = new TextEncoder().encode(JSON.stringify(sampleOf("s", 0, 200))).length;
    const spool = await SampleSpool.open(dir, {
      stream: "s",
      budget: new StateBudget(onDiskBytes(size) * 3),
      logger,
    });
    for (let i = 0; i < 5; i++) await spool.add(sampleOf("s", spool.nextSeq, 200));
    assertEquals(spool.depth, 3);
    assertEquals(spool.dropped, 2);
    assertEquals((await spool.peek(500)).map((s) => s.seq), [2, 3, 4]);
    assert(lines.some((l) => l.includes("dropped the oldest samples")));
    const reopened = await SampleSpool.open(dir, {
      stream: "s",
      budget: new StateBudget(1 << 20),
      logger,
    });
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
