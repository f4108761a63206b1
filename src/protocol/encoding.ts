/**
 * Byte encodings used on the wire: lowercase hex (HMAC signatures), base64 (keys) and
 * unpadded base64url (Ed25519 signatures). The work is done by the built-ins
 * (`Uint8Array.prototype.toHex`/`toBase64`, `Uint8Array.fromHex`/`fromBase64`); these names
 * say which encoding the protocol uses where, and `fromBase64` keeps the protocol's one rule
 * the built-in leaves to its caller: either alphabet, padded or not, nothing else.
 *
 * @module
 */

/** Lowercase hex of `bytes`. */
export function toHex(bytes: Uint8Array): string {
  return bytes.toHex();
}

/** Bytes of a hex string (either case); throws `SyntaxError` on odd length or a non-hex character. */
export function fromHex(hex: string): Uint8Array {
  return Uint8Array.fromHex(hex);
}

/** Standard base64 (with padding) of `bytes`. */
export function toBase64(bytes: Uint8Array): string {
  return bytes.toBase64();
}

/** Unpadded base64url of `bytes` (RFC 4648 section 5). */
export function toBase64Url(bytes: Uint8Array): string {
  return bytes.toBase64({ alphabet: "base64url", omitPadding: true });
}

/**
 * Bytes of standard base64 or base64url text, padded or not; throws `SyntaxError` on any
 * other character (white space included) or a dangling last character.
 */
export function fromBase64(text: string): Uint8Array {
  const std = text.replace(/-/g, "+").replace(/_/g, "/").replace(/=+$/, "");
  if (!/^[A-Za-z0-9+/]*$/.test(std) || std.length % 4 === 1) {
    throw new SyntaxError("Not base64 text");
  }
  return Uint8Array.fromBase64(std, { lastChunkHandling: "loose" });
}
