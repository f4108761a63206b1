/** Reading from the terminal or a pipe: a secret without echo, a visible line, all of stdin. */
import { UsageError } from "../shared/usage_error.ts";

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
          throw new UsageError("cancelled: no key entered");
        }
        if (ch === "\x7f" || ch === "\b") line = line.slice(0, -1);
        else if (ch >= " ") line += ch;
      }
    }
  } finally {
    input.setRaw(false);
  }
}

/** An input stream (Deno.stdin's reading side). */
export interface LineInput {
  /** Reads some bytes; `null` at end of input. */
  read(p: Uint8Array): Promise<number | null>;
}

/**
 * Reads up to the first newline (or the end of input) in the terminal's normal mode, so the
 * user sees what they type; at most `maxChars` characters are kept.
 */
export async function readVisibleLine(input: LineInput, maxChars = 2048): Promise<string> {
  const decoder = new TextDecoder();
  const buffer = new Uint8Array(256);
  let line = "";
  while (true) {
    const n = await input.read(buffer);
    if (n === null) return line;
    const text = decoder.decode(buffer.subarray(0, n), { stream: true });
    const end = text.search(/[\r\n]/);
    line = (line + (end < 0 ? text : text.slice(0, end))).slice(0, maxChars);
    if (end >= 0) return line;
  }
}

/**
 * Everything on `input` until its end, at most `maxBytes` (the rest is not read): for a key
 * piped in (`echo wak_… | worker-agent init`).
 */
export async function readAll(input: LineInput, maxBytes: number): Promise<string> {
  // Not shared/bounded_read.ts: a piped key is cut at `maxBytes` (the rest is never read), not
  // refused, and stdin here is a `Deno.Reader`-like `LineInput` (a fake in tests), not a stream.
  const chunks: Uint8Array[] = [];
  let size = 0;
  const buffer = new Uint8Array(4096);
  while (size < maxBytes) {
    const n = await input.read(buffer);
    if (n === null) break;
    chunks.push(buffer.slice(0, Math.min(n, maxBytes - size)));
    size += n;
  }
  const bytes = new Uint8Array(Math.min(size, maxBytes));
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.length;
  }
  return new TextDecoder().decode(bytes);
}
