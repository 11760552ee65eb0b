// Config overrides: `dora train … --set training.lr=1e-4` (repeatable), and the extension's "resume with the changed
// .dora.json". They are applied to the raw config (a *.dora.json, or a run's resolved config.json on resume) and the
// result goes through the normal validation (config.ts), so a bad value gets the usual JSON-path error.
// On resume some keys cannot change: the checkpoint's weights have the model's shapes, and the step count and the clip
// order depend on the frames. Those are refused with the reason, before anything runs.

import { isPlainObject } from './configDefaults';
import { describeValue } from './configProblem';

export interface ConfigOverride {
  /** Dotted key, e.g. `training.lr`. */
  key: string;
  value: unknown;
  /** As given, for messages: `training.lr=1e-4`. */
  text: string;
}

export class ConfigOverrideError extends Error {
  override readonly name = 'ConfigOverrideError';
  constructor(
    message: string,
    readonly fix: string,
  ) {
    super(message);
  }
}

const KEY_SEGMENT = /^[A-Za-z_][A-Za-z0-9_]*$/;
/** Keys that would reach Object.prototype instead of the config. */
const FORBIDDEN_SEGMENTS = new Set(['__proto__', 'prototype', 'constructor']);

/** `training.lr=1e-4` → { key: 'training.lr', value: 0.0001 }. The value is JSON when it parses as JSON, else a string. */
export function parseOverride(text: string): ConfigOverride {
  const eq = text.indexOf('=');
  const example = 'e.g. --set training.lr=1e-4';
  if (eq <= 0)
    throw new ConfigOverrideError(`--set ${JSON.stringify(text)}: expected key=value`, `write the key and the value, ${example}`);
  const key = text.slice(0, eq).trim();
  const rawValue = text.slice(eq + 1);
  const segments = key.split('.');
  const bad = segments.find((s) => !KEY_SEGMENT.test(s) || FORBIDDEN_SEGMENTS.has(s));
  if (bad !== undefined)
    throw new ConfigOverrideError(
      `--set ${JSON.stringify(text)}: ${JSON.stringify(key)} is not a config key (segment ${JSON.stringify(bad)})`,
      `use the dotted path of a config key, ${example}`,
    );
  if (rawValue.trim() === '')
    throw new ConfigOverrideError(`--set ${JSON.stringify(text)}: no value given for ${key}`, `give a value, ${example}`);
  let value: unknown;
  try {
    value = JSON.parse(rawValue);
  } catch {
    value = rawValue; // a bare string: --set runtime.backend=wasm
  }
  return { key, value, text: `${key}=${rawValue}` };
}

/** Keys a resume may not change, with the reason (prefix match on dotted keys). */
const RESUME_LOCKED: ReadonlyArray<readonly [string, string]> = [
  ['model', "the checkpoint's weights have the shapes of the run's model"],
  ['data.video', 'the run trains on the frames of its own video'],
  ['data.frameCache', 'the run reads the frame cache it was started with'],
  ['data.framesPerClip', 'the number of clips, and so the step count and the clip order, depend on it'],
  ['data.stride', 'the number of clips, and so the step count and the clip order, depend on it'],
  ['data.startFrame', 'the usable frames, and so the step count, depend on it'],
  ['data.maxFrames', 'the usable frames, and so the step count, depend on it'],
  ['data.trimBlankTail', 'the usable frames, and so the step count, depend on it'],
  ['data.globalSize', "the model's positional embedding and the snapshots depend on it"],
  ['training.batchClips', 'the steps per epoch and the learning-rate scaling depend on it'],
  ['training.seed', 'the run follows the random streams of its seed'],
  ['name', 'it names the run'],
  ['preset', 'the resolved config.json no longer depends on the preset'],
  ['runtime.runsDir', 'the run folder already exists'],
];

/** Why `key` cannot change on resume, or undefined when it can. */
export function resumeLockReason(key: string): string | undefined {
  const hit = RESUME_LOCKED.find(([prefix]) => key === prefix || key.startsWith(`${prefix}.`));
  return hit?.[1];
}

/** A deep copy of `raw` with the overrides set (intermediate objects created). Throws ConfigOverrideError. */
export function applyOverrides(
  raw: Record<string, unknown>,
  overrides: readonly ConfigOverride[],
  options: { resume: boolean },
): Record<string, unknown> {
  const out = structuredClone(raw);
  for (const o of overrides) {
    const reason = options.resume ? resumeLockReason(o.key) : undefined;
    if (reason)
      throw new ConfigOverrideError(
        `--set ${o.text}: ${o.key} cannot change when a run resumes (${reason})`,
        `start a new run with the changed config instead (dora train <config.dora.json> --set ${o.text})`,
      );
    const segments = o.key.split('.');
    let node: Record<string, unknown> = out;
    for (const segment of segments.slice(0, -1)) {
      const next = Object.hasOwn(node, segment) ? node[segment] : undefined;
      if (next !== undefined && !isPlainObject(next))
        throw new ConfigOverrideError(
          `--set ${o.text}: ${segment} is ${describeValue(next)}, not a section`,
          'set a key inside a section, e.g. --set training.lr=1e-4',
        );
      if (next === undefined) node[segment] = {};
      node = node[segment] as Record<string, unknown>;
    }
    node[segments[segments.length - 1]] = o.value;
  }
  return out;
}

export interface ConfigChange {
  /** Dotted key. */
  key: string;
  from: unknown;
  to: unknown;
}

/** The leaves that differ between two configs (arrays compare as values), sorted by key. */
export function diffConfigs(before: unknown, after: unknown, prefix = ''): ConfigChange[] {
  if (isPlainObject(before) && isPlainObject(after)) {
    const keys = [...new Set([...Object.keys(before), ...Object.keys(after)])].sort();
    return keys.flatMap((k) => diffConfigs(before[k], after[k], prefix ? `${prefix}.${k}` : k));
  }
  return JSON.stringify(before) === JSON.stringify(after) ? [] : [{ key: prefix, from: before, to: after }];
}

/** `training.lr: 0.0005 → 0.0001` */
export function formatChange(change: ConfigChange): string {
  return `${change.key}: ${describeValue(change.from)} → ${describeValue(change.to)}`;
}

/** The `--set` text that makes `change` (what the extension sends to the trainer). */
export function overrideTextOf(change: ConfigChange): string {
  return `${change.key}=${JSON.stringify(change.to)}`;
}
