/** `/healthz` and `/readyz` for load balancers, and storage errors as HTTP statuses. */
import { deepStrictEqual as assertEquals, match, ok as assert } from "node:assert/strict";
import postgres from "postgres";
import { httpErrorOf } from "../../src/control_plane/app.ts";
import {
  ConflictError,
  InvalidInputError,
  NotFoundError,
  UnavailableError,
} from "../../src/control_plane/storage/errors.ts";
import {
  connectPostgresStorage,
  postgresEngineOf,
} from "../../src/control_plane/storage/postgres/pg_storage.ts";
import type { Sql } from "../../src/control_plane/storage/postgres/pg_types.ts";
import { redactUrl } from "../../src/control_plane/storage/redact_url.ts";
import { redactSecrets } from "../../src/protocol/api_key.ts";
import { registerBody, testPlane } from "./_fixtures.ts";

Deno.test("/healthz and /readyz answer without a key and are not rate-limited", async () => {
  using plane = testPlane({ rateLimitPerSecond: 1, rateLimitBurst: 1 });
  for (let i = 0; i < 5; i++) {
    const health = await plane.call("/healthz");
    assertEquals([health.status, await health.json()], [200, { ok: true }]);
    const ready = await plane.call("/readyz");
    assertEquals([ready.status, await ready.json()], [200, {
      ok: true,
      database: true,
      bus: true,
    }]);
  }
  assert(!plane.logs.some((line) => line.includes("/healthz")), "probes are not logged");
});

Deno.test("/readyz is 503 with Retry-After when the database cannot answer", async () => {
  using plane = testPlane();
  plane.db.close();
  const ready = await plane.call("/readyz");
  assertEquals(ready.status, 503);
  assertEquals(ready.headers.get("retry-after"), "5");
  assertEquals(await ready.json(), { ok: false, database: false, bus: true });
  assertEquals((await plane.call("/healthz")).status, 200, "the process is still up");
});

Deno.test("storage errors map to HTTP statuses in one place", () => {
  assertEquals(httpErrorOf(new NotFoundError("No key k")).status, 404);
  const invalid = httpErrorOf(new InvalidInputError("metadata: too big", { field: "metadata" }));
  assertEquals([invalid.status, invalid.code, invalid.field], [400, "invalid_request", "metadata"]);
  assertEquals(httpErrorOf(new ConflictError("taken")).status, 409);
  const down = httpErrorOf(new UnavailableError("down", { retryAfterSeconds: 2 }));
  assertEquals([down.status, down.headers["Retry-After"]], [503, "2"]);
  assertEquals(httpErrorOf(new Error("bug")).status, 500);
});

Deno.test("PostgreSQL gone: requests get 503 with Retry-After, the process goes on", async () => {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close(); // nothing listens there now
  const url = `postgres://postgres:pw-hidden@127.0.0.1:${port}/none`;
  await assertRejectsUnavailable(connectPostgresStorage(url, { connectTimeoutSeconds: 2 }));
  // A pool whose server went away after start (no migration at connect here).
  const sql = postgres(url, { max: 2, connect_timeout: 2, onnotice: () => {} }) as unknown as Sql;
  const engine = postgresEngineOf(sql);
  using plane = testPlane({ storage: engine });
  try {
    const res = await plane.call("/api/workers/register", {
      key: "wak_0123456789abcdefghijABCDEFGHIJ01",
      json: registerBody(),
    });
    assertEquals(res.status, 503);
    assertEquals(res.headers.get("retry-after"), "2");
    const body = await res.json();
    match(body.error, /unavailable/);
    assert(!JSON.stringify(body).includes("pw-hidden"));
    assertEquals((await plane.call("/readyz")).status, 503);
    assertEquals(await plane.cp.sweepAsLeader(), false, "no lead without the database");
  } finally {
    await engine.close();
  }
});

async function assertRejectsUnavailable(promise: Promise<unknown>): Promise<void> {
  try {
    await promise;
  } catch (error) {
    assert(error instanceof UnavailableError, String(error));
    assert(!error.message.includes("pw-hidden"), error.message);
    return;
  }
  throw new Error("expected a rejection");
}

Deno.test("database URLs lose their passwords in logs and messages", () => {
  assertEquals(
    redactUrl("postgres://ftl:s3cret@db.example:5432/ftl?sslpassword=x1&application_name=cp"),
    "postgres://ftl:[redacted]@db.example:5432/ftl?sslpassword=[redacted]&application_name=cp",
  );
  assertEquals(redactUrl("postgres://db.example/ftl"), "postgres://db.example/ftl");
  assertEquals(
    redactSecrets('connect failed: "postgres://u:p4ss@h/db" and nats://a:b@n:4222'),
    'connect failed: "postgres://u:[redacted]@h/db" and nats://a:[redacted]@n:4222',
  );
});
