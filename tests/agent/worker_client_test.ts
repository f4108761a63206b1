import { deepStrictEqual as assertEquals, ok as assert, throws } from "node:assert/strict";
import { WorkerClient } from "../../src/client/worker_client.ts";
import { Reachability } from "../../src/shared/backoff.ts";
import { VERSION } from "../../src/version.ts";

const KEY = "wak_" + "a".repeat(32);

function recordingFetch(respond: (request: Request) => Response | Promise<Response>) {
  const requests: Request[] = [];
  const fetchFn: typeof fetch = (input, init) => {
    const request = new Request(input as string, init);
    requests.push(request);
    return Promise.resolve(respond(request));
  };
  return { requests, fetchFn };
}

Deno.test("WorkerClient sends the key, User-Agent and JSON, and measures clock skew", async () => {
  let now = 1_000_000;
  const { requests, fetchFn } = recordingFetch(() => {
    now += 100; // the answer takes 100 ms
    return Response.json({ worker_id: "wkr_x", server_time: 1_005_050 });
  });
  const client = new WorkerClient({
    baseUrl: "http://127.0.0.1:9",
    apiKey: KEY,
    fetch: fetchFn,
    now: () => now,
  });
  const outcome = await client.register({ hostname: "h", platform: "linux", version: VERSION });
  assertEquals(outcome.kind, "ok");
  const request = requests[0]!;
  assertEquals(new URL(request.url).pathname, "/api/workers/register");
  assertEquals(request.headers.get("X-API-Key"), KEY);
  assert(request.headers.get("User-Agent")!.startsWith(`finetunelab-worker-agent/${VERSION} (`));
  assert(/ deno\/\d/.test(request.headers.get("User-Agent")!));
  assertEquals(client.clockSkewMs, 5_000);
});

Deno.test("WorkerClient turns network errors, bad bodies and HTTP errors into outcomes", async (t) => {
  await t.step("a network error is retried", async () => {
    const client = new WorkerClient({
      baseUrl: "http://127.0.0.1:9",
      apiKey: KEY,
      fetch: () => Promise.reject(new TypeError("connection refused")),
    });
    const outcome = await client.heartbeat("wkr_x", {});
    assertEquals(outcome.kind, "retry");
  });
  await t.step("a 200 with a body that breaks the schema is retried, not trusted", async () => {
    const { fetchFn } = recordingFetch(() => Response.json({ ok: true, accepted: "many" }));
    const client = new WorkerClient({ baseUrl: "http://127.0.0.1:9", apiKey: KEY, fetch: fetchFn });
    const outcome = await client.sendMetrics("wkr_x", []);
    assertEquals(outcome.kind, "retry");
  });
  await t.step("a 429 carries Retry-After", async () => {
    const { fetchFn } = recordingFetch(() =>
      Response.json({ error: "slow down", code: "rate_limited" }, {
        status: 429,
        headers: { "Retry-After": "2" },
      })
    );
    const client = new WorkerClient({ baseUrl: "http://127.0.0.1:9", apiKey: KEY, fetch: fetchFn });
    const outcome = await client.heartbeat("wkr_x", {});
    assertEquals(outcome.kind === "retry" ? outcome.retryAfterMs : -1, 2000);
  });
  await t.step("a slow server times out", async () => {
    const client = new WorkerClient({
      baseUrl: "http://127.0.0.1:9",
      apiKey: KEY,
      timeoutMs: 20,
      fetch: (_input, init) =>
        new Promise((_resolve, reject) =>
          init?.signal?.addEventListener("abort", () => reject(init.signal?.reason))
        ),
    });
    const outcome = await client.heartbeat("wkr_x", {});
    assert(outcome.kind === "retry" && outcome.reason.includes("timed out"));
  });
});

Deno.test("WorkerClient refuses plain http to a host that is not loopback", () => {
  throws(() => new WorkerClient({ baseUrl: "http://example.com", apiKey: KEY }), TypeError);
  new WorkerClient({ baseUrl: "https://example.com", apiKey: KEY });
  new WorkerClient({ baseUrl: "http://localhost:8080", apiKey: KEY });
});

Deno.test("WorkerClient stops reading an answer body past 4 MiB instead of buffering it all", async () => {
  // A broken or hostile server could stream gigabytes in the 15 s timeout.
  let pulled = 0;
  const chunk = new TextEncoder().encode("x".repeat(64 * 1024));
  const fetchFn: typeof fetch = () => {
    let started = false;
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (!started) {
          started = true;
          controller.enqueue(new TextEncoder().encode('{"ok":true,"server_time":1,"pad":"'));
          return;
        }
        pulled += chunk.length;
        if (pulled > 64 * 1024 * 1024) {
          controller.enqueue(new TextEncoder().encode('"}'));
          controller.close();
        } else controller.enqueue(chunk);
      },
    });
    return Promise.resolve(new Response(body, { status: 200 }));
  };
  const client = new WorkerClient({ baseUrl: "http://127.0.0.1:9", apiKey: KEY, fetch: fetchFn });
  const outcome = await client.heartbeat("wkr_x", {});
  assertEquals(outcome.kind, "retry");
  assert(outcome.kind === "retry" && /too large/.test(outcome.reason), JSON.stringify(outcome));
  assert(pulled <= 5 * 1024 * 1024, `read ${pulled} bytes`);
});

Deno.test("WorkerClient treats an answer nested deeper than 64 levels or not JSON as a failed request", async (t) => {
  const answers: [string, string, RegExp][] = [
    [
      "100 000 levels deep",
      `{"ok":true,"pending_commands":[${"[".repeat(100_000)}${"]".repeat(100_000)}]}`,
      /nested deeper than 64 levels/,
    ],
    ["65 levels", `{"ok":true,"pending_commands":${"[".repeat(64)}${"]".repeat(64)}}`, /deeper/],
    ["an HTML page with 200", "<html><body>Welcome</body></html>", /not JSON/],
    ["truncated JSON", '{"ok":true,"pending_commands":[', /not JSON/],
  ];
  for (const [name, text, reason] of answers) {
    await t.step(name, async () => {
      const { fetchFn } = recordingFetch(() =>
        new Response(text, { headers: { "Content-Type": "application/json" } })
      );
      const client = new WorkerClient({
        baseUrl: "http://127.0.0.1:9",
        apiKey: KEY,
        fetch: fetchFn,
      });
      const outcome = await client.heartbeat("wkr_x", {});
      assert(outcome.kind === "retry", JSON.stringify(outcome).slice(0, 300));
      assert(reason.test(outcome.reason), outcome.reason);
    });
  }
  await t.step("64 levels are fine", async () => {
    const { fetchFn } = recordingFetch(() =>
      new Response(`{"ok":true,"pending_commands":[${"[".repeat(62)}${"]".repeat(62)}]}`)
    );
    const client = new WorkerClient({ baseUrl: "http://127.0.0.1:9", apiKey: KEY, fetch: fetchFn });
    assertEquals((await client.heartbeat("wkr_x", {})).kind, "ok");
  });
});

Deno.test("WorkerClient names plain HTTP behind an https:// URL, and a missing Deno permission", async (t) => {
  await t.step("https:// against a plain-HTTP port", async () => {
    await using server = Deno.serve(
      { hostname: "127.0.0.1", port: 0, onListen() {} },
      () => Response.json({ ok: true }),
    );
    const client = new WorkerClient({
      baseUrl: `https://127.0.0.1:${server.addr.port}`,
      apiKey: KEY,
    });
    const outcome = await client.heartbeat("wkr_x", {});
    assert(outcome.kind === "retry");
    assert(/answers plain HTTP, not TLS/.test(outcome.reason), outcome.reason);
    assert(!/ca_file/.test(outcome.reason), outcome.reason);
  });
  await t.step("a Deno permission denial names the flag", async () => {
    const client = new WorkerClient({
      baseUrl: "https://cp.example:8443",
      apiKey: KEY,
      fetch: () =>
        Promise.reject(
          new Deno.errors.NotCapable(
            'Requires net access to "cp.example:8443", run again with the --allow-net flag',
          ),
        ),
    });
    const outcome = await client.heartbeat("wkr_x", {});
    assert(outcome.kind === "retry");
    assert(outcome.reason.includes("run with --allow-net=cp.example:8443"), outcome.reason);
  });
});

Deno.test("WorkerClient tells the Reachability: a 2xx is reached, a retry is lost, a 4xx neither", async () => {
  let now = 0;
  let answer: () => Response | Promise<Response> = () => Response.json({ worker_id: "wkr_x" });
  const { fetchFn } = recordingFetch(() => answer());
  const reachability = new Reachability({ now: () => now });
  const client = new WorkerClient({
    baseUrl: "http://127.0.0.1:9",
    apiKey: KEY,
    fetch: fetchFn,
    now: () => now,
    reachability,
  });
  const body = { hostname: "h", platform: "linux", version: VERSION } as const;
  now = 5_000;
  answer = () => Promise.reject(new TypeError("connection refused"));
  assertEquals((await client.register(body)).kind, "retry");
  assertEquals(reachability.down, true);
  assertEquals(reachability.lastReachableAt, 0);
  now = 6_000;
  answer = () => Response.json({ error: "busy", code: "unavailable" }, { status: 503 });
  assertEquals((await client.register(body)).kind, "retry");
  assertEquals(reachability.lastReachableAt, 0, "a 503 is not a success");
  now = 7_000;
  answer = () => Response.json({ error: "no", code: "invalid_request" }, { status: 400 });
  assertEquals((await client.register(body)).kind, "rejected");
  assertEquals(reachability.down, true);
  now = 8_000;
  answer = () => Response.json({ worker_id: "wkr_x" });
  assertEquals((await client.register(body)).kind, "ok");
  assertEquals(reachability.down, false);
  assertEquals(reachability.lastReachableAt, 8_000);
});
