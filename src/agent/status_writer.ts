/**
 * Writes `status.json` for `worker-agent status`, only when something it shows changed, at
 * most about once a second.
 */
import { type AgentStatus, STATUS_FILE } from "../state/agent_status.ts";
import type { StateDir } from "../state/state_dir.ts";

/** Options of {@linkcode StatusWriter}. */
export interface StatusWriterOptions {
  /** Where the file goes. */
  dir: Pick<StateDir, "writeJson">;
  /** Builds the current status. */
  build: () => AgentStatus;
  /**
   * How long an update waits before the file is written: changes within it make one write,
   * and a change undone within it (a sample queued and sent a few ms later) makes none.
   * @default {1000}
   */
  minIntervalMs?: number;
  /** Schedules `fn` after `ms` (injected in tests). @default {setTimeout} */
  setTimer?: (fn: () => void, ms: number) => unknown;
  /** Cancels a scheduled `fn` (injected in tests). @default {clearTimeout} */
  clearTimer?: (handle: unknown) => void;
}

/**
 * Coalesces updates: {@linkcode StatusWriter.update} schedules a write `minIntervalMs` later,
 * and the write happens only if the status then differs from the last one written in more
 * than `updated_at`. {@linkcode StatusWriter.flush} writes at once (used when the agent
 * stops). The file is informational, so it is replaced atomically without fsyncs (issue 17:
 * no disk flush per status change).
 */
export class StatusWriter {
  #options: StatusWriterOptions;
  #timer: unknown;
  #writing: Promise<void> = Promise.resolve();
  #last = "";

  /** Creates a writer; nothing is written until the first update. */
  constructor(options: StatusWriterOptions) {
    this.#options = options;
  }

  /** Schedules a write (one at a time: later updates join it). */
  update(): void {
    if (this.#timer !== undefined) return;
    const setTimer = this.#options.setTimer ??
      ((fn: () => void, ms: number) => setTimeout(fn, ms));
    this.#timer = setTimer(() => {
      this.#timer = undefined;
      void this.#write();
    }, this.#options.minIntervalMs ?? 1000);
  }

  /** Resolves once the writes begun so far are done (for tests). */
  settled(): Promise<void> {
    return this.#writing;
  }

  /** Writes now and cancels a scheduled write. */
  async flush(): Promise<void> {
    if (this.#timer !== undefined) {
      const clearTimer = this.#options.clearTimer ??
        ((handle: unknown) => clearTimeout(handle as number));
      clearTimer(this.#timer);
    }
    this.#timer = undefined;
    await this.#write(true);
  }

  #write(force = false): Promise<void> {
    this.#writing = this.#writing.then(async () => {
      const status = this.#options.build();
      const { updated_at: _ignored, ...comparable } = status;
      const key = JSON.stringify(comparable);
      if (!force && key === this.#last) return;
      this.#last = key;
      try {
        await this.#options.dir.writeJson(STATUS_FILE, status, { durable: false });
      } catch {
        // status.json is informational; a full disk must not stop the agent.
      }
    });
    return this.#writing;
  }
}
