/** Writes `status.json` for `worker-agent status`, at most about once a second. */
import { type AgentStatus, STATUS_FILE } from "../state/agent_status.ts";
import type { StateDir } from "../state/state_dir.ts";

/** Options of {@linkcode StatusWriter}. */
export interface StatusWriterOptions {
  /** Where the file goes. */
  dir: Pick<StateDir, "writeJson">;
  /** Builds the current status. */
  build: () => AgentStatus;
  /** Least time between two writes. @default {1000} */
  minIntervalMs?: number;
}

/**
 * Coalesces updates: {@linkcode StatusWriter.update} schedules a write, and several updates
 * within `minIntervalMs` produce one. {@linkcode StatusWriter.flush} writes at once (used
 * when the agent stops).
 */
export class StatusWriter {
  #options: StatusWriterOptions;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #lastWrite = 0;
  #writing: Promise<void> = Promise.resolve();
  #last = "";

  /** Creates a writer; nothing is written until the first update. */
  constructor(options: StatusWriterOptions) {
    this.#options = options;
  }

  /** Schedules a write. */
  update(): void {
    if (this.#timer !== undefined) return;
    const wait = Math.max(0, this.#lastWrite + (this.#options.minIntervalMs ?? 1000) - Date.now());
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      void this.#write();
    }, wait);
  }

  /** Writes now and cancels a scheduled write. */
  async flush(): Promise<void> {
    clearTimeout(this.#timer);
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
      this.#lastWrite = Date.now();
      try {
        await this.#options.dir.writeJson(STATUS_FILE, status);
      } catch {
        // status.json is informational; a full disk must not stop the agent.
      }
    });
    return this.#writing;
  }
}
