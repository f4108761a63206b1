/** One machine per key (protocol 3.1, v1.1): `instance_id`, 409 `key_in_use`, takeover. */
import { deepStrictEqual as assertEquals, ok as assert } from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { Paths } from "../../src/protocol/mod.ts";
import { MIGRATIONS, openDatabase } from "../../src/control_plane/storage/sqlite/database.ts";
import { sqliteEngineOf } from "../../src/control_plane/storage/sqlite/sqlite_storage.ts";
import { INSTANCE_ID_HEADER } from "../../src/protocol/mod.ts";
import { registerBody, servedPlane, type TestPlane, testPlane } from "./_fixtures.ts";
import { ProtocolClient } from "./_protocol_client.ts";

/** 3 heartbeat intervals of the default 30 s. */
const OFFLINE_AFTER_MS = 90_000;

async function register(
  plane: TestPlane,
  key: string,
  extra: Record<string, unknown>,
): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await plane.call(Paths.register, { key, json: registerBody(extra) });
  return { status: res.status, body: await res.json() };
}

async function workerView(plane: TestPlane, workerId: string): Promise<Record<string, unknown>> {
  return (await (await plane.admin(`/api/workers/${workerId}`)).json()).worker;
}

function upgrade(
  plane: TestPlane,
  key: string,
  workerId: string,
  headers: Record<string, string>,
): Promise<Response> {
  return plane.call(Paths.websocket, {
    key,
    headers: {
      "X-Worker-Id": workerId,
      Upgrade: "websocket",
      Connection: "Upgrade",
      "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==",
      "Sec-WebSocket-Version": "13",
      ...headers,
    },
  });
}

Deno.test("a second instance is refused with 409 key_in_use naming the online holder", async () => {
  using plane = testPlane();
  const { key } = await plane.createKey();
  const a = await register(plane, key, { instance_id: "inst-a", hostname: "machine-a" });
  assertEquals(a.status, 200);
  const heartbeatAt = plane.clock.time;
  plane.clock.advance(10_000);
  const b = await register(plane, key, { instance_id: "inst-b", hostname: "machine-b" });
  assertEquals(b.status, 409, JSON.stringify(b.body));
  assertEquals(b.body.code, "key_in_use");
  assertEquals(b.body.hostname, "machine-a");
  assertEquals(b.body.last_heartbeat, heartbeatAt);
  assert(typeof b.body.error === "string" && b.body.error.includes("machine-a"));
  assertEquals(typeof b.body.server_time, "number");
  const again = await register(plane, key, { instance_id: "inst-a", hostname: "machine-a" });
  assertEquals(again.status, 200, "the holder itself registers again");
  assertEquals(again.body.worker_id, a.body.worker_id);
  const view = await workerView(plane, a.body.worker_id as string);
  assertEquals(
    [view.hostname, view.legacy],
    ["machine-a", false],
    "the refused one changed nothing",
  );
});

Deno.test("the holder counts as online for exactly 3 heartbeat intervals after its last heartbeat", async () => {
  using plane = testPlane();
  const { key } = await plane.createKey();
  const a = await register(plane, key, { instance_id: "inst-a", hostname: "machine-a" });
  const workerId = a.body.worker_id as string;
  plane.clock.advance(20_000);
  const beat = await plane.call(Paths.heartbeat(workerId), { key, json: { status: "online" } });
  assertEquals(beat.status, 200);
  await beat.body?.cancel();
  plane.clock.advance(OFFLINE_AFTER_MS);
  assertEquals((await register(plane, key, { instance_id: "inst-b" })).status, 409, "at the edge");
  plane.clock.advance(1);
  const b = await register(plane, key, { instance_id: "inst-b", hostname: "machine-b" });
  assertEquals(b.status, 200, "one ms later the next instance takes over");
  assertEquals(b.body.worker_id, workerId, "the same worker, now held by inst-b");
  const a2 = await register(plane, key, { instance_id: "inst-a", hostname: "machine-a" });
  assertEquals([a2.status, a2.body.hostname], [409, "machine-b"], "and the old holder is out");
});

Deno.test("after an offline heartbeat the next instance takes over at once", async () => {
  using plane = testPlane();
  const { key } = await plane.createKey();
  const a = await register(plane, key, { instance_id: "inst-a" });
  const workerId = a.body.worker_id as string;
  const off = await plane.call(Paths.heartbeat(workerId), { key, json: { status: "offline" } });
  await off.body?.cancel();
  assertEquals((await register(plane, key, { instance_id: "inst-b" })).status, 200);
});

Deno.test("a register without instance_id is not checked and makes the worker legacy; a legacy holder blocks nobody", async () => {
  using plane = testPlane();
  const { key } = await plane.createKey();
  const a = await register(plane, key, { instance_id: "inst-a" });
  const workerId = a.body.worker_id as string;
  const legacy = await register(plane, key, { instance_id: undefined, hostname: "ftl-go-agent" });
  assertEquals(legacy.status, 200, "FineTuneLab's agent sends no instance_id: not checked");
  assertEquals((await workerView(plane, workerId)).legacy, true);
  const back = await register(plane, key, { instance_id: "inst-b", hostname: "machine-b" });
  assertEquals(back.status, 200, "a legacy holder has no id to compare: the first instance wins");
  const view = await workerView(plane, workerId);
  assertEquals([view.legacy, view.hostname], [false, "machine-b"]);
});

Deno.test("the WebSocket upgrade of another instance is refused with 409 before upgrading", async (t) => {
  using plane = testPlane();
  const { key } = await plane.createKey();
  const a = await register(plane, key, { instance_id: "inst-a", hostname: "machine-a" });
  const workerId = a.body.worker_id as string;
  await t.step("another instance: 409 key_in_use", async () => {
    const res = await upgrade(plane, key, workerId, { [INSTANCE_ID_HEADER]: "inst-b" });
    const body = await res.json();
    assertEquals(res.status, 409, JSON.stringify(body));
    assertEquals([body.code, body.hostname], ["key_in_use", "machine-a"]);
  });
  for (
    const [name, headers] of [["the holder", { [INSTANCE_ID_HEADER]: "inst-a" }], [
      "no instance header",
      {},
    ]] as const
  ) {
    await t.step(`${name}: passes the claim`, async () => {
      const res = await upgrade(plane, key, workerId, headers);
      await res.body?.cancel();
      assert(res.status !== 409, `answered ${res.status}`);
    });
  }
});

Deno.test("over a real socket the holder's channel opens, another instance's is refused, and a takeover closes the old one with 4008", async () => {
  await using s = servedPlane();
  const { key } = await s.plane.createKey();
  const a = new ProtocolClient(s.baseUrl, key);
  await a.register({ instance_id: "inst-a", hostname: "machine-a" });
  const channel = await a.connect({ [INSTANCE_ID_HEADER]: "inst-a" });
  await channel.next("welcome");
  const refused = await fetch(`${s.baseUrl}${Paths.websocket}`, {
    headers: {
      "X-API-Key": key,
      "X-Worker-Id": a.workerId,
      [INSTANCE_ID_HEADER]: "inst-b",
      Upgrade: "websocket",
      Connection: "Upgrade",
      "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==",
      "Sec-WebSocket-Version": "13",
    },
  });
  assertEquals(refused.status, 409);
  assertEquals((await refused.json()).code, "key_in_use");
  const off = await a.post(Paths.heartbeat(a.workerId), { status: "offline" });
  assertEquals(off.status, 200);
  assertEquals((await channel.closed).code, 1000, "an offline heartbeat closes the session");

  const again = await a.connect({ [INSTANCE_ID_HEADER]: "inst-a" });
  await again.next("welcome");
  const b = new ProtocolClient(s.baseUrl, key);
  await b.register({ instance_id: "inst-b", hostname: "machine-b" });
  assertEquals(b.workerId, a.workerId);
  assertEquals((await again.closed).code, 4008, "the old holder's channel is replaced");
});

Deno.test("a database from before v1.1 keeps its workers; the first instance to register holds the key", async () => {
  const dir = await Deno.makeTempDir({ prefix: "ftl-cp-v2-" });
  const path = `${dir}/control-plane.db`;
  const raw = new DatabaseSync(path);
  raw.exec("CREATE TABLE schema_version (version INTEGER NOT NULL)");
  for (const [i, sql] of MIGRATIONS.slice(0, 2).entries()) {
    raw.exec(sql);
    raw.prepare("INSERT INTO schema_version (version) VALUES (?)").run(i + 1);
  }
  raw.exec(`INSERT INTO api_keys (id, name, prefix, hash, scopes, signing_key, created_at)
    VALUES ('key_old', 'old', 'wak_oldoldol', 'x', '["worker"]', x'00', 1)`);
  raw.exec(`INSERT INTO workers (worker_id, key_id, hostname, platform, version, capabilities,
      max_concurrency, metadata, status, registered_at, last_heartbeat)
    VALUES ('wkr_old', 'key_old', 'old-host', 'linux', '0.1.0', '[]', 1, '{}', 'online', 1, 1)`);
  raw.close();
  const db = openDatabase(path);
  try {
    using plane = testPlane({ storage: sqliteEngineOf(db) });
    const view = await workerView(plane, "wkr_old");
    assertEquals(
      [view.hostname, view.legacy, view.last_registered_at, view.metrics_posted_at],
      ["old-host", false, null, null],
    );
    // Its agent, upgraded, registers (here with a new key, moved onto the old row) while its
    // last heartbeat is recent: there is no instance id to compare, so it is not refused.
    const { key, id } = await plane.createKey();
    db.prepare("UPDATE workers SET key_id = ?, last_heartbeat = ? WHERE worker_id = 'wkr_old'")
      .run(id, plane.clock.time);
    const first = await register(plane, key, { instance_id: "inst-new" });
    assertEquals([first.status, first.body.worker_id], [200, "wkr_old"]);
    assertEquals((await register(plane, key, { instance_id: "inst-other" })).status, 409);
  } finally {
    db.close();
    await Deno.remove(dir, { recursive: true });
  }
});
