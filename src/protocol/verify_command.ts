/** The agent's command verification policy (protocol 6), as one function. */
import { CommandSchema, type VerifiedCommand } from "./command.ts";
import { CommandParamsSchemas, isCommandType } from "./command_types.ts";
import { CLOCK_SKEW_MS } from "./constants.ts";
import { type CommandVerifier, verifyCommandSignature } from "./signature.ts";
import { validate } from "./validate.ts";

/** Why a command was refused. `replayed` is acked and ignored, never executed again. */
export type RefusalCode =
  | "bad_signature"
  | "wrong_worker"
  | "expired"
  | "replayed"
  | "unknown_command"
  | "not_allowed"
  | "invalid_params";

/** What {@linkcode verifyCommand} decided. */
export type Verdict =
  | { accept: true; command: VerifiedCommand }
  | {
    accept: false;
    code: RefusalCode;
    reason: string;
    /** The command's id when it has one that can be reported against. */
    commandId: string | undefined;
  };

/** Ids of commands already executed (or refused as executed). */
export interface SeenIds {
  /** Whether `id` was seen before. */
  has(id: string): boolean;
}

/** Everything {@linkcode verifyCommand} judges a command against. */
export interface VerifyContext {
  /** This agent's worker id. */
  workerId: string;
  /** The current time in Unix milliseconds. */
  now: number;
  /** Ids executed before. */
  seen: SeenIds;
  /** Command types the local config allows. */
  allowlist: readonly string[];
  /** The key the signature must verify under. */
  verifier: CommandVerifier;
  /** Tolerated clock skew. @default {CLOCK_SKEW_MS} */
  skewMs?: number;
}

function refuse(code: RefusalCode, reason: string, commandId: string | undefined): Verdict {
  return { accept: false, code, reason, commandId };
}

/**
 * Decides whether a command received from the server may run. Checks, in order: shape,
 * signature (constant-time), worker id, validity window, replay, known type, allowlist,
 * params. An accepted command comes back as a {@linkcode VerifiedCommand}: its params parsed
 * by its type's schema, so nothing after this looks at them again. It records nothing: the
 * caller marks the id seen when it accepts. It never throws: a command without a canonical
 * form (protocol 8, v1.1) is refused as `bad_signature`.
 *
 * @example
 * ```ts
 * const verdict = await verifyCommand(frame.command, {
 *   workerId, now: Date.now(), seen, allowlist: config.allowed_commands, verifier,
 * });
 * if (!verdict.accept) reportRefusal(verdict.commandId, verdict.code, verdict.reason);
 * ```
 */
export async function verifyCommand(raw: unknown, context: VerifyContext): Promise<Verdict> {
  const rawId = raw !== null && typeof raw === "object" && "id" in raw &&
      typeof raw.id === "string" && raw.id.length > 0 && raw.id.length <= 128 &&
      raw.id !== "." && raw.id !== ".."
    ? raw.id
    : undefined;
  const shape = validate(CommandSchema, raw);
  if (!shape.ok) {
    // An envelope that cannot be parsed cannot be shown to be signed: fail closed.
    return refuse("bad_signature", `malformed command: ${shape.error}`, rawId);
  }
  const command = shape.value;
  // The signature is checked over the members as received, not over the parsed copy: the
  // parser drops an own `__proto__` member, which would otherwise ride along unsigned.
  let verified: boolean;
  try {
    verified = await verifyCommandSignature(raw as Record<string, unknown>, context.verifier);
  } catch (error) {
    // No canonical form (a lone surrogate, a non-finite number): nothing can have signed it.
    return refuse("bad_signature", (error as Error).message ?? String(error), command.id);
  }
  if (!verified) {
    return refuse(
      "bad_signature",
      command.signature_alg === context.verifier.alg
        ? "signature does not verify"
        : `signature_alg ${command.signature_alg} is not the configured ${context.verifier.alg}`,
      command.id,
    );
  }
  if (command.worker_id !== context.workerId) {
    return refuse("wrong_worker", `command is for worker ${command.worker_id}`, command.id);
  }
  const skew = context.skewMs ?? CLOCK_SKEW_MS;
  if (context.now < command.issued_at - skew) {
    return refuse(
      "expired",
      "command was issued in the future beyond the allowed skew",
      command.id,
    );
  }
  if (context.now > command.expires_at + skew) {
    return refuse("expired", "command expired", command.id);
  }
  if (context.seen.has(command.id)) {
    return refuse("replayed", "command id was already executed", command.id);
  }
  const type = command.command_type;
  if (!isCommandType(type)) {
    return refuse("unknown_command", `unknown command_type ${JSON.stringify(type)}`, command.id);
  }
  if (!context.allowlist.includes(type)) {
    return refuse("not_allowed", `${type} is not in allowed_commands`, command.id);
  }
  const params = validate(CommandParamsSchemas[type], command.params);
  if (!params.ok) return refuse("invalid_params", `params.${params.error}`, command.id);
  // The type and its parsed params belong together; TypeScript cannot follow that through
  // the lookup by `type`, hence the one cast.
  const accepted = { ...command, command_type: type, params: params.value } as VerifiedCommand;
  return { accept: true, command: accepted };
}
