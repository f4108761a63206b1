/** RFC 8785 (JCS) canonical bytes of a command (protocol 6). */
import canonicalize from "canonicalize";

/**
 * The UTF-8 bytes that a command signature covers: the JCS canonical JSON of the command
 * with its `signature` member removed. Every other member, known or not, is covered.
 *
 * Throws `TypeError` when the command has no canonical form (a lone UTF-16 surrogate, a
 * non-finite number, nesting too deep for the serializer): no valid signature can cover such
 * a command, so a verifier refuses it as `bad_signature` (protocol 8, v1.1).
 *
 * @example
 * ```ts
 * const bytes = signedBytes({ id: "x", params: {}, signature: "ignored" });
 * new TextDecoder().decode(bytes); // '{"id":"x","params":{}}'
 * ```
 */
export function signedBytes(command: Readonly<Record<string, unknown>>): Uint8Array {
  if (command === null || typeof command !== "object" || Array.isArray(command)) {
    throw new TypeError(`A command must be a JSON object, got ${JSON.stringify(command)}`);
  }
  const { signature: _signature, ...rest } = command;
  let text: string | undefined;
  try {
    text = canonicalize(rest);
  } catch (cause) {
    throw new TypeError(
      `The command cannot be canonicalized: ${(cause as Error)?.message ?? String(cause)}`,
      { cause },
    );
  }
  if (text === undefined) throw new TypeError("The command cannot be canonicalized");
  return new TextEncoder().encode(text);
}
