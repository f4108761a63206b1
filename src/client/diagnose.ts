/**
 * Turning what went wrong on the way to the control plane into a reason that names the
 * cause: a missing Deno permission, plain HTTP behind an `https://` URL, a `base_url` that
 * ends in `/api`. Every loop and `doctor` take their wording from here.
 *
 * @module
 */
import { describeBaseUrlApiSuffix } from "../config/schema.ts";
import { describePermissionError } from "../platform/permission_error.ts";

/**
 * The message of a failed fetch or WebSocket with its causes, plus the diagnosis when one is
 * known. Deno's fetch throws `TypeError: fetch failed` and keeps the reason (refused, DNS,
 * `invalid peer certificate: UnknownIssuer`) in `cause`.
 */
export function describeNetworkError(error: unknown, url: string | URL): string {
  const permission = describePermissionError(error);
  if (permission !== undefined) return permission;
  const parts: string[] = [];
  for (let e: unknown = error, depth = 0; e !== undefined && depth < 4; depth++) {
    const message = e instanceof Error ? e.message : String(e);
    if (message !== "" && !parts.includes(message)) parts.push(message);
    e = e instanceof Error ? e.cause : undefined;
  }
  const text = parts.join(": ") || "unknown error";
  const hint = networkHint(text, new URL(url));
  return hint === undefined ? text : `${text} (${hint})`;
}

/** What a low-level TLS or connection error most likely means, for `url`. */
export function networkHint(text: string, url: URL): string | undefined {
  if (
    (url.protocol === "https:" || url.protocol === "wss:") &&
    /InvalidContentType|wrong version number|corrupt message|http request to an https server|record overflow/i
      .test(text)
  ) {
    return `the server at ${url.host} answers plain HTTP, not TLS: use the port that serves https, or http:// on a loopback host`;
  }
  return undefined;
}

/**
 * Why a register call answered 404, when the cause is visible in `baseUrl`: a path ending
 * in `/api` (the agent adds `/api/workers/…` itself).
 */
export function notFoundHint(baseUrl: string): string | undefined {
  return describeBaseUrlApiSuffix(baseUrl);
}
