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
const out = (values.out ?? new URL("../docs/img", import.meta.url).pathname).replace(/\/+$/, "");
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
// Some command history: answered, failed and waiting.
async function send(workerId: string, type: string, params: Record<string, unknown> = {}) {
  await cp.admin("/api/workers/commands", {
    method: "POST",
    body: JSON.stringify({ worker_id: workerId, command_type: type, params }),
  });
}
await send(fleet[8]!.workerId, "update_config", { changes: { log_level: "debug" } });
await send(fleet[12]!.workerId, "start_trading");
await send(fleet[16]!.workerId, "collect_diagnostics");
for (const command of await fleet[8]!.poll()) {
  await fleet[8]!.complete(command.id, {
    status: "completed",
    output: "applied log_level",
    data: { applied: { log_level: ["info", "debug"] }, rejected: {} },
  });
}
for (const command of await fleet[12]!.poll()) {
  await fleet[12]!.complete(command.id, {
    status: "failed",
    error: "trading_enabled is false in the local config",
    error_code: "not_allowed",
  });
}
await send(gpuWorker.workerId, "ping");
for (const command of await gpuWorker.poll()) {
  await gpuWorker.complete(command.id, { status: "completed", output: "pong" });
}
await send(gpuWorker.workerId, "collect_diagnostics");
await send(fleet[20]!.workerId, "restart_agent");
const agentId = await waitFor(async () => {
  const res = await cp.admin("/api/workers?q=build-host-01");
  return (await res.json()).workers[0]?.worker_id as string | undefined;
});
await send(agentId, "ping");

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

// The command form and the commands, on the worker above.
await page.goto(`${cp.baseUrl}/#/workers/${gpuWorker.workerId}?range=24h`);
await page.locator("#command-rows").waitFor();
await page.locator("#command-type").selectOption("update_config");
await page.locator("#param-changes-key-0").fill("metrics_interval_seconds");
await page.locator("#param-changes-value-0").fill("5");
await page.locator("#param-changes-add").click();
await page.locator("#param-changes-key-1").fill("log_level");
await page.locator("#param-changes-value-1").fill("debug");
/** The page area from the top of `first` to the bottom of `last`, in document coordinates. */
function area(first: string, last: string) {
  return page.evaluate(([first, last]) => {
    const a = document.querySelector(first)!.getBoundingClientRect();
    const b = document.querySelector(last)!.getBoundingClientRect();
    return {
      x: a.left - 12,
      y: a.top + scrollY - 12,
      width: a.width + 24,
      height: b.bottom - a.top + 24,
    };
  }, [first, last] as const);
}
await page.screenshot({
  path: `${out}/dashboard-command.png`,
  fullPage: true,
  clip: await area("#command-card", "#detail-commands"),
});
console.log(`${out}/dashboard-command.png`);

// A worker that went offline: its metrics dimmed, with their age.
const quiet = fleet.find((w) => w.index % 10 === 7)!;
await page.goto(`${cp.baseUrl}/#/workers/${quiet.workerId}?range=24h`);
await page.locator('.metrics-card[data-stale="true"]').waitFor();
await page.screenshot({
  path: `${out}/dashboard-worker-offline.png`,
  fullPage: true,
  clip: await area("#detail-info", ".metrics-card .metrics-grid"),
});
console.log(`${out}/dashboard-worker-offline.png`);

await page.goto(`${cp.baseUrl}/#/commands`);
await page.locator("#all-command-rows").waitFor();
await shot("dashboard-commands");

await page.goto(`${cp.baseUrl}/#/keys`);
await page.locator("#key-rows").waitFor();
await page.locator("#key-name").fill("gpu-box-51");
await page.locator("#key-form button[type=submit]").click();
await page.locator("#new-key").waitFor();
await shot("dashboard-keys");

await page.setViewportSize({ width: 390, height: 844 });
await page.goto(`${cp.baseUrl}/#/`);
await page.locator('#workers-view[data-loaded="true"]').waitFor();
await shot("dashboard-fleet-narrow");
await page.goto(`${cp.baseUrl}/#/workers/${gpuWorker.workerId}?range=7d`);
await page.locator('#charts-card[data-range="7d"] .chart canvas').first().waitFor();
await page.evaluate(() => document.querySelector("#charts-card")!.scrollIntoView());
await shot("dashboard-worker-narrow");
