/**
 * Worker API keys: create one (shown once, with a copy button), list them with the worker
 * each is bound to, and revoke one after a confirmation. Refetched on key events.
 *
 * @module
 */
import type {
  CreatedKeyResponse,
  KeyListResponse,
  KeyView,
  LiveEvent,
} from "../../../admin_api.ts";
import { badge } from "../badges.ts";
import type { AppContext, View } from "../context.ts";
import { confirmAction } from "../dialog.ts";
import { h, replace } from "../dom.ts";
import { formatAgo, formatTime, shortId } from "../format.ts";
import { Refresher } from "../refresher.ts";
import { workerHash } from "../router.ts";
import { joinText, records, text, type Untrusted } from "../untrusted.ts";

/** Mounts the keys view into `main`. */
export function mountKeys(main: HTMLElement, ctx: AppContext): View {
  const name = h("input", {
    id: "key-name",
    name: "name",
    required: true,
    maxLength: 100,
    placeholder: "e.g. gpu-box-1",
    autocomplete: "off",
  });
  const scope = h(
    "select",
    { id: "key-scope", name: "scope" },
    h("option", { value: "worker" }, "worker"),
    h("option", { value: "all" }, "all"),
  );
  const result = h("div", {
    id: "key-result",
    class: "key-result",
    hidden: true,
    attrs: { role: "status" },
  });
  const form = h(
    "form",
    { id: "key-form", class: "row-form", autocomplete: "off" },
    h("label", null, "Name", name),
    h("label", null, "Scope", scope),
    h("button", { type: "submit", class: "primary" }, "Create key"),
  );
  const count = h("span", { id: "key-count", class: "count" });
  const list = h("div", { id: "key-list" }, h("p", { class: "muted" }, "Loading…"));
  replace(
    main,
    h(
      "section",
      { id: "keys-view", class: "keys-view", attrs: { "aria-labelledby": "keys-title" } },
      h("div", { class: "view-head" }, h("h1", { id: "keys-title", tabIndex: -1 }, "API keys")),
      h(
        "div",
        { class: "card" },
        h("h2", null, "Create a worker API key"),
        h(
          "p",
          { class: "muted" },
          "One key per worker. The key is shown once; the server keeps only a hash of it.",
        ),
        form,
        result,
      ),
      h(
        "div",
        { id: "key-list-card", class: "card" },
        h("div", { class: "card-head" }, h("h2", null, "Keys ", count)),
        list,
      ),
    ),
  );

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const keyName = name.value.trim();
    if (keyName === "") return;
    let body: Untrusted<CreatedKeyResponse>;
    try {
      body = await ctx.api.post<CreatedKeyResponse>("/api/admin/keys", {
        name: keyName,
        scopes: [scope.value],
      });
    } catch (e) {
      if ((e as { status?: number }).status !== 401) {
        replace(
          result,
          h("p", { class: "error" }, `Could not create the key: ${(e as Error).message}`),
        );
        result.hidden = false;
      }
      return;
    }
    name.value = "";
    const keyField = h("input", {
      id: "new-key",
      class: "mono",
      readOnly: true,
      value: text(body.key),
    });
    keyField.setAttribute("aria-label", "The new key");
    keyField.addEventListener("focus", () => keyField.select());
    const copy = h("button", { type: "button" }, "Copy");
    copy.addEventListener("click", async () => {
      try {
        await navigator.clipboard.writeText(keyField.value);
        copy.textContent = "Copied";
      } catch {
        keyField.select();
        copy.textContent = "Press Ctrl+C";
      }
    });
    replace(
      result,
      h(
        "p",
        null,
        h("strong", null, `Key “${text(body.name, keyName)}” created.`),
        " Copy it now: it will not be shown again.",
      ),
      h("div", { class: "key-box" }, keyField, copy),
      h(
        "p",
        { class: "muted small" },
        `Prefix ${text(body.key_prefix)} · scopes ${joinText(body.scopes, ", ")} · id ${
          text(body.id)
        }`,
      ),
      h(
        "p",
        { class: "muted small" },
        `Put it in the agent's config as api_key, or run: worker-agent init --api-key <key> --base-url ${location.origin}`,
      ),
    );
    result.hidden = false;
    void refresher.run();
  });

  function keyRow(key: Untrusted<KeyView>): HTMLElement {
    const id = text(key.id);
    const active = key.active !== false;
    const workerId = typeof key.worker_id === "string" && key.worker_id !== ""
      ? key.worker_id
      : undefined;
    const actions = h("td", { class: "actions" });
    if (active) {
      const revoke = h("button", {
        type: "button",
        class: "danger ghost small",
        attrs: { "aria-label": `Revoke key ${text(key.name)}` },
      }, "Revoke…");
      revoke.addEventListener("click", async () => {
        const yes = await confirmAction({
          title: `Revoke key “${text(key.name)}”?`,
          message:
            "The worker using it is refused from now on and its live session is closed. This cannot be undone.",
          confirmLabel: "Revoke",
        });
        if (yes) await revokeKey(id);
      });
      actions.append(revoke);
    }
    const now = ctx.api.now();
    return h(
      "tr",
      { dataset: { keyId: id, active: String(active) } },
      h("td", null, text(key.name)),
      h("td", { class: "mono small" }, `${text(key.key_prefix)}…`),
      h("td", null, joinText(key.scopes, ", ")),
      h(
        "td",
        null,
        workerId
          ? h("a", { href: workerHash(workerId), class: "mono small" }, shortId(workerId))
          : h("span", { class: "muted" }, "—"),
      ),
      h("td", { title: formatTime(key.created_at) }, formatAgo(key.created_at, now)),
      h(
        "td",
        { title: formatTime(key.last_used_at) },
        key.last_used_at ? formatAgo(key.last_used_at, now) : "never",
      ),
      h(
        "td",
        { title: active ? "" : `revoked ${formatTime(key.revoked_at)}` },
        badge(active ? "active" : "revoked"),
      ),
      actions,
    );
  }

  async function revokeKey(id: string): Promise<void> {
    try {
      await ctx.api.post(`/api/admin/keys/${encodeURIComponent(id)}/revoke`, {});
    } catch (e) {
      if ((e as { status?: number }).status !== 401) {
        ctx.banner(`Could not revoke the key: ${(e as Error).message}`);
      }
      return;
    }
    void refresher.run();
  }

  const refresher = new Refresher(async (signal) => {
    const body = await ctx.api.get<KeyListResponse>("/api/admin/keys", { signal });
    if (signal.aborted) return;
    const keys = records<KeyView>(body.keys);
    count.textContent = String(keys.length);
    if (keys.length === 0) {
      replace(list, h("p", { class: "muted" }, "No keys yet."));
      return;
    }
    replace(
      list,
      h(
        "div",
        { class: "table-wrap" },
        h(
          "table",
          { class: "data", id: "key-rows" },
          h(
            "thead",
            null,
            h(
              "tr",
              null,
              ["Name", "Prefix", "Scopes", "Worker", "Created", "Last used", "State", "Actions"]
                .map((l) => h("th", { attrs: { scope: "col" } }, l)),
            ),
          ),
          h("tbody", null, keys.map(keyRow)),
        ),
      ),
    );
  }, {
    // Workers register and change status often in a large fleet; the list follows within a second.
    minIntervalMs: 1000,
    onError: (e) => ctx.banner(`Could not load the keys: ${(e as Error).message}`),
  });
  void refresher.run();

  return {
    onEvent(event: LiveEvent) {
      if (event.type === "key" || (event.type === "worker" && event.status !== null)) {
        refresher.request();
      }
    },
    refresh: () => refresher.request(),
    update: (next) => next.view === "keys",
    tick: () => {},
    unmount: () => refresher.dispose(),
  };
}
