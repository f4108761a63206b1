/** Signing and verifying commands with `hmac-sha256` and `ed25519` (protocol 6). */
import { signedBytes } from "./canonical.ts";
import type { SignatureAlg } from "./constants.ts";
import { fromBase64, fromHex, toBase64, toBase64Url, toHex } from "./encoding.ts";

/** What signs commands: the derived HMAC key, or an Ed25519 private key. */
export type CommandSigner =
  | { alg: "hmac-sha256"; key: Uint8Array; keyId?: string }
  | { alg: "ed25519"; privateKey: CryptoKey; keyId?: string };

/** What verifies commands: the derived HMAC key, or a pinned Ed25519 public key. */
export type CommandVerifier =
  | { alg: "hmac-sha256"; key: Uint8Array }
  | { alg: "ed25519"; publicKey: CryptoKey };

/** A command object before its `signature` member is added. */
export type UnsignedCommand = Record<string, unknown> & {
  signature_alg?: never;
  signature?: never;
};

/**
 * Imported HMAC keys by their raw bytes and usage. Importing once per key instead of once per
 * command matters: every import holds native memory for a while, and a flood of forged
 * commands made the agent's RSS grow by about 1 KiB per command.
 */
const importedKeys = {
  sign: new WeakMap<Uint8Array, Promise<CryptoKey>>(),
  verify: new WeakMap<Uint8Array, Promise<CryptoKey>>(),
};

function hmacKey(raw: Uint8Array, usage: "sign" | "verify"): Promise<CryptoKey> {
  if (raw.length !== 32) {
    throw new RangeError(`An HMAC signing key is 32 bytes, got ${raw.length}`);
  }
  const cached = importedKeys[usage].get(raw);
  if (cached) return cached;
  const key = importHmacKey(raw, usage);
  importedKeys[usage].set(raw, key);
  // A failed import is not kept.
  key.catch(() => importedKeys[usage].delete(raw));
  return key;
}

function importHmacKey(raw: Uint8Array, usage: "sign" | "verify"): Promise<CryptoKey> {
  return crypto.subtle.importKey(
    "raw",
    raw as Uint8Array<ArrayBuffer>,
    {
      name: "HMAC",
      hash: "SHA-256",
    },
    false,
    [usage],
  );
}

/**
 * Adds `signature_alg`, `key_id` (when the signer has one) and `signature` to `command`.
 * The returned object is what goes on the wire.
 */
export async function signCommand<T extends Record<string, unknown>>(
  command: T,
  signer: CommandSigner,
): Promise<T & { signature_alg: SignatureAlg; signature: string }> {
  const { signature: _drop, ...base } = command as Record<string, unknown>;
  const body: Record<string, unknown> = { ...base, signature_alg: signer.alg };
  if (signer.keyId !== undefined) body.key_id = signer.keyId;
  const bytes = signedBytes(body) as Uint8Array<ArrayBuffer>;
  let signature: string;
  if (signer.alg === "hmac-sha256") {
    const key = await hmacKey(signer.key, "sign");
    signature = toHex(new Uint8Array(await crypto.subtle.sign("HMAC", key, bytes)));
  } else {
    signature = toBase64Url(
      new Uint8Array(await crypto.subtle.sign("Ed25519", signer.privateKey, bytes)),
    );
  }
  return { ...body, signature } as T & { signature_alg: SignatureAlg; signature: string };
}

/**
 * Whether `command.signature` is a valid signature of its other members under `verifier`.
 * The comparison is done by `crypto.subtle.verify`, which is constant-time. A command
 * whose `signature_alg` differs from the verifier's algorithm does not verify. Throws
 * `TypeError` when the command cannot be canonicalized (see `signedBytes`).
 */
export async function verifyCommandSignature(
  command: Readonly<Record<string, unknown>>,
  verifier: CommandVerifier,
): Promise<boolean> {
  const signature = command.signature;
  if (typeof signature !== "string" || command.signature_alg !== verifier.alg) return false;
  let sig: Uint8Array;
  try {
    sig = verifier.alg === "hmac-sha256" ? fromHex(signature) : fromBase64(signature);
  } catch {
    return false;
  }
  const bytes = signedBytes(command) as Uint8Array<ArrayBuffer>;
  const sigBuf = sig as Uint8Array<ArrayBuffer>;
  if (verifier.alg === "hmac-sha256") {
    if (sig.length !== 32) return false;
    const key = await hmacKey(verifier.key, "verify");
    return crypto.subtle.verify("HMAC", key, sigBuf, bytes);
  }
  if (sig.length !== 64) return false;
  return crypto.subtle.verify("Ed25519", verifier.publicKey, sigBuf, bytes);
}

/** A new Ed25519 key pair; the public key is returned as base64 of its 32 raw bytes too. */
export async function generateEd25519KeyPair(): Promise<
  { privateKey: CryptoKey; publicKey: CryptoKey; publicKeyBase64: string; pkcs8Base64: string }
> {
  const pair = await crypto.subtle.generateKey("Ed25519", true, [
    "sign",
    "verify",
  ]) as CryptoKeyPair;
  const raw = new Uint8Array(await crypto.subtle.exportKey("raw", pair.publicKey));
  const pkcs8 = new Uint8Array(await crypto.subtle.exportKey("pkcs8", pair.privateKey));
  return {
    privateKey: pair.privateKey,
    publicKey: pair.publicKey,
    publicKeyBase64: toBase64(raw),
    pkcs8Base64: toBase64(pkcs8),
  };
}

/** Imports a pinned Ed25519 public key given as base64 of its 32 raw bytes. */
export async function importEd25519PublicKey(base64: string): Promise<CryptoKey> {
  let raw: Uint8Array;
  try {
    raw = fromBase64(base64.trim());
  } catch (cause) {
    throw new SyntaxError("server_public_key is not base64", { cause });
  }
  if (raw.length !== 32) {
    throw new RangeError(`An Ed25519 public key is 32 bytes, this one decodes to ${raw.length}`);
  }
  return await crypto.subtle.importKey("raw", raw as Uint8Array<ArrayBuffer>, "Ed25519", true, [
    "verify",
  ]);
}

/** Imports an Ed25519 private key from base64 PKCS#8 (as written by `keys signing-key`). */
export function importEd25519PrivateKey(pkcs8Base64: string): Promise<CryptoKey> {
  const der = fromBase64(pkcs8Base64.trim()) as Uint8Array<ArrayBuffer>;
  return crypto.subtle.importKey("pkcs8", der, "Ed25519", true, ["sign"]);
}

/** The base64 raw public key belonging to an exportable Ed25519 private key. */
export async function ed25519PublicKeyOf(privateKey: CryptoKey): Promise<string> {
  const jwk = await crypto.subtle.exportKey("jwk", privateKey);
  if (typeof jwk.x !== "string") throw new TypeError("Not an Ed25519 private key");
  return toBase64(fromBase64(jwk.x));
}
