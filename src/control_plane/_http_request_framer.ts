/**
 * Finds where HTTP/1.1 requests start and end in the bytes a client sends, without holding
 * them: just enough for the connection guard to time each phase (header, body, idle) of a
 * keep-alive connection. Bodies are framed by `Content-Length` or chunked encoding. After an
 * upgrade request (WebSocket) parsing pauses until the guard knows whether the server
 * switched protocols.
 */

/** What a chunk of client bytes contained, in order. */
export type FramerEvent =
  | { kind: "header_start" }
  | { kind: "header_end"; hasBody: boolean; upgrade: boolean }
  | { kind: "body"; bytes: number }
  | { kind: "request_end" }
  | { kind: "error"; status: 400 | 431; message: string };

type State =
  | "idle"
  | "header"
  | "body"
  | "chunk_size"
  | "chunk_data"
  | "chunk_data_end"
  | "trailer"
  | "upgrade"
  | "failed";

const LF = 0x0a;
const CR = 0x0d;
/** Longest chunk-size line (size, extensions) or trailer line accepted. */
const MAX_LINE_BYTES = 4096;
/** Bytes held while waiting to learn whether an upgrade happened. */
const MAX_HELD_BYTES = 64 * 1024;

/** Options of {@linkcode HttpRequestFramer}. */
export interface HttpRequestFramerOptions {
  /** Largest request line plus headers. @default {32768} */
  maxHeaderBytes?: number;
}

/** A push parser of request boundaries on one connection. */
export class HttpRequestFramer {
  #maxHeaderBytes: number;
  #state: State = "idle";
  /** The header so far, in pieces, with its length and its last three bytes. */
  #header: Uint8Array[] = [];
  #headerBytes = 0;
  #tail: number[] = [];
  #line: number[] = [];
  #remaining = 0;
  #held: Uint8Array[] = [];
  #heldBytes = 0;

  /** Creates a framer positioned before a connection's first request. */
  constructor(options: HttpRequestFramerOptions = {}) {
    this.#maxHeaderBytes = options.maxHeaderBytes ?? 32 * 1024;
  }

  /** Whether parsing waits for {@linkcode resume} after an upgrade request. */
  get paused(): boolean {
    return this.#state === "upgrade";
  }

  /** Feeds the next client bytes; returns what they contained. */
  push(chunk: Uint8Array): FramerEvent[] {
    const events: FramerEvent[] = [];
    if (this.#state === "upgrade") {
      this.#heldBytes += chunk.byteLength;
      if (this.#heldBytes > MAX_HELD_BYTES) {
        return this.#fail(events, 400, "too many bytes before the upgrade was answered");
      }
      this.#held.push(chunk.slice());
      return events;
    }
    let i = 0;
    while (i < chunk.length && this.#state !== "failed") {
      // Read through a method: #endHeader() changes the state inside this loop.
      switch (this.#current()) {
        case "idle": {
          const byte = chunk[i]!;
          // Empty lines before a request are allowed (RFC 9112 section 2.2).
          if (byte === CR || byte === LF) {
            i++;
            break;
          }
          this.#state = "header";
          this.#header = [];
          this.#headerBytes = 0;
          this.#tail = [];
          events.push({ kind: "header_start" });
          break;
        }
        case "header": {
          // Up to and including the next LF at once: an empty line can only end there.
          const lf = chunk.indexOf(LF, i);
          const end = lf < 0 ? chunk.length : lf + 1;
          const piece = chunk.subarray(i, end);
          i = end;
          this.#headerBytes += piece.length;
          if (this.#headerBytes > this.#maxHeaderBytes) {
            return this.#fail(events, 431, "request header fields too large");
          }
          this.#header.push(piece.slice());
          this.#tail = [...this.#tail, ...piece.subarray(Math.max(0, piece.length - 3))].slice(-3);
          if (lf >= 0 && endsHeader(this.#tail)) this.#endHeader(events);
          break;
        }
        case "body": {
          const take = Math.min(this.#remaining, chunk.length - i);
          this.#remaining -= take;
          i += take;
          events.push({ kind: "body", bytes: take });
          if (this.#remaining === 0) this.#endRequest(events);
          break;
        }
        case "chunk_size": {
          const byte = chunk[i++]!;
          if (byte !== LF) {
            this.#line.push(byte);
            if (this.#line.length > MAX_LINE_BYTES) {
              return this.#fail(events, 400, "chunk size line too long");
            }
            break;
          }
          const text = String.fromCharCode(...this.#line).replace(/\r$/, "");
          this.#line = [];
          const size = /^([0-9a-fA-F]{1,12})[ \t]*(;.*)?$/.exec(text)?.[1];
          if (size === undefined) return this.#fail(events, 400, "malformed chunk size");
          this.#remaining = parseInt(size, 16);
          this.#state = this.#remaining === 0 ? "trailer" : "chunk_data";
          break;
        }
        case "chunk_data": {
          const take = Math.min(this.#remaining, chunk.length - i);
          this.#remaining -= take;
          i += take;
          events.push({ kind: "body", bytes: take });
          if (this.#remaining === 0) this.#state = "chunk_data_end";
          break;
        }
        case "chunk_data_end": {
          const byte = chunk[i++]!;
          if (byte === CR) break;
          if (byte !== LF) return this.#fail(events, 400, "chunk data not followed by CRLF");
          this.#state = "chunk_size";
          break;
        }
        case "trailer": {
          const byte = chunk[i++]!;
          if (byte !== LF) {
            this.#line.push(byte);
            if (this.#line.length > MAX_LINE_BYTES) {
              return this.#fail(events, 400, "trailer line too long");
            }
            break;
          }
          const empty = this.#line.length === 0 ||
            (this.#line.length === 1 && this.#line[0] === CR);
          this.#line = [];
          if (empty) this.#endRequest(events);
          break;
        }
        case "upgrade": {
          // A pipelined byte after an upgrade request: hold the rest until resume().
          const rest = chunk.subarray(i);
          this.#held.push(rest.slice());
          this.#heldBytes += rest.byteLength;
          i = chunk.length;
          break;
        }
      }
    }
    return events;
  }

  /**
   * The server did not switch protocols: parse the held bytes (and what follows) as the
   * next requests. Returns the events of the held bytes.
   */
  resume(): FramerEvent[] {
    if (this.#state !== "upgrade") return [];
    this.#state = "idle";
    const held = this.#held;
    this.#held = [];
    this.#heldBytes = 0;
    const events: FramerEvent[] = [];
    for (const chunk of held) events.push(...this.push(chunk));
    return events;
  }

  #current(): State {
    return this.#state;
  }

  #endHeader(events: FramerEvent[]): void {
    const lines = latin1(this.#header).split(/\r?\n/);
    this.#header = [];
    this.#headerBytes = 0;
    let lengths: string[] = [];
    let transferEncoding: string | undefined;
    let upgradeHeader = false;
    let connectionUpgrade = false;
    for (const line of lines.slice(1)) {
      const colon = line.indexOf(":");
      if (colon <= 0) continue;
      const name = line.slice(0, colon).trim().toLowerCase();
      const value = line.slice(colon + 1).trim();
      if (name === "content-length") lengths.push(...value.split(",").map((v) => v.trim()));
      else if (name === "transfer-encoding") {
        transferEncoding = transferEncoding === undefined ? value : `${transferEncoding},${value}`;
      } else if (name === "upgrade" && value !== "") upgradeHeader = true;
      else if (name === "connection") {
        connectionUpgrade ||= value.toLowerCase().split(",").some((t) => t.trim() === "upgrade");
      }
    }
    lengths = [...new Set(lengths)];
    const upgrade = upgradeHeader && connectionUpgrade;
    if (transferEncoding !== undefined) {
      const last = transferEncoding.toLowerCase().split(",").map((t) => t.trim()).at(-1);
      if (last !== "chunked") {
        this.#fail(events, 400, "a request's transfer coding must end with chunked");
        return;
      }
      events.push({ kind: "header_end", hasBody: true, upgrade });
      this.#state = "chunk_size";
      this.#line = [];
      return;
    }
    if (lengths.length > 1 || (lengths.length === 1 && !/^\d{1,15}$/.test(lengths[0]!))) {
      this.#fail(events, 400, "invalid Content-Length");
      return;
    }
    const length = lengths.length === 1 ? Number(lengths[0]) : 0;
    events.push({ kind: "header_end", hasBody: length > 0, upgrade });
    if (length > 0) {
      this.#remaining = length;
      this.#state = "body";
    } else if (upgrade) {
      this.#state = "upgrade";
    } else {
      this.#endRequest(events);
    }
  }

  #endRequest(events: FramerEvent[]): void {
    events.push({ kind: "request_end" });
    this.#state = "idle";
  }

  #fail(events: FramerEvent[], status: 400 | 431, message: string): FramerEvent[] {
    this.#state = "failed";
    this.#header = [];
    this.#line = [];
    this.#held = [];
    events.push({ kind: "error", status, message });
    return events;
  }
}

/** Whether the last bytes of a header (ending in LF) end with an empty line: `\n\n` or `\n\r\n`. */
function endsHeader(tail: number[]): boolean {
  const n = tail.length;
  if (n >= 2 && tail[n - 2] === LF) return true;
  return n >= 3 && tail[n - 2] === CR && tail[n - 3] === LF;
}

const LATIN1 = new TextDecoder("latin1");

function latin1(pieces: Uint8Array[]): string {
  return pieces.map((piece) => LATIN1.decode(piece)).join("");
}
