/**
 * The dashboard's modules that need no browser: untrusted-data helpers (issue 10), routes,
 * formats, chart models, and the params forms generated from the command catalog, checked
 * against the protocol's own schemas.
 */
import { deepStrictEqual as assertEquals, ok as assert } from "node:assert/strict";
import { commandCatalog, DISRUPTIVE_COMMANDS } from "../../src/control_plane/command_catalog.ts";
import {
  chartModels,
  formatTick,
  formatValue,
} from "../../src/control_plane/dashboard/app/charts.ts";
import { fieldsOf, parseMapValue } from "../../src/control_plane/dashboard/app/command_form.ts";
import {
  formatAgo,
  formatMb,
  formatPair,
  idSuffix,
} from "../../src/control_plane/dashboard/app/format.ts";
import { parseEvent } from "../../src/control_plane/dashboard/app/live.ts";
import { parseRoute, routeHash } from "../../src/control_plane/dashboard/app/router.ts";
import {
  formatJson,
  JSON_VIEW_MAX_CHARS,
  JSON_VIEW_MAX_DEPTH,
  records,
  text,
} from "../../src/control_plane/dashboard/app/untrusted.ts";
import { MetricSeries } from "../../src/control_plane/metric_downsample.ts";
import {
  COMMAND_TYPES,
  CommandParamsSchemas,
  REMOTELY_UPDATABLE_KEYS,
} from "../../src/protocol/mod.ts";
import { sample, testPlane } from "../control_plane/_fixtures.ts";
import { Paths } from "../../src/protocol/mod.ts";

Deno.test("text() never calls a value's own methods", () => {
  const hostile = {
    toString: 1,
    valueOf: () => {
      throw new Error("called");
    },
  };
  assertEquals(text(hostile), '{"toString":1,"valueOf":null}');
  assertEquals(text(null, "—"), "—");
  assertEquals(text(["a", { toString: null }]), '["a",{"toString":null}]');
  assertEquals(text(12.5), "12.5");
  assertEquals(text("<img src=x>"), "<img src=x>", "markup stays text (it becomes a text node)");
});

Deno.test("formatJson() is bounded in depth and length, whatever the data", () => {
  let deep: unknown = 1;
  for (let i = 0; i < 20_000; i++) deep = { a: deep };
  const shown = formatJson(deep);
  assert(shown.includes("{…}"));
  assertEquals(
    shown.split("\n").filter((l) => l.trim().startsWith('"a"')).length,
    JSON_VIEW_MAX_DEPTH,
  );
  const long = formatJson({ s: "x".repeat(100_000) });
  assertEquals(long.length, JSON_VIEW_MAX_CHARS + 1);
  assert(long.endsWith("…"));
  assertEquals(
    formatJson({ n: Number.NaN, b: true, l: [] }, { indent: 0 }),
    '{"n":null,"b":true,"l":[]}',
  );
});

Deno.test("records() keeps only plain objects", () => {
  assertEquals(records([{ a: 1 }, null, 3, [1], "x", { b: 2 }]), [{ a: 1 }, { b: 2 }]);
  assertEquals(records({ not: "a list" }), []);
});

Deno.test("parseRoute() never throws and reads every view and its parameters", async (t) => {
  const cases: [string, string, Record<string, string>][] = [
    ["", "fleet", {}],
    ["#/?q=gpu&sort=-cpu", "fleet", { q: "gpu", sort: "-cpu" }],
    ["#/workers/wkr_1?range=7d", "worker", { range: "7d" }],
    ["#/workers/%E0%A4%A", "worker", {}],
    ["#/commands?status=failed&type=ping", "commands", { status: "failed", type: "ping" }],
    ["#/keys", "keys", {}],
    ["#/nowhere/%%%", "fleet", {}],
  ];
  for (const [hash, view, params] of cases) {
    await t.step(hash || "(empty)", () => {
      const route = parseRoute(hash);
      assertEquals(route.view, view);
      assertEquals(Object.fromEntries(route.params), params);
    });
  }
  const malformed = parseRoute("#/workers/%E0%A4%A");
  assertEquals(malformed.view === "worker" && malformed.workerId, "%E0%A4%A", "kept as typed");
  assertEquals(routeHash(parseRoute("#/workers/a%20b?range=1h")), "#/workers/a%20b?range=1h");
});

Deno.test("formats: ages on the server's clock, sizes, pairs, id suffixes", () => {
  const now = 1_764_000_000_000;
  assertEquals(formatAgo(now - 42_000, now), "42 s ago");
  assertEquals(formatAgo(now - 2_000, now), "just now");
  assertEquals(formatAgo(undefined, now), "never");
  assertEquals(formatPair(6144, 16384, formatMb), "6.0 / 16.0 GiB");
  assertEquals(idSuffix("wkr_abcdefghijklmnopqrstuvwx"), "…stuvwx");
  assertEquals(formatValue("bytes_per_s", 2048), "2.0 KiB/s");
  assertEquals(formatTick("mib", 8192), "8 GiB");
  assertEquals(formatTick("gib", 1024), "1 TiB");
  assertEquals(formatValue("percent", { toString: 1 }), "—");
});

Deno.test("parseEvent() accepts the server's events and nothing else", () => {
  assertEquals(
    parseEvent(
      "command",
      '{"type":"command","command_id":"c","worker_id":"w","command_type":"ping","status":"completed"}',
    ),
    { type: "command", command_id: "c", worker_id: "w", command_type: "ping", status: "completed" },
  );
  assertEquals(
    parseEvent("activity", '{"type":"activity","worker_ids":["a",1,null],"all":"yes"}'),
    {
      type: "activity",
      worker_ids: ["a"],
      all: false,
    },
  );
  assertEquals(parseEvent("worker", '{"type":"command"}'), undefined, "type and event must agree");
  assertEquals(parseEvent("worker", "{not json"), undefined);
  assertEquals(parseEvent("key", '{"type":"key"}'), undefined);
});

Deno.test("every command type gets a form from its params schema, and its params pass the protocol's schema", async (t) => {
  const catalog = commandCatalog();
  assertEquals(
    catalog.map((e) => e.command_type),
    [...COMMAND_TYPES],
    "one entry per protocol type",
  );
  for (const entry of catalog) {
    await t.step(entry.command_type, () => {
      const fields = fieldsOf(entry.params_schema);
      const shape = Object.keys(CommandParamsSchemas[entry.command_type].shape);
      assertEquals(fields.map((f) => f.name), shape, "a field per params member");
      // What the form sends with its defaults (a map gets one setting).
      const params: Record<string, unknown> = {};
      for (const field of fields) {
        if (field.kind === "map") {
          params[field.name] = { [field.suggestions![0]!]: parseMapValue("30") };
        } else if (field.required && field.kind === "boolean") params[field.name] = false;
      }
      const checked = CommandParamsSchemas[entry.command_type].safeParse(params);
      assert(checked.success, `${entry.command_type}: ${JSON.stringify(params)}`);
      assertEquals(entry.disruptive, DISRUPTIVE_COMMANDS.includes(entry.command_type));
    });
  }
  const update = fieldsOf(catalog.find((e) => e.command_type === "update_config")!.params_schema);
  assertEquals(update, [{
    name: "changes",
    kind: "map",
    required: true,
    description: "Settings to change, by name",
    suggestions: [...REMOTELY_UPDATABLE_KEYS],
  }]);
  assertEquals(
    fieldsOf(catalog.find((e) => e.command_type === "stop_trading")!.params_schema)[0]?.kind,
    "boolean",
  );
  assertEquals(DISRUPTIVE_COMMANDS, ["stop_trading", "restart_agent"]);
});

Deno.test("fieldsOf() reads the JSON Schema kinds a new command type may use", () => {
  const fields = fieldsOf({
    type: "object",
    properties: {
      level: { type: "string", enum: ["debug", "info"] },
      count: { type: "integer", minimum: 1, maximum: 9 },
      ratio: { type: ["number", "null"] },
      name: { type: "string" },
      list: { type: "array", items: { type: "string" } },
      bogus: "not a schema",
    },
    required: ["level"],
  });
  assertEquals(fields.map((f) => [f.name, f.kind, f.required]), [
    ["level", "enum", true],
    ["count", "integer", false],
    ["ratio", "number", false],
    ["name", "string", false],
    ["list", "json", false],
    ["bogus", "json", false],
  ]);
  assertEquals(fieldsOf(null), []);
  assertEquals([
    parseMapValue("true"),
    parseMapValue("5"),
    parseMapValue("debug"),
    parseMapValue('["a"]'),
  ], [
    true,
    5,
    "debug",
    ["a"],
  ]);
});

Deno.test("chartModels() charts every metric a worker reported, and none it did not", async () => {
  using plane = testPlane();
  const { key, workerId } = await plane.registerWorker();
  const s = {
    ...sample("s", 1),
    gpus: [{
      index: 0,
      name: "G",
      util_percent: 5,
      memory_used_mb: 1,
      memory_total_mb: 2,
      temperature_c: 1,
      power_w: 1,
    }],
  };
  s.net = [{ iface: "eth0", rx_bytes: 1, tx_bytes: 1, rx_bytes_per_s: 10, tx_bytes_per_s: 5 }];
  await plane.call(Paths.metrics(workerId), { key, json: { samples: [s] } });
  const answer = await new MetricSeries(plane.cp.storage.samples).series(workerId, {
    since: s.ts - 1000,
    until: s.ts + 1000,
  });
  assertEquals(chartModels(answer).map((m) => m.id), [
    "cpu",
    "cpu-cores",
    "memory",
    "disk",
    "network",
    "load",
    "gpu-util",
    "gpu-memory",
    "trading",
  ]);
  assertEquals(
    chartModels({ series: { cpu_percent: { min: [1], avg: [1], max: [1] } } }).map((m) => m.id),
    ["cpu"],
  );
  assertEquals(chartModels({ series: "hostile", cores: [{}], gpus: 5 }), []);
});
