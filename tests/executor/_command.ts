/**
 * Commands for executor tests. The executor runs verified commands, so no signature is
 * needed; the params still go through their type's schema, as `verifyCommand` would parse them.
 */
import {
  type CommandParams,
  CommandParamsSchemas,
  type CommandType,
  type VerifiedCommand,
} from "../../src/protocol/mod.ts";

/** A verified command of `type` with `params`; other members may be overridden. */
export function commandOf<T extends CommandType>(
  type: T,
  params: CommandParams<T> = {} as CommandParams<T>,
  overrides: Partial<Omit<VerifiedCommand, "command_type" | "params">> = {},
): VerifiedCommand<T> {
  const now = Date.now();
  return {
    id: crypto.randomUUID(),
    worker_id: "wkr_test0000000000000000000",
    command_type: type,
    params: CommandParamsSchemas[type].parse(params),
    timeout_seconds: 60,
    created_at: new Date(now).toISOString(),
    issued_at: now,
    expires_at: now + 600_000,
    signature_alg: "hmac-sha256",
    signature: "verified-upstream",
    ...overrides,
  } as VerifiedCommand<T>;
}

/** A promise with its resolve function, for handlers a test lets finish when it wants. */
export function gate<T = void>(): { promise: Promise<T>; open: (value: T) => void } {
  let open!: (value: T) => void;
  const promise = new Promise<T>((resolve) => open = resolve);
  return { promise, open };
}
