import { deepStrictEqual as assertEquals } from "node:assert/strict";
import { createLogger } from "../../src/log/logger.ts";
import { NvidiaSmiProbe } from "../../src/collector/nvidia_smi.ts";
import { fixture } from "./_fixtures.ts";

Deno.test("NvidiaSmiProbe stops asking after finding nvidia-smi missing", async () => {
  let calls = 0;
  const probe = new NvidiaSmiProbe({
    run: () => {
      calls++;
      return Promise.reject(new Deno.errors.NotFound("Failed to spawn 'nvidia-smi'"));
    },
  });
  assertEquals(await probe.read(), []);
  assertEquals(await probe.read(), []);
  assertEquals(calls, 1);
  assertEquals(probe.absent, true);
});

Deno.test("NvidiaSmiProbe finds no nvidia-smi on a machine without one", async () => {
  const probe = new NvidiaSmiProbe({ command: "ftl-no-such-nvidia-smi" });
  assertEquals(await probe.read(), []);
  assertEquals(probe.absent, true);
});

Deno.test("NvidiaSmiProbe passes the query and parses the answer", async () => {
  let args: string[] = [];
  const probe = new NvidiaSmiProbe({
    run: (_command, given) => {
      args = given;
      return Promise.resolve("0, NVIDIA L4, 12, 300, 23034, 41, 27.5\n");
    },
  });
  const gpus = await probe.read();
  assertEquals(gpus[0]?.name, "NVIDIA L4");
  assertEquals(args[1], "--format=csv,noheader,nounits");
});

Deno.test("NvidiaSmiProbe logs a failing driver once, keeps trying, and logs the recovery", async () => {
  const lines: string[] = [];
  const logger = createLogger({ write: (line) => lines.push(line) });
  let answer: () => Promise<string> = () =>
    Promise.resolve(
      "NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver.",
    );
  const probe = new NvidiaSmiProbe({ logger, run: () => answer() });
  assertEquals(await probe.read(), []);
  assertEquals(await probe.read(), []);
  assertEquals(lines.filter((l) => l.includes("probe failed")).length, 1);
  answer = () => Promise.resolve(fixture("nvidia/a100x8_slurm.csv"));
  assertEquals((await probe.read()).length, 8);
  assertEquals(lines.filter((l) => l.includes("recovered")).length, 1);
  assertEquals(probe.absent, false);
});
