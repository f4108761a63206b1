/** Picking, signing and recording the deliveries of a worker's commands. */
import type { Logger } from "../log/logger.ts";
import type { Command } from "./_deps.ts";
import { signForDelivery, type SigningMode } from "./command_signer.ts";
import type { KeyRecord, WorkerView } from "./storage/records.ts";
import type { CommandRepository, KeyRepository, WorkerRepository } from "./storage/repositories.ts";

/** Options of {@linkcode CommandDelivery}. */
export interface CommandDeliveryOptions {
  commands: CommandRepository;
  workers: WorkerRepository;
  keys: KeyRepository;
  mode: SigningMode;
  /** A delivered command not acked within this time is sent again. */
  ackTimeoutMs: number;
  now: () => number;
  /** Where a command that cannot be signed is reported. @default {nowhere} */
  logger?: Logger;
}

/** `error_code` of a command that could not be signed; it is marked `failed`. */
export const SIGNING_FAILED = "signing_failed";

/** Turns stored commands into signed wire commands and records each delivery. */
export class CommandDelivery {
  #options: CommandDeliveryOptions;

  /** Creates the delivery helper. */
  constructor(options: CommandDeliveryOptions) {
    this.#options = options;
  }

  /** The signing mode in use. */
  get mode(): SigningMode {
    return this.#options.mode;
  }

  /**
   * Up to `limit` commands of `workerId` that are due, recorded as delivered and signed now.
   * Returns an empty list when the worker or its key is gone, or the worker is draining or
   * offline. A legacy worker (v1.1: FineTuneLab's own agent, which never acks and runs every
   * copy) gets each command once, by heartbeat only, and never a re-send. Commands are signed
   * one by one: one that cannot be signed (params stored before they were bounded, say) is
   * marked `failed` with `signing_failed` and the others still go out, so no command can block
   * a worker's queue.
   */
  async take(
    workerId: string,
    limit: number,
    options: {
      via: "websocket" | "heartbeat";
      /** The worker and key as this request just read them (saves two reads). */
      known?: { worker: WorkerView; key: KeyRecord };
    },
  ): Promise<Command[]> {
    const { commands, workers, keys, mode, ackTimeoutMs, now } = this.#options;
    const worker = options.known?.worker ?? await workers.get(workerId);
    // Workers reporting draining or offline get no commands, over any channel.
    if (!worker || worker.status === "draining" || worker.status === "offline") return [];
    if (worker.legacy && options.via !== "heartbeat") return [];
    const key = options.known?.key.id === worker.key_id
      ? options.known.key
      : await keys.get(worker.key_id);
    if (!key || !key.active) return [];
    // A legacy worker's delivered commands are never due again (at most once). The claim is
    // atomic: two heartbeats answered at once, or two instances, never pick the same command
    // (for a legacy worker that would mean running it twice).
    const due = await commands.claimDeliverable(
      workerId,
      worker.legacy ? Number.MAX_SAFE_INTEGER : ackTimeoutMs,
      limit,
    );
    const at = now();
    const out: Command[] = [];
    for (const command of due) {
      let signed: Command;
      try {
        signed = await signForDelivery(command, { mode, hmacKey: key.signingKey, now: at });
      } catch (error) {
        const message = (error as Error)?.message ?? String(error);
        await commands.complete(command.command_id, {
          command_id: command.command_id,
          status: "failed",
          error: `the control plane could not sign this command: ${message}`,
          error_code: SIGNING_FAILED,
        });
        this.#options.logger?.warn("command could not be signed; marked failed", {
          worker_id: workerId,
          command_id: command.command_id,
          error: message,
        });
        continue;
      }
      out.push(signed);
    }
    return out;
  }
}
