/** Which proxy, if any, the agent's requests to base_url go through. */
import type { AgentConfig } from "../config/schema.ts";

/**
 * The proxy for `config.base_url`: `proxy` from the config, else `HTTPS_PROXY` (or
 * `HTTP_PROXY` for an http base_url, `ALL_PROXY` for both) unless `NO_PROXY` matches the
 * host. Loopback hosts never use a proxy (Deno's default).
 */
export function proxyInUse(
  config: Pick<AgentConfig, "proxy" | "base_url">,
  env: (name: string) => string | undefined,
): { url: string; source: string } | undefined {
  if (config.proxy !== "") return { url: config.proxy, source: "config proxy" };
  const base = new URL(config.base_url);
  const host = base.hostname.replace(/^\[|\]$/g, "").toLowerCase();
  const names = base.protocol === "https:"
    ? ["HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy"]
    : ["HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy"];
  for (const name of names) {
    const value = env(name);
    if (!value) continue;
    if (bypassed(host, env("NO_PROXY") ?? env("no_proxy") ?? "")) return undefined;
    return { url: value.includes("://") ? value : `http://${value}`, source: name };
  }
  return undefined;
}

function bypassed(host: string, noProxy: string): boolean {
  for (const raw of noProxy.split(",")) {
    const entry = raw.trim().toLowerCase().replace(/:\d+$/, "");
    if (entry === "") continue;
    if (entry === "*") return true;
    const bare = entry.replace(/^\*?\./, "");
    if (host === bare || host.endsWith(`.${bare}`)) return true;
  }
  return false;
}
