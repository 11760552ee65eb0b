// New Config: a preset, a video and a name → <name>.dora.json in the workspace folder (each step skipped when the
// caller passes it: { preset, video, file, name }).

import { existsSync } from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { configBaseName, type PresetName } from '../../core/config';
import { writeConfigFile } from '../../core/node/configFile';
import { configFromPreset, isPresetName, PRESETS, presetNames } from '../../core/presets';
import type { HostServices } from '../services';
import { askForFolder, registerCommand, requireTrust } from '../shared/commandHelpers';
import { workspaceRoots } from '../shared/settings';
import { isValidConfigName, suggestedConfigName, VIDEO_EXTENSIONS, videoValueFor } from './newConfig';

interface NewConfigArgs {
  preset?: string;
  video?: string;
  file?: string;
  name?: string;
}

export function registerConfigCommands(s: HostServices): void {
  registerCommand(s, 'dora.newConfig', (arg?: unknown) =>
    newConfig(s, (typeof arg === 'object' && arg !== null ? arg : {}) as NewConfigArgs),
  );
}

async function newConfig(s: HostServices, given: NewConfigArgs): Promise<string | undefined> {
  if (!requireTrust('create a config')) return undefined;
  const roots = workspaceRoots();
  if (roots.length === 0 && !given.file) {
    askForFolder('DoRA: open a folder first; the config file is written into the workspace.');
    return undefined;
  }
  const preset = isPresetName(given.preset) ? given.preset : await pickPreset();
  if (!preset) return undefined;
  const video = given.video ?? (await pickVideo(roots[0]));
  if (!video) return undefined;
  const file = given.file ?? (await pickConfigFile(roots[0], given.name ?? suggestedConfigName(video)));
  if (!file) return undefined;
  const content = configFromPreset(
    preset,
    { data: { video: videoValueFor(file, video, roots) } },
    { name: given.name ?? configBaseName(file) },
  );
  await writeConfigFile(file, content);
  await s.configs.add(file);
  await vscode.window.showTextDocument(vscode.Uri.file(file), { preview: false });
  return file;
}

async function pickPreset(): Promise<PresetName | undefined> {
  const picked = await vscode.window.showQuickPick(
    presetNames.map((n) => ({ label: n, description: PRESETS[n].title, detail: PRESETS[n].description.split('\n')[0], preset: n })),
    { placeHolder: 'Preset for the new DoRA config', title: 'DoRA: New Config (1/3)' },
  );
  return picked?.preset;
}

async function pickVideo(root: string | undefined): Promise<string | undefined> {
  const uris = await vscode.window.showOpenDialog({
    canSelectMany: false,
    openLabel: 'Train on this video',
    title: 'DoRA: New Config (2/3): the video to train on',
    filters: { Videos: VIDEO_EXTENSIONS, 'All files': ['*'] },
    defaultUri: root ? vscode.Uri.file(root) : undefined,
  });
  return uris?.[0]?.fsPath;
}

async function pickConfigFile(root: string, suggested: string): Promise<string | undefined> {
  const name = await vscode.window.showInputBox({
    title: 'DoRA: New Config (3/3)',
    prompt: 'Config name (the file is <name>.dora.json in the workspace folder)',
    value: suggested,
    validateInput: (v) => (isValidConfigName(v) ? undefined : 'Use letters, digits, "-", "_" and "." only'),
  });
  if (!name) return undefined;
  const file = path.join(root, `${name}.dora.json`);
  if (existsSync(file)) {
    const overwrite = await vscode.window.showWarningMessage(`${file} exists. Overwrite it?`, { modal: true }, 'Overwrite');
    if (overwrite !== 'Overwrite') return undefined;
  }
  return file;
}
