/**
 * The dashboard's browser script, served as `/dashboard/app.js`.
 *
 * Rules it keeps: it calls only the admin API of `shared/interfaces.md` section 3; every value
 * from the server reaches the page through `textContent` or a DOM property, never through
 * markup (no `innerHTML`); every field from the server is untrusted data of any type: it is
 * turned into text by `text()` (never by `String()`, string concatenation or `join`, which
 * call a hostile `toString`), JSON is shown with the depth- and size-bounded `formatJson()`
 * (never `JSON.stringify`, which overflows the stack on deep data), and the route is decoded
 * without throwing; event handlers are attached with `addEventListener` (the CSP forbids
 * inline handlers); the admin token lives in `sessionStorage` and is sent only as a bearer
 * token to this origin.
 */
import { COMMAND_TIMEOUT_BOUNDS, COMMAND_TYPES } from "../../protocol/mod.ts";

/** Example params per command type, prefilled when a type is chosen in the send form. */
const PARAMS_TEMPLATES: Record<string, unknown> = {
  start_trading: {},
  stop_trading: { force: false },
  update_config: { changes: { log_level: "debug" } },
  restart_agent: {},
  collect_diagnostics: {},
  ping: {},
};

/** How often the worker list and the open worker are refreshed. */
export const REFRESH_INTERVAL_MS = 5_000;

/** Deepest level of JSON the dashboard shows; deeper values are shown as `{…}` / `[…]`. */
export const JSON_VIEW_MAX_DEPTH = 12;
/** Most characters of one JSON view; the rest is cut with `…`. */
export const JSON_VIEW_MAX_CHARS = 20_000;

/** The script served at `/dashboard/app.js` (an ES module). */
export const APP_JS =
  `// FineTuneLab control plane dashboard. Generated from src/control_plane/dashboard/_app_js.ts.
const COMMAND_TYPES = ${JSON.stringify(COMMAND_TYPES)};
const PARAMS_TEMPLATES = ${JSON.stringify(PARAMS_TEMPLATES)};
const TIMEOUT_BOUNDS = ${JSON.stringify(COMMAND_TIMEOUT_BOUNDS)};
const REFRESH_MS = ${REFRESH_INTERVAL_MS};
const JSON_MAX_DEPTH = ${JSON_VIEW_MAX_DEPTH};
const JSON_MAX_CHARS = ${JSON_VIEW_MAX_CHARS};
const TOKEN_KEY = "ftl.controlPlane.adminToken";

const $ = (id) => document.getElementById(id);

const state = {
  token: sessionStorage.getItem(TOKEN_KEY) ?? "",
  route: { view: "workers", workerId: null },
  workers: [],
  timer: null,
  refreshing: false,
  refreshAgain: false,
  // The send form and its draft survive refreshes of the same worker.
  formWorkerId: null,
  bannerTimer: undefined,
};

// ---------------------------------------------------------------- DOM helpers

/** Creates an element; strings among the children become text nodes, never markup. */
function h(tag, props, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(props ?? {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key === "class") el.className = value;
    else if (key === "dataset") Object.assign(el.dataset, value);
    else if (key.startsWith("on") && typeof value === "function") {
      el.addEventListener(key.slice(2), value);
    } else if (key in el) el[key] = value;
    else el.setAttribute(key, text(value));
  }
  for (const child of children.flat(JSON_MAX_DEPTH)) {
    if (child === undefined || child === null || child === false) continue;
    el.append(child instanceof Node ? child : text(child));
  }
  return el;
}

// ---------------------------------------------------------------- untrusted values

/**
 * Any value as display text, without ever calling the value's own methods: strings as they
 * are, numbers and booleans as usual, null/undefined as the fallback, anything else as short
 * bounded JSON.
 */
function text(value, fallback = "") {
  if (value === undefined || value === null) return fallback;
  if (typeof value === "string") return value;
  if (typeof value === "number" || typeof value === "boolean" || typeof value === "bigint") {
    return String(value);
  }
  return formatJson(value, { indent: 0, maxChars: 200 });
}

/**
 * JSON text of any value, bounded in depth (deeper levels show as {…} / […]) and in length
 * (cut with …), so no data can overflow the stack or flood the page. Only own enumerable
 * keys are read.
 */
function formatJson(value, { indent = 2, maxDepth = JSON_MAX_DEPTH, maxChars = JSON_MAX_CHARS } = {}) {
  let out = "";
  let full = false;
  const write = (piece) => {
    if (full) return;
    if (out.length + piece.length > maxChars) {
      out += piece.slice(0, Math.max(0, maxChars - out.length)) + "…";
      full = true;
    } else out += piece;
  };
  const newline = (level) => indent > 0 ? "\\n" + " ".repeat(indent * level) : "";
  const scalar = (v) => {
    if (typeof v === "string") return JSON.stringify(v);
    if (typeof v === "number") return Number.isFinite(v) ? String(v) : "null";
    if (typeof v === "boolean") return v ? "true" : "false";
    return "null";
  };
  const walk = (v, level) => {
    if (full) return;
    if (v === null || typeof v !== "object") return write(scalar(v));
    const isArray = Array.isArray(v);
    const keys = isArray ? null : Object.keys(v);
    const count = isArray ? v.length : keys.length;
    if (count === 0) return write(isArray ? "[]" : "{}");
    if (level >= maxDepth) return write(isArray ? "[…]" : "{…}");
    write(isArray ? "[" : "{");
    for (let i = 0; i < count && !full; i++) {
      if (i > 0) write(",");
      write(newline(level + 1));
      if (!isArray) write(JSON.stringify(keys[i]) + (indent > 0 ? ": " : ":"));
      walk(isArray ? v[i] : v[keys[i]], level + 1);
    }
    write(newline(level));
    write(isArray ? "]" : "}");
  };
  walk(value, 0);
  return out;
}

/** A list of untrusted values as text, joined with sep. */
function joinText(values, sep) {
  return Array.isArray(values) ? values.map((v) => text(v)).join(sep) : "";
}

function isObject(value) {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

/** The objects of an untrusted list (anything else in it is skipped). */
function objects(list) {
  return Array.isArray(list) ? list.filter(isObject) : [];
}

function clear(el) {
  el.replaceChildren();
  return el;
}

function showBanner(message, kind = "error") {
  const banner = $("banner");
  clear(banner).append(
    h("span", {}, message),
    h("button", { type: "button", class: "ghost small", onclick: hideBanner }, "Dismiss"),
  );
  banner.className = "banner " + kind;
  banner.hidden = false;
  clearTimeout(state.bannerTimer);
  if (kind === "info") state.bannerTimer = setTimeout(hideBanner, 6000);
}

function hideBanner() {
  $("banner").hidden = true;
}

// ---------------------------------------------------------------- formatting

function toMs(value) {
  if (typeof value === "number" && Number.isFinite(value)) {
    // Seconds (FTL "timestamp") versus milliseconds: anything before 2001 in ms is seconds.
    return value < 1e12 ? value * 1000 : value;
  }
  if (typeof value === "string" && value !== "") {
    const parsed = Date.parse(value);
    return Number.isNaN(parsed) ? null : parsed;
  }
  return null;
}

function formatAgo(value) {
  const ms = toMs(value);
  if (ms === null) return "never";
  const seconds = Math.round((Date.now() - ms) / 1000);
  if (seconds < 0) return "just now";
  if (seconds < 5) return "just now";
  if (seconds < 90) return seconds + " s ago";
  const minutes = Math.round(seconds / 60);
  if (minutes < 90) return minutes + " min ago";
  const hours = Math.round(minutes / 60);
  if (hours < 36) return hours + " h ago";
  return Math.round(hours / 24) + " d ago";
}

function formatTime(value) {
  const ms = toMs(value);
  return ms === null ? "—" : new Date(ms).toLocaleString();
}

function isNum(value) {
  return typeof value === "number" && Number.isFinite(value);
}

function fixed(value, digits = 1) {
  return isNum(value) ? value.toFixed(digits) : "—";
}

function formatMb(mb) {
  if (!isNum(mb)) return "—";
  if (mb >= 1024) return (mb / 1024).toFixed(1) + " GiB";
  return mb.toFixed(0) + " MiB";
}

function formatGb(gb) {
  if (!isNum(gb)) return "—";
  if (gb >= 1024) return (gb / 1024).toFixed(2) + " TiB";
  return gb.toFixed(1) + " GiB";
}

function formatBytes(bytes) {
  if (!isNum(bytes)) return "—";
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return (unit === 0 ? value.toFixed(0) : value.toFixed(1)) + " " + units[unit];
}

function formatRate(bytesPerSecond) {
  return isNum(bytesPerSecond) ? formatBytes(bytesPerSecond) + "/s" : "—";
}

function formatMs(ms) {
  return ms < 1000 ? Math.round(ms) + " ms" : formatDuration(ms / 1000);
}

function formatDuration(seconds) {
  if (!isNum(seconds)) return "—";
  const s = Math.floor(seconds);
  const d = Math.floor(s / 86400);
  const hh = Math.floor((s % 86400) / 3600);
  const mm = Math.floor((s % 3600) / 60);
  if (d > 0) return d + "d " + hh + "h";
  if (hh > 0) return hh + "h " + mm + "m";
  if (mm > 0) return mm + "m " + (s % 60) + "s";
  return s + "s";
}

/** "412.0 / 931.0 GiB" when both sides share a unit, else "900 MiB / 1.5 GiB". */
function formatPair(used, total, format) {
  const a = format(used);
  const b = format(total);
  const unitA = a.split(" ")[1];
  return unitA !== undefined && unitA === b.split(" ")[1] ? a.split(" ")[0] + " / " + b : a + " / " + b;
}

function percent(used, total) {
  return isNum(used) && isNum(total) && total > 0 ? (used / total) * 100 : null;
}

const BADGE_KINDS = {
  online: "good", completed: "good", running: "good", acked: "info",
  pending: "warn", delivered: "info", starting: "info", stopping: "warn", draining: "warn",
  error: "bad", failed: "bad", timeout: "bad", crashed: "bad",
  offline: "dim", stopped: "dim", active: "good", revoked: "dim",
};

function badge(text) {
  const value = typeof text === "string" && text !== "" ? text : "unknown";
  return h("span", { class: "badge " + (BADGE_KINDS[value] ?? "dim"), dataset: { status: value } },
    value);
}

/** What a legacy worker is (protocol v1.1: registered without instance_id). */
const LEGACY_NOTE = "FineTuneLab agent, no signature checks, at-most-once";

/** The mark of a legacy worker, or null. */
function legacyMark(worker) {
  return worker.legacy === true
    ? h("span", { class: "badge warn legacy", title: LEGACY_NOTE, dataset: { legacy: "true" } },
      "FineTuneLab agent")
    : null;
}

function bar(pct) {
  const track = h("div", { class: "bar" });
  const fill = h("div", { class: "bar-fill" });
  if (isNum(pct)) {
    const clamped = Math.max(0, Math.min(100, pct));
    fill.style.width = clamped.toFixed(1) + "%";
    if (clamped >= 90) fill.classList.add("hot");
    else if (clamped >= 70) fill.classList.add("warm");
  }
  track.append(fill);
  return track;
}

const SVG_NS = "http://www.w3.org/2000/svg";

/** A small line chart of values (0..max) over time; gaps (null) break the line. */
function sparkline(values, max, label) {
  const svg = document.createElementNS(SVG_NS, "svg");
  svg.setAttribute("viewBox", "0 0 100 24");
  svg.setAttribute("preserveAspectRatio", "none");
  svg.setAttribute("class", "spark");
  svg.setAttribute("role", "img");
  svg.setAttribute("aria-label", label);
  const step = values.length > 1 ? 100 / (values.length - 1) : 0;
  let points = [];
  const flush = () => {
    if (points.length > 1) {
      const line = document.createElementNS(SVG_NS, "polyline");
      line.setAttribute("points", points.join(" "));
      svg.append(line);
    }
    points = [];
  };
  values.forEach((value, i) => {
    if (!isNum(value)) return flush();
    const y = 23 - (Math.max(0, Math.min(max, value)) / max) * 22;
    points.push((i * step).toFixed(2) + "," + y.toFixed(2));
  });
  flush();
  const title = document.createElementNS(SVG_NS, "title");
  title.textContent = label;
  svg.append(title);
  return svg;
}

function shortId(id) {
  return typeof id === "string" && id.length > 14 ? id.slice(0, 8) + "…" : text(id);
}

// ---------------------------------------------------------------- admin API

class ApiError extends Error {
  constructor(status, message, code) {
    super(message);
    this.name = "ApiError";
    this.status = status;
    this.code = code;
  }
}

async function api(path, init = {}) {
  const headers = { Accept: "application/json", Authorization: "Bearer " + state.token };
  if (init.body !== undefined) headers["Content-Type"] = "application/json";
  let response;
  try {
    response = await fetch(path, { ...init, headers, cache: "no-store", credentials: "omit" });
  } catch {
    throw new ApiError(0, "The control plane cannot be reached.", "network");
  }
  let body = null;
  try {
    body = await response.json();
  } catch {
    body = null;
  }
  if (response.status === 401) {
    signOut("The admin token was rejected. Sign in again.");
    throw new ApiError(401, "unauthorized", body?.code);
  }
  if (!response.ok) {
    const message = typeof body?.error === "string" ? body.error : "HTTP " + response.status;
    throw new ApiError(response.status, message, body?.code);
  }
  return body ?? {};
}

function workerPath(id) {
  return "/api/workers/" + encodeURIComponent(id);
}

// ---------------------------------------------------------------- sign in / out

function signOut(message) {
  sessionStorage.removeItem(TOKEN_KEY);
  state.token = "";
  state.workers = [];
  // undefined never equals a route's worker id (null or a string), so the next sign-in
  // rebuilds the detail pane instead of showing the previous session's.
  state.formWorkerId = undefined;
  stopRefresh();
  render();
  if (message) {
    const error = $("login-error");
    error.textContent = message;
    error.hidden = false;
  }
}

async function onLogin(event) {
  event.preventDefault();
  const input = $("token");
  const token = input.value.trim();
  const error = $("login-error");
  error.hidden = true;
  if (token === "") return;
  state.token = token;
  try {
    await api("/api/workers?limit=1");
  } catch (e) {
    state.token = "";
    if (e.status !== 401) {
      error.textContent = e.message;
      error.hidden = false;
    }
    return;
  }
  sessionStorage.setItem(TOKEN_KEY, token);
  input.value = "";
  render();
}

// ---------------------------------------------------------------- routing

function parseRoute() {
  const hash = location.hash.replace(/^#/, "");
  const parts = hash.split("/").filter((p) => p !== "");
  if (parts[0] === "keys") return { view: "keys", workerId: null };
  if (parts[0] === "commands") return { view: "commands", workerId: null };
  if (parts[0] === "workers" && parts[1]) {
    return { view: "workers", workerId: safeDecode(parts[1]) };
  }
  return { view: "workers", workerId: null };
}

/** decodeURIComponent that never throws: a malformed escape (%E0%A4%A) is kept as typed. */
function safeDecode(part) {
  try {
    return decodeURIComponent(part);
  } catch {
    return part;
  }
}

function render() {
  const signedIn = state.token !== "";
  $("login").hidden = signedIn;
  $("nav").hidden = !signedIn;
  $("sign-out").hidden = !signedIn;
  state.route = parseRoute();
  $("workers-view").hidden = !signedIn || state.route.view !== "workers";
  $("keys-view").hidden = !signedIn || state.route.view !== "keys";
  $("commands-view").hidden = !signedIn || state.route.view !== "commands";
  for (const link of document.querySelectorAll("#nav a")) {
    link.classList.toggle("active", link.dataset.route === state.route.view);
  }
  if (!signedIn) {
    $("token").focus();
    return;
  }
  if (state.route.view === "workers") {
    if (state.route.workerId !== state.formWorkerId) renderDetailShell();
    refresh();
  } else if (state.route.view === "commands") {
    refresh();
  } else {
    stopRefresh();
    loadKeys();
  }
}

// ---------------------------------------------------------------- refresh loop

function stopRefresh() {
  if (state.timer !== null) clearTimeout(state.timer);
  state.timer = null;
}

function scheduleRefresh() {
  stopRefresh();
  if (state.token !== "" && (state.route.view === "workers" || state.route.view === "commands")) {
    state.timer = setTimeout(refresh, REFRESH_MS);
  }
}

async function refresh() {
  if (state.refreshing) {
    // Something changed while a refresh is in flight (a command sent, another worker opened):
    // run once more right after it instead of waiting for the next tick.
    state.refreshAgain = true;
    return;
  }
  state.refreshing = true;
  state.refreshAgain = false;
  stopRefresh();
  try {
    await Promise.all([
      loadWorkers(),
      state.route.workerId ? loadDetail(state.route.workerId) : null,
      state.route.view === "commands" ? loadCommands() : null,
    ]);
    $("refresh-state").textContent = "updated " + new Date().toLocaleTimeString();
  } catch (e) {
    if (e.status !== 401) {
      $("refresh-state").textContent = "update failed";
      showBanner(e.message);
    }
  } finally {
    state.refreshing = false;
    if (state.refreshAgain && state.token !== "") refresh();
    else scheduleRefresh();
  }
}

// ---------------------------------------------------------------- worker list

async function loadWorkers() {
  const status = $("status-filter").value;
  const query = new URLSearchParams({ limit: "200" });
  if (status) query.set("status", status);
  const body = await api("/api/workers?" + query);
  state.workers = objects(body.workers);
  renderWorkers();
}

function renderWorkers() {
  const rows = clear($("worker-rows"));
  $("worker-count").textContent = String(state.workers.length);
  $("workers-empty").hidden = state.workers.length > 0;
  for (const worker of state.workers) {
    const id = text(worker.worker_id);
    const online = worker.is_online === true;
    const selected = id === state.route.workerId;
    const row = h("tr", {
      class: selected ? "selected" : "",
      dataset: { workerId: id },
      tabIndex: 0,
      onclick: () => openWorker(id),
      onkeydown: (event) => {
        if (event.key === "Enter") openWorker(id);
      },
    },
      h("td", {},
        h("div", { class: "worker-name" },
          h("span", { class: "dot " + (online ? "on" : "off"), title: online ? "online" : "offline" }),
          worker.hostname ?? "(no hostname)"),
        h("div", { class: "muted small mono" }, id,
          worker.platform ? " · " + text(worker.platform) : "",
          worker.version ? " · v" + text(worker.version) : "")),
      h("td", {}, badge(worker.status), " ", legacyMark(worker)),
      h("td", { title: formatTime(worker.last_heartbeat) }, formatAgo(worker.last_heartbeat)),
    );
    rows.append(row);
  }
}

async function loadCommands() {
  const status = $("command-status-filter").value;
  const query = new URLSearchParams({ limit: "100" });
  if (status) query.set("status", status);
  const body = await api("/api/workers/commands?" + query);
  const commands = objects(body.commands);
  $("command-count").textContent = String(commands.length);
  clear($("all-commands")).append(commandTable(commands, {
    id: "all-command-rows", showWorker: true,
    empty: status ? "No " + status + " commands." : "No commands yet.",
  }));
}

function openWorker(id) {
  location.hash = "#/workers/" + encodeURIComponent(id);
}

// ---------------------------------------------------------------- worker detail

function renderDetailShell() {
  const detail = clear($("detail"));
  const id = state.route.workerId;
  state.formWorkerId = id;
  if (!id) {
    detail.append(h("div", { class: "card empty-detail" },
      h("p", { class: "muted" }, "Select a worker to see its metrics and commands.")));
    return;
  }
  detail.append(
    h("div", { id: "detail-info", class: "card" }, h("p", { class: "muted" }, "Loading…")),
    h("div", { id: "detail-metrics" }),
    h("div", { class: "card" },
      h("div", { class: "card-head" }, h("h3", {}, "Send a command")),
      commandForm(id)),
    h("div", { class: "card" },
      h("div", { class: "card-head" }, h("h3", {}, "Recent commands")),
      h("div", { id: "detail-commands" }, h("p", { class: "muted" }, "Loading…"))),
  );
}

function commandForm(workerId) {
  const type = h("select", { id: "command-type", name: "command_type" },
    COMMAND_TYPES.map((t) => h("option", { value: t }, t)));
  type.value = "ping";
  const params = h("textarea", {
    id: "command-params", name: "params", rows: 3, spellcheck: false,
    value: JSON.stringify(PARAMS_TEMPLATES.ping),
  });
  const timeout = h("input", {
    id: "command-timeout", name: "timeout_seconds", type: "number",
    min: TIMEOUT_BOUNDS.min, max: TIMEOUT_BOUNDS.max, value: "300", required: true,
  });
  const message = h("p", { id: "command-message", class: "small", role: "status" });
  type.addEventListener("change", () => {
    params.value = JSON.stringify(PARAMS_TEMPLATES[type.value] ?? {}, null, 0);
  });
  const submit = h("button", { type: "submit", class: "primary" }, "Send");
  const form = h("form", { id: "command-form", class: "command-form", autocomplete: "off" },
    h("label", {}, "Command", type),
    h("label", { class: "grow" }, "Params (JSON)", params),
    h("label", {}, "Timeout (s)", timeout),
    h("div", { class: "form-actions" }, submit),
    message,
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    message.className = "small";
    let parsed;
    try {
      parsed = params.value.trim() === "" ? {} : JSON.parse(params.value);
    } catch (e) {
      message.className = "small error";
      message.textContent = "Params are not valid JSON: " + e.message;
      return;
    }
    if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed)) {
      message.className = "small error";
      message.textContent = "Params must be a JSON object, like {}.";
      return;
    }
    const seconds = Number(timeout.value);
    if (!Number.isInteger(seconds) || seconds < TIMEOUT_BOUNDS.min || seconds > TIMEOUT_BOUNDS.max) {
      message.className = "small error";
      message.textContent = "Timeout must be a whole number of seconds from " +
        TIMEOUT_BOUNDS.min + " to " + TIMEOUT_BOUNDS.max + ".";
      return;
    }
    submit.disabled = true;
    try {
      const body = await api("/api/workers/commands", {
        method: "POST",
        body: JSON.stringify({
          worker_id: workerId, command_type: type.value, params: parsed, timeout_seconds: seconds,
        }),
      });
      message.className = "small ok";
      message.textContent = "Queued " + type.value + " (" + shortId(body.command_id) + "), status " +
        (body.status ?? "pending") + ".";
      await refresh();
    } catch (e) {
      if (e.status !== 401) {
        message.className = "small error";
        message.textContent = "Not sent: " + e.message;
      }
    } finally {
      submit.disabled = false;
    }
  });
  return form;
}

async function loadDetail(id) {
  let body;
  try {
    body = await api(workerPath(id));
  } catch (e) {
    if (e.status === 404 && id === state.route.workerId) {
      const info = $("detail-info");
      if (info) clear(info).append(h("p", { class: "muted" }, "This worker no longer exists."));
      return;
    }
    throw e;
  }
  if (id !== state.route.workerId || state.formWorkerId !== id) return;
  const worker = isObject(body.worker) ? body.worker : {};
  const samples = objects(body.metrics);
  const commands = objects(body.commands);
  renderInfo(worker);
  renderMetrics(latestSample(samples), worker, samples);
  renderCommands(commands);
}

function latestSample(samples) {
  let best = null;
  for (const raw of samples) {
    const sample = raw && typeof raw.sample === "object" && raw.sample !== null
      ? { ...raw, ...raw.sample }
      : raw;
    if (!sample || typeof sample !== "object") continue;
    const t = toMs(sample.ts ?? sample.received_at ?? sample.created_at) ?? 0;
    const bt = best === null ? -1 : (toMs(best.ts ?? best.received_at ?? best.created_at) ?? 0);
    const seq = isNum(sample.seq) ? sample.seq : 0;
    const bestSeq = best !== null && isNum(best.seq) ? best.seq : 0;
    if (best === null || t > bt || (t === bt && seq > bestSeq)) best = sample;
  }
  return best;
}

function renderInfo(worker) {
  const info = $("detail-info");
  if (!info) return;
  const id = text(worker.worker_id ?? state.route.workerId);
  const meta = worker.metadata && typeof worker.metadata === "object" ? worker.metadata : {};
  const online = worker.is_online === true;
  const confirmBox = h("span", { class: "confirm", hidden: true },
    h("span", { class: "small" }, "Delete this worker and its history?"),
    h("button", { type: "button", class: "danger", id: "confirm-delete", onclick: () => deleteWorker(id) },
      "Delete"),
    h("button", { type: "button", class: "ghost", onclick: () => {
      confirmBox.hidden = true;
      deleteButton.hidden = false;
    } }, "Cancel"));
  const deleteButton = h("button", { type: "button", class: "danger ghost", id: "delete-worker",
    onclick: () => {
      deleteButton.hidden = true;
      confirmBox.hidden = false;
    } }, "Delete worker");
  const facts = [
    ["Worker ID", id, "mono wide"],
    ["Platform", joinText([worker.platform, meta.arch].filter(Boolean), " / ") || "—"],
    ["OS", meta.os_release ?? "—"],
    ["Agent version", worker.version ?? "—"],
    ["Runtime", meta.runtime ?? "—"],
    ["CPUs", meta.cpu_count ?? "—"],
    ["Max concurrency", worker.max_concurrency ?? "—"],
    ["Current load", worker.current_load ?? "—"],
    ["Capabilities", joinText(worker.capabilities, ", ") || "—"],
    ["Agent kind", worker.legacy === true ? LEGACY_NOTE : "worker-agent (signed commands)"],
    ["Registered", formatTime(worker.created_at ?? worker.registered_at)],
    ["Last heartbeat", worker.last_heartbeat ? formatAgo(worker.last_heartbeat) + " · " +
      formatTime(worker.last_heartbeat) : "never"],
  ];
  clear(info).append(
    h("div", { class: "detail-head" },
      h("div", {},
        h("h2", { id: "detail-hostname" },
          h("span", { class: "dot " + (online ? "on" : "off") }), worker.hostname ?? "(no hostname)"),
        h("div", { class: "detail-status" }, badge(worker.status), " ", legacyMark(worker))),
      h("div", { class: "detail-actions" }, deleteButton, confirmBox)),
    h("dl", { class: "facts" },
      facts.map(([label, value, cls]) =>
        h("div", {}, h("dt", {}, label), h("dd", { class: cls ?? "" }, text(value, "—"))))),
  );
}

async function deleteWorker(id) {
  try {
    await api(workerPath(id), { method: "DELETE" });
  } catch (e) {
    if (e.status !== 401) showBanner("Could not delete the worker: " + e.message);
    return;
  }
  showBanner("Worker " + id + " deleted.", "info");
  location.hash = "#/";
}

function metricCard(title, main, pct, ...rest) {
  return h("div", { class: "metric" },
    h("div", { class: "metric-title" }, title),
    h("div", { class: "metric-main" }, main),
    pct === undefined ? null : bar(pct),
    rest.map((line) => line instanceof Node ? line : line && h("div", { class: "muted small" }, line)));
}

function renderMetrics(sample, worker, samples) {
  const box = $("detail-metrics");
  if (!box) return;
  clear(box);
  // The latest full sample wins; a heartbeat's flat snapshot is the fallback.
  const snapshot = [worker.metrics, worker.last_metrics, worker.snapshot]
    .find((m) => m && typeof m === "object") ?? {};
  const m = sample ?? snapshot;
  if (!sample && Object.keys(snapshot).length === 0) {
    box.append(h("div", { class: "card" }, h("h3", {}, "Metrics"),
      h("p", { class: "muted" }, "No metrics received yet.")));
    return;
  }
  const cpu = m.cpu_percent;
  const memPct = percent(m.memory_used_mb, m.memory_total_mb);
  const diskPct = percent(m.disk_used_gb, m.disk_total_gb);
  const trading = m.trading && typeof m.trading === "object" ? m.trading : {};
  const tradingStatus = trading.status ?? m.trading_status;
  const loadAvg = Array.isArray(m.load_avg) ? "load " + m.load_avg.map((v) => fixed(v, 2)).join(" ") : null;
  const cores = Array.isArray(m.cpu_per_core) ? m.cpu_per_core.length + " cores" : null;
  // Oldest first, for the small history charts under CPU and memory.
  const history = samples.filter((x) => x && typeof x === "object")
    .sort((a, b) => (toMs(a.ts) ?? 0) - (toMs(b.ts) ?? 0));
  const trend = (pick, label) =>
    history.length > 1 ? sparkline(history.map(pick), 100, label + ", last " + history.length + " samples") : null;
  const cards = h("div", { class: "metrics-grid" },
    metricCard("CPU", fixed(cpu) + " %", cpu, [cores, loadAvg].filter(Boolean).join(" · ") || null,
      trend((x) => x.cpu_percent, "CPU %")),
    metricCard("Memory", formatPair(m.memory_used_mb, m.memory_total_mb, formatMb), memPct,
      isNum(m.memory_available_mb) ? formatMb(m.memory_available_mb) + " available" : null,
      isNum(m.swap_total_mb) && m.swap_total_mb > 0
        ? "swap " + formatMb(m.swap_used_mb) + " / " + formatMb(m.swap_total_mb) : null,
      trend((x) => percent(x.memory_used_mb, x.memory_total_mb), "Memory used %")),
    metricCard("Disk", formatPair(m.disk_used_gb, m.disk_total_gb, formatGb), diskPct),
    metricCard("Network", "↓ " + formatMb(m.network_recv_mb), undefined,
      "received since boot", "↑ " + formatMb(m.network_sent_mb) + " sent"),
    h("div", { class: "metric", id: "trading-card" },
      h("div", { class: "metric-title" }, "Trading"),
      h("div", { class: "metric-main" }, badge(tradingStatus)),
      h("div", { class: "muted small" },
        "pid " + text(trading.pid, "—") + " · up " + formatDuration(trading.uptime_s)),
      h("div", { class: "muted small" },
        text(trading.active_trades ?? m.active_trades, "0") + " active trades · " +
          text(trading.restarts, "0") + " restarts")),
  );
  const when = !sample ? "From the last heartbeat"
    : (sample.stream === "heartbeat" ? "Heartbeat " : "Sample ") + text(sample.seq) + " · " +
      formatAgo(sample.ts);
  const card = h("div", { class: "card" },
    h("div", { class: "card-head" }, h("h3", {}, "Latest metrics"),
      h("span", { class: "muted small", title: formatTime(sample?.ts) }, when)),
    cards);
  const gpus = objects(m.gpus);
  card.append(h("h4", {}, "GPUs"));
  if (gpus.length === 0) {
    card.append(h("p", { class: "muted small" }, sample ? "No GPU reported." : "Not in heartbeats."));
  } else {
    card.append(table(["#", "Name", "Utilisation", "Memory", "Temp", "Power"], gpus.map((g) => [
      g.index ?? "", g.name ?? "",
      h("div", { class: "cell-bar" }, fixed(g.util_percent, 0) + " %", bar(g.util_percent)),
      formatMb(g.memory_used_mb) + " / " + formatMb(g.memory_total_mb),
      isNum(g.temperature_c) ? g.temperature_c.toFixed(0) + " °C" : "—",
      isNum(g.power_w) ? g.power_w.toFixed(0) + " W" : "—",
    ]), "gpus"));
  }
  const disks = objects(m.disks);
  if (disks.length > 0) {
    card.append(h("h4", {}, "File systems"), table(["Mount", "Type", "Used", "Size", ""], disks.map((d) => [
      d.mount ?? "", d.fs_type ?? "", formatBytes(d.used_bytes), formatBytes(d.total_bytes),
      bar(percent(d.used_bytes, d.total_bytes)),
    ])));
  }
  const net = objects(m.net);
  if (net.length > 0) {
    card.append(h("h4", {}, "Network interfaces"), table(["Interface", "Received", "Sent", "In", "Out"],
      net.map((n) => [n.iface ?? "", formatBytes(n.rx_bytes), formatBytes(n.tx_bytes),
        formatRate(n.rx_bytes_per_s), formatRate(n.tx_bytes_per_s)])));
  }
  const agent = m.agent && typeof m.agent === "object" ? m.agent : null;
  if (agent) {
    card.append(h("p", { class: "muted small agent-line" },
      "Agent: " + formatMb(agent.rss_mb) + " RSS · " + fixed(agent.cpu_percent) + " % CPU · up " +
        formatDuration(agent.uptime_s) + " · spool " + text(agent.spool_depth, "0") + " · dropped samples " +
        text(agent.dropped_samples, "0")));
  }
  box.append(card);
}

function table(headers, rows, id) {
  return h("div", { class: "table-wrap" }, h("table", { class: "data", id },
    h("thead", {}, h("tr", {}, headers.map((label) => h("th", {}, label)))),
    h("tbody", {}, rows.map((cells) => h("tr", {}, cells.map((cell) => h("td", {}, cell)))))));
}

function renderCommands(commands) {
  const box = $("detail-commands");
  if (!box) return;
  clear(box).append(commandTable(commands, {
    id: "command-rows", showWorker: false, empty: "No commands sent to this worker yet.",
  }));
}

function commandTable(commands, { id, showWorker, empty }) {
  if (commands.length === 0) return h("p", { class: "muted" }, empty);
  const sorted = [...commands].sort((a, b) => (toMs(b.created_at) ?? 0) - (toMs(a.created_at) ?? 0));
  const headers = showWorker
    ? ["Created", "Worker", "Command", "Status", "Result"]
    : ["Created", "Command", "Status", "Result"];
  return h("div", { class: "table-wrap" }, h("table", { class: "data commands", id },
    h("thead", {}, h("tr", {}, headers.map((l) => h("th", {}, l)))),
    h("tbody", {}, sorted.map((command) => commandRow(command, showWorker)))));
}

function workerCell(workerId) {
  const id = text(workerId);
  const known = state.workers.find((w) => w.worker_id === id);
  return h("td", {},
    h("a", { href: "#/workers/" + encodeURIComponent(id) }, known?.hostname ?? shortId(id)),
    h("div", { class: "muted small mono", title: id }, shortId(id)));
}

function commandRow(command, showWorker) {
  const id = text(command.command_id ?? command.id);
  const result = command.result && typeof command.result === "object" ? command.result : command;
  const status = command.status ?? result.status;
  const pieces = [];
  if (result.output) pieces.push(h("div", {}, text(result.output)));
  if (result.error) {
    pieces.push(h("div", { class: "error" }, text(result.error) +
      (result.error_code ? " (" + text(result.error_code) + ")" : "")));
  } else if (result.error_code) pieces.push(h("div", { class: "error" }, text(result.error_code)));
  if (result.data && typeof result.data === "object" && Object.keys(result.data).length > 0) {
    pieces.push(h("details", {}, h("summary", {}, "data"),
      h("pre", { class: "json" }, formatJson(result.data))));
  }
  const params = command.params && typeof command.params === "object" && Object.keys(command.params).length > 0
    ? h("div", { class: "muted small mono" }, formatJson(command.params, { indent: 0, maxChars: 500 }))
    : null;
  const delivered = command.delivery_count ?? command.deliveries;
  const took = isNum(result.started_at) && isNum(result.finished_at) && result.finished_at >= result.started_at
    ? "took " + formatMs(result.finished_at - result.started_at)
    : null;
  return h("tr", { dataset: { commandId: id, status: text(status) } },
    h("td", { title: formatTime(command.created_at) }, formatAgo(command.created_at)),
    showWorker ? workerCell(command.worker_id) : null,
    h("td", {}, h("div", { class: "mono" }, text(command.command_type)),
      h("div", { class: "muted small mono", title: id }, shortId(id)), params),
    h("td", {}, badge(status),
      isNum(delivered) && delivered > 0 ? h("div", { class: "muted small" }, "delivered ×" + delivered) : null,
      took ? h("div", { class: "muted small" }, took) : null),
    h("td", { class: "result" }, pieces.length > 0 ? pieces : h("span", { class: "muted" }, "—")),
  );
}

// ---------------------------------------------------------------- keys

async function onCreateKey(event) {
  event.preventDefault();
  const name = $("key-name").value.trim();
  const scope = $("key-scope").value;
  const out = $("key-result");
  if (name === "") return;
  let body;
  try {
    body = await api("/api/admin/keys", { method: "POST", body: JSON.stringify({ name, scopes: [scope] }) });
  } catch (e) {
    if (e.status !== 401) {
      clear(out).append(h("p", { class: "error" }, "Could not create the key: " + e.message));
      out.hidden = false;
    }
    return;
  }
  $("key-name").value = "";
  const keyField = h("input", { id: "new-key", class: "mono", readOnly: true, value: text(body.key),
    onfocus: (e) => e.target.select() });
  const copy = h("button", { type: "button", onclick: async () => {
    try {
      await navigator.clipboard.writeText(keyField.value);
      copy.textContent = "Copied";
    } catch {
      keyField.select();
      copy.textContent = "Press Ctrl+C";
    }
  } }, "Copy");
  clear(out).append(
    h("p", {}, h("strong", {}, "Key “" + text(body.name, name) + "” created."),
      " Copy it now: it will not be shown again."),
    h("div", { class: "key-box" }, keyField, copy),
    h("p", { class: "muted small" }, "Prefix " + text(body.key_prefix) + " · scopes " +
      (Array.isArray(body.scopes) ? joinText(body.scopes, ", ") : scope) + " · id " + text(body.id)),
    h("p", { class: "muted small" }, "Put it in the agent's config as api_key, or run: worker-agent init --api-key <key> --base-url " +
      location.origin),
  );
  out.hidden = false;
  await loadKeys();
}

async function loadKeys() {
  const box = $("key-list");
  let body;
  try {
    body = await api("/api/admin/keys");
  } catch (e) {
    if (e.status === 404) {
      // A server without the key list (it is an addition to the admin API): hide the card.
      $("key-list-card").hidden = true;
    } else if (e.status !== 401) {
      clear(box).append(h("p", { class: "error" }, "Could not load the keys: " + e.message));
    }
    return;
  }
  $("key-list-card").hidden = false;
  const keys = objects(body.keys);
  $("key-count").textContent = String(keys.length);
  clear(box);
  if (keys.length === 0) {
    box.append(h("p", { class: "muted" }, "No keys yet."));
    return;
  }
  box.append(h("div", { class: "table-wrap" }, h("table", { class: "data", id: "key-rows" },
    h("thead", {}, h("tr", {},
      ["Name", "Prefix", "Scopes", "Worker", "Created", "Last used", "", ""].map((l) => h("th", {}, l)))),
    h("tbody", {}, keys.map(keyRow)))));
}

function keyRow(key) {
  const id = text(key.id);
  const active = key.active !== false;
  const worker = typeof key.worker_id === "string" && key.worker_id !== ""
    ? h("a", { href: "#/workers/" + encodeURIComponent(key.worker_id), class: "mono small" },
      shortId(key.worker_id))
    : h("span", { class: "muted" }, "—");
  const actions = h("td", { class: "actions" });
  if (active) {
    const confirmBox = h("span", { class: "confirm", hidden: true },
      h("button", { type: "button", class: "danger small", onclick: () => revokeKey(id) }, "Revoke"),
      h("button", { type: "button", class: "ghost small", onclick: () => {
        confirmBox.hidden = true;
        ask.hidden = false;
      } }, "Cancel"));
    const ask = h("button", { type: "button", class: "danger ghost small", onclick: () => {
      ask.hidden = true;
      confirmBox.hidden = false;
    } }, "Revoke…");
    actions.append(ask, confirmBox);
  }
  return h("tr", { dataset: { keyId: id, active: String(active) } },
    h("td", {}, text(key.name)),
    h("td", { class: "mono small" }, text(key.key_prefix) + "…"),
    h("td", {}, joinText(key.scopes, ", ")),
    h("td", {}, worker),
    h("td", { title: formatTime(key.created_at) }, formatAgo(key.created_at)),
    h("td", { title: formatTime(key.last_used_at) }, key.last_used_at ? formatAgo(key.last_used_at) : "never"),
    h("td", {}, badge(active ? "active" : "revoked")),
    actions,
  );
}

async function revokeKey(id) {
  try {
    await api("/api/admin/keys/" + encodeURIComponent(id) + "/revoke", { method: "POST", body: "{}" });
  } catch (e) {
    if (e.status !== 401) showBanner("Could not revoke the key: " + e.message);
    return;
  }
  await loadKeys();
}

// ---------------------------------------------------------------- start

function start() {
  $("login-form").addEventListener("submit", onLogin);
  $("sign-out").addEventListener("click", () => signOut(""));
  $("key-form").addEventListener("submit", onCreateKey);
  $("status-filter").addEventListener("change", () => refresh());
  $("command-status-filter").addEventListener("change", () => refresh());
  window.addEventListener("hashchange", render);
  document.addEventListener("visibilitychange", () => {
    if (!document.hidden && state.token !== "") refresh();
  });
  render();
}

start();
`;
