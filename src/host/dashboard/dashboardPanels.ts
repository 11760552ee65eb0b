// Dashboard panels (one per run): the HTML shell with a nonce CSP, localResourceRoots limited to media/ and the run
// folder, and a serializer so panels survive a reload. Message handling lives in dashboardSession.ts.

import { existsSync } from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { readRunInfo } from '../../core/node/runDir';
import type { LiveRunState } from '../runs/liveRun';
import { rememberOpen, runDirFromState, shellFor, type PanelContext } from '../shared/panelShell';
import { makeNonce, webviewShellHtml } from '../shared/webviewHtml';
import { DashboardSession } from './dashboardSession';

export const DASHBOARD_VIEW_TYPE = 'dora.dashboard';
const OPEN_DASHBOARDS_KEY = 'dora.openDashboards';

export class DashboardPanels implements vscode.WebviewPanelSerializer {
  private readonly panels = new Map<string, { panel: vscode.WebviewPanel; session: DashboardSession }>();

  constructor(
    private readonly ctx: PanelContext,
    private readonly live: (runDir: string) => LiveRunState | undefined,
  ) {}

  async open(runDir: string, column = vscode.ViewColumn.Active): Promise<vscode.WebviewPanel> {
    const existing = this.panels.get(runDir);
    if (existing) {
      existing.panel.reveal(column);
      return existing.panel;
    }
    const panel = vscode.window.createWebviewPanel(DASHBOARD_VIEW_TYPE, await this.title(runDir), column, this.options(runDir));
    this.attach(panel, runDir);
    return panel;
  }

  async deserializeWebviewPanel(panel: vscode.WebviewPanel, state: unknown): Promise<void> {
    const runDir = runDirFromState(state, this.ctx.workspaceState.get<string[]>(OPEN_DASHBOARDS_KEY, []), new Set(this.panels.keys()));
    if (!runDir || !existsSync(runDir)) {
      panel.webview.html = webviewShellHtml({
        title: 'DoRA run',
        view: 'dashboard',
        cspSource: panel.webview.cspSource,
        nonce: makeNonce(),
        scriptUri: '',
        styleUris: [],
        missingBundleMessage:
          `The run folder of this dashboard${runDir ? ` (${runDir})` : ''} no longer exists. ` +
          `Close this tab and open the run again from the DoRA sidebar.`,
      });
      return;
    }
    panel.webview.options = this.options(runDir);
    panel.title = await this.title(runDir);
    this.attach(panel, runDir);
  }

  /** Pushes what changed in a run to its open dashboard. */
  refresh(runDir?: string): void {
    for (const [dir, { session }] of this.panels) if (!runDir || dir === runDir) void session.refresh();
  }

  isOpen(runDir: string): boolean {
    return this.panels.has(runDir);
  }

  /** Whether the dashboard of `runDir` has loaded its bundle and said `ready`. */
  isReady(runDir: string): boolean {
    return this.panels.get(runDir)?.session.isReady === true;
  }

  openRunDirs(): string[] {
    return [...this.panels.keys()];
  }

  private options(runDir: string): vscode.WebviewPanelOptions & vscode.WebviewOptions {
    return {
      enableScripts: true,
      retainContextWhenHidden: false, // the webview keeps its view state with setState; the host re-sends data on `ready`
      localResourceRoots: [vscode.Uri.joinPath(this.ctx.extensionUri, 'media'), vscode.Uri.file(runDir)],
    };
  }

  private async title(runDir: string): Promise<string> {
    const info = await readRunInfo(runDir).catch(() => undefined);
    return `DoRA: ${info?.name ?? path.basename(runDir)}`;
  }

  private attach(panel: vscode.WebviewPanel, runDir: string): void {
    panel.iconPath = vscode.Uri.joinPath(this.ctx.extensionUri, 'media', 'icons', 'dora.svg');
    const session = new DashboardSession({
      runDir,
      post: (message) => panel.webview.postMessage(message),
      toWebviewUri: (file) => panel.webview.asWebviewUri(vscode.Uri.file(file)).toString(),
      live: () => this.live(runDir),
    });
    this.panels.set(runDir, { panel, session });
    rememberOpen(this.ctx.workspaceState, OPEN_DASHBOARDS_KEY, runDir, true);
    const messages = panel.webview.onDidReceiveMessage((m) => void session.handleMessage(m));
    panel.onDidDispose(() => {
      messages.dispose();
      session.dispose();
      this.panels.delete(runDir);
      rememberOpen(this.ctx.workspaceState, OPEN_DASHBOARDS_KEY, runDir, false);
    });
    panel.webview.html = shellFor(panel, this.ctx, 'dashboard', panel.title, { runDir });
  }
}
