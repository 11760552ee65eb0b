// The runs table panel ("DoRA: Show Runs Table"): one per window, restored after a reload, re-sent whenever the
// runs folders change (debounced), its actions (plot, compare, delete, open, star, rename) run the DoRA commands.

import * as vscode from 'vscode';
import { isRunsTableToHostMessage, type RunsTableAction, type RunsTableState } from '../../core/experimentMessages';
import { debounce } from '../shared/emitter';
import { experimentPanelOptions, experimentShell } from '../experiments/panelShell';

export const RUNS_TABLE_VIEW_TYPE = 'dora.runsTable';

export class RunsTablePanel implements vscode.WebviewPanelSerializer {
  private current: { panel: vscode.WebviewPanel; ready: boolean } | undefined;
  /** Rows posts so far (diagnostics for tests). */
  updatesSent = 0;
  readonly refreshSoon = debounce(() => void this.send(), 300);

  constructor(
    private readonly extensionUri: vscode.Uri,
    private readonly gather: () => Promise<RunsTableState>,
    private readonly onAction: (action: RunsTableAction, runs: string[]) => Promise<unknown>,
  ) {}

  open(): vscode.WebviewPanel {
    if (this.current) {
      this.current.panel.reveal();
      return this.current.panel;
    }
    const panel = vscode.window.createWebviewPanel(
      RUNS_TABLE_VIEW_TYPE,
      'DoRA: Runs',
      vscode.ViewColumn.Active,
      experimentPanelOptions(this.extensionUri),
    );
    this.attach(panel);
    return panel;
  }

  async deserializeWebviewPanel(panel: vscode.WebviewPanel): Promise<void> {
    panel.webview.options = experimentPanelOptions(this.extensionUri);
    this.attach(panel);
  }

  get isReady(): boolean {
    return this.current?.ready === true;
  }

  dispose(): void {
    this.refreshSoon.cancel();
    this.current?.panel.dispose();
  }

  private attach(panel: vscode.WebviewPanel): void {
    this.current?.panel.dispose();
    panel.iconPath = vscode.Uri.joinPath(this.extensionUri, 'media', 'icons', 'dora.svg');
    const entry = { panel, ready: false };
    this.current = entry;
    const messages = panel.webview.onDidReceiveMessage(async (message: unknown) => {
      if (!isRunsTableToHostMessage(message)) return;
      if (message.type === 'ready') {
        entry.ready = true;
        await this.send();
      } else await this.onAction(message.action, message.runs);
    });
    panel.onDidDispose(() => {
      messages.dispose();
      if (this.current === entry) this.current = undefined;
    });
    panel.webview.html = experimentShell(panel, this.extensionUri, 'runsTable');
  }

  private async send(): Promise<void> {
    const entry = this.current;
    if (!entry?.ready) return;
    const state = await this.gather().catch((error: Error) => ({
      rows: [],
      folders: [],
      error: `Could not read the runs: ${error.message}`,
    }));
    if (this.current !== entry) return;
    this.updatesSent++;
    void entry.panel.webview.postMessage({ type: 'setData', data: state });
  }
}
