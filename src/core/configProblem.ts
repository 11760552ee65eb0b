// How a config problem is reported: the file, a JSON path ($.training.lr), what is wrong and a fix that works.
// Shared by the structural checks (config.ts) and the cross-field rules (configRules.ts).

import { isPlainObject } from './configDefaults';

export interface ConfigProblem {
  /** The config file the problem is in. */
  file: string;
  /** JSON path of the offending value, e.g. `$.training.lr`. */
  path: string;
  /** What is wrong, e.g. `expected a number > 0, got "abc"`. */
  message: string;
  /** What to do, e.g. `set training.lr to e.g. 0.0005`. */
  fix: string;
}

export function formatProblem(problem: ConfigProblem): string {
  return `${problem.file}: ${problem.path}: ${problem.message}; ${problem.fix}`;
}

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  constructor(
    readonly file: string,
    readonly problems: readonly ConfigProblem[],
  ) {
    const count = problems.length === 1 ? '1 problem' : `${problems.length} problems`;
    super([`${file}: invalid DoRA config (${count})`, ...problems.map(formatProblem)].join('\n'));
  }
}

/** A value as it would appear in JSON, kept short. */
export function describeValue(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (typeof value === 'string') return JSON.stringify(value.length > 60 ? `${value.slice(0, 57)}...` : value);
  if (Array.isArray(value)) {
    const simple = value.length <= 6 && value.every((v) => v === null || ['number', 'string', 'boolean'].includes(typeof v));
    return simple ? `[${value.map(describeValue).join(', ')}]` : `an array of ${value.length} items`;
  }
  if (isPlainObject(value)) return 'an object';
  if (typeof value === 'number') return formatNumber(value);
  return String(value);
}

/** Small numbers in exponent form (3.90625e-6, not 0.00000390625). */
export function formatNumber(value: number): string {
  return value !== 0 && Math.abs(value) < 1e-4 ? value.toExponential() : String(value);
}
