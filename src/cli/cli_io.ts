/** The terminal as the CLI sees it: output streams, environment and hidden key entry. */
import { readEnv } from "../platform/paths.ts";
import { readAll, readHiddenLine, readVisibleLine } from "./read_hidden_line.ts";

/** What the CLI commands read from and write to; tests may pass their own. */
export interface CliIo {
  /** Writes to stdout (text as given, no newline added). */
  stdout(text: string): void;
  /** Writes to stderr (text as given, no newline added). */
  stderr(text: string): void;
  /** Reads one environment variable. */
  env(name: string): string | undefined;
  /** Whether stdin is a terminal a person can type into. */
  stdinIsTerminal(): boolean;
  /** Shows `prompt` on stderr and reads one line from the terminal without echoing it. */
  readSecret(prompt: string): Promise<string>;
  /** Shows `prompt` on stderr and reads one line from the terminal, echoed. */
  readLine(prompt: string): Promise<string>;
  /** Reads stdin (a pipe or file, not a terminal) to its end, at most `maxBytes`. */
  readStdin(maxBytes: number): Promise<string>;
}

/** The process's own stdout, stderr, environment and terminal. */
export function processCliIo(): CliIo {
  const encoder = new TextEncoder();
  return {
    stdout: (text) => writeAll(Deno.stdout, encoder.encode(text)),
    stderr: (text) => writeAll(Deno.stderr, encoder.encode(text)),
    env: readEnv,
    stdinIsTerminal: () => Deno.stdin.isTerminal(),
    readSecret: async (prompt) => {
      writeAll(Deno.stderr, encoder.encode(prompt));
      try {
        return await readHiddenLine(Deno.stdin);
      } finally {
        writeAll(Deno.stderr, encoder.encode("\n"));
      }
    },
    readLine: (prompt) => {
      writeAll(Deno.stderr, encoder.encode(prompt));
      return readVisibleLine(Deno.stdin);
    },
    readStdin: (maxBytes) => readAll(Deno.stdin, maxBytes),
  };
}

function writeAll(stream: { writeSync(p: Uint8Array): number }, bytes: Uint8Array): void {
  let offset = 0;
  while (offset < bytes.length) offset += stream.writeSync(bytes.subarray(offset));
}
