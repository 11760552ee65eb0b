// Compare Checkpoints (ticked in the Runs view, selected, or picked) and Clear Checkpoint Selection.

import { existsSync } from 'node:fs';
import * as vscode from 'vscode';
import type { HostServices } from '../services';
import { checkpointsFromArgs } from '../shared/commandArgs';
import { registerCommand } from '../shared/commandHelpers';
import { allCheckpoints } from '../shared/pickers';

export function registerCompareCommands(s: HostServices): void {
  registerCommand(s, 'dora.compareCheckpoints', (...args: unknown[]) => compareCheckpoints(s, args));
  registerCommand(s, 'dora.clearCheckpointSelection', () => s.runsTree.clearChecked());
}

async function compareCheckpoints(s: HostServices, args: unknown[]): Promise<string[] | undefined> {
  let checkpoints = checkpointsFromArgs(args);
  if (checkpoints.length < 2) checkpoints = [...s.runsTree.checked];
  if (checkpoints.length < 2) {
    const all = await allCheckpoints(s);
    if (all.length < 2) {
      void vscode.window.showInformationMessage(
        'DoRA: comparing needs at least two checkpoints; runs write one every runtime.checkpointEvery steps and when they stop.',
      );
      return undefined;
    }
    const picked = await vscode.window.showQuickPick(
      all.map((c) => ({ label: `${c.runId} @ step ${c.step}`, description: c.sidecar.time, sidecar: c.sidecarFile })),
      {
        canPickMany: true,
        ignoreFocusOut: true, // ticks survive a click elsewhere or a webview taking the focus while it loads
        placeHolder: 'Pick two or more checkpoints to compare (tick them in the Runs view next time)',
      },
    );
    checkpoints = (picked ?? []).map((p) => p.sidecar);
    if (checkpoints.length < 2) return undefined;
  }
  const missing = checkpoints.filter((c) => !existsSync(c));
  if (missing.length) {
    const verb = missing.length === 1 ? 'exists' : 'exist';
    void vscode.window.showErrorMessage(
      `DoRA: cannot compare: ${missing.join(', ')} no longer ${verb} (deleted or pruned by runtime.keepCheckpoints). ` +
        `Tick other checkpoints.`,
    );
    return undefined;
  }
  s.compares.open(checkpoints);
  return checkpoints;
}
