import { deepStrictEqual as assertEquals, throws } from "node:assert/strict";
import {
  availableBytesOf,
  parseDarwinDf,
  parseDarwinMount,
  parseNetstatIbn,
  parseSwapUsage,
  parseVmStat,
} from "../../src/collector/parse_darwin.ts";
import { darwinMemory, splitSections } from "../../src/collector/darwin.ts";
import { fixture } from "./_fixtures.ts";

Deno.test("parseVmStat() takes the page size from the header of each captured machine", async (t) => {
  await t.step("Intel Mac, 4 KiB pages", () => {
    const vm = parseVmStat(fixture("darwin/vm_stat_intel_4k.txt"));
    assertEquals(vm.pageSize, 4096);
    assertEquals(vm.pages["Pages free"], 6127229);
    assertEquals(vm.pages["Translation faults"], 11477162);
    // free + speculative + inactive
    assertEquals(availableBytesOf(vm), (6127229 + 430715 + 628646) * 4096);
  });
  await t.step("Apple silicon Mac, 16 KiB pages", () => {
    const vm = parseVmStat(fixture("darwin/vm_stat_apple_16k.txt"));
    assertEquals(vm.pageSize, 16384);
    assertEquals(availableBytesOf(vm), (3857 + 1075 + 443760) * 16384);
  });
  await t.step("output without the header is refused", () => {
    throws(() => parseVmStat("Pages free: 10."), SyntaxError);
  });
});

Deno.test("parseSwapUsage() reads vm.swapusage in either decimal separator", async (t) => {
  await t.step("dot decimals", () => {
    assertEquals(parseSwapUsage(fixture("darwin/swapusage_px.txt")), {
      totalBytes: 4096 * 2 ** 20,
      usedBytes: 2743.5 * 2 ** 20,
    });
  });
  await t.step("comma decimals (a German locale)", () => {
    assertEquals(parseSwapUsage(fixture("darwin/swapusage_comma_locale.txt")), {
      totalBytes: 1024 * 2 ** 20,
      usedBytes: 379.25 * 2 ** 20,
    });
  });
});

Deno.test("darwinMemory() combines vm_stat with hw.memsize and never reports more available than total", () => {
  const sysctl = "17179869184\ntotal = 4096.00M  used = 2743.50M  free = 1352.50M  (encrypted)\n";
  const memory = darwinMemory(fixture("darwin/vm_stat_apple_16k.txt"), sysctl);
  assertEquals(memory.totalBytes, 17179869184);
  assertEquals(memory.availableBytes, (3857 + 1075 + 443760) * 16384);
  assertEquals(memory.swapUsedBytes, 2743.5 * 2 ** 20);
  // The Intel fixture's free pages exceed a small total: capped, never above total.
  assertEquals(
    darwinMemory(fixture("darwin/vm_stat_intel_4k.txt"), sysctl).availableBytes,
    17179869184,
  );
});

Deno.test("splitSections() separates the tool outputs of one helper answer", () => {
  const answer = "a\nb\n@@FTL_SECTION@@\nc\n@@FTL_SECTION@@\n";
  assertEquals(splitSections(answer), ["a\nb\n", "c\n", ""]);
});

Deno.test("parseDarwinDf() keeps device-backed volumes and converts blocks to bytes", async (t) => {
  await t.step("df -P -k on High Sierra (APFS), with types from mount", () => {
    const types = parseDarwinMount(fixture("darwin/mount_high_sierra.txt"));
    assertEquals(parseDarwinDf(fixture("darwin/df_kP_apfs_high_sierra.txt"), types), [
      { mount: "/", fsType: "apfs", totalBytes: 244912536 * 1024, usedBytes: 123227692 * 1024 },
      {
        mount: "/private/var/vm",
        fsType: "apfs",
        totalBytes: 244912536 * 1024,
        usedBytes: 1048596 * 1024,
      },
    ]);
  });
  await t.step("plain df on Mojave: 512-byte blocks, inode columns, no devfs or automounts", () => {
    const disks = parseDarwinDf(fixture("darwin/df_mojave_512.txt"));
    assertEquals(disks.map((d) => d.mount), [
      "/",
      "/private/var/vm",
      "/Volumes/MARKO",
      "/Volumes/VM",
      "/Volumes/Archiwum",
    ]);
    assertEquals(disks[0]?.totalBytes, 1953595632 * 512);
    assertEquals(disks[0]?.usedBytes, 455931488 * 512);
  });
  await t.step("APFS plumbing volumes are left out, the Data volume kept", () => {
    const text = [
      "Filesystem     1024-blocks      Used Available Capacity  Mounted on",
      "/dev/disk3s1s1   971350180  10485760 500000000     3%    /",
      "/dev/disk3s6     971350180   2097176 500000000     1%    /System/Volumes/VM",
      "/dev/disk3s5     971350180 300000000 500000000    38%    /System/Volumes/Data",
      "/dev/disk4s1       1000000    400000    600000    40%    /Volumes/My Disk",
    ].join("\n");
    assertEquals(parseDarwinDf(text).map((d) => d.mount), [
      "/",
      "/System/Volumes/Data",
      "/Volumes/My Disk",
    ]);
  });
  await t.step("something that is not df output is refused", () => {
    throws(() => parseDarwinDf("df: illegal option"), SyntaxError);
  });
});

Deno.test("parseNetstatIbn() keeps one link-level row per interface", async (t) => {
  await t.step("netstat -ibdn (Yosemite, with a Drop column)", () => {
    assertEquals(parseNetstatIbn(fixture("darwin/netstat_ibdn_yosemite.txt")), [
      { iface: "en0", rxBytes: 11902425614, txBytes: 2354022366 },
      { iface: "en1", rxBytes: 0, txBytes: 0 },
      { iface: "en2", rxBytes: 0, txBytes: 0 },
      { iface: "en3", rxBytes: 0, txBytes: 0 },
    ]);
  });
  await t.step("netstat -ib (Lion): address rows deduplicated, down marker stripped", () => {
    const rows = parseNetstatIbn(fixture("darwin/netstat_ib_lion.txt"));
    assertEquals(rows.map((r) => r.iface), ["lo0", "gif0", "stf0", "en0"]);
    assertEquals(rows[3], { iface: "en0", rxBytes: 13309516362, txBytes: 11363839527 });
  });
  await t.step("output without the Ibytes column is refused", () => {
    throws(() => parseNetstatIbn("Name Mtu Network Address Ipkts Ierrs Opkts"), SyntaxError);
  });
});
