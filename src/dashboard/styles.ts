/**
 * The dashboard's stylesheet, served as `{basePath}/assets/app.css`: light and dark from
 * `prefers-color-scheme`, one colour per status, a table that becomes cards when its column is
 * narrow (a phone, or the detail panel open beside a small window) and a detail panel that becomes
 * a full-screen sheet below 760 px.
 */
export const DASHBOARD_CSS = String.raw`
:root {
  color-scheme: light dark;
  --sans: Inter, ui-sans-serif, system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif;
  --mono: ui-monospace, "SF Mono", "JetBrains Mono", "Cascadia Code", Menlo, Consolas, "DejaVu Sans Mono", monospace;
  --bg: #f6f7f9;
  --surface: #ffffff;
  --surface-2: #f2f3f6;
  --surface-3: #e9ebf0;
  --border: #e3e5ea;
  --border-strong: #cfd3db;
  --text: #14161b;
  --muted: #646a78;
  --faint: #9aa0ad;
  --accent: #4f46e5;
  --accent-text: #ffffff;
  --track: #e6e8ee;
  --shadow: 0 1px 2px rgba(16, 24, 40, .05), 0 1px 3px rgba(16, 24, 40, .06);
  --shadow-lg: 0 12px 32px rgba(16, 24, 40, .14), 0 2px 6px rgba(16, 24, 40, .08);
  --queued: #0e7490;
  --delayed: #7c3aed;
  --retrying: #c2410c;
  --running: #2563eb;
  --completed: #15803d;
  --failed: #dc2626;
  --cancelled: #71717a;
  --code-bg: #0f1117;
  --code-text: #e4e7ee;
  --radius: 12px;
  --topbar: 56px;
}
@media (prefers-color-scheme: dark) {
  :root {
    --bg: #0b0d12;
    --surface: #12151c;
    --surface-2: #181c25;
    --surface-3: #212633;
    --border: #232835;
    --border-strong: #323948;
    --text: #e6e8ee;
    --muted: #9199aa;
    --faint: #5f6778;
    --accent: #818cf8;
    --accent-text: #0b0d12;
    --track: #232836;
    --shadow: 0 1px 2px rgba(0, 0, 0, .4);
    --shadow-lg: 0 16px 40px rgba(0, 0, 0, .55);
    --queued: #22d3ee;
    --delayed: #a78bfa;
    --retrying: #fb923c;
    --running: #60a5fa;
    --completed: #4ade80;
    --failed: #f87171;
    --cancelled: #a1a1aa;
    --code-bg: #0a0c10;
  }
}

*, *::before, *::after { box-sizing: border-box; }
html, body { margin: 0; }
body {
  background: var(--bg);
  color: var(--text);
  font: 14px/1.45 var(--sans);
  -webkit-font-smoothing: antialiased;
  font-feature-settings: "cv11", "ss01";
}
[hidden] { display: none !important; }
button, input, select { font: inherit; color: inherit; }
:focus-visible { outline: 2px solid var(--accent); outline-offset: 2px; border-radius: 6px; }
.mono, code, pre { font-family: var(--mono); }
.muted { color: var(--muted); margin: 0; }
.boot { color: var(--muted); padding: 48px 24px; text-align: center; }

/* status colour, for everything that carries a status or phase */
[data-status="queued"], [data-phase="queued"], [data-type="queued"] { --c: var(--queued); }
[data-status="running"], [data-phase="running"], [data-type="started"], [data-type="progress"] { --c: var(--running); }
[data-status="completed"], [data-phase="completed"], [data-type="completed"] { --c: var(--completed); }
[data-status="failed"], [data-phase="failed"], [data-type="failed"] { --c: var(--failed); }
[data-status="cancelled"], [data-phase="cancelled"], [data-type="cancelled"] { --c: var(--cancelled); }
[data-phase="delayed"] { --c: var(--delayed); }
[data-phase="retrying"], [data-type="retrying"] { --c: var(--retrying); }
[data-status="all"] { --c: var(--accent); }

/* top bar */
.topbar {
  position: sticky; top: 0; z-index: 20;
  display: flex; align-items: center; justify-content: space-between; gap: 12px;
  height: var(--topbar); padding: 0 24px;
  background: color-mix(in srgb, var(--surface) 88%, transparent);
  backdrop-filter: saturate(1.4) blur(10px);
  border-bottom: 1px solid var(--border);
}
.brand { display: flex; align-items: center; gap: 10px; min-width: 0; }
.logo { flex: none; }
.logo-bg { fill: var(--accent); }
.logo-line { fill: none; stroke: var(--accent-text); stroke-width: 2.6; stroke-linecap: round; stroke-linejoin: round; }
.brand-title { font-weight: 650; font-size: 15px; letter-spacing: -.01em; white-space: nowrap; overflow: hidden; text-overflow: ellipsis; }
.brand-sub { color: var(--muted); font-size: 13px; padding-left: 10px; border-left: 1px solid var(--border); }
.conn {
  display: inline-flex; align-items: center; gap: 7px; flex: none;
  height: 28px; padding: 0 11px; border-radius: 999px;
  border: 1px solid var(--border); background: var(--surface);
  font-size: 12px; font-weight: 550; color: var(--muted);
}
.conn-dot { width: 8px; height: 8px; border-radius: 50%; background: var(--faint); }
.conn[data-state="live"] { color: var(--completed); border-color: color-mix(in srgb, var(--completed) 35%, var(--border)); }
.conn[data-state="live"] .conn-dot { background: var(--completed); animation: pulse 2s ease-out infinite; }
.conn[data-state="connecting"] .conn-dot, .conn[data-state="reconnecting"] .conn-dot { background: var(--retrying); }
.conn[data-state="reconnecting"] { color: var(--retrying); }
.conn[data-state="offline"] { color: var(--failed); }
.conn[data-state="offline"] .conn-dot { background: var(--failed); }
.conn[data-state="refused"] { color: var(--text); border-color: var(--border-strong); }
.conn[data-state="refused"] .conn-dot { background: var(--cancelled); }
@keyframes pulse {
  0% { box-shadow: 0 0 0 0 color-mix(in srgb, var(--completed) 55%, transparent); }
  70% { box-shadow: 0 0 0 6px transparent; }
  100% { box-shadow: 0 0 0 0 transparent; }
}

/* page layout: content, and the detail panel beside it when a job is open */
.main { display: grid; grid-template-columns: minmax(0, 1fr); }
.app.has-detail .main { grid-template-columns: minmax(0, 1fr) minmax(380px, 36%); }
.content { min-width: 0; padding: 20px 24px 48px; display: flex; flex-direction: column; gap: 20px; container: content / inline-size; }
.section { display: flex; flex-direction: column; gap: 10px; min-width: 0; }
.section-head { display: flex; align-items: baseline; justify-content: space-between; gap: 12px; }
.section-head h2 { margin: 0; font-size: 13px; font-weight: 650; letter-spacing: .02em; text-transform: uppercase; color: var(--muted); }
.section-note { font-size: 12px; color: var(--faint); font-variant-numeric: tabular-nums; }

/* status tiles */
.overview { display: grid; grid-template-columns: repeat(6, minmax(0, 1fr)); gap: 12px; }
.kpi {
  position: relative; display: flex; flex-direction: column; align-items: flex-start; gap: 2px; min-width: 0;
  padding: 12px 14px; text-align: left; cursor: pointer;
  background: var(--surface); border: 1px solid var(--border); border-radius: var(--radius); box-shadow: var(--shadow);
  transition: border-color .15s, box-shadow .15s, transform .15s;
}
.kpi:hover { border-color: var(--border-strong); }
.kpi[aria-pressed="true"] { border-color: var(--c); box-shadow: 0 0 0 3px color-mix(in srgb, var(--c) 18%, transparent); }
.kpi--static { cursor: default; }
.kpi-label { display: flex; align-items: center; gap: 6px; font-size: 12px; color: var(--muted); text-transform: capitalize; }
.kpi-dot { width: 8px; height: 8px; border-radius: 3px; background: var(--c, var(--accent)); }
.kpi-unit { font-size: 13px; font-weight: 500; color: var(--muted); margin-left: 3px; letter-spacing: 0; }
.kpi-value { font-size: 26px; font-weight: 650; letter-spacing: -.02em; font-variant-numeric: tabular-nums; line-height: 1.2; }
.kpi[data-status="running"] .kpi-value { color: var(--running); }
.kpi[data-status="failed"] .kpi-value { color: var(--failed); }
.kpi-sub { font-size: 11.5px; color: var(--faint); min-height: 1.2em; white-space: nowrap; overflow: hidden; text-overflow: ellipsis; max-width: 100%; }

/* plugin cards */
.plugin-grid { display: grid; grid-template-columns: repeat(auto-fill, minmax(240px, 1fr)); gap: 12px; }
.plugin-card {
  display: flex; flex-direction: column; gap: 12px; min-width: 0;
  padding: 14px 16px; background: var(--surface); border: 1px solid var(--border); border-radius: var(--radius); box-shadow: var(--shadow);
}
.pc-head { display: flex; align-items: baseline; justify-content: space-between; gap: 8px; min-width: 0; }
.pc-title { all: unset; cursor: pointer; font-weight: 600; white-space: nowrap; overflow: hidden; text-overflow: ellipsis; }
.pc-title:hover { color: var(--accent); }
.pc-title:focus-visible { outline: 2px solid var(--accent); outline-offset: 2px; border-radius: 4px; }
.pc-name { font-size: 11.5px; color: var(--faint); white-space: nowrap; }
.pc-rate { display: flex; align-items: flex-end; justify-content: space-between; gap: 12px; }
.pc-rate-value { font-size: 22px; font-weight: 650; letter-spacing: -.02em; font-variant-numeric: tabular-nums; }
.pc-unit { color: var(--muted); font-size: 12px; }
.pc-window { display: block; font-size: 11.5px; color: var(--faint); }
.spark { width: 120px; height: 34px; flex: none; overflow: visible; }
.spark-line { fill: none; stroke: var(--accent); stroke-width: 1.6; vector-effect: non-scaling-stroke; stroke-linejoin: round; stroke-linecap: round; }
.spark-area { fill: color-mix(in srgb, var(--accent) 14%, transparent); stroke: none; }
.endings-wrap { display: flex; flex-direction: column; gap: 7px; }
.endings { width: 100%; height: 6px; display: block; border-radius: 3px; overflow: hidden; }
.range-track { fill: var(--track); }
.seg--completed { fill: var(--completed); }
.seg--failed { fill: var(--failed); }
.seg--cancelled { fill: var(--cancelled); }
.legend { display: grid; grid-template-columns: repeat(3, minmax(0, 1fr)); gap: 8px; }
.legend-item { display: flex; flex-direction: column; gap: 1px; min-width: 0; }
.legend-label { font-size: 11.5px; color: var(--muted); white-space: nowrap; overflow: hidden; text-overflow: ellipsis; }
.legend-value { font-size: 15px; font-weight: 650; font-variant-numeric: tabular-nums; color: color-mix(in srgb, var(--c) 85%, var(--text)); }
.pc-ranges { display: flex; flex-direction: column; gap: 8px; padding-top: 10px; border-top: 1px solid var(--border); }
.range-row { display: flex; flex-direction: column; gap: 4px; font-size: 12px; }
.range-head { display: flex; justify-content: space-between; gap: 8px; }
.range-label { color: var(--muted); white-space: nowrap; }
.range { width: 100%; height: 6px; display: block; border-radius: 3px; overflow: hidden; }
.range--run .range-p50 { fill: var(--running); }
.range--run .range-p95 { fill: color-mix(in srgb, var(--running) 35%, transparent); }
.range--wait .range-p50 { fill: var(--queued); }
.range--wait .range-p95 { fill: color-mix(in srgb, var(--queued) 35%, transparent); }
.range-values { font-variant-numeric: tabular-nums; color: var(--muted); white-space: nowrap; font-size: 11.5px; }

/* filters */
.list-bar { position: sticky; top: var(--topbar); z-index: 10; margin: 0 -24px; padding: 10px 24px; background: color-mix(in srgb, var(--bg) 92%, transparent); backdrop-filter: blur(8px); }
.filters { display: flex; flex-wrap: wrap; align-items: center; justify-content: space-between; gap: 10px; }
.segmented { display: inline-flex; padding: 3px; gap: 2px; background: var(--surface-2); border: 1px solid var(--border); border-radius: 10px; max-width: 100%; overflow-x: auto; scrollbar-width: none; }
.seg-btn {
  display: inline-flex; align-items: center; gap: 6px; flex: none;
  height: 28px; padding: 0 11px; border: 0; border-radius: 7px; background: transparent;
  color: var(--muted); font-size: 13px; font-weight: 500; text-transform: capitalize; cursor: pointer;
}
.seg-btn::before { content: ""; width: 7px; height: 7px; border-radius: 50%; background: var(--c); }
.seg-btn[data-status="all"]::before { display: none; }
.seg-btn:hover { color: var(--text); }
.seg-btn[aria-pressed="true"] { background: var(--surface); color: var(--text); box-shadow: var(--shadow); }
.filter-fields { display: flex; align-items: center; gap: 8px; }
.input {
  height: 34px; padding: 0 10px; min-width: 0;
  background: var(--surface); border: 1px solid var(--border); border-radius: 8px; font-size: 13px;
}
.input:hover { border-color: var(--border-strong); }
select.input { padding-right: 28px; max-width: 240px; }
input.input { width: 170px; }
.link-btn { all: unset; cursor: pointer; color: var(--accent); font-size: 13px; font-weight: 500; }
.link-btn:hover { text-decoration: underline; }
.link-btn:focus-visible { outline: 2px solid var(--accent); outline-offset: 2px; border-radius: 4px; }

/* jobs table */
.table-wrap { background: var(--surface); border: 1px solid var(--border); border-radius: var(--radius); box-shadow: var(--shadow); overflow: hidden; transition: opacity .2s; }
.list.is-loading .table-wrap { opacity: .65; }
.jobs { width: 100%; border-collapse: separate; border-spacing: 0; table-layout: fixed; }
.jobs th {
  padding: 9px 14px; text-align: left; white-space: nowrap;
  font-size: 11.5px; font-weight: 600; letter-spacing: .04em; text-transform: uppercase; color: var(--muted);
  background: var(--surface-2); border-bottom: 1px solid var(--border);
}
.jobs td { padding: 11px 14px; vertical-align: middle; border-top: 1px solid var(--border); min-width: 0; }
.jobs tbody tr:first-child td { border-top: 0; }
.job-row { cursor: pointer; transition: background-color .12s; }
.job-row:hover { background: var(--surface-2); }
.job-row:focus-visible { outline: 2px solid var(--accent); outline-offset: -2px; }
.job-row[aria-selected="true"] { background: color-mix(in srgb, var(--accent) 8%, var(--surface)); }
.job-row[aria-selected="true"] td:first-child { box-shadow: inset 3px 0 0 var(--accent); }
.row--new { animation: arrive 1.2s ease-out; }
@keyframes arrive { from { background: color-mix(in srgb, var(--accent) 16%, var(--surface)); } }
/* room for the widest pill (Completed, Cancelled) at any width; a wider font truncates its text inside the pill */
.c-status { width: 140px; }
.c-job { width: 24%; }
.c-tenant { width: 13%; }
.c-attempt { width: 58px; }
.c-created { width: 96px; }
.c-duration { width: 108px; }
th.c-attempt, td.c-attempt, th.c-duration, td.c-duration { text-align: right; }
.job-head { display: flex; align-items: center; gap: 6px; min-width: 0; }
.job-name { font-weight: 560; white-space: nowrap; overflow: hidden; text-overflow: ellipsis; }
.job-badge { flex: none; font-size: 11px; padding: 0 6px; border-radius: 999px; color: var(--accent); background: color-mix(in srgb, var(--accent) 12%, transparent); }
.job-id { display: block; font-size: 11.5px; color: var(--faint); white-space: nowrap; overflow: hidden; text-overflow: ellipsis; }
.job-line { font-size: 12px; color: var(--muted); margin-top: 4px; white-space: nowrap; overflow: hidden; text-overflow: ellipsis; min-height: 1.45em; }
.job-row[data-status="failed"] .job-line { color: var(--failed); }
.job-tenant, .job-created, .job-duration, .job-attempt { font-size: 13px; color: var(--muted); font-variant-numeric: tabular-nums; white-space: nowrap; overflow: hidden; text-overflow: ellipsis; display: block; }
.job-attempt[data-retried] { color: var(--retrying); font-weight: 600; }
.job-row[data-status="running"] .job-duration { color: var(--text); }

/* status pill */
.pill {
  display: inline-flex; align-items: center; gap: 6px; max-width: 100%;
  height: 22px; padding: 0 9px 0 8px; border-radius: 999px;
  font-size: 12px; font-weight: 560; text-transform: capitalize; white-space: nowrap;
  color: color-mix(in srgb, var(--c) 82%, var(--text));
  background: color-mix(in srgb, var(--c) 12%, transparent);
  border: 1px solid color-mix(in srgb, var(--c) 24%, transparent);
}
.pill-dot { width: 7px; height: 7px; border-radius: 50%; background: var(--c); flex: none; }
.pill-label { min-width: 0; overflow: hidden; text-overflow: ellipsis; }
.detail-title-row .pill { flex: none; }
.pill[data-phase="running"] .pill-dot { animation: blink 1.4s ease-in-out infinite; }
@keyframes blink { 50% { opacity: .35; } }

/* progress bars */
.progress { display: flex; align-items: center; gap: 10px; }
.bar { position: relative; flex: 1; height: 6px; min-width: 40px; border-radius: 999px; background: var(--track); overflow: hidden; }
.bar--large { height: 8px; }
.bar-fill { width: 0; height: 100%; border-radius: inherit; background-color: var(--c, var(--accent)); transition: width .35s ease; }
.bar[data-status="running"] .bar-fill {
  background-image: linear-gradient(90deg, transparent 0%, rgba(255, 255, 255, .38) 50%, transparent 100%);
  background-size: 200% 100%; animation: shimmer 1.6s linear infinite;
}
@keyframes shimmer { from { background-position: 200% 0; } to { background-position: -200% 0; } }
.progress-value { width: 38px; text-align: right; font-size: 12px; color: var(--muted); font-variant-numeric: tabular-nums; }

.refused {
  display: flex; flex-direction: column; align-items: center; gap: 8px; padding: 40px 24px; text-align: center;
  background: var(--surface); border: 1px solid var(--border); border-radius: var(--radius); box-shadow: var(--shadow);
}
.refused-title { display: flex; align-items: center; gap: 8px; margin: 0; font-size: 16px; font-weight: 650; }
.refused-title .icon { width: 18px; height: 18px; color: var(--muted); }
.refused p { margin: 0; max-width: 52ch; color: var(--muted); overflow-wrap: anywhere; }
.refused .refused-why { color: var(--text); }
.refused .btn { margin-top: 8px; }
.empty { padding: 48px 24px; text-align: center; color: var(--muted); background: var(--surface); border: 1px dashed var(--border-strong); border-radius: var(--radius); }
.list-foot { display: flex; justify-content: center; }
.list-foot:empty { display: none; }

/* buttons, banners, toasts */
.btn {
  display: inline-flex; align-items: center; justify-content: center; gap: 6px;
  height: 34px; padding: 0 16px; border-radius: 8px; border: 1px solid var(--border-strong);
  background: var(--surface); font-size: 13px; font-weight: 560; cursor: pointer; transition: background-color .12s, border-color .12s;
}
.btn:hover { background: var(--surface-2); }
.btn:disabled { opacity: .55; cursor: progress; }
.btn--primary { background: var(--accent); border-color: var(--accent); color: var(--accent-text); }
.btn--primary:hover { background: color-mix(in srgb, var(--accent) 88%, black); }
.btn--danger { color: var(--failed); border-color: color-mix(in srgb, var(--failed) 40%, var(--border)); }
.btn--danger:hover { background: color-mix(in srgb, var(--failed) 8%, var(--surface)); }
.btn--ghost { background: transparent; }
.icon-btn {
  display: inline-flex; align-items: center; justify-content: center; flex: none;
  width: 30px; height: 30px; border: 0; border-radius: 8px; background: transparent; color: var(--muted); cursor: pointer; font-size: 14px;
}
.icon-btn:hover { background: var(--surface-2); color: var(--text); }
.icon { fill: none; stroke: currentColor; stroke-width: 2; stroke-linecap: round; stroke-linejoin: round; flex: none; }
.detail-back .icon { width: 18px; height: 18px; margin-left: -4px; }
.banner { padding: 10px 14px; border-radius: 10px; font-size: 13px; border: 1px solid var(--border); background: var(--surface-2); }
.banner--note { margin: 0; color: var(--muted); }
.banner--error, .detail .banner { color: var(--failed); border-color: color-mix(in srgb, var(--failed) 30%, var(--border)); background: color-mix(in srgb, var(--failed) 7%, var(--surface)); }
.toasts { position: fixed; right: 20px; bottom: 20px; z-index: 50; display: flex; flex-direction: column; gap: 8px; pointer-events: none; }
.toast {
  max-width: 360px; padding: 10px 14px; border-radius: 10px; font-size: 13px; box-shadow: var(--shadow-lg);
  background: var(--text); color: var(--bg); animation: rise .2s ease-out;
}
.toast--error { background: var(--failed); color: #fff; }
@keyframes rise { from { transform: translateY(8px); opacity: 0; } }

/* detail panel */
.detail {
  position: sticky; top: var(--topbar); align-self: start;
  height: calc(100vh - var(--topbar)); overflow-y: auto; overscroll-behavior: contain;
  background: var(--surface); border-left: 1px solid var(--border);
}
.detail-head {
  position: sticky; top: 0; z-index: 2; display: flex; align-items: flex-start; gap: 10px;
  padding: 16px 20px 14px; background: var(--surface); border-bottom: 1px solid var(--border);
}
.detail-back { display: none; }
.detail-heading { flex: 1; min-width: 0; display: flex; flex-direction: column; gap: 4px; }
.detail-title-row { display: flex; align-items: center; gap: 10px; min-width: 0; }
.detail-title { margin: 0; font-size: 17px; font-weight: 650; letter-spacing: -.01em; white-space: nowrap; overflow: hidden; text-overflow: ellipsis; }
.detail-id-row { display: flex; align-items: center; gap: 4px; min-width: 0; }
.detail-id { font-size: 12px; color: var(--muted); white-space: nowrap; overflow: hidden; text-overflow: ellipsis; }
.detail-id-row .icon-btn { width: 24px; height: 24px; font-size: 12px; }
.detail-id-row .link-btn { font-size: 12px; margin-left: 6px; }
.detail > .banner { margin: 14px 20px 0; }
.detail-body { display: flex; flex-direction: column; gap: 16px; padding: 18px 20px 32px; }
.detail-progress { display: flex; align-items: center; gap: 12px; }
.detail-percent { font-size: 20px; font-weight: 650; font-variant-numeric: tabular-nums; min-width: 52px; text-align: right; letter-spacing: -.02em; }
.detail-line { margin: -8px 0 0; color: var(--muted); font-size: 13px; min-height: 1.45em; overflow-wrap: anywhere; }
.detail-actions { display: flex; gap: 8px; }
.detail-actions:not(:has(.btn:not([hidden]))) { display: none; }
.callout {
  display: flex; flex-direction: column; gap: 4px; padding: 12px 14px; border-radius: 10px; font-size: 13px;
  border: 1px solid color-mix(in srgb, var(--c, var(--failed)) 30%, var(--border));
  background: color-mix(in srgb, var(--c, var(--failed)) 7%, var(--surface));
}
.callout[data-tone="error"] { --c: var(--failed); }
.callout[data-tone="warn"] { --c: var(--retrying); }
.callout-code { font-family: var(--mono); font-size: 11.5px; font-weight: 600; color: var(--c); letter-spacing: .02em; }
.callout-text { overflow-wrap: anywhere; }
.facts { display: grid; grid-template-columns: max-content minmax(0, 1fr) max-content minmax(0, 1fr); gap: 8px 14px; margin: 0; padding: 14px 16px; background: var(--surface-2); border-radius: 10px; font-size: 13px; }
.facts dt { color: var(--muted); white-space: nowrap; }
.facts dd { margin: 0; font-variant-numeric: tabular-nums; overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
.subhead { margin: 0 0 8px; font-size: 12px; font-weight: 600; color: var(--muted); text-transform: uppercase; letter-spacing: .04em; }

/* tabs */
.tabbed { display: flex; flex-direction: column; gap: 14px; }
.tabs { display: flex; gap: 2px; border-bottom: 1px solid var(--border); overflow-x: auto; scrollbar-width: none; }
.tab {
  display: inline-flex; align-items: center; gap: 6px; flex: none;
  padding: 8px 9px; margin-bottom: -1px; border: 0; border-bottom: 2px solid transparent; background: none;
  color: var(--muted); font-size: 13px; font-weight: 560; cursor: pointer;
}
.tab:hover { color: var(--text); }
.tab[aria-selected="true"] { color: var(--text); border-bottom-color: var(--accent); }
.tab-badge { font-size: 11px; padding: 0 6px; border-radius: 999px; background: var(--surface-3); color: var(--muted); font-variant-numeric: tabular-nums; }
.tab-badge:empty { display: none; }

/* timeline and tries */
.timeline { list-style: none; margin: 0; padding: 0; position: relative; }
.timeline::before { content: ""; position: absolute; left: 5px; top: 8px; bottom: 8px; width: 2px; background: var(--border); }
.tl-item { position: relative; display: flex; gap: 12px; padding: 6px 0; }
.tl-dot { position: relative; flex: none; width: 12px; height: 12px; margin-top: 3px; border-radius: 50%; background: var(--surface); border: 2.5px solid var(--c, var(--faint)); }
.tl-body { flex: 1; min-width: 0; }
.tl-head { display: flex; align-items: baseline; gap: 8px; }
.tl-type { font-size: 12.5px; font-weight: 600; text-transform: capitalize; }
.tl-count { font-size: 11.5px; color: var(--muted); font-variant-numeric: tabular-nums; }
.tl-time { margin-left: auto; font-family: var(--mono); font-size: 11.5px; color: var(--faint); }
.tl-text { display: block; font-size: 13px; color: var(--muted); overflow-wrap: anywhere; }
.attempts-wrap { margin-bottom: 16px; }
.attempts { list-style: none; margin: 0; padding: 0; display: flex; flex-direction: column; gap: 6px; }
.attempt { display: grid; grid-template-columns: 32px 84px auto; align-items: baseline; gap: 4px 10px; padding: 8px 12px; border-radius: 8px; background: var(--surface-2); font-size: 13px; }
.attempt[data-outcome="failed"] { --c: var(--failed); }
.attempt[data-outcome="completed"] { --c: var(--completed); }
.attempt[data-outcome="running"] { --c: var(--running); }
.attempt[data-outcome="cancelled"] { --c: var(--cancelled); }
.attempt[data-outcome="waiting"] { --c: var(--retrying); }
.attempt-n { font-family: var(--mono); color: var(--muted); }
.attempt-outcome { color: var(--c); font-weight: 600; text-transform: capitalize; }
.attempt-took { color: var(--muted); font-variant-numeric: tabular-nums; text-align: right; }
.attempt-error { grid-column: 2 / -1; color: var(--muted); overflow-wrap: anywhere; }

/* output and JSON */
.output {
  margin: 0; padding: 14px 16px; max-height: 440px; overflow: auto; border-radius: 10px;
  background: var(--code-bg); color: var(--code-text); font-size: 12.5px; line-height: 1.6; white-space: pre-wrap; overflow-wrap: anywhere;
}
.output-gap { color: #fbbf24; font-style: italic; }
.code { margin: 0; padding: 12px 14px; max-height: 440px; overflow: auto; border-radius: 10px; background: var(--surface-2); border: 1px solid var(--border); font-size: 12.5px; line-height: 1.55; white-space: pre-wrap; overflow-wrap: anywhere; }

/* a narrower content column (a small window, or the detail panel open beside it) */
@container content (max-width: 960px) {
  .jobs .c-attempt, .jobs .c-created { display: none; }
  .c-job { width: 28%; }
  .c-tenant { width: 16%; }
}
@container content (max-width: 720px) {
  .overview { grid-template-columns: repeat(3, minmax(0, 1fr)); }
}
@container content (max-width: 620px) {
  /* too narrow for the table's columns (a phone, or the detail panel open beside a small window): a card per job */
  .jobs, .jobs tbody { display: block; }
  .jobs thead { display: none; }
  .jobs tr.job-row {
    display: grid; grid-template-columns: 112px minmax(0, 1fr) auto;
    grid-template-areas: "status job created" "progress progress progress" "tenant tenant duration";
    gap: 8px 10px; align-items: center; padding: 12px 14px; border-top: 1px solid var(--border);
  }
  .jobs tbody tr.job-row:first-child { border-top: 0; }
  .jobs td { display: block; width: auto; padding: 0; border: 0; }
  td.c-status { grid-area: status; }
  td.c-job { grid-area: job; }
  td.c-created { grid-area: created; text-align: right; }
  td.c-progress { grid-area: progress; }
  td.c-tenant { grid-area: tenant; }
  td.c-duration { grid-area: duration; }
  .jobs td.c-attempt { display: none; }
  .jobs td.c-created { display: block; }
  .job-line:empty { display: none; }
  .job-created, .job-tenant, .job-duration { font-size: 12px; }
  .job-row[aria-selected="true"] td:first-child { box-shadow: none; }
  .job-row[aria-selected="true"] { box-shadow: inset 3px 0 0 var(--accent); }
}

/* phones */
@media (max-width: 760px) {
  :root { --topbar: 52px; }
  .topbar { padding: 0 16px; }
  .brand-sub { display: none; }
  .content { padding: 14px 14px 40px; gap: 16px; }
  .app.has-detail .main { grid-template-columns: minmax(0, 1fr); }
  .overview { gap: 8px; }
  .kpi { padding: 10px 12px; }
  .kpi-value { font-size: 21px; }
  .kpi-sub { display: none; }
  .plugin-grid { display: flex; overflow-x: auto; scroll-snap-type: x mandatory; margin: 0 -14px; padding: 0 14px 4px; scrollbar-width: none; }
  .plugin-card { flex: 0 0 84%; scroll-snap-align: center; }
  .list-bar { margin: 0 -14px; padding: 8px 14px; }
  .filters { flex-direction: column; align-items: stretch; gap: 8px; }
  .segmented { align-self: stretch; }
  .filter-fields { display: grid; grid-template-columns: minmax(0, 1fr) minmax(0, 1fr) auto; }
  select.input, input.input { width: 100%; max-width: none; }

  .detail {
    position: fixed; inset: 0; z-index: 40; height: auto; align-self: stretch; border-left: 0;
    animation: slide-in .22s ease-out;
  }
  .detail-head { padding: 12px 14px; align-items: center; }
  .detail-back { display: inline-flex; flex: none; font-size: 15px; }
  .detail-close { display: none; }
  .detail-body { padding: 16px 14px 32px; }
  .detail > .banner { margin: 12px 14px 0; }
  .facts { gap: 8px 10px; padding: 12px 14px; }
  .toasts { left: 14px; right: 14px; bottom: 14px; }
  .toast { max-width: none; }
}
@keyframes slide-in { from { transform: translateX(24px); opacity: 0; } }
@media (prefers-reduced-motion: reduce) {
  *, *::before, *::after { animation: none !important; transition: none !important; }
}
`;
