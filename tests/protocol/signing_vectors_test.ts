import { deepStrictEqual as assertEquals, ok as assert } from "node:assert/strict";
import {
  deriveSigningKey,
  fromBase64,
  importEd25519PrivateKey,
  importEd25519PublicKey,
  signCommand,
  signedBytes,
  toHex,
  verifyCommandSignature,
} from "../../src/protocol/mod.ts";

interface Vector {
  name: string;
  alg: "hmac-sha256" | "ed25519";
  api_key?: string;
  signing_key_hex?: string;
  public_key_base64?: string;
  private_key_pkcs8_base64?: string;
  command: Record<string, unknown>;
  signed_bytes: string;
  signature: string;
}

const fixture = JSON.parse(
  await Deno.readTextFile(new URL("../fixtures/signing_vectors.json", import.meta.url)),
) as { vectors: Vector[] };
const vectors = fixture.vectors;
const decoder = new TextDecoder();

async function verifierFor(v: Vector) {
  if (v.alg === "hmac-sha256") {
    return { alg: v.alg, key: await deriveSigningKey(v.api_key!) } as const;
  }
  return { alg: v.alg, publicKey: await importEd25519PublicKey(v.public_key_base64!) } as const;
}

function unsigned(command: Record<string, unknown>): Record<string, unknown> {
  const { signature: _s, signature_alg: _a, key_id: _k, ...rest } = command;
  return rest;
}

Deno.test("the vector file covers both algorithms, unicode, nested params and empty params", () => {
  assert(vectors.length >= 6, `only ${vectors.length} vectors`);
  assert(vectors.some((v) => v.alg === "hmac-sha256"));
  assert(vectors.some((v) => v.alg === "ed25519"));
  assert(
    vectors.some((v) => [...v.signed_bytes].some((ch) => ch.codePointAt(0)! > 127)),
    "no unicode vector",
  );
  assert(vectors.some((v) => Object.keys(v.command.params as object).length === 0));
  assert(vectors.some((v) => v.signed_bytes.includes('"params":{"changes":{')));
  assert(vectors.some((v) => typeof v.command.created_at === "string"), "no ISO created_at (v1.1)");
  assert(vectors.some((v) => typeof v.command.created_at === "number"), "no Unix-ms created_at");
});

Deno.test("signedBytes() reproduces the canonical bytes of every vector", async (t) => {
  for (const v of vectors) {
    await t.step(v.name, () => {
      assertEquals(decoder.decode(signedBytes(v.command)), v.signed_bytes);
    });
  }
});

Deno.test("deriveSigningKey() matches the key openssl derived", async (t) => {
  for (const v of vectors.filter((v) => v.alg === "hmac-sha256")) {
    await t.step(v.name, async () => {
      assertEquals(toHex(await deriveSigningKey(v.api_key!)), v.signing_key_hex);
    });
  }
});

Deno.test("signCommand() produces the signature of every vector", async (t) => {
  for (const v of vectors) {
    await t.step(v.name, async () => {
      const keyId = typeof v.command.key_id === "string" ? v.command.key_id : undefined;
      const signer = v.alg === "hmac-sha256"
        ? { alg: v.alg, key: await deriveSigningKey(v.api_key!) } as const
        : {
          alg: v.alg,
          privateKey: await importEd25519PrivateKey(v.private_key_pkcs8_base64!),
        } as const;
      const signed = await signCommand(unsigned(v.command), {
        ...signer,
        ...(keyId === undefined ? {} : { keyId }),
      });
      assertEquals(signed.signature, v.signature);
      assertEquals(signed, v.command);
    });
  }
});

Deno.test("verifyCommandSignature() accepts every vector and refuses any change", async (t) => {
  for (const v of vectors) {
    const verifier = await verifierFor(v);
    await t.step(`${v.name}: accepted as is`, async () => {
      assert(await verifyCommandSignature(v.command, verifier));
    });
    await t.step(`${v.name}: one flipped signature byte is refused`, async () => {
      const bytes = v.alg === "hmac-sha256"
        ? Uint8Array.from(v.signature.match(/../g)!.map((h) => parseInt(h, 16)))
        : fromBase64(v.signature);
      bytes[bytes.length >> 1]! ^= 0x01;
      const flipped = v.alg === "hmac-sha256"
        ? toHex(bytes)
        : btoa(String.fromCharCode(...bytes)).replace(/\+/g, "-").replace(/\//g, "_")
          .replace(/=+$/, "");
      assert(!(await verifyCommandSignature({ ...v.command, signature: flipped }, verifier)));
    });
    await t.step(`${v.name}: a changed param is refused`, async () => {
      const params = { ...(v.command.params as Record<string, unknown>), injected: true };
      assert(!(await verifyCommandSignature({ ...v.command, params }, verifier)));
    });
    await t.step(`${v.name}: a changed clock field is refused`, async () => {
      const expires = (v.command.expires_at as number) + 1;
      assert(!(await verifyCommandSignature({ ...v.command, expires_at: expires }, verifier)));
    });
  }
});

async function hasOpenssl(): Promise<boolean> {
  try {
    const { success } = await new Deno.Command("openssl", { args: ["version"], stdout: "null" })
      .output();
    return success;
  } catch {
    return false;
  }
}

async function opensslHmac(keyOption: string, data: Uint8Array): Promise<string> {
  const child = new Deno.Command("openssl", {
    args: ["dgst", "-sha256", "-mac", "HMAC", "-macopt", keyOption],
    stdin: "piped",
    stdout: "piped",
  }).spawn();
  const writer = child.stdin.getWriter();
  await writer.write(data);
  await writer.close();
  const out = decoder.decode((await child.output()).stdout).trim();
  return out.slice(out.lastIndexOf("= ") + 2);
}

Deno.test({
  name: "openssl recomputes the same HMAC keys and signatures live",
  ignore: !(await hasOpenssl()),
  async fn(t) {
    for (const v of vectors.filter((v) => v.alg === "hmac-sha256")) {
      await t.step(v.name, async () => {
        const message = new TextEncoder().encode("finetunelab-worker-command-signing-v1");
        const key = await opensslHmac(`key:${v.api_key}`, message);
        assertEquals(key, toHex(await deriveSigningKey(v.api_key!)));
        assertEquals(await opensslHmac(`hexkey:${key}`, signedBytes(v.command)), v.signature);
      });
    }
  },
});
