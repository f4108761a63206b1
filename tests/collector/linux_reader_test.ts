/**
 * The Linux reader's `disks` path: `stat -f` through the long-lived helper, refreshed at most
 * every `mountRefreshMs` and served from cache in between.
 */
import { deepStrictEqual as assertEquals, ok as assert } from "node:assert/strict";
import { createLinuxReader, disksRequest, ProcFileSource } from "../../src/collector/linux.ts";
import { parseStatF } from "../../src/collector/parse_stat_f.ts";
import { volumeUsage } from "../../src/collector/statfs_disk.ts";

const linux = Deno.build.os === "linux";

Deno.test({
  name: "the helper answers disks with stat -f of each path it can stat and stays in step",
  ignore: !linux,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "ftl-disks-" });
    const spaced = `${dir}/a b  c`;
    await Deno.mkdir(spaced);
    const source = new ProcFileSource({ procMode: "helper" });
    try {
      const answer = await source.helper.request(
        disksRequest([spaced, `${dir}/missing`, "-n", "/"]),
      );
      const usage = parseStatF(answer);
      assertEquals([...usage.keys()], [spaced, "/"]);
      // The same volume as Deno's own statfs (free blocks may move between the two calls).
      const direct = await volumeUsage(spaced);
      assertEquals(usage.get(spaced)?.totalBytes, direct.totalBytes);
      // The next request is answered on its own: the disks list was consumed to its end.
      assert((await source.read("net")).includes("|bytes"));
      assertEquals(await source.helper.request(disksRequest([])), "");
      assertEquals(source.helper.starts, 1);
    } finally {
      await source.close();
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test({
  name: "createLinuxReader() refreshes disks at most every mountRefreshMs and caches between",
  ignore: !linux,
  async fn() {
    let clock = 1_000_000;
    const reader = createLinuxReader({
      procMode: "helper",
      now: () => clock,
      mountRefreshMs: 30_000,
    });
    const helper = reader.proc.helper;
    const requests: string[] = [];
    const request = helper.request.bind(helper);
    helper.request = (text, signal) => {
      requests.push(text.split("\n")[0] ?? "");
      return request(text, signal);
    };
    const disksAsked = () => requests.filter((r) => r === "disks").length;
    try {
      const first = await reader.read();
      assert(first.disks?.some((d) => d.mount === "/"), JSON.stringify(first.disks));
      assertEquals(disksAsked(), 1);
      clock += 29_999;
      const cached = await reader.read();
      assertEquals(disksAsked(), 1);
      assert(cached.disks === first.disks, "the cached list itself, not a new reading");
      // Every sample still reads the network counters and the disk path's volume.
      assertEquals(requests.filter((r) => r === "net").length, 2);
      assert(cached.mainDisk && cached.mainDisk.totalBytes > 0);
      clock += 1;
      const refreshed = await reader.read();
      assertEquals(disksAsked(), 2);
      assert(refreshed.disks !== first.disks);
      assertEquals(helper.starts, 1);
    } finally {
      await reader.close();
    }
  },
});
