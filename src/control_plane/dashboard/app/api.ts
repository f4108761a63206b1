/**
 * The admin API as the page calls it: same-origin `fetch` with the session cookie, the CSRF
 * header on every call, answers typed as {@linkcode Untrusted} versions of the server's own
 * answer types, and the server clock tracked so ages are measured on the server's time.
 *
 * @module
 */
import { CSRF_HEADER } from "../../admin_api.ts";
import { isObject, num, record, type Untrusted } from "./untrusted.ts";

/** A refused or failed call: HTTP status (0 for a network error) and the server's message. */
export class ApiError extends Error {
  /** HTTP status; 0 when the server could not be reached. */
  readonly status: number;
  /** The error body's `code`, if any. */
  readonly code: string | undefined;

  /** Creates the error. */
  constructor(status: number, message: string, code?: string) {
    super(message);
    this.name = "ApiError";
    this.status = status;
    this.code = code;
  }
}

/** Options of {@linkcode Api}. */
export interface ApiOptions {
  /** Called when the server says the session ended (401). */
  onUnauthorized: (message: string) => void;
  /** @default {globalThis.fetch} */
  fetch?: typeof fetch;
}

/** The admin API client of the page. */
export class Api {
  #options: ApiOptions;
  /** Server time minus local time, from the latest answer's `server_time`. */
  #offsetMs = 0;

  /** Creates the client. */
  constructor(options: ApiOptions) {
    this.#options = options;
  }

  /** The current time on the server's clock (Unix ms). */
  now(): number {
    return Date.now() + this.#offsetMs;
  }

  /** `GET path`, answered as an untrusted `T`. */
  get<T>(path: string, init: { signal?: AbortSignal } = {}): Promise<Untrusted<T>> {
    return this.#call<T>(path, { method: "GET", ...init });
  }

  /** `POST path` with a JSON body. */
  post<T>(path: string, body: unknown): Promise<Untrusted<T>> {
    return this.#call<T>(path, { method: "POST", body: JSON.stringify(body) });
  }

  /** `DELETE path`. */
  delete<T>(path: string): Promise<Untrusted<T>> {
    return this.#call<T>(path, { method: "DELETE" });
  }

  async #call<T>(path: string, init: RequestInit): Promise<Untrusted<T>> {
    const headers: Record<string, string> = { Accept: "application/json", [CSRF_HEADER]: "1" };
    if (init.body !== undefined) headers["Content-Type"] = "application/json";
    const started = Date.now();
    let response: Response;
    try {
      response = await (this.#options.fetch ?? fetch)(path, {
        ...init,
        headers,
        cache: "no-store",
        credentials: "same-origin",
      });
    } catch (error) {
      if (error instanceof DOMException && error.name === "AbortError") throw error;
      throw new ApiError(0, "The control plane cannot be reached.", "network");
    }
    let body: unknown = null;
    try {
      body = await response.json();
    } catch {
      body = null;
    }
    const fields = record<{ error: string; code: string; server_time: number }>(body);
    const serverTime = num(fields?.server_time);
    if (serverTime !== undefined) {
      // Measured against the middle of the round trip.
      this.#offsetMs = serverTime - (started + Date.now()) / 2;
    }
    const code = typeof fields?.code === "string" ? fields.code : undefined;
    const message = typeof fields?.error === "string" ? fields.error : `HTTP ${response.status}`;
    if (response.status === 401 && path !== SESSION_PATH) {
      this.#options.onUnauthorized(message);
      throw new ApiError(401, message, code);
    }
    if (!response.ok) throw new ApiError(response.status, message, code);
    return (isObject(body) ? body : {}) as Untrusted<T>;
  }
}

/** Where the page signs in and out. */
export const SESSION_PATH = "/api/admin/session";

/** The URL path of worker `id` in the admin API. */
export function workerPath(id: string): string {
  return `/api/workers/${encodeURIComponent(id)}`;
}
