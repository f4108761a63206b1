/** The dashboard's style sheet, served as `/dashboard/style.css`. System fonts only. */
export const STYLE_CSS = `:root {
  --bg: #f4f6fa;
  --card: #ffffff;
  --text: #1b2330;
  --muted: #667085;
  --line: #e3e8ef;
  --accent: #2453d4;
  --accent-soft: #e8eefc;
  --good: #127a3e;
  --good-soft: #e3f5ea;
  --warn: #9a5b00;
  --warn-soft: #fff2d9;
  --bad: #b42318;
  --bad-soft: #fde7e5;
  --info: #175cd3;
  --info-soft: #e6effd;
  --dim: #5d6b82;
  --dim-soft: #eef1f5;
  --on-accent: #ffffff;
  --radius: 10px;
  --shadow: 0 1px 2px rgba(16, 24, 40, 0.06), 0 1px 3px rgba(16, 24, 40, 0.08);
  color-scheme: light dark;
}
@media (prefers-color-scheme: dark) {
  :root {
    --bg: #0f141b;
    --card: #171e28;
    --text: #e6eaf0;
    --muted: #98a2b3;
    --line: #283241;
    --accent: #6d95ff;
    --on-accent: #0b1220;
    --accent-soft: #1c2a4a;
    --good: #4ade80;
    --good-soft: #123322;
    --warn: #fbbf24;
    --warn-soft: #3a2c0c;
    --bad: #f87171;
    --bad-soft: #3d1717;
    --info: #7cb1ff;
    --info-soft: #162a47;
    --dim: #a3adbd;
    --dim-soft: #232c39;
    --shadow: none;
  }
}
* { box-sizing: border-box; }
[hidden] { display: none !important; }
html, body { margin: 0; }
body {
  background: var(--bg);
  color: var(--text);
  font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif;
  min-height: 100vh;
  display: flex;
  flex-direction: column;
}
code, .mono, pre, textarea, #new-key {
  font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, "Liberation Mono", monospace;
  font-size: 12.5px;
}
h1, h2, h3, h4 { margin: 0 0 8px; line-height: 1.25; }
h1 { font-size: 22px; }
h2 { font-size: 17px; }
h3 { font-size: 15px; }
h4 { font-size: 13px; margin-top: 18px; color: var(--muted); text-transform: uppercase; letter-spacing: .04em; }
a { color: var(--accent); }
.muted { color: var(--muted); }
.small { font-size: 12.5px; }
.error { color: var(--bad); }
.ok { color: var(--good); }

.topbar {
  display: flex; align-items: center; gap: 24px;
  padding: 10px 24px; background: var(--card); border-bottom: 1px solid var(--line);
}
.brand { display: flex; align-items: center; gap: 10px; font-size: 15px; }
.nav { display: flex; gap: 4px; }
.nav a {
  padding: 6px 12px; border-radius: 8px; text-decoration: none; color: var(--muted); font-weight: 500;
}
.nav a:hover { background: var(--dim-soft); color: var(--text); }
.nav a.active { background: var(--accent-soft); color: var(--accent); }
.topbar-end { margin-left: auto; display: flex; align-items: center; gap: 12px; }

main { flex: 1; padding: 20px 24px; width: 100%; max-width: 1500px; margin: 0 auto; }
.footer { padding: 12px 24px; text-align: center; }
@media (max-width: 700px) {
  .topbar { flex-wrap: wrap; gap: 8px 16px; padding: 10px 14px; }
  #refresh-state { display: none; }
  main { padding: 14px; }
  .banner { margin: 10px 14px 0; }
}

.card {
  background: var(--card); border: 1px solid var(--line); border-radius: var(--radius);
  box-shadow: var(--shadow); padding: 16px 18px; margin-bottom: 16px;
}
.card-head { display: flex; align-items: center; justify-content: space-between; gap: 12px; margin-bottom: 10px; }
.card-head h2, .card-head h3 { margin: 0; }
.count {
  display: inline-block; min-width: 22px; padding: 0 7px; border-radius: 11px; text-align: center;
  background: var(--dim-soft); color: var(--muted); font-size: 12px; font-weight: 600; vertical-align: 2px;
}

.banner {
  display: flex; align-items: center; justify-content: space-between; gap: 12px;
  margin: 12px 24px 0; padding: 10px 14px; border-radius: var(--radius);
}
.banner.error { background: var(--bad-soft); color: var(--bad); }
.banner.info { background: var(--info-soft); color: var(--info); }

button, input, select, textarea {
  font: inherit; color: inherit; border-radius: 8px; border: 1px solid var(--line); background: var(--card);
}
input, select, textarea { padding: 7px 10px; }
input:focus, select:focus, textarea:focus, button:focus-visible {
  outline: 2px solid var(--accent); outline-offset: 1px;
}
button { padding: 7px 14px; cursor: pointer; font-weight: 500; }
button:hover { background: var(--dim-soft); }
button:disabled { opacity: .6; cursor: progress; }
button.primary { background: var(--accent); border-color: var(--accent); color: var(--on-accent); }
button.primary:hover { filter: brightness(1.08); }
button.ghost { background: transparent; }
button.danger { background: var(--bad); border-color: var(--bad); color: #fff; }
button.danger.ghost { background: transparent; color: var(--bad); border-color: var(--bad); }
button.danger.ghost:hover { background: var(--bad-soft); }
button.small { padding: 3px 10px; font-size: 12.5px; }
label { display: flex; flex-direction: column; gap: 4px; font-weight: 500; font-size: 13px; }
label.inline { flex-direction: row; align-items: center; gap: 8px; font-weight: 400; color: var(--muted); }

.login { max-width: 460px; margin: 48px auto; padding: 28px; }
.login form { display: flex; flex-direction: column; gap: 12px; margin: 18px 0; }

.workers-view { display: grid; grid-template-columns: minmax(340px, 440px) 1fr; gap: 16px; align-items: start; }
@media (max-width: 900px) { .workers-view { grid-template-columns: minmax(0, 1fr); } }
table.workers .mono { overflow-wrap: anywhere; }
.list-card { padding: 16px 0 8px; }
.list-card .card-head { padding: 0 18px; }
.empty { padding: 8px 18px; color: var(--muted); }

table { width: 100%; border-collapse: collapse; }
th {
  text-align: left; font-size: 12px; font-weight: 600; color: var(--muted);
  text-transform: uppercase; letter-spacing: .04em; padding: 6px 10px; border-bottom: 1px solid var(--line);
  white-space: nowrap;
}
td { padding: 8px 10px; border-bottom: 1px solid var(--line); vertical-align: top; }
tr:last-child td { border-bottom: none; }
table.workers th:first-child, table.workers td:first-child { padding-left: 18px; }
table.workers tbody tr { cursor: pointer; }
table.workers tbody tr:hover { background: var(--dim-soft); }
table.workers tbody tr.selected { background: var(--accent-soft); box-shadow: inset 3px 0 0 var(--accent); }
.worker-name { display: flex; align-items: center; gap: 8px; font-weight: 600; }
.table-wrap { overflow-x: auto; }
table.data td { font-size: 13px; }
td.result { max-width: 420px; overflow-wrap: anywhere; }
pre { margin: 6px 0 0; padding: 8px; background: var(--dim-soft); border-radius: 6px; overflow: auto; max-height: 240px; }
details summary { cursor: pointer; color: var(--accent); font-size: 12.5px; }

.dot { width: 9px; height: 9px; border-radius: 50%; display: inline-block; flex: none; }
.dot.on { background: var(--good); box-shadow: 0 0 0 3px var(--good-soft); }
.dot.off { background: #a0aabb; }

.badge {
  display: inline-block; padding: 1px 9px; border-radius: 999px; font-size: 12px; font-weight: 600;
  background: var(--dim-soft); color: var(--dim);
}
.badge.good { background: var(--good-soft); color: var(--good); }
.badge.warn { background: var(--warn-soft); color: var(--warn); }
.badge.bad { background: var(--bad-soft); color: var(--bad); }
.badge.info { background: var(--info-soft); color: var(--info); }
.badge.dim { background: var(--dim-soft); color: var(--dim); }

.detail-head { display: flex; justify-content: space-between; align-items: flex-start; gap: 16px; }
.detail-head h2 { display: flex; align-items: center; gap: 10px; font-size: 20px; }
.detail-actions, .confirm { display: flex; align-items: center; gap: 8px; }
.facts {
  display: grid; grid-template-columns: repeat(auto-fill, minmax(170px, 1fr)); gap: 12px 18px; margin: 14px 0 0;
}
.facts div:has(dd.wide) { grid-column: span 2; }
.facts dt { font-size: 12px; color: var(--muted); }
.facts dd { margin: 2px 0 0; font-weight: 500; overflow-wrap: anywhere; }
.empty-detail { padding: 40px; text-align: center; }

.metrics-grid { display: grid; grid-template-columns: repeat(auto-fill, minmax(150px, 1fr)); gap: 12px; }
.metric { border: 1px solid var(--line); border-radius: 8px; padding: 12px; }
.metric-title { font-size: 12px; font-weight: 600; color: var(--muted); text-transform: uppercase; letter-spacing: .04em; }
.metric-main { font-size: 16px; font-weight: 600; margin: 4px 0 6px; }
.bar { height: 6px; border-radius: 3px; background: var(--dim-soft); overflow: hidden; margin: 4px 0; min-width: 60px; }
.bar-fill { height: 100%; width: 0; background: var(--accent); border-radius: 3px; }
.bar-fill.warm { background: var(--warn); }
.bar-fill.hot { background: var(--bad); }
.cell-bar { min-width: 110px; }
.spark { display: block; width: 100%; height: 28px; margin-top: 6px; }
.spark polyline {
  fill: none; stroke: var(--accent); stroke-width: 1.5; vector-effect: non-scaling-stroke;
  stroke-linejoin: round; stroke-linecap: round;
}
.agent-line { margin: 14px 0 0; }

.command-form { display: grid; grid-template-columns: 190px 1fr 110px auto; gap: 12px; align-items: end; }
.command-form textarea { resize: vertical; min-height: 38px; }
.command-form p { grid-column: 1 / -1; margin: 0; }
@media (max-width: 700px) { .command-form { grid-template-columns: 1fr; } }

.row-form { display: flex; gap: 12px; align-items: flex-end; flex-wrap: wrap; margin-top: 14px; }
.row-form label:first-child { flex: 1; min-width: 220px; }
.keys-view { max-width: 1100px; }
td.actions { white-space: nowrap; text-align: right; }
.key-result { margin-top: 18px; padding: 14px; border-radius: 8px; background: var(--good-soft); }
.key-box { display: flex; gap: 8px; }
.key-box input { flex: 1; background: var(--card); }
`;
