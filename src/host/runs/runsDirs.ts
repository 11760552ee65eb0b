// Where runs live. A new run goes to the `dora.runsFolder` setting when set, else to the config's
// runtime.runsDir (default `runs`, relative to the config file). The Runs view shows the union.

import { readFile } from 'node:fs/promises';
import * as path from 'node:path';

/** The config's runtime.runsDir, resolved against the config file's folder; `runs` when unset or unreadable. */
export function runsDirFromConfigText(configFile: string, text: string): string {
  let runsDir = 'runs';
  try {
    const raw = JSON.parse(text) as { runtime?: { runsDir?: unknown } };
    if (typeof raw?.runtime?.runsDir === 'string' && raw.runtime.runsDir.trim() !== '') runsDir = raw.runtime.runsDir;
  } catch {
    // an invalid config still shows the default runs folder; the Configs view reports the syntax error
  }
  return path.resolve(path.dirname(configFile), runsDir);
}

export async function runsDirOfConfig(configFile: string): Promise<string> {
  try {
    return runsDirFromConfigText(configFile, await readFile(configFile, 'utf8'));
  } catch {
    return path.resolve(path.dirname(configFile), 'runs');
  }
}

/** The `dora.runsFolder` setting resolved against a workspace folder; undefined when the setting is empty. */
export function runsDirFromSetting(setting: string | undefined, workspaceRoot: string | undefined): string | undefined {
  const value = setting?.trim();
  if (!value) return undefined;
  if (path.isAbsolute(value)) return path.normalize(value);
  return workspaceRoot ? path.resolve(workspaceRoot, value) : undefined;
}

/** Where a new run of `configFile` is created. */
export async function runsDirForNewRun(
  configFile: string,
  setting: string | undefined,
  workspaceRoots: readonly string[],
): Promise<string> {
  const root = workspaceRoots.find((r) => configFile.startsWith(r + path.sep)) ?? workspaceRoots[0];
  return runsDirFromSetting(setting, root) ?? (await runsDirOfConfig(configFile));
}

/** Every folder the Runs view lists: the setting's folder in each workspace root, plus each config's runs folder. */
export async function collectRunsDirs(options: {
  setting: string | undefined;
  workspaceRoots: readonly string[];
  configFiles: readonly string[];
  extra?: readonly string[];
}): Promise<string[]> {
  const dirs = new Set<string>();
  for (const root of options.workspaceRoots) {
    const fromSetting = runsDirFromSetting(options.setting, root);
    if (fromSetting) dirs.add(fromSetting);
  }
  for (const file of options.configFiles) dirs.add(await runsDirOfConfig(file));
  for (const dir of options.extra ?? []) dirs.add(path.resolve(dir));
  return [...dirs].sort();
}
