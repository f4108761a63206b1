/**
 * The private-service helpers: a PostgreSQL server (initdb as an unprivileged user) and a
 * nats-server, each on a free port, stopped, started again and removed.
 */
import { ok as assert } from "node:assert/strict";
import { startPrivatePostgres } from "../_helpers/private_postgres.ts";
import { listening, startPrivateNats } from "../_helpers/private_nats.ts";

async function psql(port: number, sql: string): Promise<string> {
  const out = await new Deno.Command("psql", {
    args: ["-h", "127.0.0.1", "-p", String(port), "-U", "postgres", "-Atc", sql],
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (!out.success) throw new Error(new TextDecoder().decode(out.stderr));
  return new TextDecoder().decode(out.stdout).trim();
}

Deno.test("private PostgreSQL: serves, stops, starts again with its data, is removed", async () => {
  let dir: string;
  let port: number;
  {
    await using pg = await startPrivatePostgres();
    dir = pg.dataDir;
    port = pg.port;
    await psql(port, "CREATE TABLE t (x int); INSERT INTO t VALUES (42)");
    assert((await psql(port, "SELECT current_user")) === "postgres");
    await pg.stop();
    assert(!await listening(port));
    await pg.start();
    assert((await psql(port, "SELECT x FROM t")) === "42");
    await pg.kill();
    assert(!await listening(port));
    await pg.start(); // recovers after the crash
    assert((await psql(port, "SELECT x FROM t")) === "42");
  }
  assert(!await listening(port));
  assert(await Deno.stat(dir).then(() => false, () => true), "the data dir is removed");
});

Deno.test("private NATS: listens, stops, starts on the same port", async () => {
  let port: number;
  {
    await using nats = await startPrivateNats();
    port = nats.port;
    assert(await listening(port));
    await nats.stop();
    assert(!await listening(port));
    await nats.start();
    assert(await listening(port));
    await nats.kill();
    assert(!nats.running);
  }
  assert(!await listening(port));
});
