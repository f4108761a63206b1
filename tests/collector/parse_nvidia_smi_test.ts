import { deepStrictEqual as assertEquals, throws } from "node:assert/strict";
import { SampleSchema } from "../../src/protocol/mod.ts";
import { nvidiaNumber, parseNvidiaSmiCsv } from "../../src/collector/parse_nvidia_smi.ts";
import { fixture } from "./_fixtures.ts";

Deno.test("parseNvidiaSmiCsv() reads the collector's own noheader,nounits format", () => {
  const text = "0, NVIDIA H100 80GB HBM3, 87, 61234, 81559, 64, 512.31\n" +
    "1, NVIDIA H100 80GB HBM3, [N/A], 4, 81559, [Not Supported], [N/A]\n";
  assertEquals(parseNvidiaSmiCsv(text), [
    {
      index: 0,
      name: "NVIDIA H100 80GB HBM3",
      util_percent: 87,
      memory_used_mb: 61234,
      memory_total_mb: 81559,
      temperature_c: 64,
      power_w: 512.31,
    },
    {
      index: 1,
      name: "NVIDIA H100 80GB HBM3",
      util_percent: null,
      memory_used_mb: 4,
      memory_total_mb: 81559,
      temperature_c: null,
      power_w: null,
    },
  ]);
});

Deno.test("parseNvidiaSmiCsv() reads real captures by their header", async (t) => {
  await t.step("one Tesla P100 (netdata fixture): absent fields are null, [N/A] ignored", () => {
    assertEquals(parseNvidiaSmiCsv(fixture("nvidia/tesla_p100_netdata.csv")), [{
      index: 0,
      name: "Tesla P100-PCIE-16GB",
      util_percent: 0,
      memory_used_mb: 0,
      memory_total_mb: null,
      temperature_c: 37,
      power_w: 28.16,
    }]);
  });
  await t.step("two GeForce cards with units in every value", () => {
    const gpus = parseNvidiaSmiCsv(fixture("nvidia/two_geforce_bpytop.csv"));
    assertEquals(gpus.map((g) => [g.index, g.name, g.memory_used_mb, g.power_w]), [
      [0, "GeForce GTX 1080 Ti", 2856, 106.56],
      [1, "GeForce GTX 1060 6GB", 4, 5.68],
    ]);
  });
  await t.step("eight A100s", () => {
    const gpus = parseNvidiaSmiCsv(fixture("nvidia/a100x8_slurm.csv"));
    assertEquals(gpus.length, 8);
    assertEquals(gpus.map((g) => g.index), [0, 1, 2, 3, 4, 5, 6, 7]);
    assertEquals(gpus[5]?.memory_used_mb, 0);
    assertEquals(gpus[7]?.util_percent, 40);
    assertEquals(gpus[0]?.memory_total_mb, 81920);
  });
});

Deno.test("parseNvidiaSmiCsv() turns [N/A] and [Not Supported] into null (real driver outputs)", async (t) => {
  const columns = [
    "memory.total",
    "memory.free",
    "memory.used",
    "temperature.gpu",
    "fan.speed",
    "utilization.gpu",
    "utilization.memory",
  ];
  for (const name of ["nvidia/na_i3pystatus.csv", "nvidia/not_supported_i3pystatus.csv"]) {
    await t.step(name, () => {
      assertEquals(parseNvidiaSmiCsv(fixture(name), { columns }), [{
        index: 0,
        name: "",
        util_percent: 0,
        memory_used_mb: 0,
        memory_total_mb: 2004,
        temperature_c: 44,
        power_w: null,
      }]);
    });
  }
});

Deno.test("parseNvidiaSmiCsv() output fits the sample schema", () => {
  const gpus = parseNvidiaSmiCsv(fixture("nvidia/a100x8_slurm.csv"));
  const parsed = SampleSchema.shape.gpus.safeParse(gpus);
  assertEquals(parsed.success, true);
});

Deno.test("parseNvidiaSmiCsv() refuses a driver error printed instead of rows", () => {
  throws(
    () =>
      parseNvidiaSmiCsv(
        "NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver.",
      ),
    SyntaxError,
  );
  assertEquals(parseNvidiaSmiCsv(""), []);
});

Deno.test("parseNvidiaSmiCsv() keeps a product name that contains a comma", () => {
  const gpus = parseNvidiaSmiCsv("0, Odd, Name, 1, 2, 3, 4, 5\n");
  assertEquals(gpus[0]?.name, "Odd, Name");
  assertEquals(gpus[0]?.power_w, 5);
});

Deno.test("nvidiaNumber() strips units and rejects the not-reported forms", async (t) => {
  const cases: [string | undefined, number | null][] = [
    ["42", 42],
    [" 63.28 W", 63.28],
    ["99 %", 99],
    ["66147 MiB", 66147],
    ["[N/A]", null],
    ["[Not Supported]", null],
    ["N/A", null],
    ["[Unknown Error]", null],
    ["", null],
    [undefined, null],
  ];
  for (const [input, expected] of cases) {
    await t.step(String(input), () => assertEquals(nvidiaNumber(input), expected));
  }
});
