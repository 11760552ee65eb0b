// Typed access to the `dora.*` settings and to the test-only environment overrides.

import * as path from 'node:path';
import * as vscode from 'vscode';

export interface DoraSettings {
  /** 'fromConfig' leaves the config's runtime.backend in charge. */
  backend: string;
  ffmpegPath: string;
  runsFolder: string;
  /** Frame-cache folder (absolute, or relative to the first workspace folder); '' = the trainer's default. */
  cacheFolder: string;
  /** 0 = the config's runtime.snapshotEvery. */
  snapshotInterval: number;
  stopTimeoutSeconds: number;
  /** 'fromConfig' leaves the config's runtime.engine in charge. */
  engine: 'fromConfig' | 'tfjs' | 'pytorch';
  /** The PyTorch engine's interpreter; '' = the Python extension's, else a search. */
  pythonPath: string;
  /** 'fromConfig' leaves the config's runtime.device in charge. */
  device: 'fromConfig' | 'auto' | 'cuda' | 'cpu' | 'mps';
}

export function readSettings(scope?: vscode.Uri): DoraSettings {
  const c = vscode.workspace.getConfiguration('dora', scope);
  return {
    backend: c.get<string>('backend', 'fromConfig'),
    ffmpegPath: c.get<string>('ffmpegPath', ''),
    runsFolder: c.get<string>('runsFolder', ''),
    cacheFolder: c.get<string>('cacheFolder', ''),
    snapshotInterval: c.get<number>('snapshotInterval', 0),
    stopTimeoutSeconds: c.get<number>('stopTimeoutSeconds', 60),
    engine: c.get<DoraSettings['engine']>('engine', 'fromConfig'),
    pythonPath: c.get<string>('pythonPath', '').trim(),
    device: c.get<DoraSettings['device']>('device', 'fromConfig'),
  };
}

/** The dora.cacheFolder setting as an absolute path, or undefined when it is empty. */
export function cacheFolderSetting(settings: DoraSettings, roots: string[] = workspaceRoots()): string | undefined {
  const folder = settings.cacheFolder.trim();
  if (!folder) return undefined;
  return path.isAbsolute(folder) ? folder : path.resolve(roots[0] ?? process.cwd(), folder);
}

export function workspaceRoots(): string[] {
  return (vscode.workspace.workspaceFolders ?? [])
    .filter((f) => f.uri.scheme === 'file' || f.uri.scheme === 'vscode-remote')
    .map((f) => f.uri.fsPath);
}
