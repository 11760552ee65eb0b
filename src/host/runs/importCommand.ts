// "DoRA: Import Checkpoint (.pth)…": released DoRA/DINO weights (or a ViT state dict) become a run folder in the runs
// folder, through the PyTorch engine (`import-checkpoint` request, src/trainer/pytorch/importCheckpoint.ts), with a
// snapshot of the tracker on the chosen video so the dashboard shows the model's masks, attention and assignments.
// Argument: a .pth Uri (explorer) or path, or `{ file, video }` (tests); none → file pickers.

import * as path from 'node:path';
import * as vscode from 'vscode';
import { PythonEngineError } from '../../core/node/pythonEngine';
import type { HostServices } from '../services';
import { askForFolder, registerCommand, requireTrust, showPythonProblem } from '../shared/commandHelpers';
import { readSettings, workspaceRoots } from '../shared/settings';
import { runsDirFromSetting } from './runsDirs';

export interface ImportedCheckpoint {
  runDir: string;
  checkpoint: string;
  snapshot: string | null;
}

const NO_VIDEO = '';

export function registerImportCommand(s: HostServices): void {
  registerCommand(s, 'dora.importCheckpoint', (arg?: unknown) => importCheckpointCommand(s, arg));
}

function argPaths(arg: unknown): { file?: string; video?: string } {
  if (typeof arg === 'string') return { file: arg };
  if (arg instanceof vscode.Uri) return { file: arg.fsPath };
  if (typeof arg === 'object' && arg !== null) {
    const { file, video } = arg as { file?: unknown; video?: unknown };
    return { file: typeof file === 'string' ? file : undefined, video: typeof video === 'string' ? video : undefined };
  }
  return {};
}

async function importCheckpointCommand(s: HostServices, arg: unknown): Promise<ImportedCheckpoint | undefined> {
  if (!requireTrust('import a checkpoint')) return undefined;
  const root = workspaceRoots()[0];
  if (!root) {
    askForFolder('DoRA: open a folder first; the imported run goes into its runs folder.');
    return undefined;
  }
  const given = argPaths(arg);
  const file = given.file ?? (await pickFile('Import', { 'PyTorch checkpoint': ['pth', 'pt', 'ckpt'] }, 'DoRA: Import Checkpoint (.pth)'));
  if (!file) return undefined;
  const video = given.video ?? (await pickVideo());
  if (video === undefined) return undefined;
  const settings = readSettings();
  const runsDir = runsDirFromSetting(settings.runsFolder, root) ?? path.join(root, 'runs');
  try {
    return await runImport(s, { file, video: video || undefined, runsDir, ffmpegPath: settings.ffmpegPath || undefined });
  } catch (error) {
    if (error instanceof PythonEngineError) void showPythonProblem('cannot import the checkpoint', error);
    else void vscode.window.showErrorMessage(`DoRA: could not import ${path.basename(file)}: ${(error as Error).message}`);
    return undefined;
  }
}

async function runImport(
  s: HostServices,
  request: { file: string; video?: string; runsDir: string; ffmpegPath?: string },
): Promise<ImportedCheckpoint | undefined> {
  const title = `DoRA: importing ${path.basename(request.file)}`;
  const outcome = await vscode.window.withProgress(
    { location: vscode.ProgressLocation.Notification, title, cancellable: true },
    async (progress, token) => {
      const controller = new AbortController();
      token.onCancellationRequested(() => controller.abort());
      return s.engines.importCheckpoint(request, {
        signal: controller.signal,
        log: (line) => s.output.appendLine(`[import] ${line}`),
        onProgress: (p) => p.message && progress.report({ message: p.message }),
      });
    },
  );
  if (outcome.reason !== 'completed' || !outcome.imported) {
    if (outcome.reason === 'stopped') void vscode.window.showInformationMessage('DoRA: import cancelled; nothing was written.');
    else void vscode.window.showErrorMessage(`DoRA: could not import ${path.basename(request.file)}: ${outcome.error ?? 'unknown error'}`);
    return undefined;
  }
  const { runDir, checkpoint, snapshot, summary } = outcome.imported;
  s.output.appendLine(`[import] ${summary}`);
  await s.model.refresh();
  s.runsTree.refresh();
  void s.dashboards.open(runDir, vscode.ViewColumn.Active);
  void vscode.window.showInformationMessage(`DoRA: ${summary}`);
  return { runDir, checkpoint, snapshot };
}

async function pickFile(openLabel: string, filters: Record<string, string[]>, title: string): Promise<string | undefined> {
  const picked = await vscode.window.showOpenDialog({ canSelectMany: false, canSelectFolders: false, filters, openLabel, title });
  return picked?.[0]?.fsPath;
}

/** The video for the run (its snapshot, evaluation, continued training); '' = the checkpoint's own args.data_path. */
async function pickVideo(): Promise<string | undefined> {
  const choose = { label: '$(file-media) Choose a video…', detail: 'The dashboard shows the imported model tracking objects in it.' };
  const own = {
    label: "$(file-binary) The checkpoint's own video",
    detail: 'args.data_path of an official checkpoint, if that file is here',
  };
  const picked = await vscode.window.showQuickPick([choose, own], {
    title: 'DoRA: Import Checkpoint — video',
    placeHolder: 'Video for the imported run',
  });
  if (!picked) return undefined;
  if (picked === own) return NO_VIDEO;
  return pickFile('Use Video', { Video: ['mp4', 'mov', 'mkv', 'avi', 'webm'] }, 'DoRA: video for the imported run');
}
