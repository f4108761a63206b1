/**
 * The disk budget of the state dir (`state_max_mb`): the result outbox and the sample spool
 * share it, whatever the server does. One place keeps the count and the rules:
 * - results of commands the agent accepted are always written (never dropped);
 * - samples get what the results leave: the spool drops its oldest samples to stay inside;
 * - while results alone use half the budget, no new command is taken (it stays pending on the
 *   server, not acked), so a server that refuses results cannot make the outbox grow without
 *   bound.
 *
 * Sizes are counted as the disk blocks files occupy (4 KiB each at least), so `du` of the
 * state dir agrees with the budget.
 *
 * @module
 */

/** The allocation unit files are counted in (the usual file-system block). */
export const DISK_BLOCK_BYTES = 4096;

/** The space a file of `bytes` takes on disk: whole blocks, at least one. */
export function onDiskBytes(bytes: number): number {
  return Math.max(1, Math.ceil(bytes / DISK_BLOCK_BYTES)) * DISK_BLOCK_BYTES;
}

/** What uses the budget. */
export type BudgetPart = "results" | "samples";

/** Bytes on disk of the outbox and the spool against `state_max_mb`. */
export class StateBudget {
  /** The budget in bytes. */
  readonly maxBytes: number;
  #used: Record<BudgetPart, number> = { results: 0, samples: 0 };

  /** Creates an empty budget of `maxBytes`. */
  constructor(maxBytes: number) {
    if (!(maxBytes > 0)) throw new RangeError(`maxBytes must be positive, got ${maxBytes}`);
    this.maxBytes = maxBytes;
  }

  /** Bytes used by both parts. */
  get used(): number {
    return this.#used.results + this.#used.samples;
  }

  /** Bytes used by `part`. */
  usedBy(part: BudgetPart): number {
    return this.#used[part];
  }

  /** Records `bytes` more (or fewer, when negative) on disk for `part`. */
  change(part: BudgetPart, bytes: number): void {
    this.#used[part] = Math.max(0, this.#used[part] + bytes);
  }

  /** Whether `bytes` more fit. */
  fits(bytes: number): boolean {
    return this.used + bytes <= this.maxBytes;
  }

  /** Whether results use half the budget or more: then no new command is taken. */
  get resultsFull(): boolean {
    return this.#used.results >= this.maxBytes / 2;
  }

  /** `used` in MiB with two decimals, for `status` and samples. */
  get usedMb(): number {
    return Math.round((this.used / 2 ** 20) * 100) / 100;
  }
}
