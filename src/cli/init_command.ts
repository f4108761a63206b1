/** `worker-agent init`: writes a commented config file for a new user. */
import { describeApiKeyProblem } from "../protocol/api_key.ts";
import { renderConfigTemplate } from "../config/config_template.ts";
import { describeBaseUrlProblem, normalizeBaseUrl } from "../config/schema.ts";
import { defaultConfigPath } from "../platform/paths.ts";
import { writeFileAtomic } from "../state/atomic_write.ts";
import type { CliIo } from "./cli_io.ts";
import { UsageError } from "./usage_error.ts";

/** Options of {@linkcode initCommand}. */
export interface InitOptions {
  /** Where to write (`--config`). @default {FTL_CONFIG, else the OS default} */
  config?: string;
  /** The worker key (`--api-key`). @default {FTL_API_KEY, else asked on a terminal} */
  apiKey?: string;
  /** The control plane (`--base-url`). @default {FTL_BASE_URL, else the FineTuneLab URL} */
  baseUrl?: string;
  /** Overwrite an existing file. @default {false} */
  force?: boolean;
}

/** Key entry attempts on a terminal before giving up. */
const MAX_PROMPTS = 3;

/**
 * Writes the config (mode 0600, directories created) and prints what to do next.
 * Returns the exit code; throws `UsageError` for refusals and bad values.
 */
export async function initCommand(options: InitOptions, io: CliIo): Promise<number> {
  const path = options.config ?? nonEmpty(io.env("FTL_CONFIG")) ??
    defaultConfigPath({ env: io.env });
  if (!options.force && await exists(path)) {
    throw new UsageError(
      "--force",
      `${path} already exists; edit it, or run \`worker-agent init --force\` to replace it`,
    );
  }
  const baseUrl = options.baseUrl ?? nonEmpty(io.env("FTL_BASE_URL"));
  if (baseUrl !== undefined) {
    const problem = describeBaseUrlProblem(baseUrl);
    if (problem) {
      throw new UsageError(
        "--base-url",
        `--base-url: ${JSON.stringify(baseUrl)} is not valid: ${problem}; use https://host[:port]`,
      );
    }
  }
  let apiKey = options.apiKey ?? nonEmpty(io.env("FTL_API_KEY"));
  if (apiKey !== undefined) {
    const problem = describeApiKeyProblem(apiKey);
    if (problem) {
      throw new UsageError(
        "--api-key",
        `--api-key: ${problem}; copy the key from the FineTuneLab dashboard (Workers > API keys)`,
      );
    }
  } else if (io.stdinIsTerminal()) {
    apiKey = await askForKey(io);
  }

  const text = renderConfigTemplate({
    apiKey: apiKey ?? "",
    ...(baseUrl === undefined ? {} : { baseUrl: normalizeBaseUrl(baseUrl) }),
  });
  await Deno.mkdir(dirname(path), { recursive: true, mode: 0o700 });
  await writeFileAtomic(path, text, { mode: 0o600 });

  io.stdout(`wrote ${path} (mode 0600)\n`);
  if (apiKey === undefined) {
    io.stdout(
      `next: set api_key in ${path} to your worker key (wak_...), then run: worker-agent run\n`,
    );
  } else {
    io.stdout(
      `next: worker-agent doctor${configFlag(options)}, then worker-agent run${
        configFlag(options)
      }\n`,
    );
  }
  return 0;
}

async function askForKey(io: CliIo): Promise<string | undefined> {
  for (let attempt = 1; attempt <= MAX_PROMPTS; attempt++) {
    const key = (await io.readSecret(
      "Worker API key (wak_..., input hidden; Enter to fill it in later): ",
    )).trim();
    if (key === "") return undefined;
    const problem = describeApiKeyProblem(key);
    if (!problem) return key;
    io.stderr(`that is not a worker key: ${problem}\n`);
  }
  throw new UsageError(
    "--api-key",
    "no valid key entered; copy the key from the FineTuneLab dashboard (Workers > API keys) and run init again",
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
