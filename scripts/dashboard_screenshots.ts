/**
 * `deno task screenshots`: the screenshots of the dashboard in `docs/img/`, taken against a
 * real control plane with a real agent and 50 simulated workers (7 days of history), in
 * headless Chromium (`/usr/bin/chromium`, or `FTL_CHROMIUM`).
 *
 * ```
 * deno task screenshots [--out DIR]
 * ```
 *
 * @module
 */
import { parseArgs } from "node:util";
import { startAgent } from "../tests/_helpers/agent_process.ts";
import { startControlPlane } from "../tests/_helpers/control_plane_process.ts";
import { simulateFleet } from "../tests/_helpers/simulated_fleet.ts";
import { waitFor } from "../tests/_helpers/wait_for.ts";
import { launchBrowser } from "../tests/dashboard/_browser.ts";

const { values } = parseArgs({ args: Deno.args, options: { out: { type: "string" } } });
const out = values.out ?? new URL("../docs/img/", import.meta.url).pathname;
await Deno.mkdir(out, { recursive: true });

await using cp = await startControlPlane();
console.log("simulating 50 workers with 7 days of history…");
const fleet = await simulateFleet({
  baseUrl: cp.baseUrl,
  admin: cp.admin,
  count: 50,
  prefix: "rig",
  historyMs: 7 * 86_400_000,
  historyStepMs: 10 * 60_000,
});
// A few go quiet, one key is revoked: the fleet looks like a real one.
for (const worker of fleet.filter((w) => w.index % 10 === 7)) await worker.heartbeat("offline");
await cp.admin(`/api/admin/keys/${fleet[13]!.keyId}/revoke`, { method: "POST", body: "{}" });
const key = await cp.createKey("this-machine");
await using agent = await startAgent({
  baseUrl: cp.baseUrl,
  apiKey: key,
  config: { hostname: "build-host-01" },
});
await waitFor(async () => (await agent.status())?.state === "connected", {
  timeoutMs: 30_000,
  message: "the agent",
});
const gpuWorker = fleet[4]!;
// Some command history.
for (
  const [worker, type, params] of [
    [gpuWorker, "ping", {}],
    [gpuWorker, "collect_diagnostics", {}],
    [fleet[8]!, "update_config", { changes: { log_level: "debug" } }],
  ] as const
) {
  await cp.admin("/api/workers/commands", {
    method: "POST",
    body: JSON.stringify({ worker_id: worker.workerId, command_type: type, params }),
  });
}

await using browser = await launchBrowser({ viewport: { width: 1440, height: 900 } });
const { page } = browser;
async function shot(name: string, fullPage = false): Promise<void> {
  await page.screenshot({ path: `${out}/${name}.png`, fullPage });
  console.log(`${out}/${name}.png`);
}

await page.goto(cp.baseUrl);
await page.locator("#token").waitFor();
await shot("dashboard-sign-in");
await page.locator("#token").fill(cp.adminToken);
await page.locator("#login-form button[type=submit]").click();
await page.locator('#workers-view[data-loaded="true"]').waitFor();
await page.locator("#live-state[data-state=live]").waitFor();
await shot("dashboard-fleet");

await page.goto(`${cp.baseUrl}/#/workers/${gpuWorker.workerId}?range=24h`);
await page.locator('#charts-card[data-range="24h"] .chart canvas').first().waitFor();
const cpuChart = page.locator("#chart-cpu .u-over");
const box = await cpuChart.boundingBox();
if (box) await page.mouse.move(box.x + box.width * 0.7, box.y + box.height * 0.5);
await shot("dashboard-worker", true);

const agentId = await waitFor(async () => {
  const res = await cp.admin("/api/workers?q=build-host-01");
  const { workers } = await res.json();
  return workers[0]?.worker_id as string | undefined;
});
await page.goto(`${cp.baseUrl}/#/workers/${agentId}?range=15m`);
await page.locator("#command-form").waitFor();
await page.locator("#command-send").click();
await page.locator('#command-rows tr[data-status="completed"]').first().waitFor();
await page.locator("#command-type").selectOption("update_config");
await page.locator("#param-changes-key-0").fill("metrics_interval_seconds");
await page.locator("#param-changes-value-0").fill("5");
await page.locator("#command-card").scrollIntoViewIfNeeded();
await shot("dashboard-worker-agent", true);

await page.goto(`${cp.baseUrl}/#/commands`);
await page.locator("#all-command-rows").waitFor();
await shot("dashboard-commands");

await page.goto(`${cp.baseUrl}/#/keys`);
await page.locator("#key-rows").waitFor();
await shot("dashboard-keys");

await page.setViewportSize({ width: 390, height: 844 });
await page.goto(`${cp.baseUrl}/#/`);
await page.locator('#workers-view[data-loaded="true"]').waitFor();
await shot("dashboard-fleet-narrow");
await page.goto(`${cp.baseUrl}/#/workers/${gpuWorker.workerId}?range=7d`);
await page.locator('#charts-card[data-range="7d"] .chart canvas').first().waitFor();
await shot("dashboard-worker-narrow");
