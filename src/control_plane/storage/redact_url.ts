/** Database and bus URLs in logs and errors: the password never shows. */

/**
 * `url` with its password replaced by `***` (`postgres://u:***@host/db`); text that is not a
 * URL has any `user:password@` part masked the same way.
 */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password !== "") parsed.password = "***";
    for (const name of [...parsed.searchParams.keys()]) {
      if (/pass|secret|token/i.test(name)) parsed.searchParams.set(name, "***");
    }
    return parsed.toString();
  } catch {
    return redactUrlsIn(url);
  }
}

/** Every `scheme://user:password@` in `text` with the password masked. */
export function redactUrlsIn(text: string): string {
  return text.replace(/([a-z][a-z0-9+.-]*:\/\/[^:/@\s]*):[^@/\s]*@/gi, "$1:***@");
}
