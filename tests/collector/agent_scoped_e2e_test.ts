/**
 * End to end: the real agent, started with exactly the flags `worker-agent permissions`
 * prints (no `--allow-read=/`), still reports every disk metric to a real control plane.
 */
import { deepStrictEqual as assertEquals, ok as assert } from "node:assert/strict";
import { agentPermissionFlags } from "../../src/permissions/permission_flags.ts";
import { loadConfig } from "../../src/config/load_config.ts";
import type { Sample } from "../../src/protocol/mod.ts";
import { waitFor } from "../_helpers/wait_for.ts";
import { connectedWorkerId, startSystem } from "../agent/_e2e.ts";

Deno.test({
  name: "the agent under its scoped flags reads only its own paths and still sends disk metrics",
  ignore: Deno.build.os !== "linux",
  sanitizeResources: true,
  sanitizeOps: true,
  async fn() {
    await using sys = await startSystem();
    // The flags the agent was started with: reads are the config dir and the state dir only.
    const { config } = await loadConfig({ path: sys.agent.configPath, env: {} });
    const read = agentPermissionFlags(config, sys.agent.configPath)
      .filter((f) => f.startsWith("--allow-read"));
    assertEquals(read, [`--allow-read=${sys.agent.dir},${config.state_dir}`]);

    const workerId = await connectedWorkerId(sys.agent, { websocket: "open" });
    const sample = await waitFor(async () => {
      const list = await sys.admin.json<{ samples: Sample[] }>(
        `/api/workers/${workerId}/metrics?limit=10`,
      );
      // The second sample onwards: the first one of a fresh agent may still be its baseline.
      return list.samples.find((s) => s.seq >= 1);
    }, { timeoutMs: 15_000, message: "a sample with seq ≥ 1" });
    assert(
      sample.disk_used_gb !== null && sample.disk_total_gb !== null,
      "disk_* of the state dir",
    );
    assert((sample.disk_total_gb as number) > 0);
    const root = sample.disks.find((d) => d.mount === "/");
    assert(root && root.total_bytes > 0 && root.used_bytes > 0, JSON.stringify(sample.disks));
    assert(sample.network_recv_mb !== null, "network counters through the helper");
    assert(!/metrics probe failed/.test(sys.agent.output()), sys.agent.output().slice(-3000));
    assertEquals(await sys.agent.stop(), 0);
  },
});
