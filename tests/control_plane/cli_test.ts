/** The control plane's command line: admin token, `keys create`, usage errors. */
import { deepStrictEqual as assertEquals, match, ok as assert } from "node:assert/strict";
import { Paths } from "../../src/protocol/mod.ts";
import { startControlPlane } from "../_helpers/control_plane_process.ts";
import { freshDatabase } from "../_helpers/test_services.ts";
import { registerBody } from "./_fixtures.ts";

const MAIN = new URL("../../src/control_plane/main.ts", import.meta.url).pathname;
const PERMS = ["--allow-net", "--allow-read", "--allow-write", "--allow-env", "--allow-sys"];

async function run(args: string[], env: Record<string, string> = {}) {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--quiet", ...PERMS, MAIN, ...args],
    env,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  const decode = (b: Uint8Array) => new TextDecoder().decode(b);
  return { code: out.code, stdout: decode(out.stdout), stderr: decode(out.stderr) };
}

/** Starts the server without the helper (no --admin-token) and stops it after `lines`. */
async function firstLines(dataDir: string, env: Record<string, string> = {}): Promise<string[]> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "--quiet", ...PERMS, MAIN, "--port", "0", "--data-dir", dataDir],
    env: { FTL_ADMIN_TOKEN: "", ...env },
    stdin: "null",
    stdout: "piped",
    stderr: "null",
  }).spawn();
  const lines: string[] = [];
  const decoder = new TextDecoder();
  let text = "";
  for await (const chunk of child.stdout) {
    text += decoder.decode(chunk, { stream: true });
    if (text.includes("listening on")) {
      child.kill("SIGTERM");
    }
  }
  const status = await child.status;
  assertEquals(status.code, 0, "SIGTERM is a clean stop");
  lines.push(...text.split("\n").filter(Boolean));
  return lines;
}

Deno.test("the admin token is generated on first start, printed once and stored 0600", async () => {
  const dir = await Deno.makeTempDir({ prefix: "ftl-cp-cli-" });
  try {
    const first = await firstLines(`${dir}/data`);
    const tokenLine = first.find((l) => l.startsWith("admin token: "));
    assert(tokenLine, first.join("\n"));
    const token = tokenLine.split(" ")[2]!;
    match(first.at(-1)!, /^listening on http:\/\/127\.0\.0\.1:\d+$/);
    const stored = await Deno.readTextFile(`${dir}/data/admin_token`);
    assertEquals(stored.trim(), token);
    assertEquals((await Deno.stat(`${dir}/data/admin_token`)).mode! & 0o777, 0o600);
    assertEquals((await Deno.stat(`${dir}/data/control-plane.db`)).mode! & 0o777, 0o600);

    const second = await firstLines(`${dir}/data`);
    assert(!second.some((l) => l.includes(token)), "not printed again");
    const fromEnv = await firstLines(`${dir}/env`, { FTL_ADMIN_TOKEN: "adm_from_env" });
    assert(!fromEnv.some((l) => l.startsWith("admin token")), "an env token is not printed");
    await Deno.stat(`${dir}/env/admin_token`).then(
      () => assert(false, "an env token is not stored"),
      (e) => assert(e instanceof Deno.errors.NotFound),
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("keys create prints a key once, stored hashed, that the server accepts", async () => {
  const dir = await Deno.makeTempDir({ prefix: "ftl-cp-keys-" });
  try {
    const made = await run(["keys", "create", "--name", "laptop", "--data-dir", dir]);
    assertEquals(made.code, 0, made.stderr);
    const key = made.stdout.trim();
    match(key, /^wak_[0-9A-Za-z]{32}$/);
    assert(!made.stderr.includes(key), "the key goes to stdout only");
    const db = await Deno.readFile(`${dir}/control-plane.db`);
    assert(!new TextDecoder("latin1").decode(db).includes(key), "the raw key is not stored");

    await using cp = await startControlPlane({ dataDir: dir, args: ["--rate-limit", "0"] });
    const res = await fetch(`${cp.baseUrl}${Paths.register}`, {
      method: "POST",
      headers: { "X-API-Key": key, "Content-Type": "application/json" },
      body: JSON.stringify(registerBody()),
    });
    assertEquals(res.status, 200);
    await res.body?.cancel();
    const keys = (await (await cp.admin("/api/admin/keys")).json()).keys;
    assertEquals(keys.map((k: { name: string }) => k.name), ["laptop"]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("usage errors print one line and exit 2", async (t) => {
  const cases: [string, string[], RegExp][] = [
    ["an unknown flag", ["--nope"], /nope/],
    ["keys create without a name", ["keys", "create"], /--name/],
    ["a bad port", ["--port", "70000"], /--port/],
    ["an unknown command", ["frobnicate"], /unknown command/],
  ];
  for (const [name, args, pattern] of cases) {
    await t.step(name, async () => {
      const out = await run(args);
      assertEquals(out.code, 2);
      match(out.stderr, pattern);
      assertEquals(out.stderr.trim().split("\n").length, 1, out.stderr);
    });
  }
});

Deno.test("--database-url: keys create and the server share PostgreSQL; the password is never printed", async () => {
  await using database = await freshDatabase();
  // The machine's PostgreSQL trusts local users: the password is accepted and ignored, so the
  // test can check that it never shows.
  const password = "pw-Zq7sEcretValue";
  const url = new URL(database.url);
  url.password = password;
  const made = await run(["keys", "create", "--name", "pg-laptop", "--database-url", url.href]);
  assertEquals(made.code, 0, made.stderr);
  const key = made.stdout.trim();
  match(key, /^wak_[0-9A-Za-z]{32}$/);
  await using cp = await startControlPlane({
    args: ["--rate-limit", "0"],
    env: { FTL_DATABASE_URL: url.href },
  });
  const res = await fetch(`${cp.baseUrl}${Paths.register}`, {
    method: "POST",
    headers: { "X-API-Key": key, "Content-Type": "application/json" },
    body: JSON.stringify(registerBody()),
  });
  assertEquals(res.status, 200);
  await res.body?.cancel();
  const ready = await fetch(`${cp.baseUrl}/readyz`);
  assertEquals([ready.status, await ready.json()], [200, { ok: true, database: true, bus: true }]);
  const keys = (await (await cp.admin("/api/admin/keys")).json()).keys;
  assertEquals(keys.map((k: { name: string }) => k.name), ["pg-laptop"]);
  match(cp.output(), /storage: postgresql/);
  assert(!cp.output().includes(password), "the password is not logged");
  assert(!made.stderr.includes(password));
});

Deno.test("--database-url: an unreachable server is one clear line without the password", async () => {
  const out = await run([
    "keys",
    "create",
    "--name",
    "x",
    "--database-url",
    "postgres://postgres:pw-Zq7sEcretValue@127.0.0.1:1/none",
  ]);
  assertEquals(out.code, 1);
  match(
    out.stderr,
    /cannot reach PostgreSQL at postgres:\/\/postgres:\[redacted\]@127\.0\.0\.1:1\/none/,
  );
  assert(!out.stderr.includes("pw-Zq7sEcretValue"));
  const bad = await run(["--database-url", "mysql://x@y/z"]);
  assertEquals(bad.code, 2);
  match(bad.stderr, /--database-url must be postgres:\/\//);
  const natsAlone = await run(["--nats-url", "nats://127.0.0.1:4222"]);
  assertEquals(natsAlone.code, 2);
  match(natsAlone.stderr, /--nats-url needs --database-url/);
});
