/**
 * NVIDIA GPUs through `nvidia-smi`. Probed once at start: when the tool is absent (or not
 * permitted) the probe is never run again and every sample has an empty GPU list.
 *
 * @module
 */
import type { Logger } from "../log/logger.ts";
import type { Gpu } from "../protocol/mod.ts";
import { NVIDIA_SMI_ARGS, parseNvidiaSmiCsv } from "./parse_nvidia_smi.ts";
import { ProbeHealth } from "./probe_health.ts";
import { runCommand, type RunCommandOptions } from "./run_command.ts";

/** Options of {@linkcode NvidiaSmiProbe}. */
export interface NvidiaSmiProbeOptions {
  /** The program. @default {"nvidia-smi"} */
  command?: string;
  /** Deadline of one call. @default {3000} */
  timeoutMs?: number;
  /** Where failures are logged (once). */
  logger?: Logger;
  /** Runs the program and returns its stdout. @default {runCommand} */
  run?: (command: string, args: string[], options: RunCommandOptions) => Promise<string>;
}

/** Reads NVIDIA GPUs; an empty list when there are none or the tool is missing. */
export class NvidiaSmiProbe {
  #options: NvidiaSmiProbeOptions;
  #absent = false;
  #health: ProbeHealth;
  #logger: Logger | undefined;

  /** @param options program, deadline, logger. */
  constructor(options: NvidiaSmiProbeOptions = {}) {
    this.#options = options;
    this.#logger = options.logger;
    this.#health = new ProbeHealth(options.logger);
  }

  /** True once the tool was found missing; no further calls are made. */
  get absent(): boolean {
    return this.#absent;
  }

  /** The GPUs now; never throws (a failure is logged once and gives an empty list). */
  async read(signal?: AbortSignal): Promise<Gpu[]> {
    if (this.#absent) return [];
    const command = this.#options.command ?? "nvidia-smi";
    const run = this.#options.run ?? runCommand;
    const gpus = await this.#health.run("gpu", async () => {
      try {
        return parseNvidiaSmiCsv(
          await run(command, [...NVIDIA_SMI_ARGS], {
            timeoutMs: this.#options.timeoutMs ?? 3000,
            ...(signal ? { signal } : {}),
          }),
        );
      } catch (error) {
        if (error instanceof Deno.errors.NotFound || error instanceof Deno.errors.NotCapable) {
          this.#absent = true;
          this.#logger?.debug("no nvidia-smi; GPU metrics off", { command });
          return [];
        }
        throw error;
      }
    });
    signal?.throwIfAborted();
    return gpus ?? [];
  }
}
