/**
 * End to end: the real control plane in a subprocess, a worker registered over the protocol,
 * and the dashboard driven in headless Chromium.
 */
import { deepStrictEqual as assertEquals, ok as assert } from "node:assert/strict";
import { startControlPlane } from "../_helpers/control_plane_process.ts";
import { waitFor } from "../_helpers/wait_for.ts";
import { Paths, type Sample, snapshotOf } from "../../src/protocol/mod.ts";
import { REFRESH_INTERVAL_MS } from "../../src/control_plane/dashboard/_app_js.ts";
import { DASHBOARD_CSP } from "../../src/control_plane/dashboard/dashboard.ts";
import { launchBrowser } from "./_browser.ts";

/** Where the screenshots (worker view, and keys with `-keys`) go, for a human to look at. */
const SCREENSHOT = `${Deno.env.get("TMPDIR") ?? "/tmp"}/ftl-dashboard-e2e.png`;

/** How long one browser expectation may take. */
const UI_TIMEOUT_MS = 10_000;

function sample(seq: number): Sample {
  return {
    stream: "dashboard-e2e-stream",
    seq,
    ts: Date.now(),
    cpu_percent: 42.5,
    memory_used_mb: 6144,
    memory_total_mb: 16384,
    disk_used_gb: 120.5,
    disk_total_gb: 500,
    network_sent_mb: 12.5,
    network_recv_mb: 99.25,
    trading_status: "stopped",
    active_trades: 0,
    cpu_per_core: [40, 45],
    load_avg: [0.5, 0.4, 0.3],
    memory_available_mb: 10240,
    swap_used_mb: 0,
    swap_total_mb: 2048,
    disks: [{ mount: "/", fs_type: "ext4", total_bytes: 500 * 2 ** 30, used_bytes: 120 * 2 ** 30 }],
    net: [{
      iface: "eth0",
      rx_bytes: 104e6,
      tx_bytes: 13e6,
      rx_bytes_per_s: 2048,
      tx_bytes_per_s: 512,
    }],
    gpus: [{
      index: 0,
      name: "Dashboard Test GPU",
      util_percent: 77,
      memory_used_mb: 4000,
      memory_total_mb: 8000,
      temperature_c: 61,
      power_w: 150,
    }],
    agent: { rss_mb: 40, cpu_percent: 0.5, uptime_s: 12, spool_depth: 0, dropped_samples: 0 },
    trading: { status: "stopped", pid: null, uptime_s: null, restarts: 0, active_trades: 0 },
  };
}

/** POSTs `body` as a worker with `key` and returns the parsed JSON, failing on a non-2xx. */
async function workerPost(
  baseUrl: string,
  key: string,
  path: string,
  body: unknown,
): Promise<Record<string, unknown>> {
  const response = await fetch(`${baseUrl}${path}`, {
    method: "POST",
    headers: { "Content-Type": "application/json", "X-API-Key": key },
    body: JSON.stringify(body),
  });
  const json = await response.json();
  assert(response.ok, `${path} answered ${response.status}: ${JSON.stringify(json)}`);
  return json;
}

/**
 * Registers a worker with a fresh key and sends one heartbeat; returns its id. Without
 * `instanceId` it is a legacy (FineTuneLab) agent.
 */
async function registerWorker(
  baseUrl: string,
  key: string,
  hostname: string,
  instanceId?: string,
): Promise<string> {
  const registered = await workerPost(baseUrl, key, Paths.register, {
    ...(instanceId === undefined ? {} : { instance_id: instanceId }),
    hostname,
    platform: "linux",
    version: "0.1.0",
    capabilities: ["metrics", "trading"],
    max_concurrency: 1,
    metadata: {
      arch: "x86_64",
      os_release: "Debian GNU/Linux 12",
      runtime: "deno 2",
      cpu_count: 2,
    },
  });
  const workerId = registered.worker_id;
  assert(typeof workerId === "string");
  await workerPost(baseUrl, key, Paths.heartbeat(workerId), {
    status: "online",
    current_load: 0,
    metrics: snapshotOf(sample(1)),
  });
  return workerId;
}

Deno.test("the dashboard signs in, shows a registered worker online, sends it a ping and creates a key", async (t) => {
  await using cp = await startControlPlane();
  const key = await cp.createKey("dashboard-e2e");
  const workerId = await registerWorker(cp.baseUrl, key, "dash-e2e-host", "dash-e2e-instance");
  await workerPost(cp.baseUrl, key, Paths.metrics(workerId), { samples: [sample(1)] });
  // A second worker whose hostname is markup: the page must show it as text. It registers as
  // FineTuneLab's own agent does (no instance_id), so it is marked legacy.
  const hostileName = '<img src=x id="injected">&amp;';
  const hostileId = await registerWorker(cp.baseUrl, await cp.createKey("hostile"), hostileName);

  await using browser = await launchBrowser();
  let commandId = "";
  const { page } = browser;

  await t.step("a wrong token is refused and the right one signs in", async () => {
    const response = await page.goto(cp.baseUrl);
    assertEquals(response?.status(), 200);
    assertEquals(response?.headers()["content-security-policy"], DASHBOARD_CSP);
    await page.locator("#token").fill("not-the-admin-token");
    await page.locator("#login-form button[type=submit]").click();
    await page.locator("#login-error").waitFor({ state: "visible", timeout: UI_TIMEOUT_MS });
    assert(await page.locator("#workers-view").isHidden());
    // The refused token shows up as one failed request in the console; nothing else may.
    assert(browser.problems.every((p) => p.includes("401")), browser.problems.join("\n"));
    browser.problems.splice(0);
    await page.locator("#token").fill(cp.adminToken);
    await page.locator("#login-form button[type=submit]").click();
    await page.locator("#workers-view").waitFor({ state: "visible", timeout: UI_TIMEOUT_MS });
    const stored = await page.evaluate(() => Object.keys(sessionStorage).length);
    assertEquals(stored, 1, "the token is kept in session storage");
  });

  await t.step("the worker list shows the worker online and markup as text", async () => {
    const row = page.locator(`#worker-rows tr[data-worker-id="${workerId}"]`);
    await row.waitFor({ timeout: UI_TIMEOUT_MS });
    const text = await row.innerText();
    assert(text.includes("dash-e2e-host"), text);
    assertEquals(await row.locator(".badge").innerText(), "online");
    assertEquals(await row.locator(".dot.on").count(), 1);
    const hostile = page.locator(`#worker-rows tr[data-worker-id="${hostileId}"]`);
    assert((await hostile.innerText()).includes(hostileName));
    assertEquals(await page.locator("#injected").count(), 0, "no element was injected");
    assertEquals(await row.locator(".legacy").count(), 0, "a worker-agent is not marked");
    const mark = hostile.locator(".badge.legacy");
    assertEquals(await mark.innerText(), "FineTuneLab agent");
    assertEquals(
      await mark.getAttribute("title"),
      "FineTuneLab agent, no signature checks, at-most-once",
    );
  });

  await t.step("the worker view shows the latest metrics, GPU and trading status", async () => {
    await page.locator(`#worker-rows tr[data-worker-id="${workerId}"]`).click();
    await page.waitForURL(`**/#/workers/${workerId}`, { timeout: UI_TIMEOUT_MS });
    await page.locator("#detail-hostname").getByText("dash-e2e-host").waitFor({
      timeout: UI_TIMEOUT_MS,
    });
    const gpus = page.locator("#gpus");
    await gpus.waitFor({ timeout: UI_TIMEOUT_MS });
    assert((await gpus.innerText()).includes("Dashboard Test GPU"));
    const metrics = await page.locator("#detail-metrics").innerText();
    assert(metrics.includes("42.5 %"), metrics);
    assert(metrics.includes("6.0 / 16.0 GiB"), metrics);
    assertEquals(await page.locator("#trading-card .badge").innerText(), "stopped");
  });

  await t.step("sending a ping lists it as pending, as the admin API has it", async () => {
    await page.locator("#command-type").selectOption("ping");
    await page.locator("#command-form button[type=submit]").click();
    const pending = page.locator('#command-rows tr[data-status="pending"]', { hasText: "ping" });
    await pending.waitFor({ timeout: UI_TIMEOUT_MS });
    commandId = await pending.getAttribute("data-command-id") ?? "";
    assert(commandId);
    const listed = await cp.admin(`/api/workers/commands?worker_id=${workerId}`);
    const { commands } = await listed.json() as {
      commands: { command_id: string; command_type: string; status: string }[];
    };
    const stored = commands.find((c) => c.command_id === commandId);
    assertEquals(stored?.command_type, "ping");
    assertEquals(stored?.status, "pending");
    await page.screenshot({ path: SCREENSHOT, fullPage: true });
  });

  await t.step(
    "the worker's result shows as completed with its output, here and in Commands",
    async () => {
      const started = Date.now();
      await workerPost(cp.baseUrl, key, Paths.result(commandId), {
        command_id: commandId,
        status: "completed",
        output: "pong from the e2e worker",
        data: { received_at: started, agent_time: started },
        started_at: started,
        finished_at: started + 3,
        timestamp: Math.floor(started / 1000),
      });
      // Auto-refresh is covered below; a reload shows the result at once (the token stays).
      await page.reload();
      const done = page.locator(`#command-rows tr[data-command-id="${commandId}"]`);
      await page.locator(
        `#command-rows tr[data-command-id="${commandId}"][data-status="completed"]`,
      )
        .waitFor({ timeout: UI_TIMEOUT_MS });
      assert((await done.innerText()).includes("pong from the e2e worker"));

      await page.locator('#nav a[data-route="commands"]').click();
      const row = page.locator(`#all-command-rows tr[data-command-id="${commandId}"]`);
      await row.waitFor({ timeout: UI_TIMEOUT_MS });
      assert((await row.innerText()).includes("dash-e2e-host"), "the worker is named");
      await page.locator("#command-status-filter").selectOption("pending");
      await page.locator("#all-commands").getByText("No pending commands.").waitFor({
        timeout: UI_TIMEOUT_MS,
      });
      await page.locator("#command-status-filter").selectOption("completed");
      await row.waitFor({ timeout: UI_TIMEOUT_MS });
      await page.goBack();
      await page.locator("#command-form").waitFor({ timeout: UI_TIMEOUT_MS });
    },
  );

  await t.step("bad params JSON is refused in the page before any request", async () => {
    await page.locator("#command-params").fill("{not json");
    await page.locator("#command-form button[type=submit]").click();
    await page.locator("#command-message.error").waitFor({ timeout: UI_TIMEOUT_MS });
    assert((await page.locator("#command-message").innerText()).includes("not valid JSON"));
  });

  await t.step("the list follows a worker going offline without a reload", async () => {
    await workerPost(cp.baseUrl, key, Paths.heartbeat(workerId), { status: "offline" });
    const badges = [
      page.locator(`#worker-rows tr[data-worker-id="${workerId}"] .badge`),
      page.locator("#detail-info .badge"),
    ];
    await waitFor(
      async () =>
        (await Promise.all(badges.map((b) => b.innerText()))).every((s) => s === "offline"),
      {
        timeoutMs: REFRESH_INTERVAL_MS + UI_TIMEOUT_MS,
        message: "the auto-refresh to show the worker offline in the list and the worker view",
      },
    );
  });

  await t.step("a new key is shown once, works for registering and can be revoked", async () => {
    await page.locator('#nav a[data-route="keys"]').click();
    await page.locator("#key-name").fill("from-the-dashboard");
    await page.locator("#key-form button[type=submit]").click();
    const field = page.locator("#new-key");
    await field.waitFor({ timeout: UI_TIMEOUT_MS });
    const newKey = await field.inputValue();
    assert(/^wak_[0-9A-Za-z]{32}$/.test(newKey), "a worker key is shown");
    const id = await registerWorker(cp.baseUrl, newKey, "registered-with-dashboard-key");
    assert(id.startsWith("wkr_"));

    await page.reload();
    const row = page.locator("#key-rows tr", { hasText: "from-the-dashboard" });
    await row.waitFor({ timeout: UI_TIMEOUT_MS });
    assertEquals(await row.getAttribute("data-active"), "true");
    assert((await row.innerText()).includes(newKey.slice(0, 12)), "the prefix is listed");
    assert(!(await page.locator("#key-list").innerText()).includes(newKey), "the key is not");
    await row.getByRole("button", { name: "Revoke…" }).click();
    await row.getByRole("button", { name: "Revoke", exact: true }).click();
    await page.locator('#key-rows tr[data-active="false"]', { hasText: "from-the-dashboard" })
      .waitFor({ timeout: UI_TIMEOUT_MS });
    const refused = await fetch(`${cp.baseUrl}${Paths.heartbeat(id)}`, {
      method: "POST",
      headers: { "Content-Type": "application/json", "X-API-Key": newKey },
      body: "{}",
    });
    await refused.body?.cancel();
    assertEquals(refused.status, 401, "a revoked key is refused");
    await page.screenshot({ path: SCREENSHOT.replace(/\.png$/, "-keys.png") });
  });

  await t.step("deleting a worker asks once more and removes it", async () => {
    await page.goto(`${cp.baseUrl}/#/workers/${hostileId}`);
    await page.locator("#detail-info .badge.legacy").waitFor({ timeout: UI_TIMEOUT_MS });
    assert((await page.locator("#detail-info").innerText()).includes("no signature checks"));
    await page.locator("#delete-worker").click();
    await page.locator("#confirm-delete").click();
    await page.waitForURL((url) => url.hash === "#/", { timeout: UI_TIMEOUT_MS });
    await waitFor(
      async () =>
        (await page.locator(`#worker-rows tr[data-worker-id="${hostileId}"]`).count()) === 0,
      { timeoutMs: UI_TIMEOUT_MS, message: "the deleted worker to leave the list" },
    );
    const gone = await cp.admin(`/api/workers/${hostileId}`);
    await gone.body?.cancel();
    assertEquals(gone.status, 404);
  });

  await t.step("signing out forgets the token", async () => {
    await page.locator("#sign-out").click();
    await page.locator("#login").waitFor({ state: "visible", timeout: UI_TIMEOUT_MS });
    assertEquals(await page.evaluate(() => Object.keys(sessionStorage).length), 0);
    await page.reload();
    assert(await page.locator("#login").isVisible(), "still signed out after a reload");
  });

  await t.step("the page ran without script errors or CSP violations", () => {
    assertEquals(browser.problems, []);
  });
});
