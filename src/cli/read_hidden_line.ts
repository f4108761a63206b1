/** Reading a secret from the terminal without echoing it. */
import { UsageError } from "./usage_error.ts";

/** A terminal input stream (Deno.stdin's shape). */
export interface RawInput {
  /** Switches raw mode (no echo, no line buffering) on or off. */
  setRaw(mode: boolean): void;
  /** Reads some bytes; `null` at end of input. */
  read(p: Uint8Array): Promise<number | null>;
}

/**
 * Reads one line in raw mode so nothing typed is echoed; backspace edits, Enter ends,
 * Ctrl-C or Ctrl-D cancel (`UsageError`). Raw mode is always switched off again.
 */
export async function readHiddenLine(input: RawInput): Promise<string> {
  const decoder = new TextDecoder();
  const buffer = new Uint8Array(64);
  let line = "";
  input.setRaw(true);
  try {
    while (true) {
      const n = await input.read(buffer);
      if (n === null) return line;
      for (const ch of decoder.decode(buffer.subarray(0, n), { stream: true })) {
        if (ch === "\r" || ch === "\n") return line;
        if (ch === "\x03" || ch === "\x04") {
          throw new UsageError("--api-key", "cancelled: no key entered");
        }
        if (ch === "\x7f" || ch === "\b") line = line.slice(0, -1);
        else if (ch >= " ") line += ch;
      }
    }
  } finally {
    input.setRaw(false);
  }
}
