/** Commands for executor tests. The executor runs verified commands, so no signature is needed. */
import type { Command } from "../../src/protocol/mod.ts";

/** A command of `type` with `params`; other members may be overridden. */
export function commandOf(
  type: string,
  params: Record<string, unknown> = {},
  overrides: Partial<Command> = {},
): Command {
  const now = Date.now();
  return {
    id: crypto.randomUUID(),
    worker_id: "wkr_test0000000000000000000",
    command_type: type,
    params,
    timeout_seconds: 60,
    created_at: new Date(now).toISOString(),
    issued_at: now,
    expires_at: now + 600_000,
    signature_alg: "hmac-sha256",
    signature: "verified-upstream",
    ...overrides,
  };
}

/** A promise with its resolve function, for handlers a test lets finish when it wants. */
export function gate<T = void>(): { promise: Promise<T>; open: (value: T) => void } {
  let open!: (value: T) => void;
  const promise = new Promise<T>((resolve) => open = resolve);
  return { promise, open };
}
