/** Where every command arrives, by WebSocket or heartbeat: verify, mark seen, execute. */
import type { Logger } from "../log/logger.ts";
import {
  type Command,
  type CommandResult,
  type CommandVerifier,
  verifyCommand,
} from "../protocol/mod.ts";
import type { SeenIdStore } from "./seen_ids.ts";

/** Options of {@linkcode CommandIntake}. */
export interface CommandIntakeOptions {
  /** This agent's worker id right now. */
  workerId: () => string | undefined;
  /** The allowlist right now (`allowed_commands`). */
  allowlist: () => readonly string[];
  /** The key commands must be signed with. */
  verifier: CommandVerifier;
  /** The persisted replay guard. */
  seen: SeenIdStore;
  /** Runs an accepted command and resolves with its complete result. */
  execute: (command: Command) => Promise<CommandResult>;
  /** Stores a result durably for the result sender. */
  deliver: (result: CommandResult) => Promise<void>;
  /** Whether the agent is draining (then nothing new is taken). */
  draining: () => boolean;
  /** Where decisions are logged. */
  logger: Logger;
  /** Clock in Unix ms. @default {Date.now} */
  now?: () => number;
}

/** How many forged (bad_signature) ids one run remembers to report each only once. */
const MAX_REMEMBERED_FORGED_IDS = 10_000;

/** What the intake did with one command. */
export type IntakeDecision = "accepted" | "replayed" | "refused" | "deferred" | "unidentified";

/**
 * Judges every incoming command with the protocol's `verifyCommand` policy, one at a time
 * (so the same id arriving by WebSocket and heartbeat at once cannot pass twice):
 * - accepted: the id is persisted as seen BEFORE the command starts, then it runs and its
 *   result goes to the durable outbox;
 * - replayed: acked and ignored;
 * - refused: a `failed` result with the refusal's `error_code`. The id is marked seen too
 *   (so a resend is a replay), except for `bad_signature`, whose id is not authenticated
 *   and must not be able to block a genuine command with the same id;
 * - while draining nothing is taken and nothing acked: the server keeps the command pending.
 */
export class CommandIntake {
  #options: CommandIntakeOptions;
  #now: () => number;
  #queue: Promise<unknown> = Promise.resolve();
  #running = new Set<Promise<void>>();
  #refusedBadSignature = new Set<string>();

  /** Creates the intake. */
  constructor(options: CommandIntakeOptions) {
    this.#options = options;
    this.#now = options.now ?? Date.now;
  }

  /** Commands accepted whose result is not stored yet. */
  get inFlight(): number {
    return this.#running.size;
  }

  /** Resolves when every accepted command's result is stored. */
  async settled(): Promise<void> {
    await this.#queue;
    while (this.#running.size > 0) await Promise.all(this.#running);
  }

  /** Judges `raw` and returns the decision; the caller acks unless it is `deferred`/`unidentified`. */
  receive(raw: unknown, via: "websocket" | "heartbeat"): Promise<IntakeDecision> {
    const next = this.#queue.then(() => this.#judge(raw, via));
    this.#queue = next.catch(() => {});
    return next;
  }

  async #judge(raw: unknown, via: string): Promise<IntakeDecision> {
    const { logger } = this.#options;
    if (this.#options.draining()) return "deferred";
    const workerId = this.#options.workerId();
    if (workerId === undefined) return "deferred";
    const verdict = await verifyCommand(raw, {
      workerId,
      now: this.#now(),
      seen: this.#options.seen,
      allowlist: this.#options.allowlist(),
      verifier: this.#options.verifier,
    });
    if (verdict.accept) {
      const command = verdict.command;
      try {
        await this.#options.seen.add(command.id);
      } catch (error) {
        // Without a durable id the command could run twice: do not run it, do not ack it.
        logger.error("command id could not be persisted; not running it (the server resends)", {
          command_id: command.id,
          error: String(error),
        });
        return "deferred";
      }
      logger.info("command accepted", { command_id: command.id, type: command.command_type, via });
      const run: Promise<void> = this.#options.execute(command)
        .then((result) => this.#options.deliver(result))
        .catch((error) => {
          logger.error("command result could not be stored", {
            command_id: command.id,
            error: String(error),
          });
        })
        .finally(() => this.#running.delete(run));
      this.#running.add(run);
      return "accepted";
    }
    if (verdict.code === "replayed") {
      logger.debug("replayed command ignored", { command_id: verdict.commandId, via });
      return "replayed";
    }
    const id = verdict.commandId;
    logger.warn("command refused", {
      command_id: id,
      code: verdict.code,
      reason: verdict.reason,
      via,
    });
    if (id === undefined) return "unidentified";
    const badSignature = verdict.code === "bad_signature";
    // A bad signature is reported once per run; the id is not authenticated, so not persisted.
    if (badSignature && this.#refusedBadSignature.has(id)) return "refused";
    const now = this.#now();
    try {
      // The result first: an id marked seen without a stored refusal would never get one.
      await this.#options.deliver({
        command_id: id,
        status: "failed",
        error: verdict.reason.slice(0, 1000),
        error_code: verdict.code,
        started_at: now,
        finished_at: now,
        timestamp: Math.floor(now / 1000),
      });
      if (badSignature) {
        // Bounded: a flood of distinct forged ids must not grow memory; past the bound an
        // id may be reported a second time, which is harmless.
        if (this.#refusedBadSignature.size >= MAX_REMEMBERED_FORGED_IDS) {
          this.#refusedBadSignature.clear();
        }
        this.#refusedBadSignature.add(id);
      } else await this.#options.seen.add(id);
    } catch (error) {
      logger.error("command refusal could not be stored; not acking it (the server resends)", {
        command_id: id,
        error: String(error),
      });
      return "deferred";
    }
    return "refused";
  }
}
