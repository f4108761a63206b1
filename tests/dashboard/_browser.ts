/**
 * Starts Debian's Chromium headless through playwright-core for the dashboard tests, with a
 * fresh profile directory that is removed on close.
 */
import { type BrowserContext, chromium, type Page } from "playwright-core";

/** Where Chromium is looked for; `FTL_CHROMIUM` overrides it. */
export const CHROMIUM_PATH: string = Deno.env.get("FTL_CHROMIUM") ?? "/usr/bin/chromium";

/** Flags that keep Chromium quiet, offline and reproducible in CI. */
export const CHROMIUM_ARGS: readonly string[] = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

/** A running headless browser with one page. */
export interface TestBrowser {
  readonly context: BrowserContext;
  readonly page: Page;
  /** Console errors, page errors and CSP violations seen so far. */
  readonly problems: string[];
  /** Closes the browser and removes its profile directory. */
  close(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

/**
 * Launches Chromium with a fresh `--user-data-dir`. Throws an error that says how to install
 * Chromium when it is missing or does not start, so a test never passes without a browser.
 */
export async function launchBrowser(
  options: { viewport?: { width: number; height: number } } = {},
): Promise<TestBrowser> {
  try {
    const info = await Deno.stat(CHROMIUM_PATH);
    if (!info.isFile) throw new Error("not a file");
  } catch (error) {
    throw new Error(
      `Chromium is needed for the dashboard browser test but was not found at ${CHROMIUM_PATH}; ` +
        "install it with `apt-get install -y chromium` or point FTL_CHROMIUM at a Chromium binary",
      { cause: error },
    );
  }
  const profile = await Deno.makeTempDir({ prefix: "ftl-dashboard-chromium-" });
  let context: BrowserContext;
  try {
    // playwright passes the profile as --user-data-dir itself (it refuses the raw flag).
    context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM_PATH,
      headless: true,
      args: [...CHROMIUM_ARGS],
      viewport: options.viewport ?? { width: 1400, height: 1000 },
      timeout: 20_000,
    });
  } catch (error) {
    await Deno.remove(profile, { recursive: true }).catch(() => {});
    throw new Error(`Chromium at ${CHROMIUM_PATH} did not start: ${String(error)}`, {
      cause: error,
    });
  }
  const page = context.pages()[0] ?? await context.newPage();
  const problems: string[] = [];
  page.on("console", (message) => {
    if (message.type() === "error") problems.push(`console: ${message.text()}`);
  });
  page.on("pageerror", (error) => problems.push(`page error: ${error.message}`));
  let closed = false;
  async function close(): Promise<void> {
    if (closed) return;
    closed = true;
    try {
      await context.close();
    } finally {
      await Deno.remove(profile, { recursive: true }).catch(() => {});
    }
  }
  return { context, page, problems, close, [Symbol.asyncDispose]: close };
}
