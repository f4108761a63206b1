/** Database and bus URLs in logs and errors: the password never shows. */

/**
 * `url` with its password, and any query parameter named like a secret, replaced by
 * `[redacted]`: `postgres://u:[redacted]@host/db?sslpassword=[redacted]`.
 */
export function redactUrl(url: string): string {
  return redactUrlsIn(url).replace(
    /([?&][^=&#]*(?:pass|secret|token)[^=&#]*=)[^&#]*/gi,
    "$1[redacted]",
  );
}

/** Every `scheme://user:password@` in `text` with the password masked. */
export function redactUrlsIn(text: string): string {
  return text.replace(/([a-z][a-z0-9+.-]*:\/\/[^:/@\s]*):[^@/\s]*@/gi, "$1:[redacted]@");
}
