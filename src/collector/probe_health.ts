/**
 * Failure bookkeeping for probes: a failing probe logs once (not every sample) and logs
 * again only after it has recovered and failed anew.
 *
 * @module
 */
import type { Logger } from "../log/logger.ts";

/** Runs probes, turns their failures into `null`, and logs each failure once. */
export class ProbeHealth {
  #logger: Logger | undefined;
  #failing = new Set<string>();

  /** @param logger where failures and recoveries go; none: silent. */
  constructor(logger?: Logger) {
    this.#logger = logger;
  }

  /** Names of the probes failing right now. */
  get failing(): string[] {
    return [...this.#failing];
  }

  /** Runs `probe`; on error returns null and warns the first time `name` fails in a row. */
  async run<T>(name: string, probe: () => T | Promise<T>): Promise<T | null> {
    try {
      const value = await probe();
      if (this.#failing.delete(name)) {
        this.#logger?.info("metrics probe recovered", { probe: name });
      }
      return value;
    } catch (error) {
      if (!this.#failing.has(name)) {
        this.#failing.add(name);
        this.#logger?.warn("metrics probe failed; its fields are null until it recovers", {
          probe: name,
          error: error instanceof Error ? error.message : String(error),
        });
      }
      return null;
    }
  }
}
