/** Splitting a child process's output stream into lines. */

/** Options of {@linkcode readLines}. */
export interface ReadLinesOptions {
  /** A longer line is handed over in pieces of this many characters. @default {16384} */
  maxLineLength?: number;
}

/**
 * Reads `stream` to its end and calls `onLine` with each line (without its line break,
 * `\r\n` or `\n`). A last line without a break is delivered too. Never rejects: a read
 * error ends the stream quietly, because a workload's output must not take the agent down.
 */
export async function readLines(
  stream: ReadableStream<Uint8Array>,
  onLine: (line: string) => void,
  options: ReadLinesOptions = {},
): Promise<void> {
  const max = options.maxLineLength ?? 16_384;
  const decoder = new TextDecoder();
  let pending = "";
  const emit = (line: string) => {
    let rest = line.endsWith("\r") ? line.slice(0, -1) : line;
    while (rest.length > max) {
      onLine(rest.slice(0, max));
      rest = rest.slice(max);
    }
    onLine(rest);
  };
  try {
    for await (const chunk of stream) {
      pending += decoder.decode(chunk, { stream: true });
      let newline: number;
      while ((newline = pending.indexOf("\n")) >= 0) {
        emit(pending.slice(0, newline));
        pending = pending.slice(newline + 1);
      }
      while (pending.length > max) {
        onLine(pending.slice(0, max));
        pending = pending.slice(max);
      }
    }
  } catch {
    // The stream broke (the process was killed mid-write); keep what arrived.
  }
  pending += decoder.decode();
  if (pending.length > 0) emit(pending);
}
