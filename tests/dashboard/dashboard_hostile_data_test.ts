/**
 * The dashboard treats every field from the server as untrusted data of any type. End to
 * end (real control plane subprocess, headless Chromium) with the three inputs that used to
 * break it: a result whose `data` nests 20,000 deep (blanked the Commands view), metadata
 * `{"arch":{"toString":1}}` (left the worker page on "Loading…"), and the route
 * `#/workers/%E0%A4%A` (threw).
 */
import { deepStrictEqual as assertEquals, ok as assert } from "node:assert/strict";
import { startControlPlane } from "../_helpers/control_plane_process.ts";
import { Paths } from "../../src/protocol/mod.ts";
import { JSON_VIEW_MAX_DEPTH } from "../../src/control_plane/dashboard/app/untrusted.ts";
import { launchBrowser } from "./_browser.ts";

const UI_TIMEOUT_MS = 10_000;

async function post(baseUrl: string, key: string, path: string, body: string): Promise<unknown> {
  const res = await fetch(`${baseUrl}${path}`, {
    method: "POST",
    headers: { "Content-Type": "application/json", "X-API-Key": key },
    body,
  });
  const json = await res.json();
  assert(res.ok, `${path}: ${res.status} ${JSON.stringify(json)}`);
  return json;
}

Deno.test("the dashboard renders deep data, hostile metadata and a malformed route without breaking", async (t) => {
  await using cp = await startControlPlane();
  const key = await cp.createKey("hostile-data");
  const { worker_id: workerId } = await post(
    cp.baseUrl,
    key,
    Paths.register,
    JSON.stringify({
      hostname: "hostile-data-host",
      platform: "linux",
      version: "0.1.0",
      metadata: {
        arch: { toString: 1 },
        os_release: { valueOf: 1, toString: 1 },
        runtime: ["deno", { toString: null }],
        cpu_count: JSON.parse('{"__proto__":{"x":1}}'), // an own key named __proto__
      },
    }),
  ) as { worker_id: string };
  const created = await cp.admin("/api/workers/commands", {
    method: "POST",
    body: JSON.stringify({ worker_id: workerId, command_type: "collect_diagnostics" }),
  });
  const { command_id: commandId } = await created.json();
  await post(cp.baseUrl, key, Paths.heartbeat(workerId), "{}"); // delivers the command
  const deep = '{"a":'.repeat(20_000) + "1" + "}".repeat(20_000);
  await post(
    cp.baseUrl,
    key,
    Paths.result(commandId),
    `{"status":"completed","data":{"deep":${deep}}}`,
  );

  await using browser = await launchBrowser();
  const { page } = browser;
  await page.goto(cp.baseUrl);
  await page.locator("#token").fill(cp.adminToken);
  await page.locator("#login-form button[type=submit]").click();
  await page.locator("#workers-view").waitFor({ state: "visible", timeout: UI_TIMEOUT_MS });

  await t.step(
    "the Commands view shows the 20,000-deep result, cut at a bounded depth",
    async () => {
      await page.goto(`${cp.baseUrl}/#/commands`);
      const row = page.locator(`#all-command-rows tr[data-command-id="${commandId}"]`);
      await row.waitFor({ timeout: UI_TIMEOUT_MS });
      await row.locator("details summary").click();
      const shown = await row.locator("pre").innerText();
      assert(shown.includes("{…}"), "deep levels are elided");
      const depth = shown.split("\n").filter((l) => l.trim().startsWith('"a"')).length;
      assert(depth > 0 && depth < JSON_VIEW_MAX_DEPTH, `shows ${depth} levels`);
      assertEquals(browser.problems, []);
    },
  );

  await t.step("the worker page renders hostile metadata as text", async () => {
    await page.goto(`${cp.baseUrl}/#/workers/${workerId}`);
    const hostname = page.locator("#detail-hostname");
    await hostname.waitFor({ timeout: UI_TIMEOUT_MS });
    const facts = await page.locator("#detail-info dl.facts").innerText();
    assert(facts.includes('linux / {"toString":1}'), facts);
    assert(facts.includes('{"valueOf":1,"toString":1}'), facts);
    assertEquals(browser.problems, []);
  });

  await t.step("a malformed route shows a missing worker instead of throwing", async () => {
    await page.goto(`${cp.baseUrl}/#/workers/%E0%A4%A`);
    await page.getByText("This worker no longer exists.").waitFor({ timeout: UI_TIMEOUT_MS });
    assertEquals(browser.problems.filter((p) => p.startsWith("page error")), []);
  });
});
