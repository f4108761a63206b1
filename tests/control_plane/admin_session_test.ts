/**
 * Dashboard sessions: the admin token is exchanged for an HttpOnly, SameSite=Strict cookie that
 * authenticates admin calls (and the event stream); changing calls need the CSRF header; the
 * cookie cannot be forged, outlives nothing and ends at sign-out.
 */
import {
  deepStrictEqual as assertEquals,
  match as assertMatch,
  ok as assert,
} from "node:assert/strict";
import { CSRF_HEADER, SESSION_COOKIE } from "../../src/control_plane/admin_api.ts";
import {
  AdminSessions,
  readCookie,
  SESSION_TTL_MS,
} from "../../src/control_plane/admin_session.ts";
import { testPlane } from "./_fixtures.ts";

type Plane = ReturnType<typeof testPlane>;

async function signIn(
  plane: Plane,
  token = plane.adminToken,
  headers: HeadersInit = {},
): Promise<Response> {
  return await plane.call("/api/admin/session", { json: { token }, headers });
}

async function cookieOf(plane: Plane): Promise<string> {
  const res = await signIn(plane);
  await res.body?.cancel();
  const value = readCookie(res.headers.get("set-cookie")?.split(";")[0] ?? null);
  assert(value, "a session cookie is set");
  return `${SESSION_COOKIE}=${value}`;
}

Deno.test("signing in sets an HttpOnly SameSite=Strict cookie and answers the session", async () => {
  using plane = testPlane();
  const res = await signIn(plane);
  const body = await res.json();
  assertEquals(res.status, 200);
  const cookie = res.headers.get("set-cookie") ?? "";
  assertMatch(cookie, new RegExp(`^${SESSION_COOKIE}=v1\\.\\d+\\.`));
  for (
    const attribute of ["HttpOnly", "SameSite=Strict", "Path=/", `Max-Age=${SESSION_TTL_MS / 1000}`]
  ) {
    assert(cookie.includes(attribute), `${attribute} in ${cookie}`);
  }
  assert(!cookie.includes("Secure"), "no Secure over plain http on loopback");
  assert(!cookie.includes(plane.adminToken), "the token is not in the cookie");
  assertEquals([body.ok, body.via, body.expires_at], [
    true,
    "session",
    plane.clock.time + SESSION_TTL_MS,
  ]);
  assertEquals([
    body.heartbeat_interval_seconds,
    body.metrics_interval_seconds,
    body.missed_heartbeats_offline,
  ], [30, 10, 3]);
});

Deno.test("the cookie is Secure behind HTTPS", async (t) => {
  await t.step("a https public URL", async () => {
    using plane = testPlane({ publicUrl: "https://cp.example.com" });
    const res = await signIn(plane);
    await res.body?.cancel();
    assert(res.headers.get("set-cookie")?.includes("; Secure"));
  });
  await t.step("X-Forwarded-Proto: https from a proxy", async () => {
    using plane = testPlane();
    const res = await signIn(plane, plane.adminToken, { "X-Forwarded-Proto": "https" });
    await res.body?.cancel();
    assert(res.headers.get("set-cookie")?.includes("; Secure"));
  });
});

Deno.test("a wrong token gets 401 and no cookie", async () => {
  using plane = testPlane();
  const res = await signIn(plane, "adm_wrong");
  assertEquals([res.status, (await res.json()).code], [401, "invalid_api_key"]);
  assertEquals(res.headers.get("set-cookie"), null);
});

Deno.test("the cookie authenticates admin reads; changes need the CSRF header", async (t) => {
  using plane = testPlane();
  const cookie = await cookieOf(plane);
  await t.step("GET with the cookie", async () => {
    const res = await plane.call("/api/workers", { headers: { cookie } });
    assertEquals(res.status, 200);
    await res.body?.cancel();
  });
  await t.step("POST with the cookie but without the header is 403", async () => {
    const res = await plane.call("/api/admin/keys", { json: { name: "x" }, headers: { cookie } });
    assertEquals([res.status, (await res.json()).code], [403, "forbidden"]);
  });
  await t.step("POST with the cookie and the header", async () => {
    const res = await plane.call("/api/admin/keys", {
      json: { name: "x" },
      headers: { cookie, [CSRF_HEADER]: "1" },
    });
    assertEquals(res.status, 201);
    await res.body?.cancel();
  });
  await t.step("the bearer token needs no header (scripts)", async () => {
    const res = await plane.admin("/api/admin/keys", { json: { name: "y" } });
    assertEquals(res.status, 201);
    await res.body?.cancel();
  });
});

Deno.test("a forged, expired or signed-out session is refused", async (t) => {
  using plane = testPlane();
  const cookie = await cookieOf(plane);
  const value = cookie.slice(SESSION_COOKIE.length + 1);
  const [v, expires, nonce, mac] = value.split(".");
  const cases: [string, string][] = [
    ["a longer expiry", `${v}.${Number(expires) + 1}.${nonce}.${mac}`],
    ["another MAC", `${v}.${expires}.${nonce}.${"A".repeat(43)}`],
    ["garbage", "hello"],
  ];
  for (const [name, forged] of cases) {
    await t.step(name, async () => {
      const res = await plane.call("/api/workers", {
        headers: { cookie: `${SESSION_COOKIE}=${forged}` },
      });
      assertEquals(res.status, 401);
      await res.body?.cancel();
    });
  }
  await t.step("signed by another admin token", async () => {
    const other = await new AdminSessions({ adminToken: "adm_other", now: plane.clock.now })
      .issue();
    const res = await plane.call("/api/workers", {
      headers: { cookie: `${SESSION_COOKIE}=${other.value}` },
    });
    assertEquals(res.status, 401);
    await res.body?.cancel();
  });
  await t.step("signed out: the cookie is deleted and refused from then on", async () => {
    const out = await plane.call("/api/admin/session", {
      method: "DELETE",
      headers: { cookie, [CSRF_HEADER]: "1" },
    });
    assertEquals(out.status, 200);
    await out.body?.cancel();
    assertMatch(out.headers.get("set-cookie") ?? "", /Max-Age=0/);
    const res = await plane.call("/api/workers", { headers: { cookie } });
    assertEquals(res.status, 401);
    await res.body?.cancel();
  });
  await t.step("expired", async () => {
    const fresh = await cookieOf(plane);
    plane.clock.advance(SESSION_TTL_MS + 1);
    const res = await plane.call("/api/workers", { headers: { cookie: fresh } });
    assertEquals(res.status, 401);
    await res.body?.cancel();
  });
});

Deno.test("GET /api/admin/session says who is signed in, and answers 200 ok:false to nobody", async () => {
  using plane = testPlane();
  const nobody = await plane.call("/api/admin/session");
  assertEquals([nobody.status, (await nobody.json()).ok], [200, false]);
  const stale = await plane.call("/api/admin/session", {
    headers: { cookie: `${SESSION_COOKIE}=v1.1.x.${"A".repeat(43)}` },
  });
  assertEquals([stale.status, (await stale.json()).ok], [200, false]);
  const cookie = await cookieOf(plane);
  const viaCookie = await (await plane.call("/api/admin/session", { headers: { cookie } })).json();
  assertEquals([viaCookie.ok, viaCookie.via], [true, "session"]);
  const viaBearer = await (await plane.admin("/api/admin/session")).json();
  assertEquals([viaBearer.ok, viaBearer.via, viaBearer.expires_at], [true, "bearer", null]);
});
