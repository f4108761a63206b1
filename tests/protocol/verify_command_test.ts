import { deepStrictEqual as assertEquals, ok as assert } from "node:assert/strict";
import {
  CLOCK_SKEW_MS,
  COMMAND_TTL_MS,
  type CommandVerifier,
  deriveSigningKey,
  generateEd25519KeyPair,
  type RefusalCode,
  ServerFrameSchema,
  signCommand,
  verifyCommand,
} from "../../src/protocol/mod.ts";

const API_KEY = "wak_0123456789ABCDEFGHIJKLMNOPQRSTUV";
const OTHER_KEY = "wak_abcdefghijklmnopqrstuvwxyz012345";
const WORKER = "wkr_a1b2c3d4e5f6g7h8i9j0k1l2";
const NOW = 1_764_000_000_000;
const ALL = [
  "start_trading",
  "stop_trading",
  "update_config",
  "restart_agent",
  "collect_diagnostics",
  "ping",
];

const key = await deriveSigningKey(API_KEY);
const hmacVerifier: CommandVerifier = { alg: "hmac-sha256", key };

function base(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    id: crypto.randomUUID(),
    worker_id: WORKER,
    command_type: "ping",
    params: {},
    timeout_seconds: 30,
    created_at: new Date(NOW - 1000).toISOString(),
    issued_at: NOW,
    expires_at: NOW + COMMAND_TTL_MS,
    ...overrides,
  };
}

function signed(overrides: Record<string, unknown> = {}, signingKey = key) {
  return signCommand(base(overrides), { alg: "hmac-sha256", key: signingKey });
}

interface Case {
  name: string;
  command: () => Promise<Record<string, unknown>>;
  now?: number;
  seen?: string[];
  allowlist?: string[];
  verifier?: CommandVerifier;
  expect: RefusalCode | "accept";
}

const replayId = crypto.randomUUID();
const otherKey = await deriveSigningKey(OTHER_KEY);
const ed = await generateEd25519KeyPair();

const cases: Case[] = [
  { name: "accepts a fresh, signed, allowed ping", command: () => signed(), expect: "accept" },
  {
    name: "accepts update_config with valid params",
    command: () =>
      signed({ command_type: "update_config", params: { changes: { log_level: "debug" } } }),
    expect: "accept",
  },
  {
    name: "refuses a command signed with another key",
    command: () => signed({}, otherKey),
    expect: "bad_signature",
  },
  {
    name: "refuses a command without a signature",
    command: async () => {
      const { signature: _s, ...rest } = await signed();
      return rest;
    },
    expect: "bad_signature",
  },
  {
    name: "refuses tampered params",
    command: async () => ({
      ...(await signed({ command_type: "stop_trading", params: { force: false } })),
      params: { force: true },
    }),
    expect: "bad_signature",
  },
  {
    name: "refuses a tampered timeout",
    command: async () => ({ ...(await signed()), timeout_seconds: 3600 }),
    expect: "bad_signature",
  },
  {
    name: "refuses an HMAC command when ed25519 is configured",
    command: () => signed(),
    verifier: { alg: "ed25519", publicKey: ed.publicKey },
    expect: "bad_signature",
  },
  {
    name: "refuses a command for another worker",
    command: () => signed({ worker_id: "wkr_zzzzzzzzzzzzzzzzzzzzzzzz" }),
    expect: "wrong_worker",
  },
  {
    name: "refuses a command past expires_at plus skew",
    command: () => signed(),
    now: NOW + COMMAND_TTL_MS + CLOCK_SKEW_MS + 1,
    expect: "expired",
  },
  {
    name: "accepts a command just inside expires_at plus skew",
    command: () => signed(),
    now: NOW + COMMAND_TTL_MS + CLOCK_SKEW_MS,
    expect: "accept",
  },
  {
    name: "refuses a command issued further in the future than the skew",
    command: () => signed(),
    now: NOW - CLOCK_SKEW_MS - 1,
    expect: "expired",
  },
  {
    name: "refuses a replayed id",
    command: () => signed({ id: replayId }),
    seen: [replayId],
    expect: "replayed",
  },
  {
    name: "refuses a type missing from the allowlist",
    command: () => signed({ command_type: "restart_agent" }),
    allowlist: ["ping"],
    expect: "not_allowed",
  },
  {
    name: "refuses an unknown command type",
    command: () => signed({ command_type: "rm_rf" }),
    expect: "unknown_command",
  },
  {
    name: "refuses params that do not match the type",
    command: () => signed({ command_type: "stop_trading", params: { force: "yes" } }),
    expect: "invalid_params",
  },
  {
    name: "refuses params a type does not have",
    command: () => signed({ command_type: "ping", params: { loud: true } }),
    expect: "invalid_params",
  },
  {
    name: "refuses update_config with no changes",
    command: () => signed({ command_type: "update_config", params: { changes: {} } }),
    expect: "invalid_params",
  },
  {
    name: "refuses a command whose params hold a lone UTF-16 surrogate (no canonical form)",
    command: async () => ({ ...(await signed()), params: { x: "\ud800" } }),
    expect: "bad_signature",
  },
  {
    name: "refuses a command with a lone surrogate in a member name",
    command: async () => ({ ...(await signed()), ["\udc00"]: 1 }),
    expect: "bad_signature",
  },
  {
    name: "refuses a command with a non-finite number",
    command: async () => ({ ...(await signed()), params: { x: Number.POSITIVE_INFINITY } }),
    expect: "bad_signature",
  },
  {
    name: "refuses a malformed envelope as unsigned",
    command: () => Promise.resolve({ id: "x", command_type: "ping" }),
    expect: "bad_signature",
  },
];

Deno.test("verifyCommand() decides every case of protocol section 6", async (t) => {
  for (const c of cases) {
    await t.step(c.name, async () => {
      const command = await c.command();
      const seen = new Set(c.seen ?? []);
      const verdict = await verifyCommand(command, {
        workerId: WORKER,
        now: c.now ?? NOW,
        seen,
        allowlist: c.allowlist ?? ALL,
        verifier: c.verifier ?? hmacVerifier,
      });
      if (c.expect === "accept") {
        assert(verdict.accept, verdict.accept ? "" : `refused: ${verdict.code} ${verdict.reason}`);
        assertEquals(verdict.command.id, command.id);
      } else {
        assert(!verdict.accept, "accepted a command that must be refused");
        assertEquals(verdict.code, c.expect, verdict.reason);
        assertEquals(verdict.commandId, command.id);
      }
    });
  }
});

Deno.test("verifyCommand() accepts an ed25519 command under the pinned public key", async () => {
  const command = await signCommand(base(), { alg: "ed25519", privateKey: ed.privateKey });
  const verdict = await verifyCommand(command, {
    workerId: WORKER,
    now: NOW,
    seen: new Set(),
    allowlist: ALL,
    verifier: { alg: "ed25519", publicKey: ed.publicKey },
  });
  assert(verdict.accept);
  const other = await generateEd25519KeyPair();
  const forged = await verifyCommand(command, {
    workerId: WORKER,
    now: NOW,
    seen: new Set(),
    allowlist: ALL,
    verifier: { alg: "ed25519", publicKey: other.publicKey },
  });
  assert(!forged.accept && forged.code === "bad_signature");
});

Deno.test("verifyCommand() refuses a signed command with an unsigned __proto__ member added", async (t) => {
  const context = {
    workerId: WORKER,
    now: NOW,
    seen: new Set<string>(),
    allowlist: ALL,
    verifier: hmacVerifier,
  };
  const text = JSON.stringify(await signed());
  // JSON.parse makes "__proto__" an own member, which the signature does not cover.
  const tampered = `{"__proto__":{"command_type":"restart_agent"},${text.slice(1)}`;
  await t.step("as parsed from JSON (a heartbeat's pending_commands)", async () => {
    const raw = JSON.parse(tampered);
    assert(Object.hasOwn(raw, "__proto__"));
    const verdict = await verifyCommand(raw, context);
    assert(!verdict.accept, "accepted a member the signature does not cover");
    assertEquals(verdict.code, "bad_signature");
  });
  await t.step("a WebSocket command frame drops the member before verification", async () => {
    const frame = ServerFrameSchema.parse(JSON.parse(`{"type":"command","command":${tampered}}`));
    assert(frame.type === "command");
    assert(!Object.hasOwn(frame.command, "__proto__"));
    assertEquals(Object.getPrototypeOf(frame.command), Object.prototype, "no prototype set");
    const verdict = await verifyCommand(frame.command, context);
    // What is verified is exactly what runs: the signed members, nothing unsigned.
    assert(verdict.accept);
    assertEquals(verdict.command.command_type, "ping");
  });
  await t.step("the untampered command is accepted (the test can tell)", async () => {
    assert((await verifyCommand(JSON.parse(text), context)).accept);
  });
});

Deno.test("verifyCommand() never reports against an id of '.' or '..' (a URL dot segment)", async () => {
  // The result would be POSTed to /api/workers/commands/../result, which the URL parser
  // resolves to /api/workers/result: another endpoint. Such an id cannot be addressed.
  for (const id of [".", ".."]) {
    for (const signingKey of [key, otherKey]) {
      const verdict = await verifyCommand(await signed({ id }, signingKey), {
        workerId: WORKER,
        now: NOW,
        seen: new Set(),
        allowlist: ALL,
        verifier: hmacVerifier,
      });
      assert(!verdict.accept, `accepted the id ${id}`);
      assertEquals(verdict.commandId, undefined);
    }
  }
});

Deno.test("verifyCommand() accepts created_at as an ISO string or as Unix ms, signed as sent", async (t) => {
  const context = {
    workerId: WORKER,
    now: NOW,
    seen: new Set<string>(),
    allowlist: ALL,
    verifier: hmacVerifier,
  };
  for (const createdAt of [new Date(NOW).toISOString(), NOW, "2026-11-30 17:24:14.123456+00"]) {
    await t.step(`created_at ${JSON.stringify(createdAt)} is accepted`, async () => {
      const verdict = await verifyCommand(await signed({ created_at: createdAt }), context);
      assert(verdict.accept, verdict.accept ? "" : `${verdict.code} ${verdict.reason}`);
    });
  }
  await t.step("the same instant in the other form does not verify", async () => {
    const command = await signed({ created_at: new Date(NOW).toISOString() });
    const verdict = await verifyCommand({ ...command, created_at: NOW }, context);
    assert(!verdict.accept && verdict.code === "bad_signature");
  });
  for (const bad of [{}, true, "", "x".repeat(65), -1, 1.5]) {
    await t.step(`created_at ${JSON.stringify(bad)} is a malformed command`, async () => {
      const verdict = await verifyCommand(await signed({ created_at: bad }), context);
      assert(!verdict.accept && verdict.code === "bad_signature");
      assert(verdict.reason.includes("created_at"), verdict.reason);
    });
  }
});
