/** Signing commands at delivery time with fresh `issued_at`/`expires_at` (protocol 6). */
import { type Command, COMMAND_TTL_MS, type CommandSigner, signCommand } from "./_deps.ts";
import type { CommandView } from "./storage/records.ts";

/**
 * How commands are signed: `hmac-sha256` with the derived key of the worker's API key, or
 * `ed25519` with the server's private key.
 */
export type SigningMode =
  | { alg: "hmac-sha256" }
  | { alg: "ed25519"; privateKey: CryptoKey; keyId?: string };

/** Signs `command` for delivery now, with the HMAC key of the worker's API key if needed. */
export async function signForDelivery(
  command: CommandView,
  options: { mode: SigningMode; hmacKey: Uint8Array; now: number },
): Promise<Command> {
  const unsigned = {
    id: command.command_id,
    worker_id: command.worker_id,
    command_type: command.command_type,
    params: command.params,
    timeout_seconds: command.timeout_seconds,
    // v1.1: an ISO string, as FineTuneLab's server sends it (its agent cannot decode a
    // number here); the admin API keeps Unix ms.
    created_at: new Date(command.created_at).toISOString(),
    issued_at: options.now,
    expires_at: options.now + COMMAND_TTL_MS,
  };
  const signer: CommandSigner = options.mode.alg === "ed25519"
    ? {
      alg: "ed25519",
      privateKey: options.mode.privateKey,
      ...(options.mode.keyId === undefined ? {} : { keyId: options.mode.keyId }),
    }
    : { alg: "hmac-sha256", key: options.hmacKey };
  return await signCommand(unsigned, signer) as Command;
}
