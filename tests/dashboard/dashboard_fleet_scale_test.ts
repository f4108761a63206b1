/**
 * The fleet view with 10,000 workers (written into the database of a real control plane
 * before it starts): the first page, search, sort and the next page come from the server, so
 * the page stays small and quick. The times are printed; `bench/dashboard_bench.ts` measures
 * them properly.
 */
import { deepStrictEqual as assertEquals, ok as assert } from "node:assert/strict";
import { startControlPlane } from "../_helpers/control_plane_process.ts";
import { seedFleet } from "../_helpers/simulated_fleet.ts";
import { waitFor } from "../_helpers/wait_for.ts";
import { launchBrowser } from "./_browser.ts";

const UI_TIMEOUT_MS = 15_000;
const COUNT = 10_000;

Deno.test("the fleet view of 10,000 workers shows pages, searches and sorts", async (t) => {
  const dataDir = await Deno.makeTempDir({ prefix: "ftl-fleet-10k-" });
  try {
    seedFleet(dataDir, { count: COUNT, prefix: "node" });
    await using cp = await startControlPlane({ dataDir });
    await using browser = await launchBrowser({ viewport: { width: 1400, height: 1000 } });
    const { page } = browser;
    await page.goto(cp.baseUrl);
    await page.locator("#token").fill(cp.adminToken);

    await t.step("the first page and the counts of all 10,000", async () => {
      const started = performance.now();
      await page.locator("#login-form button[type=submit]").click();
      await page.locator('#workers-view[data-loaded="true"]').waitFor({ timeout: UI_TIMEOUT_MS });
      console.log(
        `sign-in to a rendered fleet of ${COUNT}: ${Math.round(performance.now() - started)} ms`,
      );
      assertEquals(await page.locator("#fleet-range").innerText(), "1–50 of 10,000");
      assertEquals(
        await page.locator("#worker-rows tr").count(),
        50,
        "only one page is in the page",
      );
      assertEquals(await page.locator("[data-tile=offline] .tile-count").innerText(), "1000");
    });

    await t.step("search finds one worker among 10,000", async () => {
      await page.locator("#fleet-search").fill("node-09999");
      await waitFor(async () => (await page.locator("#fleet-range").innerText()) === "1–1 of 1", {
        timeoutMs: UI_TIMEOUT_MS,
        message: "one match",
      });
      assertEquals(await page.locator("#worker-rows .worker-link").innerText(), "node-09999");
      await page.locator("#fleet-search").fill("");
    });

    await t.step("sorting by memory and paging keep the order across pages", async () => {
      await waitFor(
        async () => (await page.locator("#fleet-range").innerText()) === "1–50 of 10,000",
        {
          timeoutMs: UI_TIMEOUT_MS,
        },
      );
      const started = performance.now();
      await page.locator('button.sort[data-sort="memory"]').click();
      await page.waitForURL(/sort=-memory/, { timeout: UI_TIMEOUT_MS });
      const memory = () =>
        page.locator("#worker-rows tr td:nth-child(9)").allInnerTexts().then((all) =>
          all.map((v) => Number.parseFloat(v))
        );
      const first = await waitFor(async () => {
        const values = await memory();
        return values.every((v, i) => i === 0 || values[i - 1]! >= v) && values.length === 50
          ? values
          : undefined;
      }, { timeoutMs: UI_TIMEOUT_MS, message: "rows by memory" });
      console.log(`sort 10,000 by memory, rendered: ${Math.round(performance.now() - started)} ms`);
      await page.locator("#page-next").click();
      await page.locator("#fleet-range").getByText("51–100 of 10,000").waitFor({
        timeout: UI_TIMEOUT_MS,
      });
      const second = await memory();
      assert(first.at(-1)! >= second[0]!, "page 2 continues page 1");
      await page.locator("#page-prev").click();
      await page.locator("#fleet-range").getByText("1–50 of 10,000").waitFor({
        timeout: UI_TIMEOUT_MS,
      });
    });

    await t.step("no script errors", () => assertEquals(browser.problems, []));
  } finally {
    await Deno.remove(dataDir, { recursive: true }).catch(() => {});
  }
});
