import { deepStrictEqual as assertEquals, rejects } from "node:assert/strict";
import { z } from "zod";
import {
  type OpenRecordFile,
  type RecordFile,
  SLOT_BYTES,
  SlotRecord,
} from "../../src/state/slot_record.ts";

const Value = z.object({ n: z.number().int() });

/** An in-memory record file: bytes, how many syncs, and a write that can be torn. */
class MemoryFile implements RecordFile {
  bytes = new Uint8Array(0);
  syncs = 0;
  writes = 0;
  /** When set, the next write stops after this many bytes (a crash mid-write). */
  tearAfter: number | undefined;

  readAt(offset: number, length: number): Promise<Uint8Array> {
    return Promise.resolve(this.bytes.slice(offset, offset + length));
  }
  writeAt(offset: number, bytes: Uint8Array): Promise<void> {
    this.writes++;
    const part = this.tearAfter === undefined ? bytes : bytes.subarray(0, this.tearAfter);
    this.tearAfter = undefined;
    const size = Math.max(this.bytes.length, offset + part.length);
    const next = new Uint8Array(size);
    next.set(this.bytes);
    next.set(part, offset);
    this.bytes = next;
    return Promise.resolve();
  }
  syncData(): Promise<void> {
    this.syncs++;
    return Promise.resolve();
  }
  close(): void {}
}

function opener(file: MemoryFile): OpenRecordFile {
  return () => Promise.resolve({ file, created: file.bytes.length === 0 });
}

Deno.test("SlotRecord reads back the last value written, across a reopen", async () => {
  const file = new MemoryFile();
  const first = await SlotRecord.open("x", Value, opener(file));
  assertEquals(first.value, undefined);
  assertEquals(first.created, true);
  for (let n = 1; n <= 5; n++) await first.record.write({ n });
  assertEquals(file.bytes.length, 2 * SLOT_BYTES);
  const again = await SlotRecord.open("x", Value, opener(file));
  assertEquals(again.value, { n: 5 });
  assertEquals(again.created, false);
  // Generations go on after a reopen: the next write is newer than both slots.
  await again.record.write({ n: 6 });
  assertEquals((await SlotRecord.open("x", Value, opener(file))).value, { n: 6 });
});

Deno.test("SlotRecord syncs only when asked", async () => {
  const file = new MemoryFile();
  const { record } = await SlotRecord.open("x", Value, opener(file));
  await record.write({ n: 1 });
  await record.write({ n: 2 });
  assertEquals(file.syncs, 0);
  await record.write({ n: 3 }, { sync: true });
  assertEquals(file.syncs, 1);
  assertEquals(file.writes, 3);
});

Deno.test("SlotRecord: a torn write leaves the value before it", async () => {
  const file = new MemoryFile();
  const { record } = await SlotRecord.open("x", Value, opener(file));
  await record.write({ n: 1 });
  await record.write({ n: 2 });
  for (const tear of [0, 1, 10, 20, 30, 40]) {
    const before = (await SlotRecord.open("x", Value, opener(file))).value;
    const reopened = await SlotRecord.open("x", Value, opener(file));
    file.tearAfter = tear;
    // The torn slot holds the older value's bytes overwritten in part by the new ones (the
    // new JSON and its hash take about 45 bytes, so every tear here cuts into them).
    await reopened.record.write({ n: 1000 + tear });
    const after = (await SlotRecord.open("x", Value, opener(file))).value;
    assertEquals(after, before, `torn after ${tear} bytes`);
    // A whole write then lands as usual.
    await reopened.record.write({ n: 2000 + tear });
    assertEquals((await SlotRecord.open("x", Value, opener(file))).value, { n: 2000 + tear });
  }
});

Deno.test("SlotRecord ignores a slot that does not match the schema, and refuses a value too big", async () => {
  const file = new MemoryFile();
  const Loose = z.object({ n: z.number() }).or(z.object({ s: z.string() }));
  const { record } = await SlotRecord.open("x", Loose, opener(file));
  await record.write({ n: 1 });
  await record.write({ s: "a" }); // newer, but not a `Value`
  assertEquals((await SlotRecord.open("x", Value, opener(file))).value, { n: 1 });
  await rejects(record.write({ s: "a".repeat(SLOT_BYTES) }), RangeError);
  // The refused write changed nothing.
  assertEquals((await SlotRecord.open("x", Loose, opener(file))).value, { s: "a" });
});

Deno.test("SlotRecord on disk: one file of two slots, mode 0600", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = `${dir}/meta.rec`;
    const first = await SlotRecord.open(path, Value);
    assertEquals(first.created, true);
    await first.record.write({ n: 7 }, { sync: true });
    await first.record.write({ n: 8 });
    await first.record.close();
    const info = await Deno.stat(path);
    assertEquals(info.size, 2 * SLOT_BYTES);
    if (Deno.build.os !== "windows") assertEquals(info.mode! & 0o777, 0o600);
    const again = await SlotRecord.open(path, Value);
    assertEquals(again.value, { n: 8 });
    await again.record.close();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
