// The HTML shell of the experiment panels (plots, runs table): the same nonce CSP shell as the dashboard
// (logic/webviewHtml.ts), with the view's bundle from media/, or an explanation when the bundle was not built.

import { existsSync } from 'node:fs';
import * as vscode from 'vscode';
import { makeNonce, webviewShellHtml } from '../shared/webviewHtml';

export function experimentShell(
  panel: vscode.WebviewPanel,
  extensionUri: vscode.Uri,
  view: 'plots' | 'runsTable',
  bodyData: Record<string, string> = {},
): string {
  const media = vscode.Uri.joinPath(extensionUri, 'media');
  const script = vscode.Uri.joinPath(media, `${view}.js`);
  const style = vscode.Uri.joinPath(media, `${view}.css`);
  return webviewShellHtml({
    title: panel.title,
    view,
    cspSource: panel.webview.cspSource,
    nonce: makeNonce(),
    scriptUri: panel.webview.asWebviewUri(script).toString(),
    styleUris: existsSync(style.fsPath) ? [panel.webview.asWebviewUri(style).toString()] : [],
    missingBundleMessage: existsSync(script.fsPath)
      ? undefined
      : `${script.fsPath} is missing, so this view cannot be shown. Cause: the webviews were not built. ` +
        'Fix: run `npm run build` in the DoRA Studio folder, or reinstall the extension.',
    bodyData,
  });
}

/** Panel options: scripts on, only media/ loadable (these views get all their data by message). */
export function experimentPanelOptions(extensionUri: vscode.Uri): vscode.WebviewPanelOptions & vscode.WebviewOptions {
  return { enableScripts: true, retainContextWhenHidden: false, localResourceRoots: [vscode.Uri.joinPath(extensionUri, 'media')] };
}
