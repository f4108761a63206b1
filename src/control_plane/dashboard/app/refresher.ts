/**
 * Runs a view's load function when something changed: at most one load in flight, one more
 * right after it when asked meanwhile, and (optionally) no closer together than
 * `minIntervalMs`, so a burst of live events costs one request.
 *
 * @module
 */

/** Options of {@linkcode Refresher}. */
export interface RefresherOptions {
  /** Loads never start closer together than this. @default {0} */
  minIntervalMs?: number;
  /** Called with an error a load threw (other than an abort). */
  onError?: (error: unknown) => void;
}

/** Coalesces reload requests of one view. */
export class Refresher {
  #load: (signal: AbortSignal) => Promise<void>;
  #options: RefresherOptions;
  #running: Promise<void> | undefined;
  #again = false;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #lastStart = Number.NEGATIVE_INFINITY;
  #abort = new AbortController();

  /** Creates the refresher of `load`. */
  constructor(load: (signal: AbortSignal) => Promise<void>, options: RefresherOptions = {}) {
    this.#load = load;
    this.#options = options;
  }

  /** Asks for a load: soon, respecting `minIntervalMs` and the one in flight. */
  request(): void {
    if (this.#abort.signal.aborted) return;
    if (this.#running) {
      this.#again = true;
      return;
    }
    if (this.#timer !== undefined) return;
    const wait = this.#lastStart + (this.#options.minIntervalMs ?? 0) - Date.now();
    if (wait <= 0) void this.run();
    else this.#timer = setTimeout(() => void this.run(), wait);
  }

  /** Loads now (after the one in flight, if any); resolves when done. */
  async run(): Promise<void> {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    if (this.#running) {
      this.#again = true;
      return await this.#running;
    }
    if (this.#abort.signal.aborted) return;
    this.#lastStart = Date.now();
    this.#again = false;
    this.#running = this.#load(this.#abort.signal).catch((error) => {
      if (!this.#abort.signal.aborted) this.#options.onError?.(error);
    }).finally(() => {
      this.#running = undefined;
      if (this.#again) {
        this.#again = false;
        this.request();
      }
    });
    return await this.#running;
  }

  /** Stops: no more loads, the one in flight is aborted. */
  dispose(): void {
    this.#abort.abort();
    clearTimeout(this.#timer);
  }
}
