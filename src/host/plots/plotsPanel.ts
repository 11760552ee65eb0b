// The overlay chart panel ("DoRA: Plot Runs"): one per window (a new selection replaces the runs shown), restored
// after a reload, refreshed as the runs log, exportable through the chart export broker.

import { existsSync } from 'node:fs';
import * as vscode from 'vscode';
import type { ChartExportBroker } from '../chartExport/exportBroker';
import { experimentPanelOptions, experimentShell } from '../experiments/panelShell';
import { PlotsSession } from './plotsSession';

export const PLOTS_VIEW_TYPE = 'dora.plots';
const OPEN_PLOTS_KEY = 'dora.openPlots';

export class PlotsPanel implements vscode.WebviewPanelSerializer {
  private current: { panel: vscode.WebviewPanel; session: PlotsSession } | undefined;

  constructor(
    private readonly extensionUri: vscode.Uri,
    private readonly workspaceState: vscode.Memento,
    private readonly broker: ChartExportBroker,
  ) {}

  async open(runDirs: readonly string[]): Promise<vscode.WebviewPanel> {
    if (this.current) {
      await this.current.session.setRuns(runDirs);
      void this.workspaceState.update(OPEN_PLOTS_KEY, [...runDirs]);
      this.current.panel.title = this.title(runDirs);
      this.current.panel.reveal();
      return this.current.panel;
    }
    const panel = vscode.window.createWebviewPanel(
      PLOTS_VIEW_TYPE,
      this.title(runDirs),
      vscode.ViewColumn.Active,
      experimentPanelOptions(this.extensionUri),
    );
    this.attach(panel, runDirs);
    return panel;
  }

  async deserializeWebviewPanel(panel: vscode.WebviewPanel): Promise<void> {
    const runDirs = this.workspaceState.get<string[]>(OPEN_PLOTS_KEY, []).filter((dir) => typeof dir === 'string' && existsSync(dir));
    panel.webview.options = experimentPanelOptions(this.extensionUri);
    this.attach(panel, runDirs);
  }

  refresh(): void {
    void this.current?.session.refresh();
  }

  get session(): PlotsSession | undefined {
    return this.current?.session;
  }

  get panel(): vscode.WebviewPanel | undefined {
    return this.current?.panel;
  }

  /** Drops deleted runs from the chart. */
  async forget(runDirs: readonly string[]): Promise<void> {
    const session = this.current?.session;
    if (!session) return;
    const left = session.runs.filter((dir) => !runDirs.includes(dir));
    if (left.length !== session.runs.length) await session.setRuns(left);
  }

  private title(runDirs: readonly string[]): string {
    return `DoRA: ${runDirs.length} run${runDirs.length === 1 ? '' : 's'}`;
  }

  private attach(panel: vscode.WebviewPanel, runDirs: readonly string[]): void {
    this.current?.panel.dispose();
    panel.iconPath = vscode.Uri.joinPath(this.extensionUri, 'media', 'icons', 'dora.svg');
    const session = new PlotsSession({ runDirs, post: (message) => panel.webview.postMessage(message) });
    const entry = { panel, session };
    this.current = entry;
    void this.workspaceState.update(OPEN_PLOTS_KEY, [...runDirs]);
    const tracked = this.broker.track(panel, () => `overlay of ${session.runs.length} runs`);
    const messages = panel.webview.onDidReceiveMessage((message: unknown) => {
      if (!this.broker.handleMessage(panel, message)) void session.handleMessage(message);
    });
    panel.onDidDispose(() => {
      messages.dispose();
      tracked.dispose();
      session.dispose();
      if (this.current === entry) {
        this.current = undefined;
        void this.workspaceState.update(OPEN_PLOTS_KEY, undefined);
      }
    });
    panel.webview.html = experimentShell(panel, this.extensionUri, 'plots');
  }
}
