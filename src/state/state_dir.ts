/**
 * The agent's state dir: machine state that is not user configuration (worker id, seen
 * command ids, spool, status.json). Opening it takes an exclusive lock so two agents can
 * never share one state dir.
 *
 * @module
 */
import type { z } from "zod";
import { writeFileAtomic } from "../shared/atomic_write.ts";

/** Name of the lock file inside the state dir. */
export const LOCK_FILE = "agent.lock";
/** Name of the file holding the pid of the agent that holds the lock. */
export const PID_FILE = "agent.pid";
/** Name of the file holding the metrics stream id (protocol 3.3). */
export const STREAM_ID_FILE = "stream_id";
/** Name of the file holding the instance id sent on register (protocol 3.1, v1.1). */
export const INSTANCE_ID_FILE = "instance_id";

/** Thrown by {@linkcode openStateDir} when another agent holds the state dir. */
export class StateDirLockedError extends Error {
  /** Pid of the agent holding the lock, when it could be read. */
  readonly pid: number | undefined;
  /** The state dir. */
  readonly path: string;

  /** Builds the message naming the other pid and the fix. */
  constructor(path: string, pid: number | undefined) {
    const who = pid === undefined ? "another agent" : `another agent (pid ${pid})`;
    super(
      `state dir ${path} is in use by ${who}; stop that agent first, or give this one its own state_dir`,
    );
    this.name = "StateDirLockedError";
    this.pid = pid;
    this.path = path;
  }
}

/** An open, locked state dir. */
export interface StateDir {
  /** Absolute path of the directory. */
  readonly path: string;
  /** Random metrics stream id, created once with the dir and kept across restarts. */
  readonly streamId: string;
  /**
   * Random id of this installation, created once with the dir and kept across restarts; sent
   * on register so the server can tell a second machine with the same key (v1.1).
   */
  readonly instanceId: string;
  /** Reads `name` as JSON and validates it; `undefined` if the file does not exist. */
  readJson<T>(name: string, schema: z.ZodType<T>): Promise<T | undefined>;
  /**
   * Writes `value` as JSON to `name` atomically with mode 0600; fsynced unless `durable` is
   * false (an informational file).
   */
  writeJson(name: string, value: unknown, options?: { durable?: boolean }): Promise<void>;
  /** Releases the lock. */
  close(): Promise<void>;
}

/**
 * Creates the state dir if needed (mode 0700), takes its lock and loads or creates the
 * stream id and the instance id.
 *
 * @throws {StateDirLockedError} when another agent has it open.
 */
export async function openStateDir(path: string): Promise<StateDir> {
  await Deno.mkdir(path, { recursive: true, mode: 0o700 });
  const lock = await Deno.open(`${path}/${LOCK_FILE}`, {
    read: true,
    write: true,
    create: true,
    mode: 0o600,
  });
  let locked = false;
  try {
    locked = await lock.tryLock(true);
  } catch (error) {
    lock.close();
    throw error;
  }
  if (!locked) {
    lock.close();
    throw new StateDirLockedError(path, await readPid(path));
  }
  try {
    await writeFileAtomic(`${path}/${PID_FILE}`, `${Deno.pid}\n`);
    const streamId = await loadOrCreateId(path, STREAM_ID_FILE);
    const instanceId = await loadOrCreateId(path, INSTANCE_ID_FILE);
    return new LockedStateDir(path, streamId, instanceId, lock);
  } catch (error) {
    await lock.unlock().catch(() => {});
    lock.close();
    throw error;
  }
}

/**
 * Whether the state dir at `path` is locked by a running agent, and its pid. Used by
 * `worker-agent status` without taking the lock.
 */
export async function probeStateDirLock(
  path: string,
): Promise<{ locked: boolean; pid: number | undefined }> {
  let file: Deno.FsFile;
  try {
    file = await Deno.open(`${path}/${LOCK_FILE}`, { read: true, write: true });
  } catch {
    return { locked: false, pid: undefined };
  }
  try {
    const free = await file.tryLock(true);
    if (free) {
      await file.unlock();
      return { locked: false, pid: undefined };
    }
    return { locked: true, pid: await readPid(path) };
  } finally {
    file.close();
  }
}

async function readPid(path: string): Promise<number | undefined> {
  try {
    const pid = Number.parseInt(await Deno.readTextFile(`${path}/${PID_FILE}`), 10);
    return Number.isSafeInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The instance id of the state dir at `path`, created (with the dir) when there is none
 * yet. For `worker-agent doctor`, which registers like the agent but never takes the lock;
 * it must call this only while no agent holds the dir.
 */
export async function loadOrCreateInstanceId(path: string): Promise<string> {
  await Deno.mkdir(path, { recursive: true, mode: 0o700 });
  return await loadOrCreateId(path, INSTANCE_ID_FILE);
}

async function loadOrCreateId(path: string, name: string): Promise<string> {
  const file = `${path}/${name}`;
  try {
    const existing = (await Deno.readTextFile(file)).trim();
    if (/^[0-9a-f-]{8,64}$/.test(existing)) return existing;
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
  }
  const id = crypto.randomUUID();
  await writeFileAtomic(file, `${id}\n`);
  return id;
}

class LockedStateDir implements StateDir {
  readonly path: string;
  readonly streamId: string;
  readonly instanceId: string;
  #lock: Deno.FsFile | undefined;

  constructor(path: string, streamId: string, instanceId: string, lock: Deno.FsFile) {
    this.path = path;
    this.streamId = streamId;
    this.instanceId = instanceId;
    this.#lock = lock;
  }

  async readJson<T>(name: string, schema: z.ZodType<T>): Promise<T | undefined> {
    let text: string;
    try {
      text = await Deno.readTextFile(this.#file(name));
    } catch (error) {
      if (error instanceof Deno.errors.NotFound) return undefined;
      throw error;
    }
    const parsed = schema.safeParse(JSON.parse(text));
    if (!parsed.success) {
      throw new SyntaxError(
        `${this.#file(name)} does not match its schema: ${parsed.error.issues[0]?.message}`,
      );
    }
    return parsed.data;
  }

  async writeJson(
    name: string,
    value: unknown,
    options: { durable?: boolean } = {},
  ): Promise<void> {
    if (!this.#lock) throw new Error(`state dir ${this.path} is closed`);
    await writeFileAtomic(this.#file(name), JSON.stringify(value, null, 2) + "\n", {
      durable: options.durable !== false,
    });
  }

  async close(): Promise<void> {
    const lock = this.#lock;
    if (!lock) return;
    this.#lock = undefined;
    await Deno.remove(`${this.path}/${PID_FILE}`).catch(() => {});
    try {
      await lock.unlock();
    } finally {
      lock.close();
    }
  }

  #file(name: string): string {
    if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(name) || name.includes("..")) {
      throw new TypeError(`Not a plain file name inside the state dir: ${JSON.stringify(name)}`);
    }
    return `${this.path}/${name}`;
  }
}
