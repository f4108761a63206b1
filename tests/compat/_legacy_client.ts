/**
 * A test double of FineTuneLab's own (Go) worker agent, written from the wire facts in
 * issue 16 and protocol v1.1 section 4, not from its code:
 * - registers with the key only in the body (`api_key`), no header, and no `instance_id`;
 * - sends its first heartbeat one interval after registering, then one per interval, with
 *   flat metrics whose zero values are left out (Go's `omitempty`);
 * - decodes answers strictly like Go's `encoding/json` into typed structs: a member of the
 *   wrong type (a number where `created_at` is a string) fails the whole answer, unknown
 *   members are ignored, `null` leaves the zero value;
 * - never acks (it has no WebSocket) and executes every copy of a command it receives;
 * - answers a command type it does not know (our `ping`) with status `error`;
 * - sends no `offline` heartbeat when it stops.
 * It never verifies signatures. Every execution is counted, so tests can check "exactly
 * once" from the worker's side.
 */
import { abortableDelay as delay } from "../../src/shared/delay.ts";
import { Paths } from "../../src/protocol/mod.ts";

/** Command types the double knows how to run (everything of protocol 4 except `ping`). */
export const LEGACY_KNOWN_TYPES: readonly string[] = [
  "start_trading",
  "stop_trading",
  "update_config",
  "restart_agent",
  "collect_diagnostics",
];

/** Options of {@linkcode LegacyClient}. */
export interface LegacyClientOptions {
  /** The control plane, e.g. `http://127.0.0.1:1234`. */
  baseUrl: string;
  /** The worker key. */
  apiKey: string;
  /** @default {"ftl-legacy-agent"} */
  hostname?: string;
  /** How long each command runs before its result is posted. @default {0} */
  executeMs?: number;
  /** The flat metrics of heartbeat number `n` (1-based); zeros are left out when sent. */
  metrics?: (n: number) => Record<string, number | string>;
}

/** A Go struct field type, for the strict decoder. */
type GoType = "string" | "int" | "object" | "array";

const COMMAND_FIELDS: Record<string, GoType> = {
  id: "string",
  command_type: "string",
  params: "object",
  timeout_seconds: "int",
  created_at: "string",
};

/** A command as the double decoded it. */
export interface LegacyCommand {
  id: string;
  command_type: string;
  params: Record<string, unknown>;
  timeout_seconds: number;
  created_at: string;
}

/** What the double saw and did; all arrays grow in time order. */
export interface LegacyRecord {
  /** Command id → how many times the double executed it. */
  executions: Map<string, number>;
  /** Answers that failed to decode (Go would log these and drop the answer). */
  decodeErrors: string[];
  /** Unix ms when each heartbeat was sent. */
  heartbeatsSentAt: number[];
  /** HTTP status of each result post, with the command id and the status sent. */
  results: { commandId: string; status: string; http: number }[];
}

/** FineTuneLab's agent, as a double that runs in the test process. */
export class LegacyClient {
  readonly record: LegacyRecord = {
    executions: new Map(),
    decodeErrors: [],
    heartbeatsSentAt: [],
    results: [],
  };
  workerId: string | undefined;
  #options: LegacyClientOptions;
  #abort = new AbortController();
  #running: Promise<void> | undefined;
  #work = new Set<Promise<void>>();

  /** Creates the double; nothing is sent before {@linkcode LegacyClient.start}. */
  constructor(options: LegacyClientOptions) {
    this.#options = options;
  }

  /** Starts the register + heartbeat loop in the background. */
  start(): void {
    this.#running = this.#run(this.#abort.signal).catch((error) => {
      if (!this.#abort.signal.aborted) throw error;
    });
  }

  /** Stops like a killed process: no `offline` heartbeat. Waits for running commands. */
  async stop(): Promise<void> {
    this.#abort.abort();
    await this.#running;
    await Promise.all(this.#work);
  }

  async #run(signal: AbortSignal): Promise<void> {
    let intervalMs = 30_000;
    while (!signal.aborted && this.workerId === undefined) {
      const answer = await this.#post(Paths.register, {
        api_key: this.#options.apiKey,
        hostname: this.#options.hostname ?? "ftl-legacy-agent",
        platform: "linux",
        version: "1.0.0",
        capabilities: ["metrics", "trading"],
        metadata: { arch: "x86_64", runtime: "go1.22" },
      }, { keyInHeader: false, signal });
      const decoded = answer.ok
        ? this.#decode(answer.json, { worker_id: "string", heartbeat_interval_seconds: "int" })
        : undefined;
      if (typeof decoded?.worker_id === "string" && decoded.worker_id !== "") {
        this.workerId = decoded.worker_id;
        if (typeof decoded.heartbeat_interval_seconds === "number") {
          intervalMs = decoded.heartbeat_interval_seconds * 1000;
        }
      } else {
        await delay(intervalMs, signal);
      }
    }
    for (let n = 1; !signal.aborted; n++) {
      // The first heartbeat one interval after registering, not at once.
      await delay(intervalMs, signal);
      if (signal.aborted) return;
      this.record.heartbeatsSentAt.push(Date.now());
      const metrics = withoutZeros(this.#options.metrics?.(n) ?? {});
      const answer = await this.#post(Paths.heartbeat(this.workerId!), {
        status: "online",
        current_load: this.#work.size,
        metrics,
      }, { keyInHeader: true, signal });
      if (!answer.ok) continue;
      const commands = this.#decodeCommands(answer.json);
      // Like the Go agent: an answer that does not decode is dropped as a whole.
      for (const command of commands ?? []) this.#execute(command);
    }
  }

  /** A heartbeat answer's `pending_commands`, or undefined when any of it fails to decode. */
  #decodeCommands(json: unknown): LegacyCommand[] | undefined {
    const answer = this.#decode(json, { pending_commands: "array" });
    if (answer === undefined) return undefined;
    const commands: LegacyCommand[] = [];
    for (const raw of (answer.pending_commands as unknown[] | undefined) ?? []) {
      const command = this.#decode(raw, COMMAND_FIELDS);
      if (command === undefined) return undefined;
      commands.push(command as unknown as LegacyCommand);
    }
    return commands;
  }

  /** {@linkcode decodeLikeGo}, recording a failure in `decodeErrors`. */
  #decode(
    value: unknown,
    fields: Record<string, GoType>,
  ): Record<string, unknown> | undefined {
    const result = decodeLikeGo(value, fields);
    if (typeof result === "string") {
      this.record.decodeErrors.push(result);
      return undefined;
    }
    return result;
  }

  /** Runs one delivery: counted, then after `executeMs` a result (never an ack). */
  #execute(command: LegacyCommand): void {
    const { executions } = this.record;
    executions.set(command.id, (executions.get(command.id) ?? 0) + 1);
    const known = LEGACY_KNOWN_TYPES.includes(command.command_type);
    const job = (async () => {
      await delay(this.#options.executeMs ?? 0);
      const status = known ? "completed" : "error";
      const answer = await this.#post(Paths.result(command.id), {
        command_id: command.id,
        status,
        ...(known
          ? { output: `${command.command_type} done` }
          : { error: `unknown command type: ${command.command_type}` }),
        timestamp: Math.floor(Date.now() / 1000),
      }, { keyInHeader: true });
      this.record.results.push({ commandId: command.id, status, http: answer.status });
    })();
    this.#work.add(job);
    job.finally(() => this.#work.delete(job));
  }

  async #post(
    path: string,
    body: unknown,
    options: { keyInHeader: boolean; signal?: AbortSignal },
  ): Promise<{ ok: boolean; status: number; json: unknown }> {
    const headers: Record<string, string> = { "Content-Type": "application/json" };
    if (options.keyInHeader) headers["X-API-Key"] = this.#options.apiKey;
    try {
      const response = await fetch(this.#options.baseUrl + path, {
        method: "POST",
        headers,
        body: JSON.stringify(body),
        ...(options.signal ? { signal: options.signal } : {}),
      });
      const text = await response.text();
      let json: unknown;
      try {
        json = JSON.parse(text);
      } catch {
        json = undefined;
      }
      return { ok: response.ok, status: response.status, json };
    } catch {
      return { ok: false, status: 0, json: undefined };
    }
  }
}

/**
 * Decodes `value` into a struct of `fields` the way Go's `encoding/json` does: unknown
 * members are ignored, `null` leaves the zero value (here: absent), and a member of the
 * wrong type fails the whole value. Returns the decoded members or Go's error text.
 */
function decodeLikeGo(
  value: unknown,
  fields: Record<string, GoType>,
): Record<string, unknown> | string {
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    return `json: cannot unmarshal ${goKind(value)} into Go value of type struct`;
  }
  const out: Record<string, unknown> = {};
  for (const [name, type] of Object.entries(fields)) {
    const member = (value as Record<string, unknown>)[name];
    if (member === undefined || member === null) continue;
    const fits = type === "string"
      ? typeof member === "string"
      : type === "int"
      ? Number.isInteger(member)
      : type === "array"
      ? Array.isArray(member)
      : typeof member === "object" && !Array.isArray(member);
    if (!fits) {
      return `json: cannot unmarshal ${
        goKind(member)
      } into Go struct field .${name} of type ${type}`;
    }
    out[name] = member;
  }
  return out;
}

function goKind(value: unknown): string {
  if (typeof value === "number") return "number";
  if (typeof value === "string") return "string";
  if (typeof value === "boolean") return "bool";
  if (Array.isArray(value)) return "array";
  return value === null ? "null" : "object";
}

function withoutZeros(
  metrics: Record<string, number | string>,
): Record<string, number | string> {
  return Object.fromEntries(Object.entries(metrics).filter(([, v]) => v !== 0 && v !== ""));
}
