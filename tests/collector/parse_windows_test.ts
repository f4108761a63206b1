import { deepStrictEqual as assertEquals, throws } from "node:assert/strict";
import {
  parseKeyValueRecords,
  parseWin32LogicalDisks,
  parseWin32NetworkInterfaces,
  parseWin32OperatingSystem,
  parseWindowsSample,
} from "../../src/collector/parse_windows.ts";
import { driveOf, encodePowerShell } from "../../src/collector/windows.ts";
import { fixture } from "./_fixtures.ts";

const KIB = 1024;

Deno.test("parseWin32OperatingSystem() reads memory and page file sizes in KiB", async (t) => {
  await t.step("a Windows Server 2016 WMI dump", () => {
    const objects = JSON.parse(fixture("windows/os_server2016_wmi.json"));
    assertEquals(parseWin32OperatingSystem(objects), {
      totalBytes: 4193764 * KIB,
      availableBytes: 3106200 * KIB,
      swapTotalBytes: 720896 * KIB,
      swapUsedBytes: (720896 - 583768) * KIB,
    });
  });
  await t.step("ConvertTo-Json -Compress with only the memory properties", () => {
    const memory = parseWin32OperatingSystem(
      JSON.parse(fixture("windows/os_convertto_json_compress.json")),
    );
    assertEquals(memory, {
      totalBytes: 16389632 * KIB,
      availableBytes: 2359232 * KIB,
      swapTotalBytes: null,
      swapUsedBytes: null,
    });
  });
  await t.step("an object without the memory properties gives null", () => {
    assertEquals(parseWin32OperatingSystem({ Caption: "x" }), null);
  });
});

Deno.test("parseWin32LogicalDisks() keeps local fixed disks only", async (t) => {
  await t.step(
    "removable (Ventoy USB) and CD drives are left out; disks without a size too",
    () => {
      const objects = JSON.parse(fixture("windows/logicaldisk_removable.json"));
      assertEquals(parseWin32LogicalDisks(objects), []);
      const sized = objects.map((o: Record<string, unknown>) => ({
        ...o,
        Size: 1000,
        FreeSpace: 250,
      }));
      assertEquals(parseWin32LogicalDisks(sized).map((d) => d.mount), ["C:", "E:", "F:"]);
    },
  );
  await t.step("Format-List text of a fixed disk", () => {
    const records = parseKeyValueRecords(fixture("windows/logicaldisk_format_list.txt"));
    assertEquals(parseWin32LogicalDisks(records), [{
      mount: "C:",
      fsType: "NTFS",
      totalBytes: 510979805184,
      usedBytes: 510979805184 - 46720376832,
    }]);
  });
});

Deno.test("parseWin32NetworkInterfaces() reads every NIC of a multi-NIC machine", () => {
  const records = parseKeyValueRecords(fixture("windows/net_wmic_multi_nic.txt"));
  const rows = parseWin32NetworkInterfaces(records);
  assertEquals(rows.length, 5);
  assertEquals(rows[1], {
    iface: "Realtek PCIe GBE Family Controller _2",
    rxBytes: 12523547,
    txBytes: 720791,
  });
  assertEquals(rows.map((r) => r.iface).includes("Teredo Tunneling Pseudo-Interface"), true);
});

Deno.test("parseKeyValueRecords() splits list text into one object per block", () => {
  const records = parseKeyValueRecords("A=1\r\r\nB=\r\r\n\r\r\nA=2\nName : C:\n");
  assertEquals(records, [{ A: "1", B: "" }, { A: "2", Name: "C:" }]);
});

Deno.test("parseWindowsSample() reads the helper's JSON document", () => {
  const text = JSON.stringify({
    os: JSON.parse(fixture("windows/os_server2016_wmi.json")),
    disks: parseKeyValueRecords(fixture("windows/logicaldisk_format_list.txt")),
    net: parseKeyValueRecords(fixture("windows/net_wmic_multi_nic.txt")),
  });
  const reading = parseWindowsSample(text);
  assertEquals(reading.systemDrive, "C:");
  assertEquals(reading.memory?.totalBytes, 4193764 * KIB);
  assertEquals(reading.disks.length, 1);
  assertEquals(reading.net.length, 5);
  throws(() => parseWindowsSample("[]"), SyntaxError);
  throws(() => parseWindowsSample("Get-CimInstance : Access denied"), SyntaxError);
});

Deno.test("driveOf() finds the drive letter of a Windows path", () => {
  assertEquals(driveOf("c:\\Users\\me\\AppData"), "C:");
  assertEquals(driveOf("\\\\server\\share"), null);
});

Deno.test("encodePowerShell() produces base64 of UTF-16LE as -EncodedCommand expects", () => {
  // "ab" in UTF-16LE is 61 00 62 00.
  assertEquals(encodePowerShell("ab"), btoa("a\0b\0"));
});
