/**
 * The dashboard's entry point, bundled into `/dashboard/app.js` (see
 * `src/build/dashboard_bundle.ts`): sign-in, the hash router, the live event stream and the
 * views. The page talks only to the admin API of this origin, authenticated by an HttpOnly
 * session cookie it never sees.
 *
 * @module
 */
import "uplot/dist/uPlot.min.css";
import "./style.css";
import type {
  CommandCatalogEntry,
  CommandCatalogResponse,
  LiveEvent,
  SessionResponse,
  SignedOutResponse,
} from "../../admin_api.ts";
import { Api, SESSION_PATH } from "./api.ts";
import { catalogOf } from "./command_form.ts";
import type { AppContext, View } from "./context.ts";
import { byId, h, replace } from "./dom.ts";
import { type LiveState, LiveUpdates } from "./live.ts";
import { parseRoute, type Route, routeHash } from "./router.ts";
import { text, type Untrusted } from "./untrusted.ts";
import { mountCommands } from "./views/commands.ts";
import { mountFleet } from "./views/fleet.ts";
import { mountKeys } from "./views/keys.ts";
import { mountWorker } from "./views/worker.ts";

/** How often ages and staleness are redrawn (no request is made). */
const TICK_MS = 5000;

const main = byId("main");
const nav = byId("nav");
const signOutButton = byId<HTMLButtonElement>("sign-out");
const liveState = byId("live-state");
const banner = byId("banner");

let view: View | undefined;
let viewKind: Route["view"] | undefined;
let session: Untrusted<SessionResponse> | undefined;
let catalog: Untrusted<CommandCatalogEntry>[] = [];
let bannerTimer: ReturnType<typeof setTimeout> | undefined;

const api = new Api({
  onUnauthorized: (message) => signedOut(message === "HTTP 401" ? "" : message),
});

const live = new LiveUpdates({
  onEvent: (event: LiveEvent) => view?.onEvent(event),
  onOpen: (reconnected) => {
    if (reconnected) view?.refresh();
  },
  onState: (state: LiveState) => {
    liveState.dataset.state = state;
    liveState.textContent = state === "live"
      ? "Live"
      : state === "connecting"
      ? "Connecting…"
      : "Reconnecting…";
    liveState.title = state === "live"
      ? "Changes appear as they happen"
      : "The live connection is down; the page catches up when it is back";
  },
});

function showBanner(message: string, kind: "error" | "info" = "error"): void {
  const dismiss = h("button", { type: "button", class: "ghost small" }, "Dismiss");
  dismiss.addEventListener("click", hideBanner);
  replace(banner, h("span", null, message), dismiss);
  banner.className = `banner ${kind}`;
  banner.hidden = false;
  clearTimeout(bannerTimer);
  if (kind === "info") bannerTimer = setTimeout(hideBanner, 6000);
}

function hideBanner(): void {
  banner.hidden = true;
}

const context = (): AppContext => ({
  api,
  session: session ?? {},
  catalog,
  banner: showBanner,
  replaceRoute(route: Route) {
    history.replaceState(null, "", routeHash(route));
    render();
  },
  navigate(hash: string) {
    location.hash = hash;
  },
});

function unmount(): void {
  view?.unmount();
  view = undefined;
  viewKind = undefined;
}

/** Shows the view of the current address (signed in). */
function render(): void {
  if (!session) return;
  const route = parseRoute(location.hash);
  for (const link of nav.querySelectorAll<HTMLAnchorElement>("a")) {
    const current = link.dataset.route === (route.view === "worker" ? "fleet" : route.view);
    if (current) link.setAttribute("aria-current", "page");
    else link.removeAttribute("aria-current");
  }
  if (view && viewKind === route.view && view.update(route)) return;
  unmount();
  const ctx = context();
  switch (route.view) {
    case "fleet":
      view = mountFleet(main, ctx, route);
      document.title = "Fleet · FineTuneLab control plane";
      break;
    case "worker":
      view = mountWorker(main, ctx, route);
      document.title = "Worker · FineTuneLab control plane";
      break;
    case "commands":
      view = mountCommands(main, ctx, route);
      document.title = "Commands · FineTuneLab control plane";
      break;
    case "keys":
      view = mountKeys(main, ctx);
      document.title = "API keys · FineTuneLab control plane";
      break;
  }
  viewKind = route.view;
  main.querySelector<HTMLElement>("h1")?.focus({ preventScroll: true });
}

async function signedIn(info: Untrusted<SessionResponse>): Promise<void> {
  session = info;
  try {
    catalog = catalogOf(await api.get<CommandCatalogResponse>("/api/admin/command-types"));
  } catch {
    catalog = []; // the form falls back to the protocol's list with a JSON editor
  }
  nav.hidden = false;
  signOutButton.hidden = false;
  liveState.hidden = false;
  byId("version").textContent = `control plane ${text(info.version)}`;
  live.start();
  render();
}

function signedOut(message: string): void {
  session = undefined;
  live.stop();
  unmount();
  nav.hidden = true;
  signOutButton.hidden = true;
  liveState.hidden = true;
  showLogin(message);
}

function showLogin(message = ""): void {
  const token = h("input", {
    id: "token",
    name: "token",
    type: "password",
    required: true,
    spellcheck: false,
    autocomplete: "off",
    placeholder: "admin token",
  });
  const error = h("p", {
    id: "login-error",
    class: "error",
    hidden: message === "",
    attrs: { role: "alert" },
  }, message);
  const submit = h("button", { type: "submit", class: "primary" }, "Sign in");
  const form = h(
    "form",
    { id: "login-form", autocomplete: "off" },
    h("label", { htmlFor: "token" }, "Admin token"),
    token,
    error,
    submit,
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const value = token.value.trim();
    if (value === "") return;
    error.hidden = true;
    submit.disabled = true;
    try {
      const info = await api.post<SessionResponse>(SESSION_PATH, { token: value });
      token.value = "";
      await signedIn(info);
    } catch (e) {
      error.textContent = (e as { status?: number }).status === 401
        ? "The admin token was not accepted."
        : (e as Error).message;
      error.hidden = false;
      token.focus();
    } finally {
      submit.disabled = false;
    }
  });
  replace(
    main,
    h(
      "section",
      { id: "login", class: "login card", attrs: { "aria-labelledby": "login-title" } },
      h("h1", { id: "login-title" }, "Sign in"),
      h(
        "p",
        { class: "muted" },
        "Paste the control plane's admin token. It is exchanged for a session cookie that " +
          "this page cannot read, and is sent only to this server.",
      ),
      form,
      h(
        "p",
        { class: "muted small" },
        "The token was printed when the control plane first started, and is stored in its " +
          "data directory (or set with --admin-token / FTL_ADMIN_TOKEN).",
      ),
    ),
  );
  document.title = "Sign in · FineTuneLab control plane";
  token.focus();
}

async function start(): Promise<void> {
  signOutButton.addEventListener("click", async () => {
    try {
      await api.delete(SESSION_PATH);
    } catch {
      // Signed out here either way: the cookie is forgotten when it expires.
    }
    signedOut("");
  });
  byId("skip").addEventListener("click", (event) => {
    event.preventDefault();
    (main.querySelector<HTMLElement>("h1") ?? main).focus();
  });
  globalThis.addEventListener("hashchange", () => {
    hideBanner();
    render();
  });
  setInterval(() => {
    if (!document.hidden) view?.tick();
  }, TICK_MS);
  try {
    const info = await api.get<SessionResponse | SignedOutResponse>(SESSION_PATH);
    if (info.ok === true) await signedIn(info as Untrusted<SessionResponse>);
    else showLogin();
  } catch (error) {
    showLogin((error as Error).message);
  }
}

void start();
