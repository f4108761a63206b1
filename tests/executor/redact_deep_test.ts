import { deepStrictEqual as assertEquals, ok as assert } from "node:assert/strict";
import { redactDeep } from "../../src/executor/redact_deep.ts";
import { generateApiKey } from "../../src/protocol/mod.ts";

Deno.test("redactDeep() removes keys and tokens at any depth, in values and in key names", () => {
  const key = generateApiKey();
  const cyclic: Record<string, unknown> = { name: "loop" };
  cyclic.self = cyclic;
  const out = redactDeep({
    api_key: key,
    nested: { deeper: [{ line: `X-API-Key: ${key}` }, `Authorization: Bearer abc.def`] },
    headers: { Authorization: "Basic dXNlcjpwdw==", "x-api-key": "anything" },
    admin_token: "s3cr3t",
    [key]: "key as a name",
    password: "",
    count: 3,
    ok: true,
    nothing: null,
    when: new Date(0),
    cyclic,
  }) as Record<string, unknown>;
  const text = JSON.stringify(out);
  assert(!text.includes(key.slice(8)), text);
  assert(!text.includes("abc.def"));
  assert(!text.includes("dXNlcjpwdw"));
  assert(!text.includes("s3cr3t"));
  assertEquals(out.api_key, "[redacted]");
  assertEquals(out.password, "", "an empty secret stays visibly empty");
  assertEquals([out.count, out.ok, out.nothing], [3, true, null]);
  assertEquals(out.when, "1970-01-01T00:00:00.000Z");
  assertEquals((out.cyclic as Record<string, unknown>).self, "[circular]");
});
