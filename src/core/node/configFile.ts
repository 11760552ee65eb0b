// Config files on disk: reading a *.dora.json, resolving its relative paths against its folder, and writing one
// atomically. Validation and merging are pure (../config.ts); this is the Node half.

import { readFile } from 'node:fs/promises';
import * as path from 'node:path';
import {
  configBaseName,
  mergeConfigLayers,
  parseConfigText,
  validateConfig,
  type DoraConfig,
  type DoraConfigFile,
  type PresetName,
} from '../config';
import { ConfigError } from '../configProblem';
import { serializeConfigFile } from '../presets';
import { writeFileAtomic } from './atomicWrite';

/** Official defaults ← preset ← file values, with relative paths resolved against the config file. Throws ConfigError. */
export function resolveConfig(raw: unknown, opts: { file: string }): DoraConfig {
  const file = path.resolve(opts.file);
  const problems = validateConfig(raw, opts.file);
  if (problems.length > 0) throw new ConfigError(opts.file, problems);
  const input = raw as Record<string, unknown>;
  const merged = mergeConfigLayers(input);
  const baseDir = path.dirname(file);
  merged.data.video = path.resolve(baseDir, merged.data.video);
  if (merged.data.frameCache.dir !== undefined) merged.data.frameCache.dir = path.resolve(baseDir, merged.data.frameCache.dir);
  merged.runtime.runsDir = path.resolve(baseDir, merged.runtime.runsDir);
  return {
    name: typeof input.name === 'string' ? input.name : configBaseName(file),
    preset: (input.preset as PresetName | undefined) ?? null,
    configFile: file,
    ...merged,
  };
}

/** Reads, parses, validates and resolves a config file. Throws ConfigError (or the fs error when unreadable). */
export async function loadConfigFile(file: string): Promise<DoraConfig> {
  const text = await readFile(file, 'utf8');
  return resolveConfig(parseConfigText(text, file), { file });
}

/** Writes a config file atomically (never leaves a half-written file behind). */
export async function writeConfigFile(file: string, content: DoraConfigFile): Promise<void> {
  await writeFileAtomic(file, serializeConfigFile(content));
}
