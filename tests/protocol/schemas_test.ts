import { deepStrictEqual as assertEquals, ok as assert } from "node:assert/strict";
import {
  apiKeyPrefix,
  CommandResultSchema,
  describeApiKeyProblem,
  generateApiKey,
  HeartbeatRequestSchema,
  isApiKey,
  MetricsRequestSchema,
  redactSecrets,
  RegisterRequestSchema,
  ServerFrameSchema,
  validate,
} from "../../src/protocol/mod.ts";

Deno.test("validate() names the bad field and what was expected", async (t) => {
  const cases: [string, unknown, unknown, string][] = [
    ["register without hostname", RegisterRequestSchema, {
      platform: "linux",
      version: "1.0.0",
    }, "hostname"],
    ["register with a bad platform", RegisterRequestSchema, {
      hostname: "h",
      platform: "beos",
      version: "1",
    }, "platform"],
    ["heartbeat with a string load", HeartbeatRequestSchema, { current_load: "2" }, "current_load"],
    ["result with an FTL-invalid status", CommandResultSchema, {
      command_id: "c",
      status: "error",
    }, "status"],
    ["metrics with a string seq", MetricsRequestSchema, { samples: [{ seq: "1" }] }, "samples.0"],
    ["a frame of unknown type", ServerFrameSchema, { type: "exec" }, "type"],
  ];
  for (const [name, schema, value, field] of cases) {
    await t.step(name, () => {
      const result = validate(schema as Parameters<typeof validate>[0], value);
      assert(!result.ok);
      assert(result.field.startsWith(field), `field ${result.field}, expected ${field}`);
      assert(result.error.startsWith(result.field + ": "), result.error);
    });
  }
});

Deno.test("validate() tolerates unknown members and strips them", () => {
  const result = validate(RegisterRequestSchema, {
    hostname: "h",
    platform: "linux",
    version: "1.0.0",
    future_field: 1,
  });
  assert(result.ok);
  assertEquals(Object.keys(result.value).includes("future_field"), false);
});

Deno.test("isApiKey() accepts exactly wak_ plus 32 base62 characters", () => {
  assert(isApiKey("wak_0123456789ABCDEFGHIJKLMNOPQRSTUV"));
  assert(!isApiKey("wak_0123456789ABCDEFGHIJKLMNOPQRSTU"));
  assert(!isApiKey("wak_0123456789ABCDEFGHIJKLMNOPQRST-V"));
  assert(!isApiKey("wk_0123456789ABCDEFGHIJKLMNOPQRSTUVW"));
  assertEquals(
    describeApiKeyProblem("wak_short"),
    'a worker key is 36 characters long ("wak_" + 32), this one has 9',
  );
  assertEquals(describeApiKeyProblem("wak_0123456789ABCDEFGHIJKLMNOPQRSTUV"), undefined);
  const key = generateApiKey();
  assert(isApiKey(key));
  assertEquals(apiKeyPrefix(key), key.slice(0, 12));
});

Deno.test("redactSecrets() hides keys and bearer tokens but keeps the text around them", () => {
  const key = generateApiKey();
  const text = redactSecrets(
    `fetch failed for ${key} with Authorization: Bearer abc.def and "api_key":"${key}"`,
  );
  assert(!text.includes(key.slice(8)), text);
  assert(!text.includes("abc.def"), text);
  assert(text.startsWith("fetch failed for wak_"), text);
});

Deno.test("redactSecrets() redacts only key-shaped values after a label, never ordinary words", () => {
  assertEquals(
    redactSecrets("api_key: not remotely updatable"),
    "api_key: not remotely updatable",
  );
  assertEquals(redactSecrets("token=expired; retry"), "token=expired; retry");
  const admin = "adm_" + "0a1b2c3d".repeat(6);
  assertEquals(redactSecrets(`token=${admin} ok`), "token=[redacted] ok");
  assertEquals(redactSecrets(`"admin_token":"${admin}"`), `"admin_token":"[redacted]"`);
});
