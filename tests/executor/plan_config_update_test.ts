import {
  deepStrictEqual as assertEquals,
  match as assertMatch,
  ok as assert,
} from "node:assert/strict";
import { AgentConfigSchema } from "../../src/config/schema.ts";
import { planConfigUpdate } from "../../src/executor/plan_config_update.ts";
import { generateApiKey, redactSecrets } from "../../src/protocol/mod.ts";

const current = AgentConfigSchema.parse({
  api_key: generateApiKey(),
  max_concurrency: 2,
  max_concurrency_limit: 3,
});

Deno.test("planConfigUpdate() applies each remotely updatable key within its bounds", async (t) => {
  const accepted: [string, unknown][] = [
    ["heartbeat_interval_seconds", 60],
    ["metrics_interval_seconds", 1],
    ["log_level", "debug"],
    ["max_concurrency", 3],
    ["max_concurrency", 1],
    ["trading_enabled", true],
    ["capabilities", ["metrics"]],
  ];
  for (const [key, value] of accepted) {
    await t.step(`${key}: ${JSON.stringify(value)}`, () => {
      const plan = planConfigUpdate(current, { [key]: value });
      assertEquals(plan.rejected, {});
      assertEquals(plan.applied, { [key]: [current[key as keyof typeof current], value] });
      assertEquals(plan.next[key as keyof typeof plan.next], value);
    });
  }
});

Deno.test("planConfigUpdate() rejects what protocol 7 and the schema's bounds forbid", async (t) => {
  const refused: [string, unknown, RegExp][] = [
    ["api_key", generateApiKey(), /not remotely updatable/],
    ["base_url", "https://evil.example", /not remotely updatable/],
    ["allowed_commands", ["ping"], /not remotely updatable/],
    ["command_signature", "hmac-sha256", /not remotely updatable/],
    ["state_dir", "/tmp", /not remotely updatable/],
    ["trading", { command: ["rm", "-rf", "/"] }, /not remotely updatable/],
    ["trading.command", ["sh"], /not remotely updatable/],
    ["max_concurrency_limit", 64, /not remotely updatable/],
    ["no_such_key", 1, /not a config key/],
    ["heartbeat_interval_seconds", 4, /5 to 300/],
    ["heartbeat_interval_seconds", 301, /5 to 300/],
    ["heartbeat_interval_seconds", "60", /expected number/],
    ["metrics_interval_seconds", 0.5, /1 to 300/],
    ["max_concurrency", 4, /max_concurrency_limit \(3\)/],
    ["max_concurrency", 0, /from 1 up to/],
    ["log_level", "trace", /one of: debug, info, warn, error/],
    ["trading_enabled", "true", /true or false/],
    ["capabilities", "metrics", /list of names/],
    ["capabilities", ["x".repeat(65)], /list of names/],
    ["max_concurrency", null, /a value is required/],
  ];
  for (const [key, value, reason] of refused) {
    await t.step(`${key}: ${redactSecrets(JSON.stringify(value)).slice(0, 40)}`, () => {
      const plan = planConfigUpdate(current, { [key]: value });
      assertEquals(plan.applied, {});
      assertMatch(plan.rejected[key] ?? "", reason);
      assertEquals(plan.next, current);
    });
  }
});

Deno.test("planConfigUpdate() splits a mixed change and leaves the current config untouched", () => {
  const before = structuredClone(current);
  const plan = planConfigUpdate(current, {
    heartbeat_interval_seconds: 45,
    capabilities: ["metrics", "gpu"],
    api_key: "wak_nope",
  });
  assertEquals(plan.applied, {
    heartbeat_interval_seconds: [30, 45],
    capabilities: [["metrics", "trading"], ["metrics", "gpu"]],
  });
  assertEquals(Object.keys(plan.rejected), ["api_key"]);
  assertEquals(current, before);
  assert(plan.next !== current);
  assertEquals(plan.next.heartbeat_interval_seconds, 45);
  assertEquals(plan.next.api_key, current.api_key);
});
