/**
 * Writing config changes back into the user's file (used by `update_config`): comments, key
 * order and formatting of untouched lines are kept, the file is replaced atomically and its
 * mode (0600) is kept.
 *
 * @module
 */
import { isCollection, isMap, parseDocument } from "yaml";
import { writeFileAtomic } from "../shared/atomic_write.ts";

/**
 * Sets each `changes` key (dotted keys such as `trading.restart_on_crash` reach into
 * sections) in the YAML file at `path`, keeping the user's comments and key order. Keys that
 * are not yet in the file are appended. Throws `SyntaxError` when the file is not valid YAML.
 */
export async function updateConfigFile(
  path: string,
  changes: Record<string, unknown>,
): Promise<void> {
  const text = await Deno.readTextFile(path);
  const doc = parseDocument(text);
  if (doc.errors.length > 0) {
    throw new SyntaxError(`${path} is not valid YAML: ${doc.errors[0]!.message.split("\n")[0]}`);
  }
  if (doc.contents === null || doc.contents === undefined) {
    doc.contents = doc.createNode({}) as unknown as typeof doc.contents;
  }
  if (!isMap(doc.contents)) {
    throw new SyntaxError(`${path} is not a mapping of keys to values`);
  }
  for (const [key, value] of Object.entries(changes)) {
    const keyPath = key.split(".");
    if (keyPath.some((part) => part === "")) {
      throw new TypeError(`Not a config key: ${JSON.stringify(key)}`);
    }
    const existing = doc.getIn(keyPath, true);
    if (isCollection(existing) && typeof value === "object" && value !== null) {
      // Replace a list or mapping in the style the user wrote it in ([a, b] stays inline).
      const node = doc.createNode(value);
      if (isCollection(node)) {
        node.flow = existing.flow ?? false;
        node.comment = existing.comment ?? null;
      }
      doc.setIn(keyPath, node);
    } else {
      // Scalars are changed in place, which keeps their trailing comments.
      doc.setIn(keyPath, value);
    }
  }
  let mode = 0o600;
  try {
    const info = await Deno.stat(path);
    if (info.mode !== null) mode = info.mode & 0o777;
  } catch {
    // Keep the default mode.
  }
  await writeFileAtomic(path, doc.toString({ flowCollectionPadding: false }), { mode });
}
