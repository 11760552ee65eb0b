// Run management: DoRA: Rename Run…, Star Run / Unstar Run (studio.json) and Delete Run… (the whole folder, asked
// first, refused for a live run or a folder outside the runs folders). From the Runs view (one or several selected
// runs), the runs table, or the palette (a pick).

import { readdir, stat } from 'node:fs/promises';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { DISPLAY_NAME_MAX } from '../../core/studioFile';
import { optionsFromArgs, runDirsFromArgs } from '../experiments/args';
import type { WorkspaceModel } from '../runs/workspaceModel';
import { requireTrust } from '../shared/commandHelpers';
import { checkRunFolderForDelete, deleteRunFolder } from './deleteRun';
import { readStudioInfo, updateStudioInfo } from './studioFiles';

export interface RunManagementDeps {
  model: WorkspaceModel;
  /** Whether this window's trainer holds the run. */
  isLiveHere: (runDir: string) => boolean;
  /** Runs picked in the palette when no argument names one. */
  pickRuns: (placeHolder: string, many: boolean) => Promise<string[]>;
  /** Called after runs were deleted (close their panels). */
  onDeleted: (runDirs: string[]) => void;
}

async function folderSize(dir: string): Promise<number> {
  let total = 0;
  for (const entry of await readdir(dir, { withFileTypes: true }).catch(() => [])) {
    const file = path.join(dir, entry.name);
    if (entry.isDirectory()) total += await folderSize(file);
    else if (entry.isFile()) total += (await stat(file).catch(() => ({ size: 0 }))).size;
  }
  return total;
}

export function registerRunManagement(context: vscode.ExtensionContext, d: RunManagementDeps): void {
  const register = (id: string, handler: (...args: unknown[]) => unknown) =>
    context.subscriptions.push(vscode.commands.registerCommand(id, handler));
  const runsOf = async (args: unknown[], placeHolder: string, many: boolean) => {
    const dirs = runDirsFromArgs(args);
    return dirs.length > 0 ? dirs : d.pickRuns(placeHolder, many);
  };

  register('dora.renameRun', async (...args: unknown[]) => {
    const [runDir] = await runsOf(args, 'Run to rename', false);
    if (!runDir) return undefined;
    const current =
      (await readStudioInfo(runDir))?.displayName ??
      d.model.runViews().find((v) => v.summary.dir === runDir)?.summary.info?.name ??
      path.basename(runDir);
    const given = optionsFromArgs<{ name: string }>(args).name;
    const name =
      given ??
      (await vscode.window.showInputBox({
        title: `DoRA: Rename Run ${path.basename(runDir)}`,
        prompt:
          'The name shown in the Runs view, the runs table and the charts (stored in studio.json; the folder keeps its ' +
          'name). Empty: back to run.json’s name.',
        value: current,
        validateInput: (v) => (v.length > DISPLAY_NAME_MAX ? `At most ${DISPLAY_NAME_MAX} characters` : undefined),
      }));
    if (name === undefined) return undefined;
    const written = await updateStudioInfo(runDir, { displayName: name });
    await d.model.refresh();
    return written;
  });

  const star =
    (starred: boolean) =>
    async (...args: unknown[]) => {
      const dirs = await runsOf(args, starred ? 'Runs to star' : 'Runs to unstar', true);
      for (const dir of dirs) await updateStudioInfo(dir, { starred });
      if (dirs.length) await d.model.refresh();
      return dirs;
    };
  register('dora.starRun', star(true));
  register('dora.unstarRun', star(false));

  register('dora.deleteRun', (...args: unknown[]) => deleteRuns(d, args));
}

/** DoRA: Delete Run…: every run passes the checks (else nothing is deleted), asked first unless `confirmed`. */
async function deleteRuns(d: RunManagementDeps, args: unknown[]): Promise<string[]> {
  // Deleting is irreversible and a run folder is untrusted input: only in a trusted workspace (SECURITY.md).
  if (!requireTrust('delete a run')) return [];
  const given = runDirsFromArgs(args);
  const dirs = given.length > 0 ? given : await d.pickRuns('Runs to delete', true);
  if (dirs.length === 0) return [];
  const checks = await Promise.all(dirs.map((dir) => checkRunFolderForDelete(dir, d.model.runsFolders(), d.isLiveHere)));
  const refused = checks.flatMap((c) => (c.ok ? [] : [c.reason]));
  if (refused.length > 0) {
    void vscode.window.showErrorMessage(`DoRA: nothing was deleted. ${refused.join(' ')}`);
    return [];
  }
  const realDirs = checks.flatMap((c) => (c.ok ? [c.realDir] : []));
  if (optionsFromArgs<{ confirmed: boolean }>(args).confirmed !== true) {
    const megabytes = (await Promise.all(realDirs.map(folderSize))).reduce((a, b) => a + b, 0) / 1e6;
    const what = realDirs.length === 1 ? `run ${path.basename(realDirs[0])}` : `${realDirs.length} runs`;
    const answer = await vscode.window.showWarningMessage(
      `Delete ${what}?`,
      {
        modal: true,
        detail:
          `This deletes ${realDirs.join(', ')} (${megabytes.toFixed(1)} MB: checkpoints, snapshots, metrics, ` +
          'evaluations). It cannot be undone.',
      },
      'Delete',
    );
    if (answer !== 'Delete') return [];
  }
  const deleted: string[] = [];
  for (const dir of realDirs) {
    try {
      await deleteRunFolder(dir);
      deleted.push(dir);
    } catch (error) {
      void vscode.window.showErrorMessage(`DoRA: could not delete ${dir}: ${(error as Error).message}`);
    }
  }
  // Panels know runs by the path they were opened with; realDirs[i] is dirs[i] with symlinks resolved.
  d.onDeleted(dirs.filter((_, i) => deleted.includes(realDirs[i])));
  await d.model.refresh();
  return deleted;
}
