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
}

export function readSettings(scope?: vscode.Uri): DoraSettings {
  const c = vscode.workspace.getConfiguration('dora', scope);
  return {
    backend: c.get<string>('backend', 'fromConfig'),
    ffmpegPath: c.get<string>('ffmpegPath', ''),
    runsFolder: c.get<string>('runsFolder', ''),
    snapshotInterval: c.get<number>('snapshotInterval', 0),
    stopTimeoutSeconds: c.get<number>('stopTimeoutSeconds', 60),
  };
}

export function workspaceRoots(): string[] {
  return (vscode.workspace.workspaceFolders ?? [])
    .filter((f) => f.uri.scheme === 'file' || f.uri.scheme === 'vscode-remote')
    .map((f) => f.uri.fsPath);
}
