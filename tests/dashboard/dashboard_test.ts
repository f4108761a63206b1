import { deepStrictEqual as assertEquals, ok as assert } from "node:assert/strict";
import {
  DASHBOARD_CSP,
  DASHBOARD_PATHS,
  serveDashboard,
} from "../../src/control_plane/dashboard/dashboard.ts";
import { APP_JS } from "../../src/control_plane/dashboard/_app_js.ts";
import { PAGE_HTML } from "../../src/control_plane/dashboard/_page_html.ts";
import { COMMAND_TYPES } from "../../src/protocol/mod.ts";

const ORIGIN = "http://127.0.0.1:8080";

function get(path: string, init: RequestInit = {}): Response | undefined {
  return serveDashboard(new Request(`${ORIGIN}${path}`, init));
}

Deno.test("serveDashboard() answers the page and each asset with its type and the strict CSP", async (t) => {
  const cases: [string, string, string][] = [
    [DASHBOARD_PATHS.page, "text/html", "<!doctype html>"],
    [DASHBOARD_PATHS.script, "text/javascript", "COMMAND_TYPES"],
    [DASHBOARD_PATHS.style, "text/css", ":root"],
    [DASHBOARD_PATHS.icon, "image/svg+xml", "<svg"],
  ];
  for (const [path, type, snippet] of cases) {
    await t.step(`GET ${path}`, async () => {
      const response = get(path);
      assert(response, `no response for ${path}`);
      assertEquals(response.status, 200);
      const contentType = response.headers.get("Content-Type") ?? "";
      assert(contentType.startsWith(type), `${path} is served as ${contentType}`);
      assertEquals(response.headers.get("Content-Security-Policy"), DASHBOARD_CSP);
      assertEquals(response.headers.get("X-Content-Type-Options"), "nosniff");
      assertEquals(response.headers.get("X-Frame-Options"), "DENY");
      assertEquals(response.headers.get("Referrer-Policy"), "no-referrer");
      assert((await response.text()).includes(snippet));
    });
  }
});

Deno.test("serveDashboard() leaves other paths and methods to the caller", async (t) => {
  const cases: [string, string][] = [
    ["GET", "/api/workers"],
    ["GET", "/dashboard/missing.js"],
    ["GET", "/index.html"],
    ["POST", "/"],
    ["DELETE", DASHBOARD_PATHS.script],
  ];
  for (const [method, path] of cases) {
    await t.step(`${method} ${path}`, () => {
      assertEquals(get(path, { method }), undefined);
    });
  }
});

Deno.test("serveDashboard() answers 304 to a matching If-None-Match and an empty body to HEAD", async () => {
  const first = get(DASHBOARD_PATHS.script);
  assert(first);
  await first.body?.cancel();
  const etag = first.headers.get("ETag");
  assert(etag, "an ETag is set");
  const again = get(DASHBOARD_PATHS.script, { headers: { "If-None-Match": etag } });
  assertEquals(again?.status, 304);
  assertEquals(again?.headers.get("Content-Security-Policy"), DASHBOARD_CSP);
  const stale = get(DASHBOARD_PATHS.script, { headers: { "If-None-Match": '"0"' } });
  assertEquals(stale?.status, 200);
  await stale?.body?.cancel();
  const head = get(DASHBOARD_PATHS.page, { method: "HEAD" });
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

Deno.test("the script parses, offers every command type and never writes markup", () => {
  new Function(APP_JS); // throws a SyntaxError when the embedded script is broken
  for (const type of COMMAND_TYPES) assert(APP_JS.includes(`"${type}"`), type);
  for (const sink of ["innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval("]) {
    assert(!APP_JS.includes(sink), `the script uses ${sink}`);
  }
  assert(!/https?:\/\//.test(APP_JS.replace("http://www.w3.org", "")), "no absolute URL");
});
