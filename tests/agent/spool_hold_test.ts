/**
 * The sample spool while sends work (issue 17): samples wait in memory and touch no file, the
 * counters are on disk before a held sample can be sent, and a crash loses exactly the held
 * samples, which the next start counts.
 */
import { deepStrictEqual as assertEquals, ok as assert } from "node:assert/strict";
import { SampleSpool, SPOOL_RECORD_FILE } from "../../src/agent/sample_spool.ts";
import {
  openDenoRecordFile,
  type OpenRecordFile,
  type RecordFile,
} from "../../src/state/slot_record.ts";
import { StateBudget } from "../../src/state/state_budget.ts";
import { memoryLogger, openSpool, sampleDiskBytes, sampleOf } from "./_fixtures.ts";

/** The real record file, with every write and sync counted. */
function countingRecord(): { open: OpenRecordFile; writes: () => number; syncs: () => number } {
  let writes = 0;
  let syncs = 0;
  return {
    open: async (path) => {
      const { file, created } = await openDenoRecordFile(path);
      const counted: RecordFile = {
        readAt: (offset, length) => file.readAt(offset, length),
        writeAt: (offset, bytes) => {
          writes++;
          return file.writeAt(offset, bytes);
        },
        syncData: () => {
          syncs++;
          return file.syncData();
        },
        close: () => file.close(),
      };
      return { file: counted, created };
    },
    writes: () => writes,
    syncs: () => syncs,
  };
}

async function sampleFiles(dir: string): Promise<string[]> {
  const names: string[] = [];
  for await (const entry of Deno.readDir(`${dir}/outbox/samples`)) {
    if (/^\d{16}\.json$/.test(entry.name)) names.push(entry.name);
  }
  return names.sort();
}

Deno.test("SampleSpool holds samples in memory while sends work, and writes no sample file", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const { logger } = memoryLogger();
    const record = countingRecord();
    const budget = new StateBudget(1 << 20);
    const spool = await SampleSpool.open(dir, {
      stream: "s",
      budget,
      logger,
      openRecord: record.open,
    });
    // Before any send went through, a sample goes to disk.
    await spool.add(sampleOf("s", spool.nextSeq));
    assertEquals((await sampleFiles(dir)).length, 1);
    await spool.removeThrough(0);
    spool.sendsWork();
    const syncsBefore = record.syncs();
    for (let i = 0; i < 5; i++) {
      const sample = await spool.add(sampleOf("s", spool.nextSeq));
      assertEquals(spool.held, 1);
      assertEquals((await spool.peek(10)).map((s) => s.seq), [sample.seq]);
      await spool.removeThrough(sample.seq);
      assertEquals(spool.depth, 0);
    }
    assertEquals(await sampleFiles(dir), [], "no sample file while sends work");
    assertEquals(budget.used, 0);
    // Per held sample: its seq on disk before it is sent, and `held_from` cleared after.
    assertEquals(record.syncs() - syncsBefore, 10);
    assertEquals(spool.nextSeq, 6);
    await spool.close();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("SampleSpool: a crash loses only the held samples, counts them, and never reuses a seq", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const { logger, lines } = memoryLogger();
    const first = await openSpool(dir, logger);
    first.sendsWork();
    for (let i = 0; i < 3; i++) await first.add(sampleOf("s", first.nextSeq));
    await first.removeThrough(0); // the server has seq 0; 1 and 2 are held when the process dies
    // No persist, no close: the process is gone.
    const second = await openSpool(dir, logger);
    assertEquals(second.nextSeq, 3, "seq 1 and 2 may have reached the server: never reused");
    assertEquals(second.dropped, 2, "the gap 1..2 is counted");
    assertEquals(second.depth, 0);
    assert(lines.some((l) => l.includes("samples held in memory were lost")));
    // Counted once: a clean reopen does not count them again.
    const third = await openSpool(dir, logger);
    assertEquals(third.dropped, 2);
    assertEquals(third.nextSeq, 3);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("SampleSpool.persist writes held samples out, and they survive a restart uncounted", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const { logger } = memoryLogger();
    const spool = await openSpool(dir, logger);
    spool.sendsWork();
    for (let i = 0; i < 3; i++) await spool.add(sampleOf("s", spool.nextSeq));
    assertEquals(await sampleFiles(dir), []);
    await spool.persist(); // a send failed
    assertEquals((await sampleFiles(dir)).length, 3);
    assertEquals(spool.held, 0);
    // Until a send goes through again, new samples go to disk too.
    await spool.add(sampleOf("s", spool.nextSeq));
    assertEquals((await sampleFiles(dir)).length, 4);
    const reopened = await openSpool(dir, logger);
    assertEquals(reopened.dropped, 0);
    assertEquals((await reopened.peek(10)).map((s) => s.seq), [0, 1, 2, 3]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("SampleSpool.persist keeps to the budget: the oldest give way, counted", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const { logger } = memoryLogger();
    const spool = await openSpool(dir, logger, sampleDiskBytes(200) * 2);
    spool.sendsWork();
    for (let i = 0; i < 5; i++) await spool.add(sampleOf("s", spool.nextSeq, 200));
    await spool.persist();
    assertEquals((await spool.peek(10)).map((s) => s.seq), [3, 4]);
    assertEquals(spool.dropped, 3);
    assertEquals(spool.nextSeq - spool.dropped - spool.depth, 0, "a gap is exactly the count");
    const reopened = await openSpool(dir, logger);
    assertEquals(reopened.dropped, 3);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("SampleSpool carries the counters of a spool from before issue 17 (meta.json) over", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const { logger } = memoryLogger();
    await Deno.mkdir(`${dir}/outbox/samples`, { recursive: true });
    await Deno.writeTextFile(
      `${dir}/outbox/samples/meta.json`,
      JSON.stringify({ stream: "s", next_seq: 41, dropped: 7 }),
    );
    const spool = await openSpool(dir, logger);
    assertEquals(spool.nextSeq, 41);
    assertEquals(spool.dropped, 7);
    await spool.close();
    const names = [];
    for await (const entry of Deno.readDir(`${dir}/outbox/samples`)) names.push(entry.name);
    assertEquals(names.sort(), [SPOOL_RECORD_FILE]);
    const again = await openSpool(dir, logger);
    assertEquals([again.nextSeq, again.dropped], [41, 7]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
