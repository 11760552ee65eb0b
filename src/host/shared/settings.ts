// Typed access to the `dora.*` settings and to the test-only environment overrides.

import * as vscode from 'vscode';

export interface DoraSettings {
  /** 'fromConfig' leaves the config's runtime.backend in charge. */
  backend: string;
  ffmpegPath: string;
  runsFolder: string;
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
    snapshotInterval: c.get<number>('snapshotInterval', 0),
    stopTimeoutSeconds: c.get<number>('stopTimeoutSeconds', 60),
    engine: c.get<DoraSettings['engine']>('engine', 'fromConfig'),
    pythonPath: c.get<string>('pythonPath', '').trim(),
    device: c.get<DoraSettings['device']>('device', 'fromConfig'),
  };
}

export function workspaceRoots(): string[] {
  return (vscode.workspace.workspaceFolders ?? [])
    .filter((f) => f.uri.scheme === 'file' || f.uri.scheme === 'vscode-remote')
    .map((f) => f.uri.fsPath);
}
