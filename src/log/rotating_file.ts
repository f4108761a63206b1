/** A log file that is rotated by size: `agent.log` → `agent.log.1` → … → `agent.log.N`. */

/** Options of {@linkcode RotatingFile}. */
export interface RotatingFileOptions {
  /** Rotate before a write would grow the file past this many bytes. */
  maxBytes: number;
  /** Rotated files kept besides the live one. */
  maxFiles: number;
}

/**
 * Appends lines to a file with synchronous writes (so lines are never interleaved or lost
 * when the process exits) and rotates it by size. The directory is created on first use.
 */
export class RotatingFile {
  #path: string;
  #options: RotatingFileOptions;
  #file: Deno.FsFile | undefined;
  #size = 0;
  #encoder = new TextEncoder();

  /** Prepares a rotating file at `path`; nothing is opened until the first write. */
  constructor(path: string, options: RotatingFileOptions) {
    if (!(options.maxBytes > 0)) {
      throw new RangeError(`maxBytes must be positive, got ${options.maxBytes}`);
    }
    if (!(options.maxFiles >= 0)) {
      throw new RangeError(`maxFiles must not be negative, got ${options.maxFiles}`);
    }
    this.#path = path;
    this.#options = options;
  }

  /** Appends `text`, rotating first when it would not fit. */
  write(text: string): void {
    const bytes = this.#encoder.encode(text);
    const file = this.#open();
    if (this.#size > 0 && this.#size + bytes.length > this.#options.maxBytes) {
      this.#rotate();
    }
    let offset = 0;
    const target = this.#file ?? file;
    while (offset < bytes.length) offset += target.writeSync(bytes.subarray(offset));
    this.#size += bytes.length;
  }

  /** Closes the file (a later write opens it again). */
  close(): void {
    this.#file?.close();
    this.#file = undefined;
  }

  #open(): Deno.FsFile {
    if (this.#file) return this.#file;
    const dir = dirnameOf(this.#path);
    if (dir) Deno.mkdirSync(dir, { recursive: true, mode: 0o700 });
    this.#file = Deno.openSync(this.#path, { append: true, create: true, mode: 0o600 });
    this.#size = this.#file.statSync().size;
    return this.#file;
  }

  #rotate(): void {
    this.close();
    const { maxFiles } = this.#options;
    if (maxFiles === 0) {
      Deno.removeSync(this.#path);
    } else {
      for (let i = maxFiles - 1; i >= 1; i--) {
        renameIfExists(`${this.#path}.${i}`, `${this.#path}.${i + 1}`);
      }
      renameIfExists(this.#path, `${this.#path}.1`);
    }
    this.#open();
  }
}

function renameIfExists(from: string, to: string): void {
  try {
    Deno.renameSync(from, to);
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
  }
}

function dirnameOf(path: string): string {
  const i = Math.max(path.lastIndexOf("/"), path.lastIndexOf("\\"));
  return i > 0 ? path.slice(0, i) : "";
}
