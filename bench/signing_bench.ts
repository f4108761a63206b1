/**
 * Cost of signing and verifying one command, per algorithm (median and p99 of 2000 runs).
 * Run with `deno task bench`. Prints a table; asserts nothing.
 */
import {
  deriveSigningKey,
  generateEd25519KeyPair,
  signCommand,
  verifyCommand,
} from "../src/protocol/mod.ts";

const RUNS = 2000;
const WORKER = "wkr_a1b2c3d4e5f6g7h8i9j0k1l2";
const key = await deriveSigningKey("wak_0123456789ABCDEFGHIJKLMNOPQRSTUV");
const ed = await generateEd25519KeyPair();

function command(i: number): Record<string, unknown> {
  const now = Date.now();
  return {
    id: `bench-${i}`,
    worker_id: WORKER,
    command_type: "update_config",
    params: { changes: { log_level: "debug", capabilities: ["metrics", "trading"] } },
    timeout_seconds: 60,
    created_at: new Date(now).toISOString(),
    issued_at: now,
    expires_at: now + 600_000,
  };
}

async function measure(fn: (i: number) => Promise<unknown>): Promise<[number, number]> {
  const times: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const start = performance.now();
    await fn(i);
    times.push(performance.now() - start);
  }
  times.sort((a, b) => a - b);
  return [times[Math.floor(RUNS / 2)]!, times[Math.floor(RUNS * 0.99)]!];
}

const rows: [string, number, number][] = [];
for (const alg of ["hmac-sha256", "ed25519"] as const) {
  const signer = alg === "hmac-sha256" ? { alg, key } : { alg, privateKey: ed.privateKey };
  const verifier = alg === "hmac-sha256" ? { alg, key } : { alg, publicKey: ed.publicKey };
  const signed = await Promise.all(
    Array.from({ length: RUNS }, (_, i) => signCommand(command(i), signer)),
  );
  rows.push([`${alg} sign`, ...await measure((i) => signCommand(command(i), signer))]);
  rows.push([
    `${alg} verifyCommand (full policy)`,
    ...await measure((i) =>
      verifyCommand(signed[i], {
        workerId: WORKER,
        now: Date.now(),
        seen: new Set(),
        allowlist: ["update_config"],
        verifier,
      })
    ),
  ]);
}
console.log(`| operation | median µs | p99 µs |  (${RUNS} runs, deno ${Deno.version.deno})`);
console.log("|---|---:|---:|");
for (const [name, median, p99] of rows) {
  console.log(`| ${name} | ${(median * 1000).toFixed(0)} | ${(p99 * 1000).toFixed(0)} |`);
}
