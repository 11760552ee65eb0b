// Small vscode helpers every feature's commands use: registering a command, the Restricted Mode guard, the backend
// override from the settings, how a checkpoint is named in messages, and the PyTorch engine's interpreter errors.

import * as path from 'node:path';
import * as vscode from 'vscode';
import type { PythonEngineError } from '../../core/node/pythonEngine';
import { runDirOfCheckpoint, stepOfCheckpoint } from '../../core/node/runPaths';
import type { HostServices } from '../services';
import { readSettings } from './settings';

export function registerCommand(s: HostServices, id: string, handler: (...args: unknown[]) => unknown): void {
  s.context.subscriptions.push(vscode.commands.registerCommand(id, handler));
}

/** False (with a warning that offers to manage trust) in Restricted Mode: training runs code and reads config files. */
export function requireTrust(action: string): boolean {
  if (vscode.workspace.isTrusted) return true;
  void vscode.window
    .showWarningMessage(
      `DoRA Studio cannot ${action} in Restricted Mode: training runs code and reads the files the config names. ` +
        `Trust this workspace to ${action}; runs stay viewable meanwhile.`,
      'Manage Workspace Trust',
    )
    .then((choice) => {
      if (choice) void vscode.commands.executeCommand('workbench.trust.manage');
    });
  return false;
}

/** The dora.backend setting when it overrides the config's runtime.backend. */
export function backendOverride(): string | undefined {
  const backend = readSettings().backend;
  return backend && backend !== 'fromConfig' ? backend : undefined;
}

/** `20250101-120000-demo @ step 120` */
export function checkpointLabel(sidecar: string): string {
  return `${path.basename(runDirOfCheckpoint(sidecar))} @ step ${stepOfCheckpoint(sidecar) ?? 0}`;
}

/** Shows "open a folder first" with an Open Folder button. */
export function askForFolder(message: string): void {
  void vscode.window.showErrorMessage(message, 'Open Folder').then((c) => c && vscode.commands.executeCommand('vscode.openFolder'));
}

/** A Python that cannot run the PyTorch engine: what is wrong, the fix, and a button to the setting that fixes it. */
export async function showPythonProblem(what: string, error: PythonEngineError): Promise<void> {
  const choice = await vscode.window.showErrorMessage(`DoRA: ${what}: ${error.problem}. Fix: ${error.fix}`, 'Open Settings');
  if (!choice) return;
  // The interpreter is a machine setting: in a remote window (SSH, WSL, code-server) it lives in the Remote tab.
  if (vscode.env.remoteName) await vscode.commands.executeCommand('workbench.action.openRemoteSettings', { query: error.setting });
  else await vscode.commands.executeCommand('workbench.action.openSettings', error.setting);
}
