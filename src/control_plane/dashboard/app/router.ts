/**
 * The page's routes live in the URL's hash, so every view can be bookmarked and the back
 * button works: `#/` (fleet, with `?q=`, `sort=`, `status=`, `trading=`),
 * `#/workers/<id>` (with `?range=`), `#/commands` (with `?status=`, `type=`) and `#/keys`.
 * Parsing never throws, whatever the hash holds.
 *
 * @module
 */
import { safeDecode } from "./untrusted.ts";

/** A parsed route. */
export type Route =
  | { view: "fleet"; params: URLSearchParams }
  | { view: "worker"; workerId: string; params: URLSearchParams }
  | { view: "commands"; params: URLSearchParams }
  | { view: "keys"; params: URLSearchParams };

/** The route of a location hash (`#/workers/wkr_…?range=1h`). */
export function parseRoute(hash: string): Route {
  const raw = hash.replace(/^#/, "");
  const question = raw.indexOf("?");
  const path = question < 0 ? raw : raw.slice(0, question);
  let params: URLSearchParams;
  try {
    params = new URLSearchParams(question < 0 ? "" : raw.slice(question + 1));
  } catch {
    params = new URLSearchParams();
  }
  const parts = path.split("/").filter((p) => p !== "");
  if (parts[0] === "keys") return { view: "keys", params };
  if (parts[0] === "commands") return { view: "commands", params };
  if (parts[0] === "workers" && parts[1]) {
    return { view: "worker", workerId: safeDecode(parts[1]), params };
  }
  return { view: "fleet", params };
}

/** The hash of a route. */
export function routeHash(route: Route): string {
  const query = route.params.toString();
  const suffix = query ? `?${query}` : "";
  switch (route.view) {
    case "fleet":
      return `#/${suffix}`;
    case "worker":
      return `#/workers/${encodeURIComponent(route.workerId)}${suffix}`;
    case "commands":
      return `#/commands${suffix}`;
    case "keys":
      return `#/keys${suffix}`;
  }
}

/** The hash of worker `id`'s page. */
export function workerHash(id: string): string {
  return `#/workers/${encodeURIComponent(id)}`;
}
