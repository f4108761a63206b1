/** Opening the command channel's WebSocket (protocol 3.5) the way the agent authenticates. */
import { INSTANCE_ID_HEADER } from "../protocol/mod.ts";
import { userAgent } from "./user_agent.ts";

/** Options of {@linkcode openWorkerSocket}. */
export interface WorkerSocketOptions {
  /** `ws://` or `wss://` URL from the registration answer. */
  url: string;
  /** Sent as `Authorization: Bearer`. */
  apiKey: string;
  /** Sent as `X-Worker-Id`. */
  workerId: string;
  /** Sent as `X-Instance-Id` (v1.1): the `instance_id` this agent registered with. */
  instanceId?: string | undefined;
  /** HTTP client for `ca_file`/`proxy`. */
  client?: Deno.HttpClient | undefined;
}

/**
 * A WebSocket to `url` with the agent's headers (key, worker id, instance id, User-Agent), for
 * the command channel and for `doctor`'s upgrade check. Throws (`SyntaxError`) for a URL a
 * WebSocket cannot open.
 */
export function openWorkerSocket(options: WorkerSocketOptions): WebSocket {
  const socketOptions: { headers: Record<string, string>; client?: Deno.HttpClient } = {
    headers: {
      "Authorization": `Bearer ${options.apiKey}`,
      "X-Worker-Id": options.workerId,
      "User-Agent": userAgent(),
    },
  };
  if (options.instanceId !== undefined) {
    socketOptions.headers[INSTANCE_ID_HEADER] = options.instanceId;
  }
  if (options.client) socketOptions.client = options.client;
  // The "dom" lib's WebSocket type hides Deno's options overload (headers, client).
  return new WebSocket(options.url, socketOptions as unknown as string[]);
}
