// What the dashboard and compare panels share: the HTML shell (webviewHtml.ts) with the bundle and styles of a view,
// and the list of open panels kept in the workspace state so they survive a reload.

import { existsSync } from 'node:fs';
import * as vscode from 'vscode';
import { makeNonce, webviewShellHtml } from './webviewHtml';

export interface PanelContext {
  extensionUri: vscode.Uri;
  workspaceState: vscode.Memento;
}

export function shellFor(
  panel: vscode.WebviewPanel,
  ctx: PanelContext,
  view: 'dashboard' | 'compare',
  title: string,
  bodyData: Record<string, string>,
): string {
  const media = vscode.Uri.joinPath(ctx.extensionUri, 'media');
  const script = vscode.Uri.joinPath(media, `${view}.js`);
  const styles = [vscode.Uri.joinPath(media, `${view}.css`), vscode.Uri.joinPath(media, 'dashboard.css')].filter(
    (u, i, all) => existsSync(u.fsPath) && all.findIndex((x) => x.fsPath === u.fsPath) === i,
  );
  const missing = existsSync(script.fsPath)
    ? undefined
    : `${script.fsPath} is missing, so the ${view} cannot be shown. Cause: the webviews were not built. Fix: run ` +
      `\`npm run build\` in the DoRA Studio folder, or reinstall the extension.`;
  return webviewShellHtml({
    title,
    view,
    cspSource: panel.webview.cspSource,
    nonce: makeNonce(),
    scriptUri: panel.webview.asWebviewUri(script).toString(),
    styleUris: styles.map((u) => panel.webview.asWebviewUri(u).toString()),
    missingBundleMessage: missing,
    bodyData,
  });
}

export function rememberOpen(memento: vscode.Memento, key: string, value: string, open: boolean): void {
  const list = memento.get<string[]>(key, []).filter((v) => v !== value);
  void memento.update(key, open ? [...list, value] : list);
}

/** The run folder a restored dashboard belongs to: from the webview's saved state, else from the list of open dashboards. */
export function runDirFromState(state: unknown, remembered: readonly string[], taken: ReadonlySet<string>): string | undefined {
  const s = state as { runDir?: unknown; dora?: { runDir?: unknown } } | undefined;
  const fromState = typeof s?.runDir === 'string' ? s.runDir : typeof s?.dora?.runDir === 'string' ? s.dora.runDir : undefined;
  return fromState ?? remembered.find((dir) => !taken.has(dir));
}
