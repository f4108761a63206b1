import { deepStrictEqual as assertEquals, ok as assert, rejects } from "node:assert/strict";
import { updateConfigFile } from "../../src/config/update_config_file.ts";
import { loadConfig } from "../../src/config/load_config.ts";

const KEY = "wak_0123456789ABCDEFGHIJabcdefghijkl";

const USER_FILE = `# my rig in the garage
api_key: ${KEY} # do not share

# slow link, be gentle
heartbeat_interval_seconds: 60
log_level: info # bump when debugging
capabilities: [metrics, trading] # inline list

trading:
  # the bot
  command: ["python3", "bot.py"]
  restart_on_crash: false
`;

async function withFile(fn: (path: string) => Promise<void>, text = USER_FILE, mode = 0o600) {
  const dir = await Deno.makeTempDir({ prefix: "ftl-update-" });
  try {
    await Deno.writeTextFile(`${dir}/config.yaml`, text, { mode });
    await Deno.chmod(`${dir}/config.yaml`, mode);
    await fn(`${dir}/config.yaml`);
    // No temp file is left beside the config.
    const names = [];
    for await (const entry of Deno.readDir(dir)) names.push(entry.name);
    assertEquals(names, ["config.yaml"]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("updateConfigFile() changes only the named values and keeps comments, order and mode", async () => {
  await withFile(async (path) => {
    await updateConfigFile(path, {
      heartbeat_interval_seconds: 15,
      log_level: "debug",
      "trading.restart_on_crash": true,
    });
    const text = await Deno.readTextFile(path);
    assertEquals(
      text,
      USER_FILE.replace("heartbeat_interval_seconds: 60", "heartbeat_interval_seconds: 15")
        .replace("log_level: info", "log_level: debug")
        .replace("restart_on_crash: false", "restart_on_crash: true"),
    );
    assertEquals((await Deno.stat(path)).mode! & 0o777, 0o600);
    const { config } = await loadConfig({ path, env: { HOME: "/h" } });
    assertEquals(config.heartbeat_interval_seconds, 15);
    assertEquals(config.trading.restart_on_crash, true);
  });
});

Deno.test("updateConfigFile() appends keys the file does not have yet and writes lists", async () => {
  await withFile(async (path) => {
    await updateConfigFile(path, { max_concurrency: 2, capabilities: ["metrics"] });
    const text = await Deno.readTextFile(path);
    assert(text.startsWith("# my rig in the garage\napi_key: "));
    assert(text.includes("capabilities: [metrics] # inline list\n"), text);
    assert(text.trimEnd().endsWith("max_concurrency: 2"), text);
  });
});

Deno.test("updateConfigFile() keeps a stricter or looser mode the user chose", async () => {
  await withFile(
    async (path) => {
      await updateConfigFile(path, { log_level: "warn" });
      assertEquals((await Deno.stat(path)).mode! & 0o777, 0o640);
    },
    USER_FILE,
    0o640,
  );
});

Deno.test("updateConfigFile() refuses a file that is not valid YAML and leaves it as it was", async () => {
  const broken = "api_key: [unclosed\n";
  await withFile(async (path) => {
    await rejects(updateConfigFile(path, { log_level: "warn" }), SyntaxError);
    assertEquals(await Deno.readTextFile(path), broken);
  }, broken);
});
