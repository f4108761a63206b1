/**
 * A long-lived helper process answering requests over stdin/stdout, so a sample costs one
 * pipe round trip instead of a process spawn. Used where Deno cannot read the source itself
 * under scoped permissions (`/proc` on Linux) or where the OS offers only a tool (PowerShell
 * on Windows, `vm_stat`/`netstat` on macOS).
 *
 * Protocol: the collector writes one request word and a newline; the helper answers with any
 * number of lines followed by a line holding only the end marker.
 *
 * @module
 */

/** The line a helper prints after each answer. */
export const PROBE_END_MARKER = "@@FTL_END@@";

/** Options of {@linkcode ProbeProcess}. */
export interface ProbeProcessOptions {
  /** Program to start. */
  command: string;
  /** Its arguments. */
  args: string[];
  /** A request not answered within this many milliseconds fails and the helper is killed
   * (the next request starts a fresh one). @default {3000} */
  timeoutMs?: number;
}

interface Running {
  child: Deno.ChildProcess;
  writer: WritableStreamDefaultWriter<Uint8Array>;
  buffer: string;
  done: boolean;
  wake: (() => void) | undefined;
  reader: ReadableStreamDefaultReader<Uint8Array>;
  pump: Promise<void>;
}

/** A helper process started on first use and restarted after it dies or times out. */
export class ProbeProcess {
  #options: ProbeProcessOptions;
  #running: Running | undefined;
  #queue: Promise<unknown> = Promise.resolve();
  #closed = false;
  #starts = 0;

  /** @param options what to run and how long to wait for an answer. */
  constructor(options: ProbeProcessOptions) {
    this.#options = options;
  }

  /** How many times the helper has been started (1 when it never died). */
  get starts(): number {
    return this.#starts;
  }

  /** The helper's pid, when it is running. */
  get pid(): number | undefined {
    return this.#running?.child.pid;
  }

  /** Sends `request` and resolves with the answer's text (without the end marker line). */
  request(request: string, signal?: AbortSignal): Promise<string> {
    const result = this.#queue.then(() => this.#exchange(request, signal));
    this.#queue = result.catch(() => undefined);
    return result;
  }

  /** Stops the helper and waits for it to exit. */
  async close(): Promise<void> {
    this.#closed = true;
    await this.#queue;
    await this.#stop();
  }

  #start(): Running {
    this.#starts++;
    const child = new Deno.Command(this.#options.command, {
      args: this.#options.args,
      stdin: "piped",
      stdout: "piped",
      stderr: "null",
    }).spawn();
    const running: Running = {
      child,
      writer: child.stdin.getWriter(),
      buffer: "",
      done: false,
      wake: undefined,
      reader: child.stdout.getReader(),
      pump: Promise.resolve(),
    };
    running.pump = (async () => {
      const decoder = new TextDecoder();
      try {
        while (true) {
          const { value, done } = await running.reader.read();
          if (done) break;
          running.buffer += decoder.decode(value, { stream: true });
          running.wake?.();
        }
      } catch {
        // The pipe broke: treated like the end of output below.
      }
      running.done = true;
      running.wake?.();
    })();
    return running;
  }

  async #stop(): Promise<void> {
    const running = this.#running;
    this.#running = undefined;
    if (!running) return;
    await running.writer.close().catch(() => undefined);
    if (!running.done) {
      try {
        running.child.kill("SIGKILL");
      } catch {
        // Already gone.
      }
      // A tool the helper started may still hold the pipe open: stop reading now.
      await running.reader.cancel().catch(() => undefined);
    }
    await running.pump;
    await running.child.status.catch(() => undefined);
  }

  async #exchange(request: string, signal?: AbortSignal): Promise<string> {
    if (this.#closed) throw new Error("probe process is closed");
    signal?.throwIfAborted();
    if (this.#running?.done) await this.#stop();
    const running = this.#running ??= this.#start();
    const timeoutMs = this.#options.timeoutMs ?? 3000;
    let timer: ReturnType<typeof setTimeout> | undefined;
    let onAbort: (() => void) | undefined;
    try {
      await running.writer.write(new TextEncoder().encode(request + "\n"));
      return await new Promise<string>((resolve, reject) => {
        const check = () => {
          const end = findMarker(running.buffer);
          if (end) {
            const answer = running.buffer.slice(0, end.start);
            running.buffer = running.buffer.slice(end.after);
            resolve(answer);
          } else if (running.done) {
            reject(new Error(`${this.#options.command} exited before answering "${request}"`));
          }
        };
        running.wake = check;
        timer = setTimeout(
          () => reject(new Error(`${this.#options.command} did not answer within ${timeoutMs} ms`)),
          timeoutMs,
        );
        onAbort = () => reject(signal?.reason);
        signal?.addEventListener("abort", onAbort, { once: true });
        check();
      });
    } catch (error) {
      // A helper that did not answer in full is out of step: start a fresh one next time.
      await this.#stop();
      throw error;
    } finally {
      running.wake = undefined;
      clearTimeout(timer);
      if (onAbort) signal?.removeEventListener("abort", onAbort);
    }
  }
}

const MARKER_PATTERN = new RegExp(`(^|\\n)${PROBE_END_MARKER}\\r?\\n`);

function findMarker(buffer: string): { start: number; after: number } | undefined {
  const match = MARKER_PATTERN.exec(buffer);
  if (!match) return undefined;
  return { start: match.index + (match[1]?.length ?? 0), after: match.index + match[0].length };
}
