// "Resume Run" with a *.dora.json that changed since the run started: the difference between the run's own resolved
// config (config.json, what resume uses) and the file as it is now, split into what a resume can apply (sent to the
// trainer as `--set` overrides, shown to the user first) and what it cannot (the model, the frames, …). No vscode import.

import { readFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { parseConfigText } from '../../core/config';
import { diffConfigs, formatChange, overrideTextOf, resumeLockReason, type ConfigChange } from '../../core/configOverrides';
import { resolveConfig } from '../../core/node/configFile';
import { readRunConfig } from '../../core/node/runDir';

export interface ResumeChanges {
  /** The *.dora.json the run was started from (config.json's configFile). */
  configFile: string;
  /** Changes a resume applies. */
  apply: ConfigChange[];
  /** Changes a resume cannot apply, with the reason. */
  refused: Array<ConfigChange & { reason: string }>;
}

/** Keys that are bookkeeping, not training settings. */
const IGNORED = new Set(['configFile', 'name']);

/**
 * What changed in the run's *.dora.json since the run started, or undefined when nothing did (or the file is gone, or
 * is not a *.dora.json, or no longer valid: then the run resumes with its own config as always).
 */
export async function resumeConfigChanges(runDir: string): Promise<ResumeChanges | undefined> {
  const raw = (await readRunConfig(runDir).catch(() => undefined)) as Record<string, unknown> | undefined;
  const configFile = raw?.configFile;
  // config.json is untrusted: only a *.dora.json that exists is read, and only to show a difference.
  if (typeof configFile !== 'string' || !/\.dora\.json$/i.test(configFile) || !existsSync(configFile)) return undefined;
  let current: Record<string, unknown>;
  let original: Record<string, unknown>;
  try {
    current = resolveConfig(parseConfigText(await readFile(configFile, 'utf8'), configFile), { file: configFile }) as unknown as Record<
      string,
      unknown
    >;
    const { configFile: _c, ...rest } = raw!;
    original = resolveConfig(rest, { file: configFile }) as unknown as Record<string, unknown>;
  } catch {
    return undefined;
  }
  const changes = diffConfigs(original, current).filter((c) => !IGNORED.has(c.key.split('.')[0]));
  if (changes.length === 0) return undefined;
  const apply: ConfigChange[] = [];
  const refused: ResumeChanges['refused'] = [];
  for (const change of changes) {
    const reason = resumeLockReason(change.key) ?? (change.to === undefined ? 'it was removed from the file' : undefined);
    if (reason) refused.push({ ...change, reason });
    else apply.push(change);
  }
  return { configFile, apply, refused };
}

/** The text of the confirmation: what will change, and what will not. */
export function describeResumeChanges(changes: ResumeChanges): string {
  const lines: string[] = [];
  if (changes.apply.length) lines.push('Resuming applies:', ...changes.apply.map((c) => `  ${formatChange(c)}`));
  if (changes.refused.length)
    lines.push('Not applied (they cannot change when a run resumes):', ...changes.refused.map((c) => `  ${formatChange(c)}: ${c.reason}`));
  return lines.join('\n');
}

/** The overrides sent to the trainer (the same `key=value` as `dora train --set`). */
export function resumeOverrides(changes: ResumeChanges): string[] {
  return changes.apply.map(overrideTextOf);
}
