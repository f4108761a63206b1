/** Worker API key format (protocol 2). */

/** `wak_` followed by exactly 32 base62 characters. */
export const API_KEY_PATTERN: RegExp = /^wak_[0-9A-Za-z]{32}$/;
/** Length of the lookup prefix the server stores (protocol 2). */
export const API_KEY_PREFIX_LENGTH = 12;

/** Whether `value` has the shape of a worker API key. */
export function isApiKey(value: unknown): value is string {
  return typeof value === "string" && API_KEY_PATTERN.test(value);
}

/**
 * Explains why `value` is not a worker API key, or returns `undefined` when it is one.
 * The message never repeats the value itself, only its length and prefix shape.
 */
export function describeApiKeyProblem(value: unknown): string | undefined {
  if (typeof value !== "string" || value.length === 0) return "the key is missing";
  if (API_KEY_PATTERN.test(value)) return undefined;
  if (!value.startsWith("wak_")) return 'a worker key starts with "wak_"';
  if (value.length !== 36) {
    return `a worker key is 36 characters long ("wak_" + 32), this one has ${value.length}`;
  }
  return 'after "wak_" a worker key has only the characters 0-9, A-Z and a-z';
}

/** The lookup prefix of a key: its first 12 characters. */
export function apiKeyPrefix(key: string): string {
  if (!isApiKey(key)) throw new TypeError("Cannot take the prefix of a malformed API key");
  return key.slice(0, API_KEY_PREFIX_LENGTH);
}

const BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/** Creates a new random worker API key from `crypto.getRandomValues` (rejection sampling). */
export function generateApiKey(): string {
  let body = "";
  while (body.length < 32) {
    const bytes = crypto.getRandomValues(new Uint8Array(48));
    for (const b of bytes) {
      // 248 = 62 * 4: reject the tail so every character is equally likely.
      if (b < 248 && body.length < 32) body += BASE62[b % 62];
    }
  }
  return `wak_${body}`;
}

/**
 * Finds anything shaped like a secret in `text` and replaces it: worker keys (keeping their
 * first 8 characters so a reader can still tell keys apart), bearer tokens, and the value
 * after `api_key:`/`token=`-style labels when that value is key-shaped (at least 16
 * characters of a token alphabet, with a digit), and the password of a URL
 * (`postgres://user:[redacted]@host`). Ordinary words are never touched:
 * "api_key: not remotely updatable" stays as it is.
 */
export function redactSecrets(text: string): string {
  return text
    .replace(/([a-z][a-z0-9+.-]*:\/\/[^:/@\s"']*):[^@/\s"']+@/gi, "$1:[redacted]@")
    .replace(/wak_[0-9A-Za-z]{4,}/g, (m) => `${m.slice(0, 8)}…[redacted]`)
    .replace(/(Bearer\s+)[^\s"',;]+/gi, "$1[redacted]")
    .replace(
      /("?(?:api_key|x-api-key|admin_token|token)"?\s*[:=]\s*"?)([^\s"',;}]+)/gi,
      (match, label: string, value: string) => isKeyShaped(value) ? `${label}[redacted]` : match,
    );
}

/** Whether `value` looks like a generated secret rather than a word. */
function isKeyShaped(value: string): boolean {
  return value.length >= 16 && /^[A-Za-z0-9._~+/=-]+$/.test(value) && /\d/.test(value);
}
