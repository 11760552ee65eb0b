// The compare panel (one at a time): N checkpoints side by side, restored after a reload. Message handling lives in
// compareSession.ts.

import { existsSync, mkdirSync } from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { runDirOfCheckpoint, stepOfCheckpoint } from '../../core/node/runPaths';
import { shellFor, type PanelContext } from '../shared/panelShell';
import { makeNonce, webviewShellHtml } from '../shared/webviewHtml';
import { CompareSession, type InspectRunner } from './compareSession';

export const COMPARE_VIEW_TYPE = 'dora.compare';
const OPEN_COMPARES_KEY = 'dora.openCompares';

export class ComparePanels implements vscode.WebviewPanelSerializer {
  private current: { panel: vscode.WebviewPanel; session: CompareSession } | undefined;
  /** Messages received from compare webviews (diagnostics for tests and bug reports). */
  messagesReceived = 0;

  constructor(
    private readonly ctx: PanelContext,
    private readonly inspectRoot: string,
    private readonly runInspect: () => InspectRunner | undefined,
    private readonly log: (line: string) => void,
  ) {}

  /** Pushes re-read evaluation results to the open compare panel. */
  async refreshEvaluations(): Promise<void> {
    await this.current?.session.refreshEvaluations();
  }

  /** One compare panel at a time: a new selection replaces the old one (like a diff editor). */
  open(checkpoints: readonly string[]): vscode.WebviewPanel {
    this.current?.panel.dispose();
    // A localResourceRoot must exist when the webview starts, or resource loading can fail. Restricted Mode writes nothing.
    if (vscode.workspace.isTrusted) mkdirSync(this.inspectRoot, { recursive: true });
    const panel = vscode.window.createWebviewPanel(
      COMPARE_VIEW_TYPE,
      this.title(checkpoints),
      vscode.ViewColumn.Active,
      this.options(checkpoints),
    );
    this.attach(panel, checkpoints);
    return panel;
  }

  async deserializeWebviewPanel(panel: vscode.WebviewPanel, state: unknown): Promise<void> {
    const s = state as { checkpoints?: unknown; dora?: { checkpoints?: unknown } } | undefined;
    const fromState = Array.isArray(s?.checkpoints) ? s.checkpoints : Array.isArray(s?.dora?.checkpoints) ? s.dora.checkpoints : undefined;
    const remembered = this.ctx.workspaceState.get<string>(OPEN_COMPARES_KEY);
    const checkpoints = (
      fromState?.filter((c): c is string => typeof c === 'string') ?? (remembered ? (JSON.parse(remembered) as string[]) : [])
    ).filter((c) => existsSync(c));
    if (checkpoints.length < 1) {
      panel.webview.html = webviewShellHtml({
        title: 'DoRA compare',
        view: 'compare',
        cspSource: panel.webview.cspSource,
        nonce: makeNonce(),
        scriptUri: '',
        styleUris: [],
        missingBundleMessage:
          'The checkpoints of this comparison no longer exist (deleted or pruned). Close this tab and pick ' +
          'checkpoints again in the Runs view.',
      });
      return;
    }
    panel.webview.options = this.options(checkpoints);
    this.attach(panel, checkpoints);
  }

  isVisible(): boolean {
    return this.current?.panel.visible === true;
  }

  get session(): CompareSession | undefined {
    return this.current?.session;
  }

  private title(checkpoints: readonly string[]): string {
    if (checkpoints.length === 1)
      return `DoRA: step ${stepOfCheckpoint(checkpoints[0]) ?? 0} of ${path.basename(runDirOfCheckpoint(checkpoints[0]))}`;
    return `DoRA: compare ${checkpoints.length} checkpoints`;
  }

  private options(checkpoints: readonly string[]): vscode.WebviewPanelOptions & vscode.WebviewOptions {
    const runDirs = [...new Set(checkpoints.map(runDirOfCheckpoint))];
    return {
      enableScripts: true,
      localResourceRoots: [
        vscode.Uri.joinPath(this.ctx.extensionUri, 'media'),
        ...(existsSync(this.inspectRoot) ? [vscode.Uri.file(this.inspectRoot)] : []),
        ...runDirs.map((d) => vscode.Uri.file(d)),
      ],
    };
  }

  private attach(panel: vscode.WebviewPanel, checkpoints: readonly string[]): void {
    panel.iconPath = vscode.Uri.joinPath(this.ctx.extensionUri, 'media', 'icons', 'dora.svg');
    // Restricted Mode: no `dora inspect` engine (it runs ffmpeg and writes a frame cache); what is on disk is shown.
    const restricted = !vscode.workspace.isTrusted;
    const session = new CompareSession({
      checkpoints,
      post: (message) => panel.webview.postMessage(message),
      toWebviewUri: (file) => panel.webview.asWebviewUri(vscode.Uri.file(file)).toString(),
      inspectRoot: this.inspectRoot,
      runInspect: restricted ? undefined : this.runInspect(),
      restricted,
      onLog: this.log,
      onEvaluateRequest: (list) => void vscode.commands.executeCommand('dora.evaluateCheckpoint', [...list]),
    });
    this.current = { panel, session };
    void this.ctx.workspaceState.update(OPEN_COMPARES_KEY, JSON.stringify(checkpoints));
    const messages = panel.webview.onDidReceiveMessage((m) => {
      this.messagesReceived++;
      session.handleMessage(m).catch((error: Error) => this.log(`compare: could not answer the webview: ${error.stack ?? error.message}`));
    });
    panel.onDidDispose(() => {
      messages.dispose();
      session.dispose();
      if (this.current?.panel === panel) {
        this.current = undefined;
        void this.ctx.workspaceState.update(OPEN_COMPARES_KEY, undefined);
      }
    });
    panel.webview.html = shellFor(panel, this.ctx, 'compare', panel.title, { checkpoints: JSON.stringify(checkpoints) });
  }
}
