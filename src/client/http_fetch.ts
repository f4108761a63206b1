/** A `fetch` that honours the agent's `ca_file` and `proxy` settings. */

/** Options of {@linkcode createAgentFetch}. */
export interface AgentFetchOptions {
  /** PEM file with extra CA certificates; empty for the system store only. @default {""} */
  caFile?: string;
  /** Proxy URL; empty to use `HTTPS_PROXY`/`NO_PROXY` from the environment. @default {""} */
  proxy?: string;
  /** Reads the CA file. @default {Deno.readTextFile} */
  readTextFile?: (path: string) => Promise<string>;
}

/** A fetch function plus the Deno HTTP client behind it (also used for the WebSocket). */
export interface AgentFetch {
  /** Fetch with the configured client. */
  fetch: typeof fetch;
  /** The client, when `ca_file` or `proxy` asked for one. */
  client: Deno.HttpClient | undefined;
  /** Releases the client. */
  close(): void;
}

/**
 * Builds the fetch the agent uses. Without `caFile` and `proxy` this is the global `fetch`
 * (which already honours `HTTPS_PROXY`/`NO_PROXY`); otherwise a `Deno.createHttpClient` with
 * the extra CA certificates and the proxy.
 */
export async function createAgentFetch(options: AgentFetchOptions = {}): Promise<AgentFetch> {
  const { caFile = "", proxy = "", readTextFile = Deno.readTextFile } = options;
  if (caFile === "" && proxy === "") {
    return { fetch: globalThis.fetch, client: undefined, close() {} };
  }
  const clientOptions: Deno.CreateHttpClientOptions = {};
  if (caFile !== "") clientOptions.caCerts = [await readTextFile(caFile)];
  if (proxy !== "") clientOptions.proxy = { url: proxy };
  const client = Deno.createHttpClient(clientOptions);
  const wrapped: typeof fetch = (input, init) =>
    fetch(input, { ...init, client } as RequestInit & { client: Deno.HttpClient });
  return { fetch: wrapped, client, close: () => client.close() };
}
