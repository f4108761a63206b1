/** HTTP client for the worker endpoints of protocol 3. */
import type { z } from "zod";
import {
  type CommandResult,
  type CommandResultResponse,
  CommandResultResponseSchema,
  type HeartbeatRequest,
  type HeartbeatResponse,
  HeartbeatResponseSchema,
  type MetricsResponse,
  MetricsResponseSchema,
  Paths,
  type RegisterRequest,
  type RegisterResponse,
  RegisterResponseSchema,
  type Sample,
  validate,
} from "../protocol/mod.ts";
import { MAX_ANSWER_BYTES, parseBoundedJson } from "../protocol/bounded_json.ts";
import { isLoopbackHost } from "../protocol/loopback.ts";
import { BodyTooLargeError, readBoundedBytes } from "../shared/bounded_read.ts";
import type { Reachability } from "../shared/backoff.ts";
import { type ApiOutcome, classifyFailure } from "./api_outcome.ts";
import { describeNetworkError } from "./diagnose.ts";
import { userAgent } from "./user_agent.ts";

/** Options of {@linkcode WorkerClient}. */
export interface WorkerClientOptions {
  /** `https://…`, or `http://` on a loopback host. */
  baseUrl: string;
  /** The worker API key, sent as `X-API-Key`. */
  apiKey: string;
  /** @default {globalThis.fetch} */
  fetch?: typeof fetch;
  /** Clock in Unix milliseconds. @default {Date.now} */
  now?: () => number;
  /** Per-request timeout. @default {15000} */
  timeoutMs?: number;
  /**
   * Told of every answer that counts for the retry rule (protocol 8, v1.1): `ok` is
   * `reached()`, `retry` is `lost()`. @default none
   */
  reachability?: Reachability;
}

/** Options of one request. */
export interface RequestOptions {
  /** Aborts the request (shutdown). */
  signal?: AbortSignal;
  /** Overrides the client's timeout for this request. */
  timeoutMs?: number;
}

/**
 * Calls the worker endpoints and turns every answer into an {@linkcode ApiOutcome}.
 * Never throws for network or HTTP errors; remembers the clock skew measured from
 * `server_time`.
 */
export class WorkerClient {
  #baseUrl: string;
  #apiKey: string;
  #fetch: typeof fetch;
  #now: () => number;
  #timeoutMs: number;
  #skewMs: number | undefined;
  #reachability: Reachability | undefined;

  /** Creates a client; checks that the URL is https or loopback http. */
  constructor(options: WorkerClientOptions) {
    const url = new URL(options.baseUrl);
    if (url.protocol !== "https:" && !(url.protocol === "http:" && isLoopbackHost(url.hostname))) {
      throw new TypeError(
        `base_url must use https:// (http:// only for loopback hosts), got ${url.origin}`,
      );
    }
    this.#baseUrl = url.toString().replace(/\/+$/, "");
    this.#apiKey = options.apiKey;
    this.#fetch = options.fetch ?? globalThis.fetch;
    this.#now = options.now ?? Date.now;
    this.#timeoutMs = options.timeoutMs ?? 15_000;
    this.#reachability = options.reachability;
  }

  /** `server_time - local time` measured on the last answer that carried it, in ms. */
  get clockSkewMs(): number | undefined {
    return this.#skewMs;
  }

  /** `POST /api/workers/register`. */
  register(body: RegisterRequest, options?: RequestOptions): Promise<ApiOutcome<RegisterResponse>> {
    return this.#post(Paths.register, body, RegisterResponseSchema, options);
  }

  /** `POST /api/workers/{id}/heartbeat`. */
  heartbeat(
    workerId: string,
    body: HeartbeatRequest,
    options?: RequestOptions,
  ): Promise<ApiOutcome<HeartbeatResponse>> {
    return this.#post(Paths.heartbeat(workerId), body, HeartbeatResponseSchema, options);
  }

  /** `POST /api/workers/{id}/metrics` with at most 500 samples. */
  sendMetrics(
    workerId: string,
    samples: readonly Sample[],
    options?: RequestOptions,
  ): Promise<ApiOutcome<MetricsResponse>> {
    return this.#post(Paths.metrics(workerId), { samples }, MetricsResponseSchema, options);
  }

  /** `POST /api/workers/commands/{id}/result`. */
  sendResult(
    result: CommandResult,
    options?: RequestOptions,
  ): Promise<ApiOutcome<CommandResultResponse>> {
    return this.#post(
      Paths.result(result.command_id),
      result,
      CommandResultResponseSchema,
      options,
    );
  }

  async #post<S extends z.ZodType>(
    path: string,
    body: unknown,
    schema: S,
    options: RequestOptions = {},
  ): Promise<ApiOutcome<z.infer<S>>> {
    const outcome = await this.#request(path, body, schema, options);
    // The agent's own shutdown says nothing about the server.
    if (outcome.kind === "ok") this.#reachability?.reached();
    else if (outcome.kind === "retry" && !options.signal?.aborted) this.#reachability?.lost();
    return outcome;
  }

  async #request<S extends z.ZodType>(
    path: string,
    body: unknown,
    schema: S,
    options: RequestOptions,
  ): Promise<ApiOutcome<z.infer<S>>> {
    const timeout = AbortSignal.timeout(options.timeoutMs ?? this.#timeoutMs);
    const signal = options.signal ? AbortSignal.any([options.signal, timeout]) : timeout;
    const sentAt = this.#now();
    let response: Response;
    let text: string;
    try {
      response = await this.#fetch(this.#baseUrl + path, {
        method: "POST",
        headers: {
          "Content-Type": "application/json",
          "Accept": "application/json",
          "User-Agent": userAgent(),
          "X-API-Key": this.#apiKey,
        },
        body: JSON.stringify(body),
        signal,
      });
      text = new TextDecoder().decode(
        await readBoundedBytes(response.body, { maxBytes: MAX_ANSWER_BYTES }),
      );
    } catch (error) {
      if (error instanceof BodyTooLargeError) {
        return {
          kind: "retry",
          reason: `HTTP ${response!.status} answer body too large (over ${error.maxBytes} bytes)`,
          status: response!.status,
        };
      }
      const reason = timeout.aborted
        ? `request timed out after ${options.timeoutMs ?? this.#timeoutMs} ms`
        : options.signal?.aborted
        ? "request aborted"
        : `network error: ${describeNetworkError(error, this.#baseUrl + path)}`;
      return { kind: "retry", reason };
    }
    const receivedAt = this.#now();
    // Bounded and typed (protocol 8, v1.1): too deep or not JSON is a failed request below.
    const parsedJson = text === "" ? undefined : parseBoundedJson(text);
    const json = parsedJson?.ok ? parsedJson.value : undefined;
    this.#measureSkew(json, sentAt, receivedAt);
    if (!response.ok) {
      return classifyFailure(
        response.status,
        text,
        response.headers.get("Retry-After"),
        receivedAt,
      );
    }
    if (parsedJson !== undefined && !parsedJson.ok) {
      return {
        kind: "retry",
        reason: `HTTP ${response.status} with an unreadable body: ${parsedJson.error}`,
        status: response.status,
      };
    }
    const parsed = validate(schema, json);
    if (!parsed.ok) {
      return {
        kind: "retry",
        reason: `HTTP ${response.status} with an unexpected body: ${parsed.error}`,
        status: response.status,
      };
    }
    return { kind: "ok", value: parsed.value, status: response.status };
  }

  #measureSkew(json: unknown, sentAt: number, receivedAt: number): void {
    if (json === null || typeof json !== "object" || !("server_time" in json)) return;
    const serverTime = json.server_time;
    if (typeof serverTime !== "number" || !Number.isFinite(serverTime)) return;
    this.#skewMs = Math.round(serverTime - (sentAt + receivedAt) / 2);
  }
}
