import { deepStrictEqual as assertEquals, ok as assert } from "node:assert/strict";
import { AgentConfigSchema } from "../../src/config/schema.ts";
import {
  runningPermissionNeeds,
  startPermissionNeeds,
} from "../../src/permissions/permission_needs.ts";
import { planRevocation, revokedAtStartNote } from "../../src/permissions/revoke_permissions.ts";
import { SAMPLE_KEY } from "../_helpers/main_process.ts";

function config(extra: Record<string, unknown> = {}) {
  return AgentConfigSchema.parse({
    api_key: SAMPLE_KEY,
    base_url: "https://cp.example.com",
    state_dir: "/home/u/.local/state/w",
    hostname: "h",
    ...extra,
  });
}

Deno.test("runningPermissionNeeds() keeps the trading program only while a command could start it", async (t) => {
  const trading = { trading: { command: ["/opt/bot", "--live"] } };
  const cases: [string, Record<string, unknown>, boolean][] = [
    ["enabled and allowed", { ...trading, trading_enabled: true }, true],
    ["disabled, but update_config may enable it", trading, true],
    [
      "disabled and update_config not allowed",
      { ...trading, allowed_commands: ["start_trading", "ping"] },
      false,
    ],
    [
      "start_trading not allowed",
      { ...trading, trading_enabled: true, allowed_commands: ["ping", "update_config"] },
      false,
    ],
  ];
  for (const [name, extra, kept] of cases) {
    await t.step(name, () => {
      const needs = runningPermissionNeeds(config(extra), "/home/u/.config/w/config.yaml", {
        os: "linux",
      });
      assertEquals(needs.run.includes("/opt/bot"), kept, needs.run.join(","));
    });
  }
});

Deno.test("runningPermissionNeeds() drops start-only env names, hostname, and the config dir's write when nothing writes the config", () => {
  const path = "/home/u/.config/w/config.yaml";
  const start = startPermissionNeeds(config(), path, { os: "linux" });
  assert(start.env.includes("FTL_API_KEY") && start.sys.includes("hostname"));
  const running = runningPermissionNeeds(config(), path, { os: "linux" });
  assertEquals(running.env, ["LOG_TOKENS", "LOG_STREAM", "FTL_DEBUG"]);
  assert(!running.sys.includes("hostname") && running.sys.includes("statfs"));
  assert(running.write.includes("/home/u/.config/w"), "update_config allowed: the dir stays");

  const noUpdate = config({ allowed_commands: ["ping"] });
  assertEquals(runningPermissionNeeds(noUpdate, path, { os: "linux" }).write, [
    "/home/u/.local/state/w",
  ]);
  // Deno drops a path grant with the grants on its ancestors: a state dir that is the config
  // dir, or above it, keeps the config dir's grant.
  const above = config({ allowed_commands: ["ping"], state_dir: "/home/u/.config" });
  assert(runningPermissionNeeds(above, path, { os: "linux" }).write.includes("/home/u/.config/w"));
});

Deno.test("planRevocation() revokes unused categories whole, unused names from lists, and reports whole grants it cannot narrow", () => {
  const needs = runningPermissionNeeds(config(), "/c/config.yaml", { os: "linux" });
  const granted = new Set(["env:FTL_API_KEY", "env:LOG_TOKENS", "sys:hostname", "sys:cpus"]);
  const report = planRevocation(needs, {
    permissions: {
      querySync(d: Deno.PermissionDescriptor) {
        if (d.name === "net" && !("host" in d && d.host)) {
          return { state: "granted" } as Deno.PermissionStatus;
        }
        const key = d.name === "env"
          ? `env:${d.variable}`
          : d.name === "sys"
          ? `sys:${d.kind}`
          : "";
        return { state: granted.has(key) ? "granted" : "prompt" } as Deno.PermissionStatus;
      },
    },
  });
  assertEquals(report.categories, ["ffi", "import"]);
  assertEquals(report.names, { env: ["FTL_API_KEY"], sys: ["hostname"] });
  assertEquals(report.keptWhole, ["net"]);
});

Deno.test("revokedAtStartNote() says nothing about a permission the agent did not revoke", () => {
  assertEquals(
    revokedAtStartNote(
      'Requires net access to "example.com:443", run again with the --allow-net flag',
    ),
    undefined,
  );
  assertEquals(revokedAtStartNote("some other error"), undefined);
});
