/**
 * The loopback rule (protocol 3.1, interfaces 2): plain `http://` and `ws://` are allowed only
 * for a loopback host; everything else needs TLS. The agent's config, its HTTP client and the
 * control plane's warnings all ask this one function, so they can never disagree.
 *
 * @module
 */

/**
 * Whether `hostname` (as in a URL, IPv6 with or without brackets) is a loopback host:
 * `localhost`, an address in 127.0.0.0/8, or `::1`. Names under `.localhost` are not: whether
 * they reach this machine depends on the resolver, and a plain-http request that leaves the
 * machine would carry the worker key in the clear.
 *
 * @example
 * ```ts
 * isLoopbackHost("127.0.0.1"); // true
 * isLoopbackHost("[::1]"); // true
 * isLoopbackHost("agent.localhost"); // false
 * ```
 */
export function isLoopbackHost(hostname: string): boolean {
  const host = hostname.replace(/^\[|\]$/g, "").toLowerCase();
  return host === "localhost" || host === "::1" ||
    /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}

/** Whether `url` names a loopback host ({@linkcode isLoopbackHost}); false for a non-URL. */
export function isLoopbackUrl(url: string): boolean {
  try {
    return isLoopbackHost(new URL(url).hostname);
  } catch {
    return false;
  }
}
