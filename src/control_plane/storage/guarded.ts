/**
 * Wraps a repository so that every engine error leaving it is a domain error of
 * `errors.ts`: an adapter classifies its engine's errors once, here, instead of in every
 * method.
 *
 * @module
 */
import { StorageError, UnavailableError } from "./errors.ts";

/** Turns an engine error into a domain error, or returns it unchanged (a bug: HTTP 500). */
export type ErrorTranslator = (error: unknown) => unknown;

/**
 * A bound on the repository calls waiting for the database at once, shared by every repository
 * of one engine: past it, a call is refused with {@linkcode UnavailableError} at once instead of
 * queueing without end behind a slow database.
 */
export class InFlightLimit {
  /** Calls running now. */
  current = 0;
  /** Most calls at once. */
  readonly max: number;

  /** Creates the bound. */
  constructor(max: number) {
    this.max = max;
  }
}

/**
 * `target` with each method's rejections passed through `translate`; a method that throws
 * synchronously (every repository method is async by contract) rejects instead. Async
 * iterables returned by a method are wrapped too.
 */
export function guarded<T extends object>(
  target: T,
  translate: ErrorTranslator,
  limit?: InFlightLimit,
): T {
  const fail = (error: unknown): never => {
    throw error instanceof StorageError ? error : translate(error);
  };
  return new Proxy(target, {
    get(object, property, receiver) {
      const value = Reflect.get(object, property, receiver);
      if (typeof value !== "function") return value;
      return (...args: unknown[]) => {
        if (limit && limit.current >= limit.max) {
          return Promise.reject(
            new UnavailableError(
              `The database is saturated (${limit.max} calls waiting); retry shortly`,
            ),
          );
        }
        let result: unknown;
        try {
          result = value.apply(object, args);
        } catch (error) {
          return Promise.reject(error).catch(fail);
        }
        if (result instanceof Promise) {
          if (!limit) return result.catch(fail);
          limit.current++;
          return result.catch(fail).finally(() => limit.current--);
        }
        if (result !== null && typeof result === "object" && Symbol.asyncIterator in result) {
          return guardedIterable(result as AsyncIterable<unknown>, fail);
        }
        return result;
      };
    },
  });
}

async function* guardedIterable<V>(
  source: AsyncIterable<V>,
  fail: (error: unknown) => never,
): AsyncGenerator<V> {
  try {
    for await (const item of source) yield item;
  } catch (error) {
    fail(error);
  }
}
