import { deepStrictEqual as assertEquals, throws } from "node:assert/strict";
import { isLoopbackName, parseProcNetDev } from "../../src/collector/parse_proc_net_dev.ts";
import { parseProcMounts, realMounts } from "../../src/collector/parse_proc_mounts.ts";
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
