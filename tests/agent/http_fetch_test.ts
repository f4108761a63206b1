import { deepStrictEqual as assertEquals } from "node:assert/strict";
import { createAgentFetch } from "../../src/client/http_fetch.ts";
import { freePort } from "../_helpers/wait_for.ts";

Deno.test("createAgentFetch() sends requests through the configured proxy", async () => {
  const seen: string[] = [];
  const proxy = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, (req) => {
    seen.push(req.url);
    return new Response("via proxy");
  });
  const agentFetch = await createAgentFetch({ proxy: `http://127.0.0.1:${proxy.addr.port}` });
  try {
    // Nothing listens on the target: only the proxy can answer.
    const target = `http://127.0.0.1:${freePort()}/api/workers/register`;
    const res = await agentFetch.fetch(target, { method: "POST", body: "{}" });
    assertEquals(await res.text(), "via proxy");
    assertEquals(seen.length, 1);
  } finally {
    agentFetch.close();
    await proxy.shutdown();
  }
});

Deno.test("createAgentFetch() uses the plain global fetch without ca_file or proxy", async () => {
  const agentFetch = await createAgentFetch({});
  assertEquals(agentFetch.fetch, globalThis.fetch);
  assertEquals(agentFetch.client, undefined);
  agentFetch.close();
});
