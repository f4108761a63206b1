/**
 * Adversarial cases found in review: malformed upgrades, a locked database, ordering of
 * commands created in the same millisecond, commands to draining workers, concurrent
 * registrations, and startup on a data dir that cannot hold the database.
 */
import { deepStrictEqual as assertEquals, ok as assert } from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { Paths } from "../../src/protocol/mod.ts";
import { DATABASE_FILE, openDatabase } from "../../src/control_plane/storage/sqlite/database.ts";
import { sqliteEngineOf } from "../../src/control_plane/storage/sqlite/sqlite_storage.ts";
import { startControlPlane } from "../_helpers/control_plane_process.ts";
import { waitFor } from "../_helpers/wait_for.ts";
import { registerBody, servedPlane } from "./_fixtures.ts";
import { type TestPlane, testPlane } from "./_fixtures.ts";
import { ProtocolClient } from "./_protocol_client.ts";

const MAIN = new URL("../../src/control_plane/main.ts", import.meta.url).pathname;
const PERMS = ["--allow-net", "--allow-read", "--allow-write", "--allow-env", "--allow-sys"];

async function createCommand(plane: TestPlane, workerId: string): Promise<string> {
  const res = await plane.admin("/api/workers/commands", {
    json: { worker_id: workerId, command_type: "ping" },
  });
  const body = await res.json();
  assertEquals(res.status, 201, JSON.stringify(body));
  return body.command_id;
}

async function commandOf(plane: TestPlane, id: string): Promise<Record<string, unknown>> {
  const body = await (await plane.admin("/api/workers/commands?limit=1000")).json();
  return body.commands.find((c: { command_id: string }) => c.command_id === id);
}

Deno.test("an upgrade request that cannot be upgraded is a 400, not a 500", async () => {
  await using s = servedPlane();
  const { key, workerId } = await s.plane.registerWorker();
  // Upgrade: websocket, but no Connection: Upgrade and no Sec-WebSocket-Key.
  const res = await fetch(`${s.baseUrl}${Paths.websocket}`, {
    headers: { "X-API-Key": key, "X-Worker-Id": workerId, Upgrade: "websocket" },
  });
  const body = await res.json();
  assertEquals(res.status, 400, JSON.stringify(body));
  assertEquals(body.code, "invalid_request");
  assertEquals(typeof body.server_time, "number");
  assert(!s.plane.logs.some((l) => l.includes("unhandled error")), "not logged as a bug");
});

Deno.test("a locked database answers 503 with Retry-After and an ack under the lock does not crash the server", async () => {
  const dir = await Deno.makeTempDir({ prefix: "ftl-cp-locked-" });
  const path = `${dir}/${DATABASE_FILE}`;
  const db = openDatabase(path);
  db.exec("PRAGMA busy_timeout = 50");
  const other = new DatabaseSync(path);
  try {
    await using s = servedPlane({ storage: sqliteEngineOf(db) });
    const { key, workerId } = await s.plane.registerWorker();
    const client = new ProtocolClient(s.baseUrl, key);
    client.workerId = workerId;
    const channel = await client.connect();
    await channel.next("welcome");
    const id = await createCommand(s.plane, workerId);
    await channel.next("command");

    other.exec("BEGIN IMMEDIATE");
    const res = await s.plane.call(Paths.heartbeat(workerId), { key, json: {} });
    const body = await res.json();
    assertEquals(res.status, 503, JSON.stringify(body));
    assertEquals(body.code, "internal");
    assertEquals(res.headers.get("retry-after"), "1");
    assertEquals(typeof body.server_time, "number");

    channel.send({ type: "ack", command_id: id });
    channel.send({ type: "ping", ts: 7 });
    assertEquals((await channel.next("pong")).ts, 7, "the session lives on");
    await waitFor(() => s.plane.logs.some((l) => l.includes("frame handling failed")), {
      message: "the failed ack is logged",
    });
    other.exec("ROLLBACK");

    channel.send({ type: "ack", command_id: id });
    await waitFor(async () => (await commandOf(s.plane, id)).status === "acked", {
      message: "the ack is stored once the lock is gone",
    });
    await channel.close();
  } finally {
    other.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("commands created in the same millisecond are handed out in creation order", async () => {
  using plane = testPlane();
  const { key, workerId } = await plane.registerWorker();
  const ids: string[] = [];
  for (let i = 0; i < 12; i++) ids.push(await createCommand(plane, workerId));
  const first = await (await plane.call(Paths.heartbeat(workerId), { key, json: {} })).json();
  const second = await (await plane.call(Paths.heartbeat(workerId), { key, json: {} })).json();
  const handedOut = [...first.pending_commands, ...second.pending_commands].map((
    c: { id: string },
  ) => c.id);
  assertEquals(first.pending_commands.length, 10);
  assertEquals(handedOut, ids, "oldest first");
  const listed = await (await plane.admin(`/api/workers/commands?worker_id=${workerId}`)).json();
  assertEquals(
    listed.commands.map((c: { command_id: string }) => c.command_id),
    [...ids].reverse(),
    "the admin list is newest first",
  );
});

Deno.test("a draining or offline worker gets no commands over its WebSocket either", async () => {
  await using s = servedPlane();
  const { key, workerId } = await s.plane.registerWorker();
  const client = new ProtocolClient(s.baseUrl, key);
  client.workerId = workerId;
  const channel = await client.connect();
  await channel.next("welcome");
  for (const status of ["draining", "offline"] as const) {
    await client.heartbeat({ status: "online" });
    if (status === "offline") {
      // An offline heartbeat closes the session; the sweeper's stale mark does not.
      s.plane.db.prepare("UPDATE workers SET status = 'offline' WHERE worker_id = ?").run(
        workerId,
      );
    } else {
      await client.heartbeat({ status });
    }
    const id = await createCommand(s.plane, workerId);
    await s.plane.cp.sessions.push(workerId);
    await s.plane.cp.sweep();
    const command = await commandOf(s.plane, id);
    assertEquals(command.status, "pending", `nothing delivered to a ${status} worker`);
    assertEquals(command.delivery_count, 0);
    const back = await client.heartbeat({ status: "online" });
    assertEquals(
      (back.pending_commands as { id: string }[]).map((c) => c.id),
      [id],
      "handed out once the worker is online again",
    );
  }
  const id = await createCommand(s.plane, workerId);
  assertEquals(((await channel.next("command")).command as { id: string }).id, id);
  assertEquals(channel.frames.filter((f) => f.type === "command"), [], "nothing else came");
  await channel.close();
});

Deno.test("concurrent registrations with one key bind exactly one worker", async () => {
  await using s = servedPlane();
  const { key } = await s.plane.createKey();
  const answers = await Promise.all(
    Array.from({ length: 20 }, () =>
      fetch(`${s.baseUrl}${Paths.register}`, {
        method: "POST",
        headers: { "X-API-Key": key, "Content-Type": "application/json" },
        body: JSON.stringify(registerBody()),
      }).then(async (r) => ({ status: r.status, body: await r.json() }))),
  );
  assertEquals(answers.map((a) => a.status), Array(20).fill(200));
  assertEquals(new Set(answers.map((a) => a.body.worker_id)).size, 1);
  const workers = await (await s.plane.admin("/api/workers")).json();
  assertEquals(workers.workers.length, 1);
});

async function runMain(dataDir: string, adminToken = "") {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--quiet", ...PERMS, MAIN, "--port", "0", "--data-dir", dataDir],
    env: { FTL_ADMIN_TOKEN: adminToken },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  const decode = (b: Uint8Array) => new TextDecoder().decode(b);
  return { code: out.code, stdout: decode(out.stdout), stderr: decode(out.stderr) };
}

Deno.test("startup on a damaged database exits 1 with one line naming the file", async () => {
  const dir = await Deno.makeTempDir({ prefix: "ftl-cp-bad-db-" });
  try {
    await Deno.writeTextFile(`${dir}/${DATABASE_FILE}`, "not a database, just text\n".repeat(200), {
      mode: 0o600, // owner-only, so startup has nothing to tighten
    });
    const { code, stdout, stderr } = await runMain(dir);
    assertEquals(code, 1, stderr);
    assert(!stdout.includes("listening on"), stdout);
    const lines = stderr.trim().split("\n");
    assertEquals(lines.length, 1, stderr);
    assert(lines[0]!.includes(`${dir}/${DATABASE_FILE}`), stderr);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

/** Mounts a 64 KiB tmpfs (needs root); returns undefined where that is not allowed. */
async function tinyTmpfs(readOnly: boolean): Promise<string | undefined> {
  if (Deno.build.os !== "linux") return undefined;
  const dir = await Deno.makeTempDir({ prefix: "ftl-cp-tmpfs-" });
  // Owner-only like a data dir the control plane creates, so startup has nothing to tighten.
  const options = `size=64k,mode=0700${readOnly ? ",ro" : ""}`;
  const out = await new Deno.Command("mount", {
    args: ["-t", "tmpfs", "-o", options, "tmpfs", dir],
    stdout: "null",
    stderr: "null",
  }).output().catch(() => ({ success: false }));
  if (!out.success) {
    await Deno.remove(dir);
    return undefined;
  }
  return dir;
}

async function unmount(dir: string): Promise<void> {
  await new Deno.Command("umount", { args: [dir] }).output();
  await Deno.remove(dir, { recursive: true });
}

Deno.test("startup on a full or read-only data dir exits 1 with a clear line and leaves no temp file", async (t) => {
  const full = await tinyTmpfs(false);
  await t.step({
    name: "full disk",
    ignore: full === undefined,
    async fn() {
      try {
        const filler = await Deno.open(`${full}/filler`, { write: true, create: true });
        const block = new Uint8Array(4096);
        try {
          while (true) await filler.write(block);
        } catch { /* ENOSPC: the disk is full */ }
        filler.close();
        const { code, stdout, stderr } = await runMain(full!);
        assertEquals(code, 1, stderr);
        assert(!stdout.includes("listening on"), stdout);
        assertEquals(stderr.trim().split("\n").length, 1, stderr);
        assert(stderr.includes(full!), `names the data dir: ${stderr}`);
        const left = [...Deno.readDirSync(full!)].map((e) => e.name)
          .filter((n) => n.includes(".tmp-"));
        assertEquals(left, [], "no temporary admin token file is left behind");
        const given = await runMain(full!, "adm_given_token_0123456789");
        assertEquals(given.code, 1, given.stderr);
        assertEquals(given.stderr.trim().split("\n").length, 1, given.stderr);
        assert(given.stderr.includes(full!), `names the database: ${given.stderr}`);
      } finally {
        await unmount(full!);
      }
    },
  });
  const readOnly = await tinyTmpfs(true);
  await t.step({
    name: "read-only",
    ignore: readOnly === undefined,
    async fn() {
      try {
        const { code, stdout, stderr } = await runMain(readOnly!);
        assertEquals(code, 1, stderr);
        assert(!stdout.includes("listening on"), stdout);
        assertEquals(stderr.trim().split("\n").length, 1, stderr);
        assert(stderr.includes(readOnly!), `names the data dir: ${stderr}`);
      } finally {
        await unmount(readOnly!);
      }
    },
  });
});

Deno.test("a client that hangs up mid-body is a client error, not an unhandled server error", async () => {
  await using cp = await startControlPlane({ args: ["--rate-limit", "0"] });
  const client = new ProtocolClient(cp.baseUrl, await cp.createKey());
  await client.register();
  const path = Paths.heartbeat(client.workerId);
  const conn = await Deno.connect({ hostname: "127.0.0.1", port: cp.port });
  await conn.write(
    new TextEncoder().encode(
      `POST ${path} HTTP/1.1\r\nHost: x\r\nX-API-Key: ${client.key}\r\n` +
        `Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{"st`,
    ),
  );
  conn.close();
  const line = await waitFor(
    () => cp.output().split("\n").find((l) => l.includes(" request ") && l.includes(path)),
    { message: "the request's log line" },
  );
  assert(line.includes("status=400"), line);
  assert(!cp.output().includes("unhandled error"), cp.output());
  assertEquals((await client.heartbeat()).ok, true, "the server carries on");
});

Deno.test("a port in use exits 1 with one line naming the address", async () => {
  const dir = await Deno.makeTempDir({ prefix: "ftl-cp-port-" });
  const taken = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  try {
    const port = (taken.addr as Deno.NetAddr).port;
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["run", "--quiet", ...PERMS, MAIN, "--port", String(port), "--data-dir", dir],
      env: { FTL_ADMIN_TOKEN: "adm_given_token_0123456789" },
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).output();
    const stderr = new TextDecoder().decode(out.stderr);
    assertEquals(out.code, 1, stderr);
    assertEquals(stderr.trim().split("\n").length, 1, stderr);
    assert(stderr.includes(`127.0.0.1:${port}`), stderr);
  } finally {
    taken.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("garbage frames and acks of unknown or foreign commands change nothing and keep the session", async () => {
  await using s = servedPlane();
  const a = await s.plane.registerWorker();
  const b = await s.plane.registerWorker();
  const foreign = await createCommand(s.plane, a.workerId);
  await s.plane.call(Paths.heartbeat(a.workerId), { key: a.key, json: {} }); // delivered to A
  const client = new ProtocolClient(s.baseUrl, b.key);
  client.workerId = b.workerId;
  const channel = await client.connect();
  await channel.next("welcome");
  for (
    const frame of [
      "not json",
      "null",
      "[1,2]",
      JSON.stringify({ type: "ack" }),
      JSON.stringify({ type: "ack", command_id: 5 }),
      JSON.stringify({ type: "ack", command_id: "no-such-command" }),
      JSON.stringify({ type: "ack", command_id: foreign }),
      JSON.stringify({ type: "ack", command_id: "' OR 1=1 --" }),
      JSON.stringify({ type: "nonsense" }),
    ]
  ) channel.socket.send(frame);
  channel.socket.send(new Uint8Array([0, 1, 2, 3]));
  channel.send({ type: "ping", ts: 9 });
  assertEquals((await channel.next("pong")).ts, 9, "the session survived");
  const command = await commandOf(s.plane, foreign);
  assertEquals(command.status, "delivered", "another worker's ack changes nothing");
  assertEquals(command.acked_at, null);
  assertEquals(s.plane.cp.sessions.has(b.workerId), true);
  await channel.close();
});

Deno.test("SQL in query and path parameters is data, never SQL", async () => {
  using plane = testPlane();
  const { workerId } = await plane.registerWorker();
  await createCommand(plane, workerId);
  const evil = encodeURIComponent("' OR '1'='1");
  const listed = await (await plane.admin(`/api/workers/commands?worker_id=${evil}`)).json();
  assertEquals(listed.commands, []);
  const worker = await plane.admin(`/api/workers/${evil}`);
  assertEquals(worker.status, 404);
  assertEquals((await worker.json()).code, "not_found");
  const metrics = await plane.admin(`/api/workers/${workerId}/metrics?since=0%20OR%201=1`);
  assertEquals(metrics.status, 400);
  assertEquals((await metrics.json()).code, "invalid_request");
  assertEquals(
    (await (await plane.admin(`/api/workers/commands?worker_id=${workerId}`)).json()).commands
      .length,
    1,
    "the table is intact",
  );
});

Deno.test("heartbeat metadata cannot grow a worker's row without bound", async () => {
  using plane = testPlane({ rateLimitPerSecond: 0 });
  const { key, workerId } = await plane.registerWorker();
  const statuses: number[] = [];
  for (let i = 0; i < 20; i++) {
    // Each heartbeat adds a new 16 KiB member; merged, they would reach 320 KiB.
    const res = await plane.call(Paths.heartbeat(workerId), {
      key,
      json: { metadata: { [`k${i}`]: "x".repeat(16 * 1024) } },
    });
    const body = await res.json();
    statuses.push(res.status);
    if (res.status !== 200) {
      assertEquals(body.code, "invalid_request");
      assert(body.error.startsWith("metadata:"), body.error);
    }
  }
  assert(statuses.includes(400), `some heartbeat is refused: ${statuses}`);
  assertEquals(statuses.slice(0, 3), [200, 200, 200], "ordinary metadata is fine");
  const row = plane.db.prepare("SELECT length(metadata) AS n FROM workers WHERE worker_id = ?")
    .get(workerId) as { n: number };
  assert(row.n <= 64 * 1024, `stored metadata is ${row.n} bytes`);
  const ok = await plane.call(Paths.heartbeat(workerId), { key, json: { status: "online" } });
  assertEquals(ok.status, 200, "heartbeats without new metadata still work");
});

Deno.test("a key revoked or a worker deleted while its WebSocket is still opening closes that session too", async (t) => {
  for (const [what, code] of [["revoke", 4001], ["delete", 1000]] as const) {
    await t.step(what, async () => {
      const plane = testPlane({ rateLimitPerSecond: 0 });
      const { key, keyId, workerId } = await plane.registerWorker();
      // Revoke/delete after the 101 is made but before the socket opens.
      const server = Deno.serve(
        { hostname: "127.0.0.1", port: 0, onListen: () => {} },
        async (request, info) => {
          const response = await plane.cp.fetch(request, {
            remoteAddr: info.remoteAddr.hostname,
          });
          if (response.status === 101) {
            const res = what === "revoke"
              ? await plane.admin(`/api/admin/keys/${keyId}/revoke`, { method: "POST" })
              : await plane.admin(`/api/workers/${workerId}`, { method: "DELETE" });
            assertEquals(res.status, 200);
          }
          return response;
        },
      );
      try {
        const client = new ProtocolClient(`http://127.0.0.1:${server.addr.port}`, key);
        client.workerId = workerId;
        const channel = await client.connect();
        const closed = await Promise.race([
          channel.closed,
          waitFor(() => plane.cp.sessions.has(workerId) ? "registered" : undefined, {
            message: "the session",
          }).catch(() => "neither"),
        ]);
        if (typeof closed === "string") await channel.close();
        assertEquals(typeof closed === "string" ? closed : closed.code, code);
        assertEquals(plane.cp.sessions.has(workerId), false);
      } finally {
        await plane.cp.drain(AbortSignal.timeout(2000));
        await server.shutdown();
        plane[Symbol.dispose]();
      }
    });
  }
});
