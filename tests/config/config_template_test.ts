import { deepStrictEqual as assertEquals } from "node:assert/strict";
import { renderConfigTemplate } from "../../src/config/config_template.ts";
import { parseConfigText } from "../../src/config/load_config.ts";
import { AgentConfigSchema, CONFIG_KEYS, TRADING_KEYS } from "../../src/config/schema.ts";

const KEY = "wak_0123456789ABCDEFGHIJabcdefghijkl";

Deno.test("configs/config.example.yaml is the init template rendered without a key", async () => {
  const example = await Deno.readTextFile(
    new URL("../../configs/config.example.yaml", import.meta.url),
  );
  assertEquals(example, renderConfigTemplate());
});

Deno.test("the init template names every key with its default value", () => {
  const values = parseConfigText(renderConfigTemplate({ apiKey: KEY }), "template");
  // `version` and `spool_max_mb` are accepted for compatibility only: the template leaves them out.
  assertEquals(
    Object.keys(values).sort(),
    CONFIG_KEYS.filter((k) => k !== "version" && k !== "spool_max_mb").sort(),
  );
  assertEquals(Object.keys(values.trading as object).sort(), [...TRADING_KEYS].sort());
  assertEquals(AgentConfigSchema.parse(values), AgentConfigSchema.parse({ api_key: KEY }));
});

Deno.test("the init template quotes what it is given so any URL stays one YAML string", () => {
  const values = parseConfigText(
    renderConfigTemplate({ apiKey: KEY, baseUrl: "http://127.0.0.1:8080/x#y: z" }),
    "template",
  );
  assertEquals(values.base_url, "http://127.0.0.1:8080/x#y: z");
  assertEquals(values.api_key, KEY);
});
