import {
  deepStrictEqual as assertEquals,
  match as assertMatch,
  ok as assert,
} from "node:assert/strict";
import { createLogger } from "../../src/log/logger.ts";

const KEY = "wak_0123456789ABCDEFGHIJabcdefghijkl";
const NOW = Date.UTC(2026, 0, 2, 3, 4, 5, 678);

function capture(options: Parameters<typeof createLogger>[0] = {}) {
  const lines: string[] = [];
  const logger = createLogger({ now: () => NOW, ...options, write: (line) => lines.push(line) });
  return { logger, lines };
}

Deno.test("createLogger() writes text lines with time, level, message and fields", () => {
  const { logger, lines } = capture();
  logger.info("registered", { worker_id: "wkr_1", interval_s: 30, note: "two words" });
  assertEquals(lines, [
    '2026-01-02T03:04:05.678Z INFO  registered worker_id=wkr_1 interval_s=30 note="two words"\n',
  ]);
});

Deno.test("createLogger() writes one JSON object per line in json format", () => {
  const { logger, lines } = capture({ format: "json" });
  logger.child({ component: "heartbeat" }).warn("slow", { ms: 1500, error: new TypeError("boom") });
  assertEquals(lines.length, 1);
  assert(lines[0]!.endsWith("\n") && !lines[0]!.slice(0, -1).includes("\n"));
  assertEquals(JSON.parse(lines[0]!), {
    ts: "2026-01-02T03:04:05.678Z",
    level: "warn",
    msg: "slow",
    component: "heartbeat",
    ms: 1500,
    error: "TypeError: boom",
  });
});

Deno.test("createLogger() drops lines below its level, and setLevel() reaches every child", () => {
  const { logger, lines } = capture({ level: "warn" });
  const child = logger.child({ c: 1 });
  logger.info("hidden");
  child.debug("hidden");
  child.error("shown");
  logger.setLevel("debug");
  child.debug("now shown");
  assertEquals(child.level, "debug");
  assertEquals(lines.map((l) => l.split(" ").slice(1, 4).join(" ").trim()), [
    "ERROR shown c=1",
    "DEBUG now shown",
  ]);
});

Deno.test("createLogger() redacts keys and bearer tokens in messages, fields and error text", async (t) => {
  for (const format of ["text", "json"] as const) {
    await t.step(format, () => {
      const { logger, lines } = capture({ format });
      logger.error(`register failed for ${KEY}`, {
        headers: { "X-API-Key": KEY, Authorization: `Bearer ${KEY}` },
        api_key: KEY,
        error: new Error(`fetch https://h/?k=${KEY} failed`, { cause: new Error(`token=${KEY}`) }),
      });
      logger.child({ key: KEY }).info("admin", { auth: "Bearer adm_0011223344556677" });
      const out = lines.join("");
      assert(!out.includes(KEY.slice(8)), out);
      assert(!out.includes("adm_0011223344556677"), out);
      assertMatch(out, /\[redacted\]/);
    });
  }
});

Deno.test("createLogger() with a file appends 0600 lines and rotates by size, keeping maxFiles", async () => {
  const dir = await Deno.makeTempDir({ prefix: "ftl-log-" });
  try {
    const file = `${dir}/logs/agent.log`;
    const logger = createLogger({ file, maxBytes: 200, maxFiles: 2, now: () => NOW });
    for (let i = 0; i < 20; i++) logger.info(`line ${i}`, { pad: "x".repeat(20) });
    const names = [];
    for await (const entry of Deno.readDir(`${dir}/logs`)) names.push(entry.name);
    assertEquals(names.sort(), ["agent.log", "agent.log.1", "agent.log.2"]);
    for (const name of names) {
      const info = await Deno.stat(`${dir}/logs/${name}`);
      assert(info.size <= 200, `${name} is ${info.size} bytes`);
      assertEquals(info.mode! & 0o777, 0o600);
    }
    const current = await Deno.readTextFile(file);
    assertMatch(current, /line 19 pad=x+\n$/);
    const oldest = await Deno.readTextFile(`${file}.2`);
    assert(!oldest.includes("line 0 "), "the oldest lines were rotated away");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
