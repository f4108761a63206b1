/**
 * Building the page from data: {@linkcode h} makes elements whose text children are text
 * nodes, never markup, so nothing from the server is ever parsed as HTML. The dashboard has
 * no `innerHTML`.
 *
 * @module
 */

/** What {@linkcode h} accepts as children: nodes, text, and nothing (skipped). */
export type Child = Node | string | number | null | undefined | false | readonly Child[];

/** Properties of an element `K`, plus `class`, `dataset` and plain attributes. */
export type Props<K extends keyof HTMLElementTagNameMap> =
  & Partial<Omit<HTMLElementTagNameMap[K], "className" | "dataset" | "style" | "children">>
  & {
    class?: string;
    dataset?: Record<string, string>;
    /** Attributes without a property (`aria-*`, `role`, `for`…). */
    attrs?: Record<string, string | number | boolean | undefined>;
  };

/**
 * Creates an element with properties and children. Strings become text nodes.
 *
 * @example
 * ```ts
 * h("a", { href: "#/", class: "link", attrs: { "aria-current": "page" } }, "Fleet");
 * ```
 */
export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  props?: Props<K> | null,
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const element = document.createElement(tag);
  if (props) {
    const { class: className, dataset, attrs, ...rest } = props;
    if (className) element.className = className;
    if (dataset) Object.assign(element.dataset, dataset);
    for (const [name, value] of Object.entries(attrs ?? {})) {
      if (value === undefined || value === false) continue;
      element.setAttribute(name, value === true ? "" : String(value));
    }
    Object.assign(element, rest);
  }
  append(element, children);
  return element;
}

/** Appends children to `parent`: strings and numbers as text nodes, nothing for empty ones. */
export function append(parent: Node, children: readonly Child[]): void {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    if (Array.isArray(child)) append(parent, child);
    else if (child instanceof Node) parent.appendChild(child);
    else parent.appendChild(document.createTextNode(String(child)));
  }
}

/** Replaces the children of `element`. */
export function replace(element: Element, ...children: Child[]): void {
  element.replaceChildren();
  append(element, children);
}

/** The element with id `id`; throws when the page lacks it (a bug, not data). */
export function byId<T extends HTMLElement = HTMLElement>(id: string): T {
  const found = document.getElementById(id);
  if (!found) throw new Error(`the page has no #${id}`);
  return found as T;
}
