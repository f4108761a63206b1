/** The seen-id log (issue 17): one appended line per id, compacted, torn lines skipped. */
import { deepStrictEqual as assertEquals, ok as assert } from "node:assert/strict";
import { LEGACY_SEEN_IDS_FILE, SEEN_IDS_LOG, SeenIdStore } from "../../src/agent/seen_ids.ts";
import type { AppendLogFile } from "../../src/state/append_log.ts";
import { openStateDir } from "../../src/state/state_dir.ts";

/** An in-memory log counting appends and replacements. */
interface MemoryLog extends AppendLogFile {
  text: string;
  appends: number;
  replaces: number;
}

function memoryLog(initial = ""): MemoryLog {
  const log: MemoryLog = {
    text: initial,
    appends: 0,
    replaces: 0,
    read: (): Promise<string | undefined> =>
      Promise.resolve(log.text === "" ? undefined : log.text),
    append: (text: string) => {
      log.appends++;
      log.text += text;
      return Promise.resolve();
    },
    replace: (text: string) => {
      log.replaces++;
      log.text = text;
      return Promise.resolve();
    },
    close: () => {},
  };
  return log;
}

const noDir = { path: "/nonexistent", readJson: () => Promise.resolve(undefined) };

Deno.test("SeenIdStore appends one line per id and reads them back", async () => {
  const log = memoryLog();
  const seen = await SeenIdStore.open(noDir, { now: () => 1000, log });
  await seen.add("a");
  await seen.add("b");
  assertEquals(log.appends, 2);
  assertEquals(log.text, '["a",1000]\n["b",1000]\n');
  const again = await SeenIdStore.open(noDir, { now: () => 1000, log });
  assert(again.has("a") && again.has("b"));
  assertEquals(again.size, 2);
});

Deno.test("SeenIdStore skips a line torn by a crash and starts the next on its own line", async () => {
  const log = memoryLog('["a",1000]\n["b",10');
  const seen = await SeenIdStore.open(noDir, { now: () => 2000, log });
  assert(seen.has("a"));
  assert(!seen.has("b"), "an add that never finished did not run its command");
  await seen.add("c");
  const again = await SeenIdStore.open(noDir, { now: () => 2000, log });
  assert(again.has("a") && again.has("c") && !again.has("b"));
});

Deno.test("SeenIdStore keeps an id with a line break or quotes in it on one line", async () => {
  const log = memoryLog();
  const seen = await SeenIdStore.open(noDir, { now: () => 1, log });
  await seen.add('x"\n["forged",1]');
  const again = await SeenIdStore.open(noDir, { now: () => 1, log });
  assert(again.has('x"\n["forged",1]'));
  assert(!again.has("forged"));
  assertEquals(again.size, 1);
});

Deno.test("SeenIdStore rewrites the log without pruned ids once it is twice the live ids", async () => {
  const log = memoryLog();
  let now = 0;
  const seen = await SeenIdStore.open(noDir, { now: () => now, retentionMs: 10, log });
  for (let i = 0; i < 200; i++) {
    now = i * 100; // each id outlives the retention by the next add
    await seen.add(`id${i}`);
  }
  assert(log.replaces > 0, "compacted");
  const lines = log.text.split("\n").filter((l) => l !== "");
  assert(lines.length <= 2 * seen.size + 64, `${lines.length} lines for ${seen.size} live ids`);
  const again = await SeenIdStore.open(noDir, { now: () => now, retentionMs: 10, log });
  assert(again.has("id199"));
  assert(!again.has("id0"));
});

Deno.test("SeenIdStore on disk: carries the old JSON file over, then appends to the log", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const state = await openStateDir(dir);
    await Deno.writeTextFile(
      `${dir}/${LEGACY_SEEN_IDS_FILE}`,
      JSON.stringify({ ids: { old: 5 } }),
    );
    const seen = await SeenIdStore.open(state, { now: () => 10 });
    assert(seen.has("old"));
    await seen.add("new");
    await seen.close();
    await Deno.stat(`${dir}/${LEGACY_SEEN_IDS_FILE}`).then(
      () => assert(false, "the old file is removed"),
      () => {},
    );
    const info = await Deno.stat(`${dir}/${SEEN_IDS_LOG}`);
    if (Deno.build.os !== "windows") assertEquals(info.mode! & 0o777, 0o600);
    assertEquals(await Deno.readTextFile(`${dir}/${SEEN_IDS_LOG}`), '["old",5]\n["new",10]\n');
    const again = await SeenIdStore.open(state, { now: () => 10 });
    assert(again.has("old") && again.has("new"));
    await again.close();
    await state.close();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
