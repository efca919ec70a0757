/** The page's icon: a pulse line on the brand colour, as a data URL (no request, allowed by the page's CSP). */
const ICON =
  "data:image/svg+xml,%3Csvg xmlns='http://www.w3.org/2000/svg' viewBox='0 0 32 32'%3E%3Crect width='32' height='32' rx='8' fill='%234f46e5'/%3E" +
  "%3Cpath d='M6 17h5l3-7 4 13 3-6h5' fill='none' stroke='white' stroke-width='2.6' stroke-linecap='round' stroke-linejoin='round'/%3E%3C/svg%3E";

/**
 * What the page may load: its own script, styles and API, nothing else. No inline script or style
 * is allowed; the page script sets sizes through the CSSOM, which this policy permits.
 */
export const PAGE_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "connect-src 'self'",
  "img-src 'self' data:",
  "base-uri 'self'",
  "form-action 'none'",
  "frame-ancestors 'self'",
].join('; ');

const HTML_ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (char) => HTML_ESCAPES[char] ?? char);
}

/** What the shell links to. */
export interface ShellParts {
  /** The dashboard's path without a trailing `/` (`''` at the root). */
  base: string;
  title: string;
  scriptVersion: string;
  styleVersion: string;
}

/**
 * The HTML shell: no data and no inline script. `<base>` makes every link of the page relative to
 * the dashboard's folder, whether the page was asked for as `/jobwire` or `/jobwire/`; the script
 * finds its API at `api/` from there.
 */
export function renderShell({ base, title, scriptVersion, styleVersion }: ShellParts): string {
  const name = escapeHtml(title);
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light dark">
<meta name="referrer" content="no-referrer">
<title>${name}</title>
<base href="${escapeHtml(base)}/">
<link rel="icon" href="${ICON}">
<link rel="stylesheet" href="assets/app.css?v=${styleVersion}">
<script type="module" src="assets/app.js?v=${scriptVersion}"></script>
</head>
<body>
<div id="app" class="app" data-title="${name}"><p class="boot">Loading ${name}…</p></div>
<noscript><p class="boot">The dashboard needs JavaScript.</p></noscript>
</body>
</html>
`;
}
