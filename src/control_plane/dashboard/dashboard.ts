/**
 * The control plane's web dashboard: one HTML page, one script, one style sheet and an icon,
 * embedded as string constants so that `deno compile` bundles them and the page works offline.
 *
 * The page talks only to the admin API (`shared/interfaces.md` section 3) with the admin token
 * the user pastes once; nothing here reads the database or knows a secret.
 *
 * @module
 */
import { APP_JS } from "./_app_js.ts";
import { FAVICON_SVG } from "./_favicon_svg.ts";
import { PAGE_HTML } from "./_page_html.ts";
import { STYLE_CSS } from "./_style_css.ts";

/**
 * The Content-Security-Policy every dashboard response carries: only same-origin scripts,
 * styles, images and API calls; no inline script, no framing, no plugins.
 */
export const DASHBOARD_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self'",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join("; ");

/** Paths the dashboard answers; every other path is left to the caller. */
export const DASHBOARD_PATHS = {
  page: "/",
  script: "/dashboard/app.js",
  style: "/dashboard/style.css",
  icon: "/dashboard/favicon.svg",
} as const;

interface Asset {
  body: string;
  type: string;
  etag: string;
}

function asset(body: string, type: string): Asset {
  return { body, type, etag: `"${fnv1a(body)}"` };
}

/** 32-bit FNV-1a of a string's UTF-16 code units, as 8 hex digits; enough for an ETag. */
function fnv1a(text: string): string {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash.toString(16).padStart(8, "0");
}

const ASSETS: ReadonlyMap<string, Asset> = new Map([
  [DASHBOARD_PATHS.page, asset(PAGE_HTML, "text/html; charset=utf-8")],
  [DASHBOARD_PATHS.script, asset(APP_JS, "text/javascript; charset=utf-8")],
  [DASHBOARD_PATHS.style, asset(STYLE_CSS, "text/css; charset=utf-8")],
  [DASHBOARD_PATHS.icon, asset(FAVICON_SVG, "image/svg+xml")],
]);

/** Security headers shared by every dashboard response. */
function baseHeaders(): Headers {
  return new Headers({
    "Content-Security-Policy": DASHBOARD_CSP,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
    // Revalidate every time: the ETag makes that a cheap 304, and a new build shows at once.
    "Cache-Control": "no-cache",
  });
}

/**
 * Answers a request for the dashboard page or one of its assets, or returns `undefined` when
 * the request is not for the dashboard (any other path, or a method other than GET/HEAD), so
 * the caller can route it elsewhere.
 *
 * @example Mounting it in front of an API handler
 * ```ts
 * Deno.serve((request) => serveDashboard(request) ?? api(request));
 * ```
 */
export function serveDashboard(request: Request): Response | undefined {
  if (request.method !== "GET" && request.method !== "HEAD") return undefined;
  const found = ASSETS.get(new URL(request.url).pathname);
  if (found === undefined) return undefined;
  const headers = baseHeaders();
  headers.set("ETag", found.etag);
  if (ifNoneMatch(request.headers.get("If-None-Match"), found.etag)) {
    return new Response(null, { status: 304, headers });
  }
  headers.set("Content-Type", found.type);
  return new Response(request.method === "HEAD" ? null : found.body, { status: 200, headers });
}

/** Whether an `If-None-Match` header value names `etag` (weak comparison, `*` included). */
function ifNoneMatch(header: string | null, etag: string): boolean {
  if (header === null) return false;
  return header.split(",").some((tag) => {
    const t = tag.trim();
    return t === "*" || t === etag || t === `W/${etag}`;
  });
}
