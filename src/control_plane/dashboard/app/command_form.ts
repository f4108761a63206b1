/**
 * The "Send a command" form. Each command type gets a small form generated from its params
 * schema (`GET /api/admin/command-types`, JSON Schemas made from the protocol's own zod
 * schemas), so a new type in the protocol gets a form without a change here; experts can
 * switch to a JSON editor. Disruptive types (`stop_trading`, `restart_agent`) ask first.
 *
 * {@linkcode fieldsOf} and {@linkcode parseMapValue} are plain functions, tested without a
 * browser.
 *
 * @module
 */
import type { CommandCatalogEntry, JsonSchema } from "../../admin_api.ts";
import { COMMAND_TIMEOUT_BOUNDS, COMMAND_TYPES } from "../../../protocol/constants.ts";
import type { Api } from "./api.ts";
import { confirmAction } from "./dialog.ts";
import { h, replace } from "./dom.ts";
import { shortId } from "./format.ts";
import { isObject, num, record, records, str, text, type Untrusted } from "./untrusted.ts";

/** The input a params member gets. */
export type FieldKind = "boolean" | "number" | "integer" | "string" | "enum" | "map" | "json";

/** One generated input. */
export interface FieldModel {
  name: string;
  kind: FieldKind;
  required: boolean;
  description?: string;
  /** Choices of an enum. */
  options?: string[];
  /** Suggested keys of a map (`propertyNames.examples`). */
  suggestions?: string[];
  minimum?: number;
  maximum?: number;
}

function typeOf(schema: Untrusted<JsonSchema>): string | undefined {
  const type = schema.type;
  if (typeof type === "string") return type;
  if (Array.isArray(type)) {
    return type.find((t): t is string => typeof t === "string" && t !== "null");
  }
  return undefined;
}

/** The inputs of a params schema (an object schema; anything else yields none). */
export function fieldsOf(schema: unknown): FieldModel[] {
  const root = record<JsonSchema>(schema);
  const properties = record<Record<string, JsonSchema>>(root?.properties);
  if (!root || !properties) return [];
  const required = Array.isArray(root.required)
    ? root.required.filter((r) => typeof r === "string")
    : [];
  return Object.keys(properties).map((name): FieldModel => {
    const property = record<JsonSchema>(properties[name]) ?? {};
    const base = {
      name,
      required: required.includes(name),
      ...(typeof property.description === "string" ? { description: property.description } : {}),
    };
    const type = typeOf(property);
    if (Array.isArray(property.enum) && property.enum.every((v) => typeof v === "string")) {
      return { ...base, kind: "enum", options: property.enum as string[] };
    }
    if (type === "boolean") return { ...base, kind: "boolean" };
    if (type === "number" || type === "integer") {
      const minimum = num(property.minimum);
      const maximum = num(property.maximum);
      return {
        ...base,
        kind: type,
        ...(minimum === undefined ? {} : { minimum }),
        ...(maximum === undefined ? {} : { maximum }),
      };
    }
    if (type === "string") return { ...base, kind: "string" };
    if (
      type === "object" && !isObject(property.properties) && property.additionalProperties !== false
    ) {
      const names = record<JsonSchema>(property.propertyNames);
      const examples = Array.isArray(names?.examples)
        ? names.examples.filter((e): e is string => typeof e === "string")
        : [];
      return { ...base, kind: "map", suggestions: examples };
    }
    return { ...base, kind: "json" };
  });
}

/** A map value as typed: JSON when it parses (`true`, `30`, `["a"]`), else the text itself. */
export function parseMapValue(raw: string): unknown {
  const trimmed = raw.trim();
  if (trimmed === "") return "";
  try {
    return JSON.parse(trimmed);
  } catch {
    return raw;
  }
}

/** What the form must know about the worker. */
export interface WorkerState {
  hostname: string;
  online: boolean;
  status: string;
  keyRevoked: boolean;
  legacy: boolean;
  /** How long a command waits to be delivered (ms). */
  deliveryWindowMs: number;
}

/** Options of {@linkcode CommandForm}. */
export interface CommandFormOptions {
  api: Api;
  workerId: string;
  catalog: readonly Untrusted<CommandCatalogEntry>[];
  /** Called with the new command's id. */
  onSent(commandId: string): void;
}

interface FieldInput {
  model: FieldModel;
  read(): { ok: true; value: unknown; present: boolean } | { ok: false; error: string };
  write(value: unknown): void;
}

/** The form; `element` goes into the page, {@linkcode CommandForm.setWorker} keeps it truthful. */
export class CommandForm {
  readonly element: HTMLFormElement;
  #options: CommandFormOptions;
  #type: HTMLSelectElement;
  #fieldsBox = h("div", { class: "param-fields", id: "command-fields" });
  #fields: FieldInput[] = [];
  #jsonToggle: HTMLInputElement;
  #json: HTMLTextAreaElement;
  #timeout: HTMLInputElement;
  #submit: HTMLButtonElement;
  #message = h("p", { id: "command-message", class: "small", attrs: { role: "status" } });
  #note = h("p", { id: "command-note", class: "small muted" });
  #description = h("p", { id: "command-description", class: "small muted" });
  #worker: WorkerState | undefined;

  /** Builds the form for worker `options.workerId`. */
  constructor(options: CommandFormOptions) {
    this.#options = options;
    const types = this.#types();
    this.#type = h(
      "select",
      { id: "command-type", name: "command_type" },
      types.map((t) => h("option", { value: t }, t)),
    );
    this.#type.value = types.includes("ping") ? "ping" : types[0] ?? "";
    this.#jsonToggle = h("input", { type: "checkbox", id: "command-json-toggle" });
    this.#json = h("textarea", {
      id: "command-params",
      name: "params",
      rows: 4,
      spellcheck: false,
      hidden: true,
    });
    this.#json.setAttribute("aria-label", "Params (JSON)");
    this.#timeout = h("input", {
      id: "command-timeout",
      name: "timeout_seconds",
      type: "number",
      min: String(COMMAND_TIMEOUT_BOUNDS.min),
      max: String(COMMAND_TIMEOUT_BOUNDS.max),
      value: "300",
      required: true,
    });
    this.#submit = h("button", { type: "submit", class: "primary", id: "command-send" }, "Send");
    this.element = h(
      "form",
      { id: "command-form", class: "command-form", autocomplete: "off", noValidate: true },
      h(
        "div",
        { class: "command-row" },
        h("label", null, "Command", this.#type),
        h("label", { class: "timeout" }, "Timeout (s)", this.#timeout),
        h("label", { class: "inline json-toggle" }, this.#jsonToggle, "Edit params as JSON"),
        h("div", { class: "form-actions" }, this.#submit),
      ),
      this.#description,
      this.#fieldsBox,
      this.#json,
      this.#note,
      this.#message,
    );
    this.#type.addEventListener("change", () => {
      this.#message.textContent = "";
      this.#buildFields();
    });
    this.#jsonToggle.addEventListener("change", () => this.#toggleJson());
    this.element.addEventListener("submit", (event) => {
      event.preventDefault();
      void this.#send();
    });
    this.#buildFields();
  }

  #types(): string[] {
    const fromCatalog = this.#options.catalog.map((e) => e.command_type).filter((t): t is string =>
      typeof t === "string"
    );
    return fromCatalog.length > 0 ? fromCatalog : [...COMMAND_TYPES];
  }

  #entry(): Untrusted<CommandCatalogEntry> | undefined {
    return this.#options.catalog.find((e) => e.command_type === this.#type.value);
  }

  /** Updates the note and the Send button for the worker's state. */
  setWorker(state: WorkerState): void {
    this.#worker = state;
    this.#submit.disabled = state.keyRevoked;
    const minutes = Math.round(state.deliveryWindowMs / 60_000);
    let note = "";
    if (state.keyRevoked) {
      note = "The worker's key was revoked: it can no longer connect, so commands cannot reach it.";
    } else if (!state.online || state.status === "draining") {
      note =
        `The worker is ${
          state.online ? "draining" : "offline"
        }: a command waits up to ${minutes} min ` +
        "for it to come back, then times out.";
    } else if (state.legacy) {
      note =
        "FineTuneLab agent: each command is handed out once, by heartbeat, and not verified by the agent.";
    }
    this.#note.textContent = note;
    this.#note.className = `small ${
      state.keyRevoked ? "error" : state.online ? "muted" : "warn-text"
    }`;
    this.#submit.textContent = !state.keyRevoked && (!state.online || state.status === "draining")
      ? "Queue"
      : "Send";
  }

  #buildFields(): void {
    const entry = this.#entry();
    this.#description.textContent = text(entry?.description);
    this.#fields = fieldsOf(entry?.params_schema).map((model) => this.#input(model));
    replace(
      this.#fieldsBox,
      this.#fields.length === 0
        ? h("p", { class: "muted small" }, "No parameters.")
        : this.#fields.map((f) => (f as FieldInput & { element: HTMLElement }).element),
    );
    this.#json.value = "{}";
    if (this.#jsonToggle.checked) {
      this.#json.value = JSON.stringify(this.#collect().params ?? {}, null, 2);
    }
  }

  #input(model: FieldModel): FieldInput & { element: HTMLElement } {
    const id = `param-${model.name}`;
    const hint = model.description ? h("span", { class: "muted small" }, model.description) : null;
    const label = `${model.name}${model.required ? "" : " (optional)"}`;
    switch (model.kind) {
      case "boolean": {
        const input = h("input", { type: "checkbox", id });
        return {
          model,
          element: h("label", { class: "inline field" }, input, label, hint),
          read: () => ({
            ok: true,
            value: input.checked,
            present: input.checked || model.required,
          }),
          write: (v) => input.checked = v === true,
        };
      }
      case "number":
      case "integer": {
        const input = h("input", {
          type: "number",
          id,
          step: model.kind === "integer" ? "1" : "any",
        });
        if (model.minimum !== undefined) input.min = String(model.minimum);
        if (model.maximum !== undefined) input.max = String(model.maximum);
        return {
          model,
          element: h("label", { class: "field" }, label, input, hint),
          read: () => {
            if (input.value.trim() === "") {
              return model.required
                ? { ok: false, error: `${model.name}: a number is required` }
                : { ok: true, value: undefined, present: false };
            }
            const value = Number(input.value);
            if (!Number.isFinite(value) || (model.kind === "integer" && !Number.isInteger(value))) {
              return {
                ok: false,
                error: `${model.name}: expected ${
                  model.kind === "integer" ? "a whole number" : "a number"
                }`,
              };
            }
            return { ok: true, value, present: true };
          },
          write: (v) => input.value = typeof v === "number" ? String(v) : "",
        };
      }
      case "enum":
      case "string": {
        const input = model.kind === "enum"
          ? h(
            "select",
            { id },
            model.required ? null : h("option", { value: "" }, "(not set)"),
            (model.options ?? []).map((o) => h("option", { value: o }, o)),
          )
          : h("input", { type: "text", id });
        return {
          model,
          element: h("label", { class: "field" }, label, input, hint),
          read: () =>
            input.value === "" && !model.required
              ? { ok: true, value: undefined, present: false }
              : { ok: true, value: input.value, present: true },
          write: (v) => input.value = typeof v === "string" ? v : "",
        };
      }
      case "map":
        return this.#mapInput(model, id, label, hint);
      case "json": {
        const input = h("textarea", { id, rows: 2, spellcheck: false });
        return {
          model,
          element: h("label", { class: "field" }, `${label} (JSON)`, input, hint),
          read: () => {
            if (input.value.trim() === "") {
              return model.required
                ? { ok: false, error: `${model.name}: required` }
                : { ok: true, value: undefined, present: false };
            }
            try {
              return { ok: true, value: JSON.parse(input.value), present: true };
            } catch (e) {
              return {
                ok: false,
                error: `${model.name}: not valid JSON (${(e as Error).message})`,
              };
            }
          },
          write: (v) => input.value = v === undefined ? "" : JSON.stringify(v),
        };
      }
    }
  }

  #mapInput(
    model: FieldModel,
    id: string,
    label: string,
    hint: HTMLElement | null,
  ): FieldInput & { element: HTMLElement } {
    const listId = `${id}-keys`;
    const datalist = h(
      "datalist",
      { id: listId },
      (model.suggestions ?? []).map((s) => h("option", { value: s })),
    );
    const rowsBox = h("div", { class: "map-rows", id });
    let counter = 0;
    const addRow = (key = "", value = "") => {
      const n = counter++;
      const keyInput = h("input", {
        type: "text",
        id: `${id}-key-${n}`,
        value: key,
        placeholder: "setting",
      });
      keyInput.setAttribute("list", listId);
      keyInput.setAttribute("aria-label", `${model.name}: setting name`);
      const valueInput = h("input", {
        type: "text",
        id: `${id}-value-${n}`,
        value,
        placeholder: "value (JSON or text)",
      });
      valueInput.setAttribute("aria-label", `${model.name}: new value`);
      const remove = h("button", {
        type: "button",
        class: "ghost small",
        attrs: { "aria-label": `Remove setting ${n + 1}` },
      }, "Remove");
      const row = h("div", { class: "map-row" }, keyInput, valueInput, remove);
      remove.addEventListener("click", () => row.remove());
      rowsBox.append(row);
    };
    addRow();
    const add = h("button", { type: "button", class: "small", id: `${id}-add` }, "Add setting");
    add.addEventListener("click", () => addRow());
    const element = h(
      "fieldset",
      { class: "field map-field" },
      h("legend", null, label),
      hint,
      rowsBox,
      add,
      datalist,
    );
    return {
      model,
      element,
      read: () => {
        const value: Record<string, unknown> = {};
        for (const row of rowsBox.querySelectorAll<HTMLDivElement>(".map-row")) {
          const [keyInput, valueInput] = row.querySelectorAll("input");
          const key = keyInput?.value.trim() ?? "";
          if (key === "") continue;
          value[key] = parseMapValue(valueInput?.value ?? "");
        }
        const present = Object.keys(value).length > 0;
        if (!present && model.required) {
          return { ok: false, error: `${model.name}: name at least one setting` };
        }
        return { ok: true, value, present };
      },
      write: (v) => {
        rowsBox.replaceChildren();
        const entries = isObject(v) ? Object.entries(v) : [];
        if (entries.length === 0) addRow();
        for (const [key, item] of entries) {
          addRow(key, typeof item === "string" ? item : JSON.stringify(item));
        }
      },
    };
  }

  #collect(): { params?: Record<string, unknown>; error?: string } {
    const params: Record<string, unknown> = {};
    for (const field of this.#fields) {
      const read = field.read();
      if (!read.ok) return { error: read.error };
      if (read.present) params[field.model.name] = read.value;
    }
    return { params };
  }

  #toggleJson(): void {
    const on = this.#jsonToggle.checked;
    if (on) {
      const { params } = this.#collect();
      this.#json.value = JSON.stringify(params ?? {}, null, 2);
    } else {
      try {
        const parsed: unknown = JSON.parse(this.#json.value || "{}");
        for (const field of this.#fields) {
          field.write(isObject(parsed) ? parsed[field.model.name] : undefined);
        }
      } catch {
        // Kept as typed: the fields start over.
      }
    }
    this.#json.hidden = !on;
    this.#fieldsBox.hidden = on;
  }

  #fail(message: string): void {
    this.#message.className = "small error";
    this.#message.textContent = message;
  }

  async #send(): Promise<void> {
    this.#message.className = "small";
    this.#message.textContent = "";
    let params: unknown;
    if (this.#jsonToggle.checked) {
      try {
        params = this.#json.value.trim() === "" ? {} : JSON.parse(this.#json.value);
      } catch (e) {
        return this.#fail(`Params are not valid JSON: ${(e as Error).message}`);
      }
      if (!isObject(params)) return this.#fail("Params must be a JSON object, like {}.");
    } else {
      const collected = this.#collect();
      if (collected.error) return this.#fail(collected.error);
      params = collected.params;
    }
    const seconds = Number(this.#timeout.value);
    if (
      !Number.isInteger(seconds) || seconds < COMMAND_TIMEOUT_BOUNDS.min ||
      seconds > COMMAND_TIMEOUT_BOUNDS.max
    ) {
      return this.#fail(
        `Timeout must be a whole number of seconds from ${COMMAND_TIMEOUT_BOUNDS.min} to ${COMMAND_TIMEOUT_BOUNDS.max}.`,
      );
    }
    const type = this.#type.value;
    const entry = this.#entry();
    if (entry?.disruptive === true) {
      const host = this.#worker?.hostname ?? this.#options.workerId;
      const yes = await confirmAction({
        title: `Send ${type}?`,
        message: `${text(entry.description)} This affects ${host}.`,
        confirmLabel: type === "restart_agent"
          ? "Restart agent"
          : type === "stop_trading"
          ? "Stop trading"
          : `Send ${type}`,
      });
      if (!yes) {
        this.#message.textContent = "Not sent.";
        return;
      }
    }
    this.#submit.disabled = true;
    try {
      const body = await this.#options.api.post<{ command_id: string; status: string }>(
        "/api/workers/commands",
        {
          worker_id: this.#options.workerId,
          command_type: type,
          params,
          timeout_seconds: seconds,
        },
      );
      const id = str(body.command_id) ?? "";
      this.#message.className = "small ok";
      this.#message.textContent = `Queued ${type} (${shortId(id)}), status ${
        text(body.status, "pending")
      }.`;
      this.#options.onSent(id);
    } catch (e) {
      if ((e as { status?: number }).status !== 401) {
        this.#fail(`Not sent: ${(e as Error).message}`);
      }
    } finally {
      this.#submit.disabled = this.#worker?.keyRevoked === true;
    }
  }
}

/** The catalog entries of an answer. */
export function catalogOf(answer: unknown): Untrusted<CommandCatalogEntry>[] {
  return records<CommandCatalogEntry>(record<{ command_types: unknown }>(answer)?.command_types);
}
