/**
 * Issue 15: a reconnect wave against a low register cap. A few hundred clients register at
 * once with a real control plane capped at 4 registers at a time: the ones over the cap get
 * 503 with a `Retry-After` (not an error, not a dropped connection), obey it, and every one
 * is registered in the end.
 */
import { deepStrictEqual as assertEquals, ok as assert } from "node:assert/strict";
import { startControlPlane } from "../_helpers/control_plane_process.ts";
import { abortableDelay } from "../../src/shared/delay.ts";
import { Paths } from "../../src/protocol/mod.ts";

const CLIENTS = 300;

Deno.test("a wave of 300 registers against a cap of 4: 503 + Retry-After, then all registered", async () => {
  await using cp = await startControlPlane({
    args: [
      "--max-concurrent-registers",
      "4",
      "--max-connections-per-address",
      "0",
      "--rate-limit",
      "0",
      "--log-level",
      "warn",
    ],
  });
  const keys: string[] = [];
  for (let i = 0; i < CLIENTS; i += 25) {
    keys.push(
      ...await Promise.all(
        Array.from({ length: Math.min(25, CLIENTS - i) }, (_, j) => cp.createKey(`w${i + j}`)),
      ),
    );
  }
  const refusals: { retryAfter: string | null; code: string }[] = [];
  const otherErrors: string[] = [];
  const deadline = Date.now() + 90_000;

  async function register(key: string, index: number): Promise<string> {
    while (Date.now() < deadline) {
      const res = await fetch(`${cp.baseUrl}${Paths.register}`, {
        method: "POST",
        headers: { "Content-Type": "application/json", "X-API-Key": key },
        body: JSON.stringify({ hostname: `wave-${index}`, platform: "linux", version: "0.0.0" }),
      });
      const body = await res.json();
      if (res.status === 200) return body.worker_id as string;
      if (res.status !== 503) {
        otherErrors.push(`${res.status} ${JSON.stringify(body)}`);
        throw new Error(`register answered ${res.status}`);
      }
      const retryAfter = res.headers.get("Retry-After");
      refusals.push({ retryAfter, code: body.code });
      // Obeying the server, as an agent does (protocol 8).
      await abortableDelay(Number(retryAfter) * 1000);
    }
    throw new Error(`client ${index} not registered before the deadline`);
  }

  const ids = await Promise.all(keys.map((key, i) => register(key, i)));
  assertEquals(otherErrors, []);
  assertEquals(new Set(ids).size, CLIENTS, "every client registered, each as its own worker");
  assert(refusals.length > 0, "the cap of 4 refused some of the 300 at once");
  for (const { retryAfter, code } of refusals) {
    const seconds = Number(retryAfter);
    assert(Number.isInteger(seconds) && seconds >= 1 && seconds <= 60, `Retry-After ${retryAfter}`);
    assertEquals(code, "rate_limited");
  }
  const listed = await (await cp.admin("/api/workers?limit=1000")).json();
  assertEquals(listed.workers.length, CLIENTS);
  console.log(
    `refusals: ${refusals.length}; Retry-After values: ${
      [...new Set(refusals.map((r) => r.retryAfter))].sort().join(",")
    }`,
  );
});
