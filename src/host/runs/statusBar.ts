// The status-bar entry: the live runs of this window and those training elsewhere; a click opens the dashboard.

import * as vscode from 'vscode';
import type { RunManager } from './runManager';
import { engineText, liveRunsForStatusBar, statusBarTextForRuns } from './runStatusText';
import type { WorkspaceModel } from './workspaceModel';

export class RunStatusBar implements vscode.Disposable {
  private readonly item = vscode.window.createStatusBarItem('dora.runStatus', vscode.StatusBarAlignment.Left, 50);

  constructor(
    private readonly manager: RunManager,
    private readonly model: WorkspaceModel,
  ) {
    this.item.name = 'DoRA run';
  }

  update(): void {
    const live = liveRunsForStatusBar(this.manager.states(), this.model.runViews());
    const text = statusBarTextForRuns(live);
    if (!text) {
      this.item.hide();
      return;
    }
    this.item.text = text;
    this.item.tooltip = new vscode.MarkdownString(
      live.map((s) => `**${s.name}**${engineText(s) ? ` (${engineText(s)})` : ''} — \`${s.runDir}\``).join('\n\n') +
        '\n\nClick to open the dashboard.',
    );
    this.item.command = { command: 'dora.openDashboard', title: 'Open Dashboard', arguments: [{ kind: 'run', dir: live[0].runDir }] };
    this.item.show();
  }

  dispose(): void {
    this.item.dispose();
  }
}
