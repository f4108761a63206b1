/**
 * A server that accepts the registration but answers every heartbeat 404 (a worker deleted
 * again at once, or a heartbeat route missing behind a proxy) must not make the agent
 * register and heartbeat in a tight loop.
 */
import { ok as assert } from "node:assert/strict";
import { startAgent } from "../_helpers/agent_process.ts";
import { waitFor } from "../_helpers/wait_for.ts";

const KEY = "wak_" + "H".repeat(32);

Deno.test("heartbeats answered 404 make the agent register again with backoff, not in a loop", async () => {
  let registrations = 0;
  let heartbeats = 0;
  let port = 0;
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (req) => {
    const path = new URL(req.url).pathname;
    await req.body?.cancel();
    const server_time = Date.now();
    if (req.method === "POST" && path === "/api/workers/register") {
      registrations++;
      return Response.json({
        worker_id: "wkr_gone0000000000000000000",
        websocket_url: `ws://127.0.0.1:${port}/api/v1/workers/ws`,
        heartbeat_interval_seconds: 5,
        metrics_interval_seconds: 60,
        signature_alg: "hmac-sha256",
        server_time,
      });
    }
    if (path.endsWith("/heartbeat")) heartbeats++;
    return Response.json({ error: "no such worker", code: "not_found" }, { status: 404 });
  });
  port = server.addr.port;
  try {
    await using agent = await startAgent({ baseUrl: `http://127.0.0.1:${port}`, apiKey: KEY });
    await waitFor(() => heartbeats >= 1, { message: "a first heartbeat" });
    // An observation window: full-jitter backoff (1 s doubling) allows a handful of tries in
    // 3 s; the loop without a wait made hundreds.
    const start = registrations;
    const deadline = Date.now() + 3_000;
    await waitFor(() => registrations - start > 10 || Date.now() >= deadline, {
      message: "the window",
    });
    assert(registrations - start <= 10, `${registrations - start} registrations in 3 s`);
    assert(agent.output().includes("registering again"), "the 404 is logged");
  } finally {
    await server.shutdown();
  }
});
