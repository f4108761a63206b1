import { deepStrictEqual as assertEquals, ok as assert, throws } from "node:assert/strict";
import { isLoopbackName, parseProcNetDev } from "../../src/collector/parse_proc_net_dev.ts";
import { parseProcMounts, realMounts } from "../../src/collector/parse_proc_mounts.ts";
import { parseStatF } from "../../src/collector/parse_stat_f.ts";
import {
  disksFromStatF,
  disksRequest,
  LINUX_PROC_HELPER_SCRIPT,
} from "../../src/collector/linux.ts";
import { fixture } from "./_fixtures.ts";

Deno.test("parseProcNetDev() reads receive and transmit bytes of every interface", () => {
  const rows = parseProcNetDev(fixture("linux/proc_net_dev_sandbox.txt"));
  assertEquals(rows.map((r) => r.iface), ["lo", "ifb0", "ifb1", "eth0"]);
  assertEquals(rows[0], { iface: "lo", rxBytes: 814381, txBytes: 814381 });
  assertEquals(rows[3], { iface: "eth0", rxBytes: 182602281, txBytes: 227675 });
});

Deno.test("parseProcNetDev() refuses text without interface rows", () => {
  throws(() => parseProcNetDev("Inter-|   Receive\n face |bytes"), SyntaxError);
});

Deno.test("isLoopbackName() recognises loopback names on each OS", () => {
  assertEquals(
    ["lo", "lo0", "Loopback Pseudo-Interface 1", "eth0", "en0", "lxcbr0"].map(isLoopbackName),
    [
      true,
      true,
      true,
      false,
      false,
      false,
    ],
  );
});

Deno.test("realMounts() keeps real file systems once each", async (t) => {
  await t.step("a container: only / is real, pseudo and tmpfs mounts are left out", () => {
    const mounts = realMounts(parseProcMounts(fixture("linux/proc_mounts_sandbox.txt")));
    assertEquals(mounts, [{ device: "/dev/vda", mount: "/", fsType: "ext4" }]);
  });
  await t.step("bind mounts of one device keep the shortest point; escapes decoded", () => {
    const text = [
      "overlay / overlay rw 0 0",
      "/dev/sda1 /etc/hosts ext4 rw 0 0",
      "/dev/sda1 /etc/resolv.conf ext4 rw 0 0",
      "/dev/sda1 /data ext4 rw 0 0",
      "/dev/sdb1 /mnt/My\\040Disk xfs rw 0 0",
      "proc /proc proc rw 0 0",
      "overlay /var/lib/docker/overlay2/x/merged overlay rw 0 0",
    ].join("\n");
    assertEquals(realMounts(parseProcMounts(text)), [
      { device: "overlay", mount: "/", fsType: "overlay" },
      { device: "/dev/sda1", mount: "/data", fsType: "ext4" },
      { device: "/dev/sdb1", mount: "/mnt/My Disk", fsType: "xfs" },
    ]);
  });
  await t.step("a pseudo file system mounted over a real one hides it", () => {
    const text = "/dev/sda2 /tmp ext4 rw 0 0\ntmpfs /tmp tmpfs rw 0 0\n";
    assertEquals(realMounts(parseProcMounts(text)), []);
  });
});

Deno.test("parseStatF() computes sizes as df does, keeps names with spaces, skips other lines", () => {
  const usage = parseStatF(fixture("linux/stat_f_sandbox.txt"));
  assertEquals([...usage.keys()], ["/", "/dev", "/dev/shm"]);
  // 66053021 blocks of 4096 bytes is what `df -B1 /` printed as 1B-blocks beside this capture.
  assertEquals(usage.get("/"), {
    totalBytes: 270553174016,
    usedBytes: (66053021 - 60190390) * 4096,
  });
  assertEquals(usage.get("/dev"), { totalBytes: 3083615 * 4096, usedBytes: 0 });
  const odd = parseStatF(
    "1024 10 4 /mnt/My Disk\r\nstat: cannot read file system information for '/x'\n\n512 8 9 /y\n",
  );
  assertEquals([...odd.entries()], [
    ["/mnt/My Disk", { totalBytes: 10240, usedBytes: 6144 }],
    // More free than total blocks (a racing write) is never negative.
    ["/y", { totalBytes: 4096, usedBytes: 0 }],
  ]);
});

Deno.test("disksRequest() sends one mount point per line and ends with an empty line", () => {
  assertEquals(disksRequest(["/", "/mnt/My Disk"]), "disks\n/\n/mnt/My Disk\n");
  // ProbeProcess.request appends the final newline, which makes the empty terminator line.
  assertEquals(disksRequest([]), "disks\n");
  // A newline inside a mount point would end the list early: such a mount is left out.
  assertEquals(disksRequest(["/a", "/bad\nname", "/b"]), "disks\n/a\n/b\n");
  assert(LINUX_PROC_HELPER_SCRIPT.includes("stat -f -c '%S %b %f %n' -- \"$@\""));
});

Deno.test("disksFromStatF() joins the real mounts with the stat -f answer", async (t) => {
  const mounts = [
    { device: "/dev/sdb1", mount: "/mnt/My Disk", fsType: "xfs" },
    { device: "/dev/vda", mount: "/", fsType: "ext4" },
    { device: "server:/export", mount: "/net", fsType: "nfs" },
    { device: "/dev/loop9", mount: "/empty", fsType: "ext4" },
  ];
  await t.step("types from the mount list, sorted by mount, unanswered and empty left out", () => {
    const answer = "4096 100 40 /\n1024 10 4 /mnt/My Disk\n4096 0 0 /empty\n";
    assertEquals(disksFromStatF(mounts, answer), [
      { mount: "/", fsType: "ext4", totalBytes: 409600, usedBytes: 245760 },
      { mount: "/mnt/My Disk", fsType: "xfs", totalBytes: 10240, usedBytes: 6144 },
    ]);
  });
  await t.step("no answer at all for a non-empty list is a probe failure", () => {
    throws(() => disksFromStatF(mounts, ""), /none of 4 mount points/);
    assertEquals(disksFromStatF([], ""), []);
  });
});
