/**
 * The control plane as a real process on 127.0.0.1, driven by a protocol-level client over
 * real HTTP and WebSocket connections.
 */
import { deepStrictEqual as assertEquals, ok as assert } from "node:assert/strict";
import {
  type CommandVerifier,
  deriveSigningKey,
  importEd25519PublicKey,
  Paths,
  verifyCommand,
} from "../../src/protocol/mod.ts";
import { startControlPlane } from "../_helpers/control_plane_process.ts";
import { waitFor } from "../_helpers/wait_for.ts";
import { sample } from "./_fixtures.ts";
import { ProtocolClient } from "./_protocol_client.ts";

const FAST = ["--sweep-interval", "0.05", "--rate-limit", "0"];

async function verify(command: unknown, workerId: string, verifier: CommandVerifier) {
  return await verifyCommand(command, {
    workerId,
    now: Date.now(),
    seen: new Set<string>(),
    allowlist: ["ping", "stop_trading"],
    verifier,
  });
}

async function commandStatus(
  cp: { admin(path: string): Promise<Response> },
  workerId: string,
  id: string,
): Promise<Record<string, unknown>> {
  const body = await (await cp.admin(`/api/workers/commands?worker_id=${workerId}`)).json();
  return body.commands.find((c: { command_id: string }) => c.command_id === id);
}

async function createCommand(
  cp: { admin(path: string, init?: RequestInit): Promise<Response> },
  workerId: string,
  commandType = "ping",
  params: Record<string, unknown> = {},
): Promise<string> {
  const res = await cp.admin("/api/workers/commands", {
    method: "POST",
    body: JSON.stringify({ worker_id: workerId, command_type: commandType, params }),
  });
  const body = await res.json();
  assertEquals(res.status, 201, JSON.stringify(body));
  return body.command_id;
}

Deno.test("a worker gets a pushed command over the WebSocket, acks it, reports it, and the admin API shows it completed", async () => {
  await using cp = await startControlPlane({ args: FAST });
  const client = new ProtocolClient(cp.baseUrl, await cp.createKey());
  const registered = await client.register();
  assertEquals(registered.websocket_url, `ws://127.0.0.1:${cp.port}${Paths.websocket}`);
  assertEquals((await client.heartbeat()).pending_commands, []);
  const channel = await client.connect();
  try {
    const welcome = await channel.next("welcome");
    assertEquals(welcome.worker_id, client.workerId);
    channel.send({ type: "ping", ts: 42 });
    assertEquals((await channel.next("pong")).ts, 42);

    const id = await createCommand(cp, client.workerId, "stop_trading", { force: true });
    const frame = await channel.next("command");
    const command = frame.command as Record<string, unknown>;
    assertEquals([command.id, command.command_type, command.params], [id, "stop_trading", {
      force: true,
    }]);
    const verdict = await verify(command, client.workerId, {
      alg: "hmac-sha256",
      key: await deriveSigningKey(client.key),
    });
    assert(verdict.accept, JSON.stringify(verdict));

    channel.send({ type: "ack", command_id: id });
    await waitFor(async () => (await commandStatus(cp, client.workerId, id)).status === "acked");
    const result = await client.post(Paths.result(id), {
      command_id: id,
      status: "completed",
      output: "stopped",
      data: { trading_status: "stopped", exit_code: 0 },
      started_at: Date.now() - 5,
      finished_at: Date.now(),
      timestamp: Math.floor(Date.now() / 1000),
    });
    assertEquals(result.status, 200);
    const shown = await commandStatus(cp, client.workerId, id);
    assertEquals(shown.status, "completed");
    assertEquals((shown.result as Record<string, unknown>).output, "stopped");
    assertEquals(shown.delivery_count, 1);
  } finally {
    await channel.close();
  }
});

Deno.test("the same flow works by heartbeat polling without a WebSocket", async () => {
  await using cp = await startControlPlane({ args: FAST });
  const client = new ProtocolClient(cp.baseUrl, await cp.createKey());
  await client.register();
  const id = await createCommand(cp, client.workerId);
  const beat = await client.heartbeat();
  const pending = beat.pending_commands as Record<string, unknown>[];
  assertEquals(pending.map((c) => c.id), [id]);
  const verdict = await verify(pending[0], client.workerId, {
    alg: "hmac-sha256",
    key: await deriveSigningKey(client.key),
  });
  assert(verdict.accept, JSON.stringify(verdict));
  assertEquals((await commandStatus(cp, client.workerId, id)).status, "delivered");
  const posted = await client.post(Paths.result(id), {
    command_id: id,
    status: "completed",
    data: { received_at: 1, agent_time: 2 },
  });
  assertEquals(posted.status, 200);
  assertEquals((await commandStatus(cp, client.workerId, id)).status, "completed");
  assertEquals((await client.heartbeat()).pending_commands, [], "nothing left to hand out");
});

Deno.test("a command that is not acked is pushed again, re-signed, after the ack timeout", async () => {
  await using cp = await startControlPlane({ args: [...FAST, "--ack-timeout", "0.3"] });
  const client = new ProtocolClient(cp.baseUrl, await cp.createKey());
  await client.register();
  const channel = await client.connect();
  try {
    await channel.next("welcome");
    const id = await createCommand(cp, client.workerId);
    const first = (await channel.next("command")).command as Record<string, unknown>;
    const second = (await channel.next("command")).command as Record<string, unknown>;
    assertEquals([first.id, second.id], [id, id]);
    assert((second.issued_at as number) > (first.issued_at as number), "fresh issued_at");
    assert(first.signature !== second.signature, "signed again");
    channel.send({ type: "ack", command_id: id });
    const acked = await waitFor(async () => {
      const c = await commandStatus(cp, client.workerId, id);
      return c.status === "acked" ? c : undefined;
    });
    assert((acked.delivery_count as number) >= 2);
  } finally {
    await channel.close();
  }
});

Deno.test("a new session replaces the old one, which is closed with 4008", async () => {
  await using cp = await startControlPlane({ args: FAST });
  const client = new ProtocolClient(cp.baseUrl, await cp.createKey());
  await client.register();
  const old = await client.connect();
  await old.next("welcome");
  const fresh = await client.connect();
  try {
    await fresh.next("welcome");
    assertEquals((await old.closed).code, 4008);
    const id = await createCommand(cp, client.workerId);
    assertEquals(((await fresh.next("command")).command as { id: string }).id, id);
  } finally {
    await fresh.close();
    await old.close();
  }
});

Deno.test("a WebSocket upgrade is refused before upgrading when auth fails", async (t) => {
  await using cp = await startControlPlane({ args: FAST });
  const a = new ProtocolClient(cp.baseUrl, await cp.createKey());
  const b = new ProtocolClient(cp.baseUrl, await cp.createKey());
  await a.register();
  await b.register();
  const url = `${cp.baseUrl}${Paths.websocket}`;
  const upgrade = {
    Connection: "Upgrade",
    Upgrade: "websocket",
    "Sec-WebSocket-Version": "13",
    "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==",
  };
  const cases: [string, Record<string, string>, number, string][] = [
    ["without a key", { "X-Worker-Id": a.workerId }, 401, "missing_api_key"],
    [
      "with a wrong key",
      { "X-API-Key": "wak_" + "B".repeat(32), "X-Worker-Id": a.workerId },
      401,
      "invalid_api_key",
    ],
    [
      "for another worker",
      { "X-API-Key": a.key, "X-Worker-Id": b.workerId },
      403,
      "worker_mismatch",
    ],
  ];
  for (const [name, headers, status, code] of cases) {
    await t.step(`${name} → ${status}`, async () => {
      const res = await fetch(url, { headers: { ...upgrade, ...headers } });
      const body = await res.json();
      assertEquals([res.status, body.code], [status, code]);
    });
  }
});

Deno.test("a frame over 256 KiB closes the socket with 1009", async () => {
  await using cp = await startControlPlane({ args: FAST });
  const client = new ProtocolClient(cp.baseUrl, await cp.createKey());
  await client.register();
  const channel = await client.connect();
  await channel.next("welcome");
  channel.send({ type: "ping", ts: 1, pad: "x".repeat(300 * 1024) });
  assertEquals((await channel.closed).code, 1009);
});

Deno.test("a restart keeps keys, workers, commands and samples; resent samples stay single", async () => {
  await using cp = await startControlPlane({ args: FAST });
  const client = new ProtocolClient(cp.baseUrl, await cp.createKey());
  await client.register();
  const workerId = client.workerId;
  const batch = [sample("st", 1), sample("st", 2)];
  assertEquals((await client.post(Paths.metrics(workerId), { samples: batch })).body.accepted, 2);
  const id = await createCommand(cp, workerId);

  await cp.restart();

  assertEquals((await client.register()).worker_id, workerId, "same key, same worker");
  const resent = await client.post(Paths.metrics(workerId), {
    samples: [...batch, sample("st", 3)],
  });
  assertEquals([resent.body.accepted, resent.body.duplicates], [1, 2]);
  const samples = (await (await cp.admin(`/api/workers/${workerId}/metrics`)).json()).samples;
  assertEquals(samples.map((s: { seq: number }) => s.seq), [1, 2, 3]);
  const beat = await client.heartbeat();
  assertEquals((beat.pending_commands as { id: string }[]).map((c) => c.id), [id]);
});

Deno.test("with --signing-key, commands are Ed25519-signed and verify against the printed public key", async () => {
  const dir = await Deno.makeTempDir({ prefix: "ftl-cp-ed-" });
  try {
    const keyFile = `${dir}/signing.key`;
    const made = await new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "--quiet",
        "-A",
        new URL("../../src/control_plane/main.ts", import.meta.url).pathname,
        "keys",
        "signing-key",
        "--out",
        keyFile,
      ],
      stdout: "piped",
      stderr: "piped",
    }).output();
    assertEquals(made.code, 0, new TextDecoder().decode(made.stderr));
    const publicKey = new TextDecoder().decode(made.stdout).trim();
    assertEquals((await Deno.stat(keyFile)).mode! & 0o777, 0o600);

    await using cp = await startControlPlane({ args: [...FAST, "--signing-key", keyFile] });
    const client = new ProtocolClient(cp.baseUrl, await cp.createKey());
    assertEquals((await client.register()).signature_alg, "ed25519");
    await createCommand(cp, client.workerId);
    const [command] = (await client.heartbeat()).pending_commands as Record<string, unknown>[];
    assertEquals(command?.signature_alg, "ed25519");
    const verdict = await verify(command, client.workerId, {
      alg: "ed25519",
      publicKey: await importEd25519PublicKey(publicKey),
    });
    assert(verdict.accept, JSON.stringify(verdict));
    const hmac = await verify(command, client.workerId, {
      alg: "hmac-sha256",
      key: await deriveSigningKey(client.key),
    });
    assertEquals(hmac.accept, false, "an HMAC verifier refuses it");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("SIGTERM sends disconnect to connected agents and stops cleanly", async () => {
  await using cp = await startControlPlane({ args: FAST });
  const client = new ProtocolClient(cp.baseUrl, await cp.createKey());
  await client.register();
  const channel = await client.connect();
  await channel.next("welcome");
  const killed = cp.kill("SIGTERM");
  const disconnect = await channel.next("disconnect");
  assertEquals(typeof disconnect.retry_after_seconds, "number");
  assertEquals((await channel.closed).code, 1001);
  await killed;
  assert(cp.output().includes("stopped"), cp.output());
});

Deno.test("revoking a key closes its session with 4001 and its calls get 401", async () => {
  await using cp = await startControlPlane({ args: FAST });
  const client = new ProtocolClient(cp.baseUrl, await cp.createKey());
  await client.register();
  const channel = await client.connect();
  await channel.next("welcome");
  const keys = (await (await cp.admin("/api/admin/keys")).json()).keys;
  const res = await cp.admin(`/api/admin/keys/${keys[0].id}/revoke`, { method: "POST" });
  assertEquals(res.status, 200);
  await res.body?.cancel();
  assertEquals((await channel.closed).code, 4001);
  const beat = await client.post(Paths.heartbeat(client.workerId), {});
  assertEquals([beat.status, beat.body.code], [401, "invalid_api_key"]);
});

Deno.test("the server pings, and closes a session that misses two pongs", async () => {
  await using cp = await startControlPlane({ args: [...FAST, "--ping-interval", "0.1"] });
  const client = new ProtocolClient(cp.baseUrl, await cp.createKey());
  await client.register();
  const channel = await client.connect();
  await channel.next("welcome");
  const ping = await channel.next("ping");
  assertEquals(typeof ping.ts, "number");
  // No pong is sent: the server gives up after two missed ones.
  const closed = await channel.closed;
  assertEquals(closed.code, 1001);
});

Deno.test("a session that floods frames is closed with 4029", async () => {
  await using cp = await startControlPlane({ args: [...FAST, "--frame-rate", "5"] });
  const client = new ProtocolClient(cp.baseUrl, await cp.createKey());
  await client.register();
  const channel = await client.connect();
  await channel.next("welcome");
  // --frame-rate 5 allows a burst of 10; the 11th frame is one too many. Sending no more
  // than that keeps unread data out of the server's socket, so the close frame arrives
  // intact instead of being lost to a TCP reset.
  for (let i = 0; i < 11; i++) channel.send({ type: "ping", ts: i });
  assertEquals((await channel.closed).code, 4029);
});

Deno.test("an offline heartbeat marks the worker offline at once and ends its session", async () => {
  await using cp = await startControlPlane({ args: FAST });
  const client = new ProtocolClient(cp.baseUrl, await cp.createKey());
  await client.register();
  const channel = await client.connect();
  await channel.next("welcome");
  await client.heartbeat({ status: "offline" });
  await channel.closed;
  const worker = (await (await cp.admin(`/api/workers/${client.workerId}`)).json()).worker;
  assertEquals([worker.status, worker.is_online], ["offline", false]);
});
