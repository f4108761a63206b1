import { deepStrictEqual as assertEquals, ok as assert, rejects } from "node:assert/strict";
import { z } from "zod";
import {
  loadOrCreateInstanceId,
  openStateDir,
  probeStateDirLock,
  StateDirLockedError,
} from "../../src/state/state_dir.ts";
import { writeFileAtomic } from "../../src/shared/atomic_write.ts";

async function withTempDir(fn: (dir: string) => Promise<void>) {
  const dir = await Deno.makeTempDir({ prefix: "ftl-state-" });
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("openStateDir() creates a 0700 dir with a stream id and an instance id that survive reopening", async () => {
  await withTempDir(async (root) => {
    const path = `${root}/a/b/state`;
    const first = await openStateDir(path);
    const { streamId, instanceId } = first;
    assert(/^[0-9a-f-]{36}$/.test(streamId), streamId);
    assert(/^[0-9a-f-]{36}$/.test(instanceId), instanceId);
    assert(streamId !== instanceId);
    assertEquals((await Deno.stat(path)).mode! & 0o777, 0o700);
    await first.close();
    const second = await openStateDir(path);
    assertEquals(second.streamId, streamId);
    assertEquals(second.instanceId, instanceId, "the instance id is kept across restarts");
    await second.close();
    assertEquals(await loadOrCreateInstanceId(path), instanceId, "doctor reads the same id");
  });
});

Deno.test("openStateDir() refuses a second opener, naming the holder's pid, until the first closes", async () => {
  await withTempDir(async (path) => {
    const holder = await openStateDir(path);
    assertEquals(await probeStateDirLock(path), { locked: true, pid: Deno.pid });
    await rejects(openStateDir(path), (error: unknown) => {
      assert(error instanceof StateDirLockedError);
      assertEquals(error.pid, Deno.pid);
      assert(error.message.includes(`in use by another agent (pid ${Deno.pid})`));
      assert(error.message.includes("give this one its own state_dir"));
      return true;
    });
    await holder.close();
    assertEquals((await probeStateDirLock(path)).locked, false);
    const next = await openStateDir(path);
    await next.close();
  });
});

Deno.test("StateDir.writeJson() writes 0600 JSON that readJson() validates", async () => {
  await withTempDir(async (path) => {
    const dir = await openStateDir(path);
    try {
      const Schema = z.object({ worker_id: z.string() });
      assertEquals(await dir.readJson("worker.json", Schema), undefined);
      await dir.writeJson("worker.json", { worker_id: "wkr_1" });
      assertEquals(await dir.readJson("worker.json", Schema), { worker_id: "wkr_1" });
      assertEquals((await Deno.stat(`${path}/worker.json`)).mode! & 0o777, 0o600);
      await dir.writeJson("worker.json", { worker_id: 7 });
      await rejects(dir.readJson("worker.json", Schema), SyntaxError);
      await rejects(dir.writeJson("../escape.json", {}), TypeError);
    } finally {
      await dir.close();
    }
  });
});

Deno.test("writeFileAtomic() replaces a file whole and leaves no temp file when it fails", async () => {
  await withTempDir(async (dir) => {
    const path = `${dir}/f.json`;
    await writeFileAtomic(path, "old");
    await writeFileAtomic(path, new TextEncoder().encode("new"), { mode: 0o640 });
    assertEquals(await Deno.readTextFile(path), "new");
    assertEquals((await Deno.stat(path)).mode! & 0o777, 0o640);
    await Deno.mkdir(`${dir}/target-is-a-dir`);
    await rejects(writeFileAtomic(`${dir}/target-is-a-dir`, "x"));
    const names = [];
    for await (const entry of Deno.readDir(dir)) names.push(entry.name);
    assertEquals(names.sort(), ["f.json", "target-is-a-dir"]);
  });
});
