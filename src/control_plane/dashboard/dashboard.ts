/**
 * Serves the control plane's web dashboard: the page, the bundled script and style sheet
 * (`bundle/`, built from `app/` by `deno task build:dashboard` and checked in), and the icon.
 * They are imported as text, so `deno compile` embeds them and the page works offline; nothing
 * is built at startup.
 *
 * The page talks only to the admin API (`shared/interfaces.md` section 3); nothing here reads
 * the database or knows a secret.
 *
 * @module
 */
import APP_JS from "./bundle/app.js" with { type: "text" };
import APP_CSS from "./bundle/app.css" with { type: "text" };
import FAVICON_SVG from "./favicon.svg" with { type: "text" };
import PAGE_HTML from "./index.html" with { type: "text" };
import { fnv1a } from "../../shared/fnv1a.ts";

/**
 * The Content-Security-Policy every dashboard response carries: only same-origin scripts,
 * styles, images and API calls (the event stream included); no inline script, no framing,
 * no plugins.
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
  style: "/dashboard/app.css",
  icon: "/dashboard/favicon.svg",
} as const;

interface Asset {
  body: Uint8Array<ArrayBuffer>;
  /** Lazily compressed copy, for clients that accept gzip. */
  gzip?: Promise<Uint8Array<ArrayBuffer>>;
  type: string;
  etag: string;
}

function asset(text: string, type: string): Asset {
  return { body: new TextEncoder().encode(text), type, etag: `"${fnv1a(text)}"` };
}

const ASSETS: ReadonlyMap<string, Asset> = new Map([
  [DASHBOARD_PATHS.page, asset(PAGE_HTML, "text/html; charset=utf-8")],
  [DASHBOARD_PATHS.script, asset(APP_JS, "text/javascript; charset=utf-8")],
  [DASHBOARD_PATHS.style, asset(APP_CSS, "text/css; charset=utf-8")],
  [DASHBOARD_PATHS.icon, asset(FAVICON_SVG, "image/svg+xml")],
]);

/** Assets smaller than this are sent as they are. */
const COMPRESS_FROM_BYTES = 1024;

async function gzip(bytes: Uint8Array<ArrayBuffer>): Promise<Uint8Array<ArrayBuffer>> {
  const stream = new Blob([bytes]).stream().pipeThrough(new CompressionStream("gzip"));
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

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
    Vary: "Accept-Encoding",
  });
}

/**
 * Answers a request for the dashboard page or one of its assets, or returns `undefined` when
 * the request is not for the dashboard (any other path, or a method other than GET/HEAD), so
 * the caller can route it elsewhere. Script and style go out gzip-compressed to clients that
 * accept it.
 *
 * @example Mounting it in front of an API handler
 * ```ts
 * Deno.serve(async (request) => (await serveDashboard(request)) ?? api(request));
 * ```
 */
export async function serveDashboard(request: Request): Promise<Response | undefined> {
  if (request.method !== "GET" && request.method !== "HEAD") return undefined;
  const found = ASSETS.get(new URL(request.url).pathname);
  if (found === undefined) return undefined;
  const headers = baseHeaders();
  headers.set("ETag", found.etag);
  if (ifNoneMatch(request.headers.get("If-None-Match"), found.etag)) {
    return new Response(null, { status: 304, headers });
  }
  headers.set("Content-Type", found.type);
  let body = found.body;
  if (
    body.byteLength >= COMPRESS_FROM_BYTES && acceptsGzip(request.headers.get("Accept-Encoding"))
  ) {
    body = await (found.gzip ??= gzip(found.body));
    headers.set("Content-Encoding", "gzip");
  }
  headers.set("Content-Length", String(body.byteLength));
  return new Response(request.method === "HEAD" ? null : body, { status: 200, headers });
}

/** Whether an `Accept-Encoding` header value allows gzip. */
function acceptsGzip(header: string | null): boolean {
  if (!header) return false;
  return header.split(",").some((part) => {
    const [name, ...params] = part.trim().toLowerCase().split(";");
    const q = params.map((p) => p.trim()).find((p) => p.startsWith("q="));
    return (name === "gzip" || name === "*") && (q === undefined || Number(q.slice(2)) > 0);
  });
}

/** Whether an `If-None-Match` header value names `etag` (weak comparison, `*` included). */
function ifNoneMatch(header: string | null, etag: string): boolean {
  if (header === null) return false;
  return header.split(",").some((tag) => {
    const t = tag.trim();
    return t === "*" || t === etag || t === `W/${etag}`;
  });
}
