/** The dashboard's assets as `serveDashboard()` answers them, and the checked-in bundle. */
import { deepStrictEqual as assertEquals, ok as assert } from "node:assert/strict";
import { join } from "node:path";
import {
  DASHBOARD_CSP,
  DASHBOARD_PATHS,
  serveDashboard,
} from "../../src/control_plane/dashboard/dashboard.ts";
import { DASHBOARD_BUNDLE_DIR, ROOT, staleBundleFiles } from "../../src/build/dashboard_bundle.ts";

const ORIGIN = "http://127.0.0.1:8080";
const PAGE_HTML = await Deno.readTextFile(join(ROOT, "src/control_plane/dashboard/index.html"));
const APP_JS = await Deno.readTextFile(join(ROOT, DASHBOARD_BUNDLE_DIR, "app.js"));

function get(path: string, init: RequestInit = {}): Promise<Response | undefined> {
  return serveDashboard(new Request(`${ORIGIN}${path}`, init));
}

Deno.test("serveDashboard() answers the page and each asset with its type and the strict CSP", async (t) => {
  const cases: [string, string, string][] = [
    [DASHBOARD_PATHS.page, "text/html", "<!doctype html>"],
    [DASHBOARD_PATHS.script, "text/javascript", "/api/admin/events"],
    [DASHBOARD_PATHS.style, "text/css", ".uplot"],
    [DASHBOARD_PATHS.icon, "image/svg+xml", "<svg"],
  ];
  for (const [path, type, snippet] of cases) {
    await t.step(`GET ${path}`, async () => {
      const response = await get(path);
      assert(response, `no response for ${path}`);
      assertEquals(response.status, 200);
      const contentType = response.headers.get("Content-Type") ?? "";
      assert(contentType.startsWith(type), `${path} is served as ${contentType}`);
      assertEquals(response.headers.get("Content-Security-Policy"), DASHBOARD_CSP);
      assertEquals(response.headers.get("X-Content-Type-Options"), "nosniff");
      assertEquals(response.headers.get("X-Frame-Options"), "DENY");
      assertEquals(response.headers.get("Referrer-Policy"), "no-referrer");
      assertEquals(response.headers.get("Content-Encoding"), null, "not compressed unless asked");
      assert((await response.text()).includes(snippet));
    });
  }
});

Deno.test("serveDashboard() compresses the script for clients that accept gzip", async () => {
  const response = await get(DASHBOARD_PATHS.script, {
    headers: { "Accept-Encoding": "gzip, br" },
  });
  assertEquals(response?.headers.get("Content-Encoding"), "gzip");
  const body = new Uint8Array(await response!.arrayBuffer());
  assertEquals(Number(response!.headers.get("Content-Length")), body.byteLength);
  assert(body.byteLength < APP_JS.length / 2, `${body.byteLength} bytes compressed`);
  const plain = await new Response(
    new Blob([body]).stream().pipeThrough(new DecompressionStream("gzip")),
  ).text();
  assertEquals(plain, APP_JS);
  const refused = await get(DASHBOARD_PATHS.script, { headers: { "Accept-Encoding": "gzip;q=0" } });
  assertEquals(refused?.headers.get("Content-Encoding"), null);
  await refused?.body?.cancel();
});

Deno.test("serveDashboard() leaves other paths and methods to the caller", async (t) => {
  const cases: [string, string][] = [
    ["GET", "/api/workers"],
    ["GET", "/dashboard/missing.js"],
    ["GET", "/dashboard/style.css"],
    ["GET", "/index.html"],
    ["POST", "/"],
    ["DELETE", DASHBOARD_PATHS.script],
  ];
  for (const [method, path] of cases) {
    await t.step(`${method} ${path}`, async () => {
      assertEquals(await get(path, { method }), undefined);
    });
  }
});

Deno.test("serveDashboard() answers 304 to a matching If-None-Match and an empty body to HEAD", async () => {
  const first = await get(DASHBOARD_PATHS.script);
  assert(first);
  await first.body?.cancel();
  const etag = first.headers.get("ETag");
  assert(etag, "an ETag is set");
  const again = await get(DASHBOARD_PATHS.script, { headers: { "If-None-Match": etag } });
  assertEquals(again?.status, 304);
  assertEquals(again?.headers.get("Content-Security-Policy"), DASHBOARD_CSP);
  const stale = await get(DASHBOARD_PATHS.script, { headers: { "If-None-Match": '"0"' } });
  assertEquals(stale?.status, 200);
  await stale?.body?.cancel();
  const head = await get(DASHBOARD_PATHS.page, { method: "HEAD" });
  assertEquals(head?.status, 200);
  assertEquals(head?.body, null);
});

Deno.test("the CSP allows only same-origin resources and no inline script", () => {
  assert(DASHBOARD_CSP.includes("default-src 'self'"));
  assert(!DASHBOARD_CSP.includes("unsafe-inline"));
  assert(!DASHBOARD_CSP.includes("unsafe-eval"));
  assert(DASHBOARD_CSP.includes("frame-ancestors 'none'"));
});

Deno.test("the page has no inline script, inline handler or off-site resource", () => {
  assertEquals(PAGE_HTML.match(/<script(?![^>]*\ssrc=)[^>]*>/g), null, "every script has a src");
  assertEquals(PAGE_HTML.match(/\son[a-z]+\s*=/gi), null, "no inline event handler");
  assertEquals(PAGE_HTML.match(/\sstyle\s*=/gi), null, "no inline style attribute");
  assertEquals(PAGE_HTML.match(/(?:src|href)\s*=\s*"(?:https?:)?\/\//gi), null, "nothing off-site");
});

Deno.test("the bundle parses, loads nothing from elsewhere and never writes markup", async () => {
  // Its modules, and uPlot with them: no sink that parses HTML, no eval.
  const sources = [APP_JS];
  for await (const entry of Deno.readDir(join(ROOT, "src/control_plane/dashboard/app"))) {
    if (entry.isFile) {
      sources.push(
        await Deno.readTextFile(join(ROOT, "src/control_plane/dashboard/app", entry.name)),
      );
    }
  }
  for (const source of sources) {
    for (
      const sink of [
        "innerHTML",
        "outerHTML",
        "insertAdjacentHTML",
        "document.write",
        "eval(",
        "new Function",
      ]
    ) {
      assert(!source.replace("no `innerHTML`", "").includes(sink), `the dashboard uses ${sink}`);
    }
  }
  assert(!/https?:\/\/(?!www\.w3\.org)/.test(APP_JS), "no absolute URL: nothing from a CDN");
  assert(!APP_JS.includes("zod"), "the protocol's zod schemas stay on the server");
});

Deno.test("the checked-in dashboard bundle is what deno task build:dashboard makes from the sources", async () => {
  const stale = await staleBundleFiles();
  assertEquals(
    stale,
    [],
    `${DASHBOARD_BUNDLE_DIR} is stale: run deno task build:dashboard and commit it`,
  );
});
