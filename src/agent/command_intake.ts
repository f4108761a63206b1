/** Where every command arrives, by WebSocket or heartbeat: verify, mark seen, execute. */
import type { Logger } from "../log/logger.ts";
import {
  type CommandResult,
  type CommandVerifier,
  type VerifiedCommand,
  verifyCommand,
} from "../protocol/mod.ts";
import { commandResult } from "../executor/command_result.ts";
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
  execute: (command: VerifiedCommand) => Promise<CommandResult>;
  /**
   * Queues a result for the result sender: on disk (`durable: true`), or in memory only for
   * refusals of commands that failed authentication (protocol 8, v1.1).
   */
  deliver: (result: CommandResult, options: { durable: boolean }) => Promise<void>;
  /**
   * Whether undelivered results leave room in the state dir's budget. While false, commands
   * that would need a stored result are deferred (not acked: the server keeps them).
   * @default {() => true}
   */
  roomForResults?: () => boolean;
  /** Whether the agent is draining (then nothing new is taken). */
  draining: () => boolean;
  /** Where decisions are logged. */
  logger: Logger;
  /** Clock in Unix ms. @default {Date.now} */
  now?: () => number;
}

/**
 * How many refusals of unauthenticated (`bad_signature`) commands one run reports
 * (protocol 8, v1.1). They are kept in memory only; past this many, forged commands are acked
 * and dropped, so a hostile server can fill neither the disk nor the memory with them.
 */
export const MAX_FORGED_REPORTS_PER_RUN = 100;
/** Least time between two "no room for results" warnings. */
const FULL_LOG_INTERVAL_MS = 10 * 60_000;

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
 *   and must not be able to block a genuine command with the same id. A `bad_signature`
 *   refusal is kept in memory only, reported once per id, and at most
 *   {@linkcode MAX_FORGED_REPORTS_PER_RUN} times per run;
 * - while draining, or while undelivered results use their share of `state_max_mb`, nothing
 *   that needs a stored result is taken and nothing acked: the server keeps it pending.
 *
 * `receive()` never rejects: a failure inside is logged and the command deferred.
 */
export class CommandIntake {
  #options: CommandIntakeOptions;
  #now: () => number;
  #queue: Promise<unknown> = Promise.resolve();
  #running = new Set<Promise<void>>();
  #reportedForged = new Set<string>();
  #unreportedForged = 0;
  #lastFullLog = -Infinity;

  /** Creates the intake. */
  constructor(options: CommandIntakeOptions) {
    this.#options = options;
    this.#now = options.now ?? Date.now;
  }

  /** Resolves when every accepted command's result is stored. */
  async settled(): Promise<void> {
    await this.#queue;
    while (this.#running.size > 0) await Promise.all(this.#running);
  }

  /** Judges `raw` and returns the decision; the caller acks unless it is `deferred`/`unidentified`. */
  receive(raw: unknown, via: "websocket" | "heartbeat"): Promise<IntakeDecision> {
    const next = this.#queue.then(() => this.#judge(raw, via)).catch((error) => {
      this.#options.logger.error("command intake failed; not acking (the server resends)", {
        error: String(error),
        via,
      });
      return "deferred" as const;
    });
    this.#queue = next;
    return next;
  }

  /** Forged commands acked without a report this run, past the report limit. */
  get unreportedForged(): number {
    return this.#unreportedForged;
  }

  /** False (and one warning per streak, at most every 10 min) when results have no room. */
  #roomForResults(commandId: string): boolean {
    if (this.#options.roomForResults?.() ?? true) {
      this.#lastFullLog = -Infinity;
      return true;
    }
    const now = this.#now();
    if (now - this.#lastFullLog >= FULL_LOG_INTERVAL_MS) {
      this.#lastFullLog = now;
      this.#options.logger.warn(
        "undelivered results use half of state_max_mb; new commands wait on the server until results are delivered",
        { command_id: commandId },
      );
    }
    return false;
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
      if (!this.#roomForResults(command.id)) return "deferred";
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
        .then((result) => this.#options.deliver(result, { durable: true }))
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
    const badSignature = verdict.code === "bad_signature";
    if (badSignature) return this.#refuseForged(id, verdict.reason, via);
    logger.warn("command refused", {
      command_id: id,
      code: verdict.code,
      reason: verdict.reason,
      via,
    });
    if (id === undefined) return "unidentified";
    if (!this.#roomForResults(id)) return "deferred";
    try {
      // The result first: an id marked seen without a stored refusal would never get one.
      await this.#options.deliver(this.#refusal(id, verdict.code, verdict.reason), {
        durable: true,
      });
      await this.#options.seen.add(id);
    } catch (error) {
      logger.error("command refusal could not be stored; not acking it (the server resends)", {
        command_id: id,
        error: String(error),
      });
      return "deferred";
    }
    return "refused";
  }

  /**
   * A command that failed authentication: reported once per id, in memory only, at most
   * {@linkcode MAX_FORGED_REPORTS_PER_RUN} per run; past that acked and dropped.
   */
  async #refuseForged(
    id: string | undefined,
    reason: string,
    via: string,
  ): Promise<IntakeDecision> {
    const { logger } = this.#options;
    if (id !== undefined && this.#reportedForged.has(id)) {
      logger.debug("forged command seen again", { command_id: id, via });
      return "refused";
    }
    if (id === undefined || this.#reportedForged.size >= MAX_FORGED_REPORTS_PER_RUN) {
      if (id !== undefined && this.#unreportedForged++ === 0) {
        logger.warn(
          `more than ${MAX_FORGED_REPORTS_PER_RUN} commands failed authentication this run; acking further ones without reporting them`,
          { via },
        );
      } else logger.debug("command refused", { command_id: id, code: "bad_signature", via });
      return id === undefined ? "unidentified" : "refused";
    }
    logger.warn("command refused", { command_id: id, code: "bad_signature", reason, via });
    this.#reportedForged.add(id);
    await this.#options.deliver(this.#refusal(id, "bad_signature", reason), { durable: false });
    return "refused";
  }

  #refusal(id: string, code: string, reason: string): CommandResult {
    return commandResult(id, { status: "failed", error: reason, error_code: code }, {
      startedAt: this.#now(),
    });
  }
}
