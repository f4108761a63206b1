/**
 * The dashboard's figures (issue 14), printed as a table:
 *
 * - the bundle: `app.js` and `app.css`, raw and gzip-compressed (as served);
 * - bundling at startup instead: how long `deno bundle` of the dashboard takes;
 * - a 10,000-worker fleet: sign-in to the rendered first page, and a sort, in Chromium;
 * - a ping to a real agent: Send to "completed" on screen, without a reload;
 * - a 7-day chart: one worker with 7 days of samples every 10 s (60,480), the series answer
 *   on the server, and choosing "7 d" to the charts drawn in Chromium.
 *
 * `deno run -A bench/dashboard_bench.ts [RUNS]` (default 5 runs per row; median and max).
 * Needs Chromium at /usr/bin/chromium (or `FTL_CHROMIUM`).
 */
import { join } from "node:path";
import { bundleDashboard, DASHBOARD_BUNDLE_DIR, ROOT } from "../src/build/dashboard_bundle.ts";
import type { Sample } from "../src/protocol/mod.ts";
import { startAgent } from "../tests/_helpers/agent_process.ts";
import { startControlPlane } from "../tests/_helpers/control_plane_process.ts";
import { seedFleet, simulatedSample, simulateFleet } from "../tests/_helpers/simulated_fleet.ts";
import { waitFor } from "../tests/_helpers/wait_for.ts";
import { launchBrowser } from "../tests/dashboard/_browser.ts";
import type { Page } from "playwright-core";

const RUNS = Number(Deno.args[0] ?? 5);
const rows: string[] = [];

function stats(values: number[]): string {
  const sorted = [...values].sort((a, b) => a - b);
  const median = sorted[Math.floor(sorted.length / 2)]!;
  return `${Math.round(median)} ms | ${Math.round(sorted.at(-1)!)} ms`;
}

async function gzipSize(path: string): Promise<number> {
  const stream = (await Deno.open(path)).readable.pipeThrough(new CompressionStream("gzip"));
  return (await new Response(stream).arrayBuffer()).byteLength;
}

const kib = (n: number) => `${(n / 1024).toFixed(1)} KiB`;

/**
 * Clicks `click` in the page and resolves with the ms until `done` matches more elements than
 * before the click, measured in the page with a MutationObserver (no polling delay).
 */
function timeInPage(page: Page, click: string, done: string): Promise<number> {
  return page.evaluate(([click, done]) =>
    new Promise<number>((resolve, reject) => {
      const before = document.querySelectorAll(done).length;
      const started = performance.now();
      const observer = new MutationObserver(() => {
        if (document.querySelectorAll(done).length > before) {
          observer.disconnect();
          resolve(performance.now() - started);
        }
      });
      observer.observe(document.body, { subtree: true, childList: true, attributes: true });
      setTimeout(() => reject(new Error(`${done} did not appear`)), 30_000);
      (document.querySelector(click) as HTMLElement).click();
    }), [click, done] as const);
}

// ---- bundle
for (const file of ["app.js", "app.css"]) {
  const path = join(ROOT, DASHBOARD_BUNDLE_DIR, file);
  const size = (await Deno.stat(path)).size;
  rows.push(`| bundle ${file} | ${kib(size)} raw, ${kib(await gzipSize(path))} gzip | | | |`);
}
{
  const dir = await Deno.makeTempDir();
  const times: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const started = performance.now();
    await bundleDashboard({ outDir: dir });
    times.push(performance.now() - started);
  }
  await Deno.remove(dir, { recursive: true });
  rows.push(
    `| \`deno bundle\` of the dashboard (the cost of bundling at startup) | | ${
      stats(times)
    } | ${RUNS} |`,
  );
}

// ---- 10,000 workers
{
  const dataDir = await Deno.makeTempDir({ prefix: "ftl-bench-fleet-" });
  seedFleet(dataDir, { count: 10_000, prefix: "node" });
  await using cp = await startControlPlane({ dataDir });
  await using browser = await launchBrowser({ viewport: { width: 1400, height: 1000 } });
  const { page } = browser;
  const signIn: number[] = [];
  const sort: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    await page.context().clearCookies();
    await page.goto(`${cp.baseUrl}/#/`);
    await page.reload();
    await page.locator("#token").fill(cp.adminToken);
    signIn.push(
      await timeInPage(
        page,
        "#login-form button[type=submit]",
        '#workers-view[data-loaded="true"]',
      ),
    );
    await page.locator("#fleet-range").getByText("of 10,000").waitFor();
    const column = i % 2 ? "cpu" : "disk";
    sort.push(
      await timeInPage(
        page,
        `button.sort[data-sort="${column}"]`,
        `#workers-view[data-sorted="-${column}"]`,
      ),
    );
  }
  rows.push(
    `| 10,000 workers: sign-in to the first page rendered | | ${stats(signIn)} | ${RUNS} |`,
  );
  rows.push(`| 10,000 workers: click a column to re-sorted rows | | ${stats(sort)} | ${RUNS} |`);
  await Deno.remove(dataDir, { recursive: true });
}

// ---- ping and 7-day chart
{
  await using cp = await startControlPlane();
  const [worker] = await simulateFleet({
    baseUrl: cp.baseUrl,
    admin: cp.admin,
    count: 1,
    prefix: "week",
  });
  const now = Date.now();
  const samples: Sample[] = [];
  for (let ts = now - 7 * 86_400_000, seq = 100; ts < now; ts += 10_000, seq++) {
    samples.push(simulatedSample(0, ts, seq, { stream: "week-stream" }));
  }
  await worker!.postSamples(samples);
  const key = await cp.createKey("bench-agent");
  await using agent = await startAgent({
    baseUrl: cp.baseUrl,
    apiKey: key,
    config: { hostname: "bench-agent" },
  });
  await waitFor(async () => (await agent.status())?.state === "connected", { timeoutMs: 30_000 });
  const agentId = await waitFor(async () =>
    (await (await cp.admin("/api/workers?q=bench-agent")).json()).workers[0]?.worker_id as
      | string
      | undefined
  );

  const api: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const started = performance.now();
    const res = await cp.admin(`/api/workers/${worker!.workerId}/series?range=7d`);
    const body = await res.json();
    api.push(performance.now() - started);
    if (body.samples < samples.length - 10) throw new Error(`only ${body.samples} samples`);
  }
  rows.push(
    `| 7-day series of ${samples.length.toLocaleString()} samples: API answer | | ${
      stats(api)
    } | ${RUNS} |`,
  );

  await using browser = await launchBrowser({ viewport: { width: 1400, height: 1000 } });
  const { page } = browser;
  await page.goto(cp.baseUrl);
  await page.locator("#token").fill(cp.adminToken);
  await page.locator("#login-form button[type=submit]").click();
  await page.locator('#workers-view[data-loaded="true"]').waitFor();
  const chart: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    await page.goto(`${cp.baseUrl}/#/workers/${worker!.workerId}?range=1h`);
    await page.locator('#charts-card[data-range="1h"] #chart-cpu canvas').waitFor({
      timeout: 30_000,
    });
    chart.push(
      await timeInPage(
        page,
        'button.range[data-range="7d"]',
        '#charts-card[data-range="7d"] #chart-cpu canvas',
      ),
    );
  }
  rows.push(`| 7-day charts: click "7 d" to every chart drawn | | ${stats(chart)} | ${RUNS} |`);

  const ping: number[] = [];
  await page.goto(`${cp.baseUrl}/#/workers/${agentId}`);
  await page.locator("#command-form").waitFor();
  for (let i = 0; i < RUNS; i++) {
    ping.push(
      await timeInPage(page, "#command-send", '#command-rows tr[data-status="completed"]'),
    );
  }
  rows.push(
    `| ping: Send to "completed" on screen (live, no reload) | | ${stats(ping)} | ${RUNS} |`,
  );
}

console.log("| what | size | median | max | runs |");
console.log("|---|---|---|---|---|");
for (const row of rows) console.log(row);
