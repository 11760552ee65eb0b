// The HTML shell of the dashboard and compare panels: a root element, the webview bundle and a strict
// nonce CSP (no inline code except the one nonce'd script tag, no eval, no remote origins).

import { randomBytes } from 'node:crypto';

export function makeNonce(): string {
  return (
    randomBytes(18)
      .toString('base64')
      .replace(/[^A-Za-z0-9]/g, '')
      .slice(0, 24) || 'n0nce'
  );
}

export function contentSecurityPolicy(cspSource: string, nonce: string): string {
  return [
    "default-src 'none'",
    `img-src ${cspSource} data: blob:`,
    `style-src ${cspSource}`,
    `font-src ${cspSource}`,
    `script-src 'nonce-${nonce}'`,
    `connect-src ${cspSource}`,
  ].join('; ');
}

export interface WebviewShellOptions {
  title: string;
  cspSource: string;
  nonce: string;
  /** Webview URIs (asWebviewUri) of the bundle. */
  scriptUri: string;
  styleUris: readonly string[];
  /** Which view the bundle should render; read from <body data-view>. */
  view: 'dashboard' | 'compare' | 'plots' | 'runsTable';
  /** Shown instead of the app when the bundle is missing (e.g. the webviews were not built). */
  missingBundleMessage?: string;
  /** data-* attributes of <body>, e.g. { runDir } → data-run-dir, for the bundle to keep in its state. */
  bodyData?: Record<string, string>;
}

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

export function webviewShellHtml(o: WebviewShellOptions): string {
  const styles = o.styleUris.map((href) => `  <link rel="stylesheet" href="${escapeHtml(href)}">`).join('\n');
  const body = o.missingBundleMessage
    ? `  <div id="root" class="dora-missing-bundle" role="alert"><p>${escapeHtml(o.missingBundleMessage)}</p></div>`
    : `  <div id="root" data-view="${o.view}"></div>\n  <script nonce="${o.nonce}" src="${escapeHtml(o.scriptUri)}"></script>`;
  return `<!DOCTYPE html>
<html lang="en">
<head>
  <meta charset="UTF-8">
  <meta http-equiv="Content-Security-Policy" content="${contentSecurityPolicy(o.cspSource, o.nonce)}">
  <meta name="viewport" content="width=device-width, initial-scale=1.0">
  <title>${escapeHtml(o.title)}</title>
${styles}
</head>
<body data-view="${o.view}"${bodyAttributes(o.bodyData)}>
${body}
</body>
</html>
`;
}

function bodyAttributes(data: Record<string, string> | undefined): string {
  if (!data) return '';
  return Object.entries(data)
    .map(([key, value]) => ` data-${key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}="${escapeHtml(value)}"`)
    .join('');
}
