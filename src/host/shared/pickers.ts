// Quick picks for commands run from the palette without an argument: a config, a run, checkpoints.

import * as path from 'node:path';
import * as vscode from 'vscode';
import type { CheckpointEntry } from '../../core/node/runDir';
import { effectiveStatus } from '../runs/runTree';
import type { HostServices } from '../services';
import { workspaceRoots } from './settings';

export type CheckpointChoice = CheckpointEntry & { runId: string };

export async function pickConfig(s: HostServices, placeHolder: string): Promise<string | undefined> {
  await s.configs.whenReady();
  const configs = s.configs.list();
  if (configs.length === 0) {
    const choice = await vscode.window.showInformationMessage(
      'There is no *.dora.json config in this workspace yet.',
      'New Config',
      'Start Demo Run',
    );
    if (choice === 'New Config') await vscode.commands.executeCommand('dora.newConfig');
    if (choice === 'Start Demo Run') await vscode.commands.executeCommand('dora.startDemoRun');
    return undefined;
  }
  const roots = workspaceRoots();
  const picked = await vscode.window.showQuickPick(
    configs.map((c) => ({
      label: path.basename(c.file),
      description: relativeToRoots(c.file, roots),
      detail: c.problem ? `$(warning) ${c.problem}` : undefined,
      file: c.file,
    })),
    { placeHolder, matchOnDescription: true },
  );
  return picked?.file;
}

export async function pickRun(s: HostServices, placeHolder: string, filter: (status: string) => boolean = () => true) {
  await s.model.refresh();
  const views = s.model.runViews().filter((v) => filter(effectiveStatus(v)));
  if (views.length === 0) {
    void vscode.window.showInformationMessage('No matching DoRA runs. Start one with "DoRA: Start Run" or "DoRA: Start Demo Run".');
    return undefined;
  }
  const picked = await vscode.window.showQuickPick(
    views.map((v) => ({
      label: v.summary.id,
      description: `${effectiveStatus(v)} · step ${v.live?.step ?? v.summary.status.step}`,
      detail: v.summary.dir,
      dir: v.summary.dir,
    })),
    { placeHolder },
  );
  return picked?.dir;
}

/** Every complete checkpoint of every listed run, oldest run first. */
export async function allCheckpoints(s: HostServices): Promise<CheckpointChoice[]> {
  await s.model.refresh();
  const out: CheckpointChoice[] = [];
  for (const run of s.runs.allRuns()) for (const c of await s.runs.checkpoints(run.dir)) out.push({ ...c, runId: run.id });
  return out;
}

/** A config's folder relative to the workspace folder that holds it ('.' at its root), else the absolute folder. */
export function relativeToRoots(file: string, roots: readonly string[]): string {
  const root = roots.find((r) => file.startsWith(r + path.sep));
  return root ? path.relative(root, path.dirname(file)) || '.' : path.dirname(file);
}
