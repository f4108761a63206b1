/** `worker-agent init`: writes a commented config file for a new user. */
import { describeApiKeyProblem } from "../protocol/api_key.ts";
import { renderConfigTemplate } from "../config/config_template.ts";
import { DEFAULT_BASE_URL, describeBaseUrlProblem, normalizeBaseUrl } from "../config/schema.ts";
import { defaultConfigPath } from "../platform/paths.ts";
import { writeFileAtomic } from "../shared/atomic_write.ts";
import type { CliIo } from "./cli_io.ts";
import { UsageError } from "../shared/usage_error.ts";

/** Options of {@linkcode initCommand}. */
export interface InitOptions {
  /** Where to write (`--config`). @default {FTL_CONFIG, else the OS default} */
  config?: string;
  /** The worker key (`--api-key`). @default {FTL_API_KEY, else asked on a terminal, else stdin} */
  apiKey?: string;
  /**
   * The control plane (`--base-url`).
   * @default {FTL_BASE_URL, else asked on a terminal, else the FineTuneLab URL}
   */
  baseUrl?: string;
  /** Overwrite an existing file. @default {false} */
  force?: boolean;
}

/** Key entry attempts on a terminal before giving up. */
const MAX_PROMPTS = 3;
/** Most of stdin read for a piped key. */
const MAX_STDIN_BYTES = 64 * 1024;

/** The one line `init` exits 2 with when no key was given anywhere. */
export const NO_KEY_MESSAGE =
  "no API key given; give it one of three ways: `worker-agent init --api-key wak_...`, `FTL_API_KEY=wak_... worker-agent init`, or `echo wak_... | worker-agent init` (copy the key from the FineTuneLab dashboard: Workers > API keys)";

/**
 * Writes the config (mode 0600, directories created) and prints what to do next.
 * Returns the exit code; throws `UsageError` for refusals and bad values.
 */
export async function initCommand(options: InitOptions, io: CliIo): Promise<number> {
  const path = options.config ?? nonEmpty(io.env("FTL_CONFIG")) ??
    defaultConfigPath({ env: io.env });
  if (!options.force && await exists(path)) {
    throw new UsageError(
      `${path} already exists; edit it, or run \`worker-agent init --force\` to replace it`,
    );
  }
  const baseUrl = options.baseUrl ?? nonEmpty(io.env("FTL_BASE_URL"));
  if (baseUrl !== undefined) {
    const problem = describeBaseUrlProblem(baseUrl);
    if (problem) {
      throw new UsageError(
        `--base-url: ${JSON.stringify(baseUrl)} is not valid: ${problem}; use https://host[:port]`,
      );
    }
  }
  const terminal = io.stdinIsTerminal();
  const given = options.apiKey ?? nonEmpty(io.env("FTL_API_KEY"));
  let apiKey: string;
  if (given !== undefined) {
    const problem = describeApiKeyProblem(given);
    if (problem) {
      throw new UsageError(
        `--api-key: ${problem}; copy the key from the FineTuneLab dashboard (Workers > API keys)`,
      );
    }
    apiKey = given;
  } else if (terminal) {
    apiKey = await askForKey(io);
  } else {
    apiKey = await keyFromStdin(io);
  }
  const url = baseUrl ?? (terminal ? await askForBaseUrl(io) : undefined);

  const text = renderConfigTemplate({
    apiKey,
    ...(url === undefined ? {} : { baseUrl: normalizeBaseUrl(url) }),
  });
  await Deno.mkdir(dirname(path), { recursive: true, mode: 0o700 });
  await writeFileAtomic(path, text, { mode: 0o600 });

  io.stdout(`wrote ${path} (mode 0600)\n`);
  io.stdout(
    `next: worker-agent doctor${configFlag(options)}, then worker-agent run${
      configFlag(options)
    }\n`,
  );
  return 0;
}

async function askForKey(io: CliIo): Promise<string> {
  for (let attempt = 1; attempt <= MAX_PROMPTS; attempt++) {
    const key = (await io.readSecret("Worker API key (wak_..., input hidden): ")).trim();
    if (key === "") {
      io.stderr("a key is needed: copy it from the FineTuneLab dashboard (Workers > API keys)\n");
      continue;
    }
    const problem = describeApiKeyProblem(key);
    if (!problem) return key;
    io.stderr(`that is not a worker key: ${problem}\n`);
  }
  throw new UsageError(NO_KEY_MESSAGE);
}

/** The key piped in: the first non-empty line of stdin. */
async function keyFromStdin(io: CliIo): Promise<string> {
  const line = (await io.readStdin(MAX_STDIN_BYTES)).split(/\r?\n/).map((l) => l.trim())
    .find((l) => l !== "");
  if (line === undefined) throw new UsageError(NO_KEY_MESSAGE);
  const problem = describeApiKeyProblem(line);
  if (problem) {
    throw new UsageError(
      `the key on stdin is not valid: ${problem}; copy the key from the FineTuneLab dashboard (Workers > API keys)`,
    );
  }
  return line;
}

async function askForBaseUrl(io: CliIo): Promise<string> {
  for (let attempt = 1; attempt <= MAX_PROMPTS; attempt++) {
    const url = (await io.readLine(`Control plane URL [${DEFAULT_BASE_URL}]: `)).trim();
    if (url === "") return DEFAULT_BASE_URL;
    const problem = describeBaseUrlProblem(url);
    if (!problem) return url;
    io.stderr(`that URL is not valid: ${problem}; use https://host[:port]\n`);
  }
  throw new UsageError(
    "no valid control plane URL entered; run init again, or pass --base-url https://host[:port]",
  );
}

function configFlag(options: InitOptions): string {
  return options.config === undefined ? "" : ` --config ${shellQuote(options.config)}`;
}

/** Quotes `value` for a POSIX shell when it needs it. */
export function shellQuote(value: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(value) ? value : `'${value.replaceAll("'", `'\\''`)}'`;
}

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.lstat(path);
    return true;
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return false;
    throw error;
  }
}

function dirname(path: string): string {
  const i = Math.max(path.lastIndexOf("/"), path.lastIndexOf("\\"));
  return i > 0 ? path.slice(0, i) : i === 0 ? "/" : ".";
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value === "" ? undefined : value;
}
