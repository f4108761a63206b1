/**
 * End to end: the real control plane in a subprocess, the real agent, 50 simulated workers
 * with two hours of history, and the dashboard driven in headless Chromium: sign-in, the
 * fleet table (sorted, searchable, keyboard), charts (range, hover), a ping that completes
 * without a reload, the agent stopping (offline, dimmed), keys, accessibility (axe-core) and
 * the narrow layout.
 */
import { deepStrictEqual as assertEquals, ok as assert } from "node:assert/strict";
import axe from "axe-core";
import type { Page } from "playwright-core";
import { startAgent } from "../_helpers/agent_process.ts";
import { startControlPlane } from "../_helpers/control_plane_process.ts";
import { simulateFleet } from "../_helpers/simulated_fleet.ts";
import { waitFor } from "../_helpers/wait_for.ts";
import { Paths } from "../../src/protocol/mod.ts";
import { DASHBOARD_CSP } from "../../src/control_plane/dashboard/dashboard.ts";
import { SESSION_COOKIE } from "../../src/control_plane/admin_api.ts";
import { launchBrowser } from "./_browser.ts";

/** Where the screenshots go, for a human to look at (docs/img/ is made by `deno task screenshots`). */
const SHOTS = `${Deno.env.get("TMPDIR") ?? "/tmp"}/ftl-dashboard-e2e`;

/** How long one browser expectation may take. */
const UI_TIMEOUT_MS = 10_000;
/** The bound: a ping shows "completed" this soon after Send, without a reload. */
const PING_TO_COMPLETED_MS = 2000;

/** Runs axe-core in the page; returns the violations as "rule: target" lines. */
async function axeViolations(page: Page): Promise<string[]> {
  if (!(await page.evaluate(() => "axe" in globalThis))) await page.evaluate(axe.source);
  const violations = await page.evaluate(async () => {
    // deno-lint-ignore no-explicit-any
    const result = await (globalThis as any).axe.run(document, {
      runOnly: { type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"] },
    });
    // deno-lint-ignore no-explicit-any
    return result.violations.flatMap((v: any) =>
      // deno-lint-ignore no-explicit-any
      v.nodes.map((n: any) => `${v.id}: ${n.target.join(" ")} (${n.failureSummary})`)
    );
  });
  return violations as string[];
}

async function cellNumbers(page: Page, column: number): Promise<number[]> {
  const texts = await page.locator(`#worker-rows tr td:nth-child(${column})`).allInnerTexts();
  return texts.map((t) => Number.parseFloat(t)).map((n) => Number.isFinite(n) ? n : -1);
}

Deno.test("the dashboard: fleet, charts, live commands, offline, keys, keyboard, axe and narrow screens", async (t) => {
  await using cp = await startControlPlane();
  const fleet = await simulateFleet({
    baseUrl: cp.baseUrl,
    admin: cp.admin,
    count: 50,
    prefix: "sim",
    historyMs: 2 * 3_600_000,
    historyStepMs: 60_000,
  });
  const agentKey = await cp.createKey("e2e-agent-key");
  await using agent = await startAgent({ baseUrl: cp.baseUrl, apiKey: agentKey });
  await waitFor(async () => (await agent.status())?.state === "connected", {
    timeoutMs: 30_000,
    message: `the agent to connect:\n${agent.output()}`,
  });
  const agentWorker = await waitFor(async () => {
    const { workers } = await (await cp.admin("/api/workers?q=e2e-agent")).json();
    return workers[0]?.worker_id as string | undefined;
  });
  // A command that waits (simulated workers do not poll), for the Commands filters.
  await cp.admin("/api/workers/commands", {
    method: "POST",
    body: JSON.stringify({ worker_id: fleet[3]!.workerId, command_type: "collect_diagnostics" }),
  });
  await Deno.mkdir(SHOTS, { recursive: true });

  await using browser = await launchBrowser({ viewport: { width: 1400, height: 1000 } });
  const { page, context } = browser;

  await t.step(
    "a wrong token is refused and the right one signs in with an HttpOnly cookie",
    async () => {
      const response = await page.goto(cp.baseUrl);
      assertEquals(response?.status(), 200);
      assertEquals(response?.headers()["content-security-policy"], DASHBOARD_CSP);
      await page.locator("#token").fill("not-the-admin-token");
      await page.locator("#login-form button[type=submit]").click();
      await page.locator("#login-error").waitFor({ state: "visible", timeout: UI_TIMEOUT_MS });
      assertEquals(await axeViolations(page), [], "the sign-in form passes axe");
      // The refused token shows up as one failed request in the console; nothing else may.
      assert(browser.problems.every((p) => p.includes("401")), browser.problems.join("\n"));
      browser.problems.splice(0);
      await page.locator("#token").fill(cp.adminToken);
      await page.locator("#login-form button[type=submit]").click();
      await page.locator('#workers-view[data-loaded="true"]').waitFor({ timeout: UI_TIMEOUT_MS });
      const cookies = await context.cookies();
      assertEquals(cookies.map((c) => [c.name, c.httpOnly, c.sameSite]), [[
        SESSION_COOKIE,
        true,
        "Strict",
      ]]);
      const stored = await page.evaluate(() => sessionStorage.length + localStorage.length);
      assertEquals(stored, 0, "nothing in web storage: the page never holds the token");
      await page.locator("#live-state[data-state=live]").waitFor({ timeout: UI_TIMEOUT_MS });
    },
  );

  await t.step("the fleet table is sorted, sorts by any column and searches", async () => {
    assertEquals(await page.locator("#fleet-range").innerText(), "1–50 of 51");
    const hostnames = await page.locator("#worker-rows .worker-link").allInnerTexts();
    assertEquals(
      hostnames,
      [...hostnames].sort((a, b) => a.toLowerCase().localeCompare(b.toLowerCase())),
    );
    const summary = (await (await cp.admin("/api/workers?limit=1")).json()).summary;
    assertEquals(
      await page.locator("[data-tile=online] .tile-count").innerText(),
      String(summary.online),
    );
    // Two workers share a hostname; the ID column tells them apart.
    const twins = page.locator("#worker-rows tr", { hasText: fleet[0]!.hostname });
    assertEquals(await twins.count(), 2);
    const ids = await twins.locator("td:nth-child(2)").allInnerTexts();
    assert(ids[0] !== ids[1], `the id suffixes differ: ${ids}`);

    await page.locator('button.sort[data-sort="cpu"]').click();
    await page.waitForURL(/sort=-cpu/, { timeout: UI_TIMEOUT_MS });
    await waitFor(async () => {
      const cpu = await cellNumbers(page, 8);
      return cpu.length === 50 && cpu.every((v, i) => i === 0 || cpu[i - 1]! >= v);
    }, { timeoutMs: UI_TIMEOUT_MS, message: "rows by CPU, highest first" });
    assertEquals(
      await page.locator('th:has(button[data-sort="cpu"])').getAttribute("aria-sort"),
      "descending",
    );
    await page.locator('button.sort[data-sort="cpu"]').click();
    await page.waitForURL(/sort=cpu/, { timeout: UI_TIMEOUT_MS });
    await waitFor(async () => {
      const cpu = await cellNumbers(page, 8);
      return cpu.every((v, i) => i === 0 || cpu[i - 1]! <= v);
    }, { timeoutMs: UI_TIMEOUT_MS, message: "rows by CPU, lowest first" });

    await page.locator("#fleet-search").fill("e2e-agent");
    await waitFor(async () => (await page.locator("#worker-rows tr").count()) === 1, {
      timeoutMs: UI_TIMEOUT_MS,
      message: "one row for the search",
    });
    assertEquals(await page.locator("#worker-rows .worker-link").innerText(), "e2e-agent");
    await page.screenshot({ path: `${SHOTS}-fleet.png` });
    await page.locator("#fleet-search").fill("");
    await waitFor(async () => (await page.locator("#worker-rows tr").count()) === 50, {
      timeoutMs: UI_TIMEOUT_MS,
    });
    assertEquals(await axeViolations(page), [], "the fleet view passes axe");
  });

  await t.step("the keyboard reaches a worker from the search field", async () => {
    await page.locator("#fleet-search").focus();
    let onLink = false;
    for (let i = 0; i < 30 && !onLink; i++) {
      await page.keyboard.press("Tab");
      onLink = await page.evaluate(() =>
        document.activeElement?.classList.contains("worker-link") ?? false
      );
    }
    assert(onLink, "Tab reaches the first worker link");
    await page.keyboard.press("Enter");
    await page.waitForURL(/#\/workers\//, { timeout: UI_TIMEOUT_MS });
    await page.locator("#detail-hostname").waitFor({ timeout: UI_TIMEOUT_MS });
    await page.goBack();
    await page.locator('#workers-view[data-loaded="true"]').waitFor({ timeout: UI_TIMEOUT_MS });
  });

  const gpu = fleet[4]!;
  await t.step(
    "a worker's page charts its history, switches range and shows values under the cursor",
    async () => {
      await page.locator("#fleet-search").fill(gpu.hostname);
      await page.locator(`#worker-rows tr[data-worker-id="${gpu.workerId}"] a`).click();
      await page.waitForURL(`**/#/workers/${gpu.workerId}`, { timeout: UI_TIMEOUT_MS });
      await page.locator('#charts-card[data-range="1h"] #chart-cpu canvas').waitFor({
        timeout: UI_TIMEOUT_MS,
      });
      const charts = await page.locator("#charts figure.chart").evaluateAll((els) =>
        els.map((e) => e.id)
      );
      for (
        const id of [
          "cpu",
          "cpu-cores",
          "memory",
          "disk",
          "network",
          "load",
          "gpu-util",
          "gpu-memory",
          "trading",
        ]
      ) {
        assert(charts.includes(`chart-${id}`), `a ${id} chart in ${charts}`);
      }
      const hour = Number.parseInt(await page.locator("#charts-note").innerText());
      assert(hour >= 59 && hour <= 61, `an hour of minutes: ${hour}`);
      await page.locator('button.range[data-range="24h"]').click();
      await page.locator('#charts-card[data-range="24h"] #chart-cpu canvas').waitFor({
        timeout: UI_TIMEOUT_MS,
      });
      assert(page.url().includes("range=24h"), page.url());
      assertEquals(
        await page.locator('button.range[data-range="24h"]').getAttribute("aria-pressed"),
        "true",
      );
      const day = Number.parseInt(await page.locator("#charts-note").innerText());
      assert(day >= 120, `two hours of minutes: ${day}`);

      const value = page.locator("#chart-cpu .u-legend .u-series:nth-child(2) .u-value");
      assertEquals(await value.innerText(), "—", "no value before the cursor is on the chart");
      const plot = await page.locator("#chart-cpu .u-over").boundingBox();
      assert(plot);
      await page.mouse.move(plot.x + plot.width * 0.95, plot.y + plot.height / 2);
      await waitFor(async () => /%/.test(await value.innerText()), {
        timeoutMs: UI_TIMEOUT_MS,
        message: "a CPU value under the cursor",
      });
      const synced = page.locator("#chart-memory .u-legend .u-series:nth-child(2) .u-value");
      assert(/iB/.test(await synced.innerText()), "the cursor is synced across charts");
      await page.screenshot({ path: `${SHOTS}-worker.png`, fullPage: true });
      assertEquals(await axeViolations(page), [], "the worker view passes axe");
    },
  );

  await t.step("a new sample reaches the charts without a reload, drawn in place", async () => {
    await page.locator('button.range[data-range="15m"]').click();
    await page.locator('#charts-card[data-range="15m"] #chart-cpu canvas').waitFor({
      timeout: UI_TIMEOUT_MS,
    });
    const note = page.locator("#charts-note");
    const before = Number.parseInt(await note.innerText());
    const canvas = await page.locator("#chart-cpu canvas").elementHandle();
    await gpu.postSamples([gpu.sampleAt(Date.now(), 10_000)]);
    await waitFor(async () => Number.parseInt(await note.innerText()) === before + 1, {
      timeoutMs: UI_TIMEOUT_MS,
      message: "the new sample in the charts (pushed, at most every 5 s)",
    });
    assert(await canvas!.evaluate((c) => c.isConnected), "the chart was updated, not redrawn");
  });

  await t.step(
    "a ping to the real agent shows completed without a reload, within 2 s",
    async () => {
      await page.goto(`${cp.baseUrl}/#/workers/${agentWorker}`);
      await page.locator("#command-form").waitFor({ timeout: UI_TIMEOUT_MS });
      await page.locator("#detail-hostname").getByText("e2e-agent").waitFor({
        timeout: UI_TIMEOUT_MS,
      });
      await page.evaluate(() => (globalThis as { noReload?: boolean }).noReload = true);
      await page.locator("#command-type").selectOption("ping");
      const started = Date.now();
      await page.locator("#command-send").click();
      const done = page.locator('#command-rows tr[data-status="completed"]', { hasText: "ping" });
      await done.waitFor({ timeout: PING_TO_COMPLETED_MS });
      const elapsed = Date.now() - started;
      console.log(`ping to "completed" on screen: ${elapsed} ms`);
      assert(
        await page.evaluate(() => (globalThis as { noReload?: boolean }).noReload === true),
        "no reload",
      );
      assert((await done.innerText()).includes("took"), "the result is shown inline");
    },
  );

  await t.step("a command's params come from a form; disruptive ones ask first", async () => {
    await page.locator("#command-type").selectOption("update_config");
    await page.locator("#param-changes-key-0").fill("log_level");
    await page.locator("#param-changes-value-0").fill("debug");
    await page.locator("#command-send").click();
    const row = page.locator('#command-rows tr[data-status="completed"]', {
      hasText: "update_config",
    });
    await row.waitFor({ timeout: UI_TIMEOUT_MS });
    assert(
      (await row.innerText()).includes('{"changes":{"log_level":"debug"}}'),
      await row.innerText(),
    );
    await page.locator("#command-type").selectOption("restart_agent");
    await page.locator("#command-send").click();
    await page.locator("#confirm-dialog").waitFor({ timeout: UI_TIMEOUT_MS });
    await page.keyboard.press("Escape");
    await page.locator("#command-message").getByText("Not sent.").waitFor({
      timeout: UI_TIMEOUT_MS,
    });
    assertEquals(await page.locator("#command-rows tr", { hasText: "restart_agent" }).count(), 0);
    await page.locator("#command-type").selectOption("ping");
    await page.locator("#command-json-toggle").check();
    await page.locator("#command-params").fill("{not json");
    await page.locator("#command-send").click();
    await page.locator("#command-message.error").getByText("not valid JSON").waitFor({
      timeout: UI_TIMEOUT_MS,
    });
    await page.locator("#command-json-toggle").uncheck();
    await page.locator("#worker-command-type").selectOption("update_config");
    await waitFor(async () => (await page.locator("#command-rows tbody tr").count()) === 1, {
      timeoutMs: UI_TIMEOUT_MS,
      message: "the history filtered by type",
    });
    await page.locator("#worker-command-type").selectOption("");
  });

  await t.step(
    "stopping the agent shows it offline, its metrics dimmed with their age",
    async () => {
      assertEquals(
        await page.locator('.metrics-card[data-stale="false"]').count(),
        1,
        "fresh while online",
      );
      assertEquals(await agent.stop(), 0);
      await page.locator("#detail-info .badge.status", { hasText: "offline" }).waitFor({
        timeout: UI_TIMEOUT_MS,
      });
      await page.locator('.metrics-card[data-stale="true"]').waitFor({ timeout: UI_TIMEOUT_MS });
      assert((await page.locator("#stale-note").innerText()).includes("offline"));
      assertEquals(await page.locator("#command-send").innerText(), "Queue");
      assert((await page.locator("#command-note").innerText()).includes("waits up to 10 min"));
      await page.screenshot({ path: `${SHOTS}-offline.png`, fullPage: true });
      await page.goto(`${cp.baseUrl}/#/?q=e2e-agent`);
      await page.locator(`#worker-rows tr[data-worker-id="${agentWorker}"][data-stale="true"]`)
        .waitFor({
          timeout: UI_TIMEOUT_MS,
        });
    },
  );

  await t.step("the Commands view filters by status and type", async () => {
    await page.goto(`${cp.baseUrl}/#/commands`);
    await page.locator("#all-command-rows").waitFor({ timeout: UI_TIMEOUT_MS });
    await page.locator("#command-status-filter").selectOption("pending");
    await waitFor(async () => {
      const statuses = await page.locator("#all-command-rows tbody tr").evaluateAll((rows) =>
        rows.map((r) => (r as HTMLElement).dataset.status)
      );
      return statuses.length === 1 && statuses[0] === "pending";
    }, { timeoutMs: UI_TIMEOUT_MS, message: "only the pending command" });
    await page.locator("#command-status-filter").selectOption("completed");
    await page.locator("#command-type-filter").selectOption("ping");
    await waitFor(async () => {
      const rows = await page.locator("#all-command-rows tbody tr").allInnerTexts();
      return rows.length === 1 && rows[0]!.includes("e2e-agent") && rows[0]!.includes("pong");
    }, { timeoutMs: UI_TIMEOUT_MS, message: "the completed ping, its worker named" });
    assertEquals(await axeViolations(page), [], "the Commands view passes axe");
  });

  await t.step("a new key is shown once, works for registering and can be revoked", async () => {
    await page.locator('#nav a[data-route="keys"]').click();
    await page.locator("#key-name").fill("from-the-dashboard");
    await page.locator("#key-form button[type=submit]").click();
    const field = page.locator("#new-key");
    await field.waitFor({ timeout: UI_TIMEOUT_MS });
    const newKey = await field.inputValue();
    assert(/^wak_[0-9A-Za-z]{32}$/.test(newKey), "a worker key is shown");
    const registered = await fetch(`${cp.baseUrl}${Paths.register}`, {
      method: "POST",
      headers: { "Content-Type": "application/json", "X-API-Key": newKey },
      body: JSON.stringify({
        hostname: "registered-with-dashboard-key",
        platform: "linux",
        version: "0.1.0",
      }),
    });
    const { worker_id: id } = await registered.json();
    const row = page.locator("#key-rows tr", { hasText: "from-the-dashboard" });
    await row.locator("a").waitFor({ timeout: UI_TIMEOUT_MS }); // bound to its worker, live
    assertEquals(await row.getAttribute("data-active"), "true");
    assert(
      !(await page.locator("#key-list").innerText()).includes(newKey),
      "the key is not listed",
    );
    assertEquals(await axeViolations(page), [], "the keys view passes axe");
    await row.getByRole("button", { name: /Revoke key/ }).click();
    await page.locator("#confirm-yes").click();
    await page.locator('#key-rows tr[data-active="false"]', { hasText: "from-the-dashboard" })
      .waitFor({ timeout: UI_TIMEOUT_MS });
    const refused = await fetch(`${cp.baseUrl}${Paths.heartbeat(id)}`, {
      method: "POST",
      headers: { "Content-Type": "application/json", "X-API-Key": newKey },
      body: "{}",
    });
    await refused.body?.cancel();
    assertEquals(refused.status, 401, "a revoked key is refused");
    await page.screenshot({ path: `${SHOTS}-keys.png` });
    await page.goto(`${cp.baseUrl}/#/workers/${id}`);
    await page.locator("#detail-info .key-revoked").waitFor({ timeout: UI_TIMEOUT_MS });
    assert(await page.locator("#command-send").isDisabled(), "no Send for a revoked key");
  });

  await t.step("on a narrow screen nothing but the table scrolls sideways", async () => {
    await page.setViewportSize({ width: 390, height: 844 });
    await page.goto(`${cp.baseUrl}/#/`);
    await page.locator('#workers-view[data-loaded="true"]').waitFor({ timeout: UI_TIMEOUT_MS });
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - innerWidth);
    assert(overflow <= 0, `the page is ${overflow} px wider than the screen`);
    assert(await page.locator("th.optional").first().isHidden(), "less important columns hide");
    await page.goto(`${cp.baseUrl}/#/workers/${gpu.workerId}`);
    await page.locator("#chart-cpu canvas").waitFor({ timeout: UI_TIMEOUT_MS });
    const chartWidth = await page.locator("#chart-cpu").evaluate((e) =>
      e.getBoundingClientRect().right
    );
    assert(chartWidth <= 390, `charts fit (${chartWidth})`);
    assertEquals(
      await page.evaluate(() => document.documentElement.scrollWidth - innerWidth) <= 0,
      true,
    );
    await page.screenshot({ path: `${SHOTS}-narrow.png` });
    await page.setViewportSize({ width: 1400, height: 1000 });
  });

  await t.step("deleting a worker asks once more and removes it", async () => {
    const victim = fleet[9]!;
    await page.goto(`${cp.baseUrl}/#/workers/${victim.workerId}`);
    await page.locator("#detail-info .badge.legacy").waitFor({ timeout: UI_TIMEOUT_MS });
    await page.locator("#delete-worker").click();
    await page.locator("#confirm-yes").click();
    await page.waitForURL((url) => url.hash === "#/", { timeout: UI_TIMEOUT_MS });
    const gone = await cp.admin(`/api/workers/${victim.workerId}`);
    await gone.body?.cancel();
    assertEquals(gone.status, 404);
  });

  await t.step("signing out ends the session", async () => {
    await page.locator("#sign-out").click();
    await page.locator("#login").waitFor({ state: "visible", timeout: UI_TIMEOUT_MS });
    await page.reload();
    await page.locator("#login").waitFor({ state: "visible", timeout: UI_TIMEOUT_MS });
    assertEquals((await context.cookies()).length, 0, "the cookie is gone");
  });

  await t.step("the page ran without script errors or CSP violations", () => {
    assertEquals(browser.problems, []);
  });
});
