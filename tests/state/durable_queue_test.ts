import { deepStrictEqual as assertEquals, rejects } from "node:assert/strict";
import { z } from "zod";
import { DurableQueue } from "../../src/state/durable_queue.ts";
import { DISK_BLOCK_BYTES, StateBudget } from "../../src/state/state_budget.ts";

const Item = z.object({ n: z.number() });

function open(dir: string, budget: StateBudget, holdValues: boolean, firstKey?: number) {
  return DurableQueue.open(dir, {
    schema: Item,
    budget,
    part: "samples",
    holdValues,
    ...(firstKey === undefined ? {} : { firstKey }),
  });
}

Deno.test("DurableQueue keeps order and keys across a reopen; memory-only entries cost no disk", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const budget = new StateBudget(1 << 20);
    const queue = await open(dir, budget, false, 5);
    for (const n of [1, 2]) await queue.append(queue.prepare({ n }));
    await queue.append(queue.prepare({ n: 3 }), { durable: false });
    assertEquals(queue.depth, 3);
    assertEquals(budget.usedBy("samples"), 2 * DISK_BLOCK_BYTES, "only what is on disk counts");
    const { items } = await queue.peek(10);
    assertEquals(items.map((i) => [i.key, i.value.n]), [[5, 1], [6, 2], [7, 3]]);
    assertEquals(await queue.removeThrough(5), 1);
    const again = await open(dir, new StateBudget(1 << 20), false);
    assertEquals((await again.peek(10)).items.map((i) => i.key), [6], "memory is not reopened");
    assertEquals(again.nextKey, 7, "the next key follows the files");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("DurableQueue uses a key for a failed write only when it keeps the value in memory", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const queue = await open(dir, new StateBudget(1 << 20), true);
    // The next file name is taken by a directory: the write fails as on a full disk.
    await Deno.mkdir(`${dir}/0000000000000000.json`);
    await rejects(() => queue.append(queue.prepare({ n: 1 })));
    assertEquals([queue.depth, queue.nextKey], [0, 0], "nothing changed");
    await rejects(() => queue.append(queue.prepare({ n: 1 }), { keepOnFailure: true }));
    assertEquals([queue.depth, queue.nextKey, queue.oldest()?.value.n], [1, 1, 1]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("DurableQueue hands an entry out while it is written; removing it waits for the write", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const budget = new StateBudget(1 << 20);
    const queue = await open(dir, budget, true, 1);
    const appended = queue.append(queue.prepare({ n: 1 }), { whileWriting: true });
    // Sendable at once, before the write is done.
    assertEquals(queue.oldest(), { key: 1, value: { n: 1 } });
    // The server took it before the write finished: no file may be left behind.
    const removed = queue.dropOldest();
    assertEquals(await appended, 1);
    assertEquals(await removed, true);
    const names: string[] = [];
    for await (const entry of Deno.readDir(dir)) names.push(entry.name);
    assertEquals(names, []);
    assertEquals(budget.used, 0);
    // Kept (and counted) when nothing removes it.
    await queue.append(queue.prepare({ n: 2 }), { whileWriting: true });
    assertEquals(budget.used, DISK_BLOCK_BYTES);
    const reopened = await open(dir, new StateBudget(1 << 20), true, 1);
    assertEquals((await reopened.peek(5)).items.map((i) => i.value), [{ n: 2 }]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
