/**
 * The one bounded read of a body, for both sides: the agent reading an answer (at most
 * 4 MiB, protocol 8) and the control plane reading a request (at most 1 MiB, protocol 1,
 * within a deadline). A lying or missing `Content-Length` does not help a peer: the bytes
 * are counted as they arrive.
 *
 * @module
 */

/** Thrown by {@linkcode readBoundedBytes} as soon as more than `maxBytes` arrived. */
export class BodyTooLargeError extends RangeError {
  /** The limit that was passed. */
  readonly maxBytes: number;

  /** Says that more than `maxBytes` arrived. */
  constructor(maxBytes: number) {
    super(`body larger than ${maxBytes} bytes`);
    this.name = "BodyTooLargeError";
    this.maxBytes = maxBytes;
  }
}

/** Options of {@linkcode readBoundedBytes}. */
export interface ReadBoundedOptions {
  /** Largest body in bytes; more is a {@linkcode BodyTooLargeError}. */
  maxBytes: number;
  /**
   * Stops waiting for the rest: the read rejects with the signal's reason (for
   * `AbortSignal.timeout`, a `TimeoutError` DOMException). @default {no deadline}
   */
  signal?: AbortSignal;
}

/**
 * Reads `body` to its end into one array, refusing with {@linkcode BodyTooLargeError} as soon
 * as more than `maxBytes` have arrived. A failing read rejects with its own error; in every
 * failing case the stream is cancelled, so the peer's connection is not left half read.
 * A `null` body is empty.
 *
 * @example
 * ```ts
 * const bytes = await readBoundedBytes(response.body, { maxBytes: 4 * 1024 * 1024 });
 * const text = new TextDecoder().decode(bytes);
 * ```
 */
export async function readBoundedBytes(
  body: ReadableStream<Uint8Array> | null,
  options: ReadBoundedOptions,
): Promise<Uint8Array> {
  if (body === null) return new Uint8Array(0);
  const { maxBytes, signal } = options;
  const reader = body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  const aborted = Promise.withResolvers<never>();
  aborted.promise.catch(() => {});
  const onAbort = () => aborted.reject(signal?.reason);
  signal?.addEventListener("abort", onAbort, { once: true });
  try {
    signal?.throwIfAborted();
    while (true) {
      const { done, value } = await Promise.race([reader.read(), aborted.promise]);
      if (done) break;
      total += value.byteLength;
      if (total > maxBytes) throw new BodyTooLargeError(maxBytes);
      chunks.push(value);
    }
  } catch (error) {
    await reader.cancel().catch(() => {});
    throw error;
  } finally {
    signal?.removeEventListener("abort", onAbort);
    reader.releaseLock();
  }
  const all = new Uint8Array(total);
  let offset = 0;
  for (const chunk of chunks) {
    all.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return all;
}
