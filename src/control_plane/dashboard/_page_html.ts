/**
 * The dashboard's HTML skeleton. It holds no data: `_app_js.ts` fills the empty containers
 * from the admin API with DOM nodes and text, never with markup.
 */
import { VERSION } from "../../version.ts";

/** What the admin API's `status` filter of the command list accepts, in lifecycle order. */
const COMMAND_STATUSES = ["pending", "delivered", "acked", "completed", "failed", "timeout"];

const COMMAND_STATUS_OPTIONS = COMMAND_STATUSES
  .map((status) => `            <option value="${status}">${status}</option>`)
  .join("\n");

/** The page served at `/`. */
export const PAGE_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>Workers · FineTuneLab control plane</title>
<link rel="icon" href="/dashboard/favicon.svg" type="image/svg+xml">
<link rel="stylesheet" href="/dashboard/style.css">
<script type="module" src="/dashboard/app.js"></script>
</head>
<body>
<header class="topbar">
  <div class="brand">
    <img src="/dashboard/favicon.svg" alt="" width="22" height="22">
    <span>FineTuneLab <strong>control plane</strong></span>
  </div>
  <nav id="nav" class="nav" hidden>
    <a href="#/" data-route="workers">Workers</a>
    <a href="#/commands" data-route="commands">Commands</a>
    <a href="#/keys" data-route="keys">API keys</a>
  </nav>
  <div class="topbar-end">
    <span id="refresh-state" class="muted" aria-live="polite"></span>
    <button id="sign-out" class="ghost" type="button" hidden>Sign out</button>
  </div>
</header>

<div id="banner" class="banner" role="alert" hidden></div>

<main>
  <section id="login" class="login card" hidden>
    <h1>Sign in</h1>
    <p class="muted">Paste the control plane's admin token. It stays in this browser tab
      (session storage) and is sent only to this server.</p>
    <form id="login-form" autocomplete="off">
      <label for="token">Admin token</label>
      <input id="token" name="token" type="password" required spellcheck="false"
        autocomplete="off" placeholder="admin token">
      <p id="login-error" class="error" role="alert" hidden></p>
      <button type="submit" class="primary">Sign in</button>
    </form>
    <p class="muted small">The token was printed when the control plane first started, and is
      stored in its data directory (or set with <code>--admin-token</code> /
      <code>FTL_ADMIN_TOKEN</code>).</p>
  </section>

  <section id="workers-view" class="workers-view" hidden>
    <div class="card list-card">
      <div class="card-head">
        <h2>Workers <span id="worker-count" class="count"></span></h2>
        <label class="inline">Status
          <select id="status-filter">
            <option value="">all</option>
            <option value="online">online</option>
            <option value="error">error</option>
            <option value="draining">draining</option>
            <option value="offline">offline</option>
          </select>
        </label>
      </div>
      <table class="workers">
        <thead><tr><th>Worker</th><th>Status</th><th>Last seen</th></tr></thead>
        <tbody id="worker-rows"></tbody>
      </table>
      <p id="workers-empty" class="empty" hidden>No workers yet. Create an API key, put it in an
        agent's config and start the agent.</p>
    </div>
    <div id="detail" class="detail">
      <div class="card empty-detail"><p class="muted">Select a worker to see its metrics and
        commands.</p></div>
    </div>
  </section>

  <section id="commands-view" class="commands-view" hidden>
    <div class="card">
      <div class="card-head">
        <h2>Commands <span id="command-count" class="count"></span></h2>
        <label class="inline">Status
          <select id="command-status-filter">
            <option value="">all</option>
${COMMAND_STATUS_OPTIONS}
          </select>
        </label>
      </div>
      <p class="muted small">The latest 100 commands across all workers, newest first. Send
        a command from a worker's page.</p>
      <div id="all-commands"><p class="muted">Loading…</p></div>
    </div>
  </section>

  <section id="keys-view" class="keys-view" hidden>
    <div class="card">
      <h2>Create a worker API key</h2>
      <p class="muted">One key per worker. The key is shown once; the server keeps only a
        hash of it.</p>
      <form id="key-form" class="row-form" autocomplete="off">
        <label>Name <input id="key-name" name="name" required maxlength="100"
          placeholder="e.g. gpu-box-1"></label>
        <label>Scope
          <select id="key-scope" name="scope">
            <option value="worker">worker</option>
            <option value="all">all</option>
          </select>
        </label>
        <button type="submit" class="primary">Create key</button>
      </form>
      <div id="key-result" class="key-result" hidden></div>
    </div>
    <div id="key-list-card" class="card">
      <div class="card-head"><h2>Keys <span id="key-count" class="count"></span></h2></div>
      <div id="key-list"><p class="muted">Loading…</p></div>
    </div>
  </section>
</main>
<footer class="footer muted small">worker-agent control plane ${VERSION}</footer>
</body>
</html>
`;
