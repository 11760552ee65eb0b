// Delete Checkpoint (from a checkpoint's context menu; confirmed in a modal dialog unless the caller already did).

import * as path from 'node:path';
import * as vscode from 'vscode';
import { listCheckpoints } from '../../core/node/runDir';
import type { UnsafeRunPathError } from '../../core/node/runPathSafety';
import { runDirOfCheckpoint } from '../../core/node/runPaths';
import type { HostServices } from '../services';
import { checkpointFromArg } from '../shared/commandArgs';
import { registerCommand, requireTrust } from '../shared/commandHelpers';
import { checkpointBytes, deleteCheckpointFiles } from './checkpointFiles';

export function registerCheckpointCommands(s: HostServices): void {
  registerCommand(s, 'dora.deleteCheckpoint', (arg?: unknown, confirmed?: unknown) => deleteCheckpoint(s, arg, confirmed === true));
}

async function deleteCheckpoint(s: HostServices, arg: unknown, confirmed: boolean): Promise<boolean> {
  if (!requireTrust('delete a checkpoint')) return false;
  const sidecar = checkpointFromArg(arg);
  if (!sidecar) return false;
  const runDir = runDirOfCheckpoint(sidecar);
  // listCheckpoints checks the file names the sidecar gives: one that leads outside the run folder is refused.
  let refused: string | undefined;
  const onRefused = (e: UnsafeRunPathError) => {
    if (path.resolve(e.source.file) === path.resolve(sidecar)) refused = e.message;
  };
  const entry = (await listCheckpoints(runDir, onRefused)).find((c) => c.sidecarFile === sidecar);
  if (!entry) {
    const why = refused ? `nothing was deleted: ${refused}` : `${sidecar} is not a complete checkpoint (already deleted?).`;
    void vscode.window.showErrorMessage(`DoRA: ${why}`);
    s.model.refreshSoon();
    return false;
  }
  if (!confirmed) {
    const megabytes = (await checkpointBytes(entry)) / 1e6;
    const files = [sidecar, entry.weightsFile, entry.optimizerFile].map((f) => path.basename(f));
    const answer = await vscode.window.showWarningMessage(
      `Delete checkpoint step ${entry.step} of ${path.basename(runDir)}?`,
      {
        modal: true,
        detail:
          `This deletes ${files[0]}, ${files[1]} and ${files[2]} (${megabytes.toFixed(1)} MB), and its evaluation results. ` +
          'It cannot be undone.',
      },
      'Delete',
    );
    if (answer !== 'Delete') return false;
  }
  await deleteCheckpointFiles(entry);
  s.runsTree.setChecked(sidecar, false);
  await s.model.refresh();
  s.runsTree.refresh();
  return true;
}
