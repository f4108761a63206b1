/**
 * Dashboard sessions: the admin token, given once to `POST /api/admin/session`, is exchanged
 * for an HttpOnly, SameSite=Strict cookie, so the page never holds the token and its
 * server-sent events (which cannot carry an `Authorization` header) are authenticated.
 *
 * A session value is `v1.<expires_ms>.<nonce>.<mac>`, where `mac` is the unpadded base64url of
 * HMAC-SHA256 over `v1.<expires_ms>.<nonce>` with a key derived from the admin token. Nothing
 * is stored: every instance that knows the admin token accepts the cookie until it expires,
 * and changing the admin token ends every session. Signing out forgets the cookie in the
 * browser and remembers its nonce on this instance until it would have expired.
 *
 * @module
 */
import { toBase64Url } from "../protocol/encoding.ts";
import { CSRF_HEADER, SESSION_COOKIE } from "./admin_api.ts";
import { secretsEqual } from "./_secrets.ts";

/** How long a dashboard session lasts. */
export const SESSION_TTL_MS = 12 * 60 * 60_000;

/** The message the session MAC key is derived with, from the admin token. */
const SESSION_KEY_LABEL = "finetunelab-control-plane-dashboard-session-v1";

/** Most signed-out sessions remembered; the oldest are forgotten first. */
const MAX_REVOKED = 10_000;

/** A verified session. */
export interface AdminSession {
  /** Random id of the session. */
  nonce: string;
  /** Unix ms after which it is refused. */
  expiresAt: number;
}

/** Options of {@linkcode AdminSessions}. */
export interface AdminSessionsOptions {
  /** The admin token; the session key is derived from it. */
  adminToken: string;
  /** Clock in Unix ms. @default {Date.now} */
  now?: () => number;
  /** Session lifetime. @default {SESSION_TTL_MS} */
  ttlMs?: number;
}

/** Issues and checks dashboard session cookies. */
export class AdminSessions {
  #key: Promise<CryptoKey>;
  #now: () => number;
  #ttlMs: number;
  /** Signed-out nonces and when they expire anyway. */
  #revoked = new Map<string, number>();

  /** Creates the issuer for `adminToken`. */
  constructor(options: AdminSessionsOptions) {
    this.#now = options.now ?? Date.now;
    this.#ttlMs = options.ttlMs ?? SESSION_TTL_MS;
    this.#key = deriveKey(options.adminToken);
  }

  /** A new session value and its expiry. */
  async issue(): Promise<{ value: string; expiresAt: number }> {
    const expiresAt = this.#now() + this.#ttlMs;
    const nonce = toBase64Url(crypto.getRandomValues(new Uint8Array(18)));
    const payload = `v1.${expiresAt}.${nonce}`;
    return { value: `${payload}.${await this.#mac(payload)}`, expiresAt };
  }

  /** The session of a cookie value, or undefined when it is forged, expired or signed out. */
  async verify(value: string | undefined): Promise<AdminSession | undefined> {
    if (value === undefined || value.length > 200) return undefined;
    const match = /^v1\.(\d{1,16})\.([A-Za-z0-9_-]{1,64})\.([A-Za-z0-9_-]{43})$/.exec(value);
    if (!match) return undefined;
    const [, expires, nonce, mac] = match as unknown as [string, string, string, string];
    const expected = await this.#mac(`v1.${expires}.${nonce}`);
    if (!(await secretsEqual(mac, expected))) return undefined;
    const expiresAt = Number(expires);
    if (expiresAt <= this.#now() || this.#revoked.has(nonce)) return undefined;
    return { nonce, expiresAt };
  }

  /** Refuses `session` from now on (on this instance). */
  revoke(session: AdminSession): void {
    const now = this.#now();
    for (const [nonce, expiresAt] of this.#revoked) {
      if (expiresAt <= now || this.#revoked.size >= MAX_REVOKED) this.#revoked.delete(nonce);
    }
    this.#revoked.set(session.nonce, session.expiresAt);
  }

  async #mac(payload: string): Promise<string> {
    const signature = await crypto.subtle.sign(
      "HMAC",
      await this.#key,
      new TextEncoder().encode(payload),
    );
    return toBase64Url(new Uint8Array(signature));
  }
}

async function deriveKey(adminToken: string): Promise<CryptoKey> {
  const encoder = new TextEncoder();
  const base = await crypto.subtle.importKey(
    "raw",
    encoder.encode(adminToken),
    { name: "HMAC", hash: "SHA-256" },
    false,
    ["sign"],
  );
  const derived = await crypto.subtle.sign("HMAC", base, encoder.encode(SESSION_KEY_LABEL));
  return await crypto.subtle.importKey(
    "raw",
    derived,
    { name: "HMAC", hash: "SHA-256" },
    false,
    ["sign"],
  );
}

/** Options of {@linkcode sessionCookie}. */
export interface SessionCookieOptions {
  /** Add `Secure` (the browser reached the control plane over HTTPS). */
  secure: boolean;
  /** Lifetime in seconds; 0 deletes the cookie. */
  maxAgeSeconds: number;
}

/** The `Set-Cookie` value that stores (or, with `maxAgeSeconds: 0`, deletes) a session. */
export function sessionCookie(value: string, options: SessionCookieOptions): string {
  const parts = [
    `${SESSION_COOKIE}=${value}`,
    "Path=/",
    "HttpOnly",
    "SameSite=Strict",
    `Max-Age=${Math.max(0, Math.floor(options.maxAgeSeconds))}`,
  ];
  if (options.secure) parts.push("Secure");
  return parts.join("; ");
}

/** The value of cookie `name` in a `Cookie` header, if present. */
export function readCookie(
  header: string | null,
  name: string = SESSION_COOKIE,
): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(";")) {
    const eq = part.indexOf("=");
    if (eq < 0) continue;
    if (part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

/**
 * Whether a cookie-authenticated request may change something: safe methods always may;
 * others must carry {@linkcode CSRF_HEADER}, which a cross-site page cannot add.
 */
export function passesCsrfCheck(request: Request): boolean {
  const method = request.method.toUpperCase();
  if (method === "GET" || method === "HEAD" || method === "OPTIONS") return true;
  return request.headers.get(CSRF_HEADER) === "1";
}

/**
 * Whether the browser reached this server over HTTPS: the public URL is `https://`, or a
 * reverse proxy says so in `X-Forwarded-Proto`.
 */
export function isSecureRequest(request: Request, publicUrl: string): boolean {
  if (publicUrl.startsWith("https://")) return true;
  const forwarded = request.headers.get("x-forwarded-proto")?.split(",")[0]?.trim();
  return forwarded?.toLowerCase() === "https";
}
