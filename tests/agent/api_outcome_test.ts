import { deepStrictEqual as assertEquals, ok as assert } from "node:assert/strict";
import {
  classifyFailure,
  classifySocketEnd,
  parseRetryAfter,
  type SocketEnd,
} from "../../src/client/api_outcome.ts";

const body = (code: string) => JSON.stringify({ error: "msg", code });

Deno.test("classifyFailure() decides retry, auth, re-register or give up in one place", async (t) => {
  const cases: Array<[string, number, string, string | null, string, number | undefined]> = [
    ["429 retries after Retry-After", 429, body("rate_limited"), "7", "retry", 7000],
    ["503 retries", 503, "", null, "retry", undefined],
    ["500 retries", 500, "<html>oops</html>", null, "retry", undefined],
    ["401 is an auth problem", 401, body("invalid_api_key"), null, "auth", undefined],
    ["403 forbidden is an auth problem", 403, body("forbidden"), null, "auth", undefined],
    [
      "403 worker_mismatch is its own case",
      403,
      body("worker_mismatch"),
      null,
      "worker_mismatch",
      undefined,
    ],
    ["404 means register again", 404, body("not_found"), null, "not_found", undefined],
    ["400 is rejected", 400, body("invalid_request"), null, "rejected", undefined],
    ["413 is rejected", 413, body("payload_too_large"), null, "rejected", undefined],
    ["409 key_in_use is its own case", 409, body("key_in_use"), null, "key_in_use", undefined],
    ["another 409 is rejected", 409, body("conflict"), null, "rejected", undefined],
    ["a 503 nested 100 000 deep still retries", 503, "[".repeat(100_000), null, "retry", undefined],
  ];
  for (const [name, status, text, retryAfter, kind, retryAfterMs] of cases) {
    await t.step(name, () => {
      const outcome = classifyFailure(status, text, retryAfter, 0);
      assertEquals(outcome.kind, kind);
      if (outcome.kind === "retry") assertEquals(outcome.retryAfterMs, retryAfterMs);
    });
  }
});

Deno.test("parseRetryAfter() reads seconds and HTTP dates and caps at one hour", () => {
  assertEquals(parseRetryAfter("3", 0), 3000);
  assertEquals(parseRetryAfter(null, 0), undefined);
  assertEquals(parseRetryAfter("soon", 0), undefined);
  assertEquals(parseRetryAfter("99999", 0), 3_600_000);
  const now = Date.parse("2026-01-01T00:00:00Z");
  assertEquals(parseRetryAfter("Thu, 01 Jan 2026 00:00:10 GMT", now), 10_000);
});

Deno.test("parseRetryAfter() never asks for less than 1 s, so a server saying 0 is not hammered", () => {
  assertEquals(parseRetryAfter("0", 0), 1000);
  assertEquals(parseRetryAfter("-5", 0), 1000);
  assertEquals(parseRetryAfter("0.2", 0), 1000);
  const now = Date.parse("2026-01-01T00:00:10Z");
  assertEquals(parseRetryAfter("Thu, 01 Jan 2026 00:00:00 GMT", now), 1000, "a date in the past");
});

Deno.test("classifyFailure() redacts a key the server echoes in its error message", () => {
  // The reason reaches status.json's last_error and `worker-agent status`, not only the log.
  const key = "wak_" + "S".repeat(32);
  const text = JSON.stringify({ error: `unknown key ${key}`, code: "invalid_api_key" });
  const outcome = classifyFailure(401, text, null, 0);
  assert(!outcome.reason.includes(key.slice(8)), outcome.reason);
  assert(outcome.reason.includes("unknown key"));
});

Deno.test("classifyFailure() names the machine holding a key from a 409 key_in_use", () => {
  const outcome = classifyFailure(
    409,
    JSON.stringify({
      error: "key in use",
      code: "key_in_use",
      hostname: "gpu-box-1\nFAKE LOG LINE",
      last_heartbeat: 1_764_000_000_000,
    }),
    null,
    0,
  );
  assert(outcome.kind === "key_in_use");
  assertEquals(outcome.holder, {
    hostname: "gpu-box-1?FAKE LOG LINE",
    lastHeartbeatAt: 1_764_000_000_000,
  });
  const iso = classifyFailure(
    409,
    JSON.stringify({ error: "x", code: "key_in_use", last_heartbeat: "2026-01-01T00:00:00Z" }),
    null,
    0,
  );
  assert(iso.kind === "key_in_use");
  assertEquals(iso.holder, {
    hostname: undefined,
    lastHeartbeatAt: Date.parse("2026-01-01T00:00:00Z"),
  });
});

Deno.test("classifySocketEnd() decides a WebSocket end like an HTTP answer", async (t) => {
  const cases: [string, Exclude<SocketEnd, { kind: "aborted" }>, string][] = [
    [
      "upgrade 404: no WebSocket endpoint",
      { kind: "refused", status: 404, message: "" },
      "unsupported",
    ],
    ["upgrade 401 is an auth problem", { kind: "refused", status: 401, message: "" }, "auth"],
    ["upgrade 403 is an auth problem", { kind: "refused", status: 403, message: "" }, "auth"],
    ["upgrade 409 is key_in_use", { kind: "refused", status: 409, message: "" }, "key_in_use"],
    ["upgrade 503 retries", { kind: "refused", status: 503, message: "" }, "retry"],
    [
      "close 4001 is an auth problem",
      { kind: "closed", code: 4001, reason: "", welcomed: true },
      "auth",
    ],
    [
      "close 4003 is an auth problem",
      { kind: "closed", code: 4003, reason: "", welcomed: true },
      "auth",
    ],
    [
      "close 4008: replaced",
      { kind: "closed", code: 4008, reason: "", welcomed: true },
      "replaced",
    ],
    ["close 4029 retries", { kind: "closed", code: 4029, reason: "", welcomed: true }, "retry"],
    ["close 1000 retries", { kind: "closed", code: 1000, reason: "", welcomed: true }, "retry"],
    ["a network error retries", { kind: "error", message: "reset" }, "retry"],
    ["an unusable frame retries", { kind: "bad_frame", message: "not JSON" }, "retry"],
  ];
  for (const [name, end, kind] of cases) {
    await t.step(name, () => assertEquals(classifySocketEnd(end).kind, kind));
  }
  const badFrame = classifySocketEnd({ kind: "bad_frame", message: "not JSON" });
  assert(badFrame.kind === "retry" && badFrame.badFrame);
});
