/** Derivation of the HMAC command-signing key from a worker API key (protocol 6). */
import { SIGNING_KEY_DERIVATION_MESSAGE } from "./constants.ts";

const encoder = new TextEncoder();

/**
 * `K = HMAC-SHA256(key = UTF-8(api_key), msg = "finetunelab-worker-command-signing-v1")`,
 * 32 raw bytes. The server stores K; the agent derives it from its own key.
 */
export async function deriveSigningKey(apiKey: string): Promise<Uint8Array> {
  if (typeof apiKey !== "string" || apiKey.length === 0) {
    throw new TypeError("Cannot derive a signing key from an empty API key");
  }
  const key = await crypto.subtle.importKey(
    "raw",
    encoder.encode(apiKey),
    { name: "HMAC", hash: "SHA-256" },
    false,
    ["sign"],
  );
  const mac = await crypto.subtle.sign("HMAC", key, encoder.encode(SIGNING_KEY_DERIVATION_MESSAGE));
  return new Uint8Array(mac);
}
