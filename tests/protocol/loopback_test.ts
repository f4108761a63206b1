/**
 * The loopback rule lives in one place (`protocol/loopback.ts`), and the agent's config, its
 * HTTP client and the control plane's public-URL warning all agree with it. The config used to
 * accept `http://agent.localhost:8080`, which the client then refused at start.
 */
import { deepStrictEqual as assertEquals, throws } from "node:assert/strict";
import { WorkerClient } from "../../src/client/worker_client.ts";
import { AgentConfigSchema } from "../../src/config/schema.ts";
import { generateApiKey, isLoopbackHost, isLoopbackUrl } from "../../src/protocol/mod.ts";
import { startControlPlane } from "../_helpers/control_plane_process.ts";

const HOSTS: [string, boolean][] = [
  ["localhost", true],
  ["LOCALHOST", true],
  ["127.0.0.1", true],
  ["127.1.2.3", true],
  ["[::1]", true],
  ["::1", true],
  ["agent.localhost", false],
  ["localhost.example.com", false],
  ["127.evil.example", false],
  ["128.0.0.1", false],
  ["example.com", false],
  ["[::2]", false],
];

Deno.test("isLoopbackHost() knows localhost, 127.0.0.0/8 and ::1, and nothing else", async (t) => {
  for (const [host, loopback] of HOSTS) {
    await t.step(host, () => {
      assertEquals(isLoopbackHost(host), loopback);
      const urlHost = host.includes(":") && !host.startsWith("[") ? `[${host}]` : host;
      assertEquals(isLoopbackUrl(`http://${urlHost}:8080`), loopback);
    });
  }
  assertEquals(isLoopbackUrl("not a url"), false);
});

Deno.test("the config accepts plain http exactly where the client does", async (t) => {
  const apiKey = generateApiKey();
  for (const [host, loopback] of HOSTS) {
    const urlHost = host.includes(":") && !host.startsWith("[") ? `[${host}]` : host;
    const baseUrl = `http://${urlHost}:8080`;
    await t.step(baseUrl, () => {
      const config = AgentConfigSchema.safeParse({ api_key: apiKey, base_url: baseUrl });
      assertEquals(config.success, loopback, JSON.stringify(config.error?.issues));
      if (loopback) new WorkerClient({ baseUrl: config.data!.base_url, apiKey });
      else throws(() => new WorkerClient({ baseUrl, apiKey }), TypeError);
    });
  }
});

Deno.test("the control plane warns about a plain-http public URL unless its host is loopback", async (t) => {
  for (
    const [publicUrl, warned] of [
      ["http://agent.localhost:8080", true],
      ["http://127.0.0.1:8080", false],
    ] as const
  ) {
    await t.step(publicUrl, async () => {
      await using cp = await startControlPlane({ args: ["--public-url", publicUrl] });
      assertEquals(cp.output().includes("plain http on a non-loopback host"), warned, cp.output());
    });
  }
});
