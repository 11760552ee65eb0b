// Validation and resolution of *.dora.json run configs.
// Layering: OFFICIAL_DEFAULTS ← PRESETS[preset] ← the file's own values. Every problem is reported
// with the file, a JSON path ($.training.lr), the cause and a concrete fix.

import { readFile } from 'node:fs/promises';
import * as path from 'node:path';
import {
  ARCH_DIMS,
  ARCH_NAMES,
  archOf,
  isPlainObject,
  mergeLayers,
  OFFICIAL_DEFAULTS,
  type ArchName,
  type ConfigSections,
  type DataConfig,
  type DoraConfig,
  type PresetName,
} from './configDefaults';
import { CONFIG_FILE_SPEC, type AnySpec, type LeafSpec, type NumberSpec } from './configSpec';
import { PRESETS } from './presets';
import { normalizeKey, suggest } from './suggest';

export * from './configDefaults';

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

const ROOT_SPEC = CONFIG_FILE_SPEC as unknown as Extract<AnySpec, { kind: 'object' }>;

// Flags of the official DoRA/DINO command line (main.py argparse), mapped to where they live here.
const OFFICIAL_FLAGS: Readonly<Record<string, string>> = {
  batchsizepergpu: 'training.batchClips',
  frameperclip: 'data.framesPerClip',
  stepbetweenclips: 'data.stride',
  localcropsnumber: 'data.localCrops',
  globalcropsscale: 'data.globalScale',
  localcropsscale: 'data.localScale',
  outdim: 'model.head.outDim',
  datapath: 'data.video',
  outputdir: 'runtime.runsDir',
  saveckpfreq: 'runtime.checkpointEvery',
  numiterssk: 'dora.sinkhorn.iterations',
  epsilonsk: 'dora.sinkhorn.epsilon',
};
// Other common names that edit distance would not catch.
const COMMON_ALIASES: Readonly<Record<string, string>> = {
  batchsize: 'training.batchClips',
  learningrate: 'training.lr',
  numframes: 'data.framesPerClip',
  numobjects: 'dora.objects',
  k: 'dora.objects',
  videopath: 'data.video',
};

// ---------------------------------------------------------------------------------------------
// Formatting helpers

function jsonPath(keys: readonly string[]): string {
  return '$' + keys.map((k) => (/^[A-Za-z_$][\w$]*$/.test(k) ? `.${k}` : `[${JSON.stringify(k)}]`)).join('');
}

function dotted(keys: readonly string[]): string {
  return keys.join('.');
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

function describeNumberRule(spec: NumberSpec): string {
  const noun = spec.integer ? 'an integer' : 'a number';
  const low =
    spec.exclusiveMinimum !== undefined ? `> ${spec.exclusiveMinimum}` : spec.minimum !== undefined ? `>= ${spec.minimum}` : undefined;
  if (spec.minimum !== undefined && spec.maximum !== undefined) return `${noun} between ${spec.minimum} and ${spec.maximum}`;
  if (low && spec.maximum !== undefined) return `${noun} ${low} and <= ${spec.maximum}`;
  if (low) return `${noun} ${low}`;
  if (spec.maximum !== undefined) return `${noun} <= ${spec.maximum}`;
  return noun;
}

function valueAt(root: unknown, keys: readonly string[]): unknown {
  let node = root;
  for (const key of keys) {
    if (!isPlainObject(node)) return undefined;
    node = node[key];
  }
  return node;
}

/** Value to show after "e.g.": the official default, else the spec's example. */
function exampleFor(keys: readonly string[], spec: LeafSpec): string {
  const official = valueAt(OFFICIAL_DEFAULTS, keys);
  if (official !== undefined) return describeValue(official);
  if (spec.kind === 'string' || (spec.kind === 'number' && spec.example !== undefined)) return describeValue(spec.example);
  if (spec.kind === 'enum') return describeValue(spec.values[0]);
  if (spec.kind === 'number') return String(spec.exclusiveMinimum !== undefined ? spec.exclusiveMinimum + 1 : (spec.minimum ?? 0));
  return 'a valid value';
}

// ---------------------------------------------------------------------------------------------
// Structural validation (types, ranges, enums, unknown and missing keys)

function checkLeaf(value: unknown, spec: LeafSpec, keys: readonly string[], report: (message: string, fix: string) => void): void {
  const where = dotted(keys);
  const setTo = `set ${where} to e.g. ${exampleFor(keys, spec)}`;
  const got = describeValue(value);
  switch (spec.kind) {
    case 'number': {
      const ok =
        typeof value === 'number' &&
        Number.isFinite(value) &&
        (!spec.integer || Number.isInteger(value)) &&
        (spec.minimum === undefined || value >= spec.minimum) &&
        (spec.exclusiveMinimum === undefined || value > spec.exclusiveMinimum) &&
        (spec.maximum === undefined || value <= spec.maximum);
      if (!ok) report(`expected ${describeNumberRule(spec)}, got ${got}`, setTo);
      return;
    }
    case 'boolean':
      if (typeof value !== 'boolean') report(`expected true or false, got ${got}`, `set ${where} to true or false`);
      return;
    case 'string':
      if (typeof value !== 'string' || value.trim() === '') report(`expected a non-empty string, got ${got}`, setTo);
      return;
    case 'enum': {
      if (typeof value === 'string' && spec.values.includes(value)) return;
      const list = spec.values.map((v) => JSON.stringify(v)).join(', ');
      const guess = typeof value === 'string' ? suggest(value, spec.values) : undefined;
      report(`expected one of ${list}, got ${got}`, guess ? `did you mean ${JSON.stringify(guess)}?` : setTo);
      return;
    }
    case 'integerOrAuto': {
      const ok = value === 'auto' || (typeof value === 'number' && Number.isInteger(value) && value >= spec.minimum);
      if (!ok) report(`expected "auto" or an integer >= ${spec.minimum}, got ${got}`, setTo);
      return;
    }
    case 'range': {
      const inBounds = (v: unknown): v is number =>
        typeof v === 'number' && Number.isFinite(v) && (spec.exclusiveMinimum ? v > spec.minimum : v >= spec.minimum) && v <= spec.maximum;
      const ok = Array.isArray(value) && value.length === 2 && inBounds(value[0]) && inBounds(value[1]) && value[0] <= value[1];
      const lowOp = spec.exclusiveMinimum ? '<' : '<=';
      if (!ok) report(`expected [min, max] with ${spec.minimum} ${lowOp} min <= max <= ${spec.maximum}, got ${got}`, setTo);
      return;
    }
  }
}

/** Where else in the tree a key with this (normalised) name lives, as dotted paths. */
function findKeyElsewhere(key: string, spec: AnySpec = ROOT_SPEC, prefix: string[] = []): string[] {
  if (spec.kind !== 'object') return [];
  const found: string[] = [];
  for (const [name, child] of Object.entries(spec.fields)) {
    if (normalizeKey(name) === normalizeKey(key)) found.push(dotted([...prefix, name]));
    found.push(...findKeyElsewhere(key, child, [...prefix, name]));
  }
  return found;
}

function unknownKeyFix(key: string, parentKeys: readonly string[], known: readonly string[]): string {
  const normalized = normalizeKey(key);
  const alias = OFFICIAL_FLAGS[normalized] ?? COMMON_ALIASES[normalized];
  if (alias) {
    const aliasParent = alias.split('.').slice(0, -1).join('.');
    const target = aliasParent === dotted(parentKeys) ? JSON.stringify(alias.split('.').pop()) : alias;
    const origin = OFFICIAL_FLAGS[normalized] ? ` (the official code's --${key} flag)` : '';
    return `did you mean ${target}?${origin}`;
  }
  const close = suggest(key, known);
  if (close) return `did you mean ${JSON.stringify(close)}?`;
  const elsewhere = findKeyElsewhere(key).filter((p) => p !== dotted([...parentKeys, key]));
  if (elsewhere.length > 0) return `it belongs elsewhere: move it to ${elsewhere.join(' or ')}`;
  return `remove it; known keys here: ${known.join(', ')}`;
}

function checkObject(
  value: unknown,
  spec: Extract<AnySpec, { kind: 'object' }>,
  keys: readonly string[],
  file: string,
  out: ConfigProblem[],
): void {
  const push = (at: readonly string[], message: string, fix: string) => out.push({ file, path: jsonPath(at), message, fix });
  if (!isPlainObject(value)) {
    if (keys.length === 0) {
      push(
        keys,
        `expected a JSON object, got ${describeValue(value)}`,
        'write the config as an object, e.g. { "preset": "demo", "data": { "video": "videos/walk.mp4" } }',
      );
    } else {
      push(keys, `expected an object, got ${describeValue(value)}`, `set ${dotted(keys)} to an object, e.g. {}`);
    }
    return;
  }
  const known = Object.keys(spec.fields);
  for (const [key, child] of Object.entries(value)) {
    const childSpec = spec.fields[key];
    const childKeys = [...keys, key];
    if (!Object.hasOwn(spec.fields, key) || childSpec === undefined) {
      push(childKeys, `unknown key ${JSON.stringify(key)}`, unknownKeyFix(key, keys, known));
    } else if (childSpec.kind === 'object') {
      checkObject(child, childSpec, childKeys, file, out);
    } else {
      checkLeaf(child, childSpec, childKeys, (message, fix) => push(childKeys, message, fix));
    }
  }
}

/** Required keys, reported at their leaf path (a missing `data` section is reported as `$.data.video`). */
function checkRequired(value: unknown, spec: AnySpec, keys: readonly string[], file: string, out: ConfigProblem[]): void {
  if (spec.kind !== 'object') return;
  if (value !== undefined && !isPlainObject(value)) return; // already reported as a type error
  for (const key of spec.required ?? []) {
    const childSpec = spec.fields[key];
    const child = isPlainObject(value) ? value[key] : undefined;
    if (childSpec.kind === 'object') {
      checkRequired(child, childSpec, [...keys, key], file, out);
    } else if (child === undefined) {
      const where = dotted([...keys, key]);
      const example =
        childSpec.kind === 'string' ? ` (relative to this config file, or absolute), e.g. ${JSON.stringify(childSpec.example)}` : '';
      out.push({
        file,
        path: jsonPath([...keys, key]),
        message: `missing required key ${JSON.stringify(key)}`,
        fix: `set ${where} to ${childSpec.kind === 'string' ? 'your file' : 'a value'}${example}`,
      });
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Merging and cross-field checks

/** Official defaults ← preset ← file, with arch dims applied. No path resolution. Input must be structurally valid. */
function mergeRaw(raw: Record<string, unknown>): ConfigSections & { data: { video: string } } {
  const presetName = raw.preset as PresetName | undefined;
  const presetLayer = presetName ? PRESETS[presetName].overrides : undefined;
  const fileLayer = { model: raw.model, data: raw.data, training: raw.training, dora: raw.dora, runtime: raw.runtime };
  const merged = mergeLayers(OFFICIAL_DEFAULTS as ConfigSections, presetLayer, fileLayer);
  // A named arch in the file sets the dims the file itself leaves out.
  const fileModel = isPlainObject(raw.model) ? raw.model : {};
  const fileArch = fileModel.arch;
  if (typeof fileArch === 'string' && (ARCH_NAMES as readonly string[]).includes(fileArch)) {
    const dims = ARCH_DIMS[fileArch as ArchName];
    if (fileModel.embedDim === undefined) merged.model.embedDim = dims.embedDim;
    if (fileModel.depth === undefined) merged.model.depth = dims.depth;
    if (fileModel.numHeads === undefined) merged.model.numHeads = dims.numHeads;
  }
  merged.model.arch = archOf(merged.model);
  return merged;
}

/** Peak learning rate after the official linear batch scaling. */
export function peakLr(training: { lr: number; batchClips: number; lrScaling: 'linear' | 'none' }): number {
  return training.lrScaling === 'linear' ? (training.lr * training.batchClips) / 256 : training.lr;
}

function nearestMultiples(value: number, factor: number): string {
  const below = Math.floor(value / factor) * factor;
  const above = below + factor;
  return below > 0 ? `${below} or ${above}` : `${above}`;
}

function divisorsOf(n: number): number[] {
  const result: number[] = [];
  for (let d = 1; d <= n; d++) if (n % d === 0) result.push(d);
  return result;
}

function crossFieldProblems(c: ConfigSections, file: string): ConfigProblem[] {
  const out: ConfigProblem[] = [];
  const push = (pathText: string, message: string, fix: string) => out.push({ file, path: pathText, message, fix });
  const { model, data, training, dora } = c;

  if (model.embedDim % model.numHeads !== 0) {
    push(
      '$.model.embedDim',
      `model.embedDim ${model.embedDim} is not divisible by model.numHeads ${model.numHeads}`,
      `set model.embedDim to a multiple of ${model.numHeads}, e.g. ${nearestMultiples(model.embedDim, model.numHeads)}`,
    );
  }
  for (const key of ['globalSize', 'localSize'] as const) {
    if (data[key] % model.patchSize !== 0) {
      push(
        `$.data.${key}`,
        `data.${key} ${data[key]} is not a multiple of model.patchSize ${model.patchSize}`,
        `set data.${key} to ${nearestMultiples(data[key], model.patchSize)}`,
      );
    }
  }
  if (data.precropSize < data.globalSize) {
    push(
      '$.data.precropSize',
      `data.precropSize ${data.precropSize} is smaller than data.globalSize ${data.globalSize}; the global crop is cut from the pre-crop`,
      `set data.precropSize to at least ${data.globalSize} (official: 300 for 224)`,
    );
  }
  if (dora.tracker && dora.objects > model.numHeads) {
    push(
      '$.dora.objects',
      `dora.objects ${dora.objects} exceeds model.numHeads ${model.numHeads}; the tracker needs one distinct teacher head per object`,
      `set dora.objects to at most ${model.numHeads}, or use a model with more heads`,
    );
  }
  if (dora.loss === 'official' && data.localCrops < 2) {
    push(
      '$.data.localCrops',
      `data.localCrops ${data.localCrops} leaves the official loss no local crop (it skips crop 0) and divides by zero`,
      'set data.localCrops to 2 or more, or set dora.loss to "clean"',
    );
  }
  if (typeof training.microBatch === 'number' && training.batchClips % training.microBatch !== 0) {
    push(
      '$.training.microBatch',
      `training.batchClips ${training.batchClips} is not divisible by training.microBatch ${training.microBatch}`,
      `set training.microBatch to a divisor of ${training.batchClips} (${divisorsOf(training.batchClips).join(', ')}) or "auto"`,
    );
  }
  if (training.warmupEpochs > training.epochs) {
    push(
      '$.training.warmupEpochs',
      `training.warmupEpochs ${training.warmupEpochs} is longer than training.epochs ${training.epochs}`,
      `set training.warmupEpochs to at most ${training.epochs}`,
    );
  }
  if (training.freezeLastLayer >= training.epochs) {
    push(
      '$.training.freezeLastLayer',
      `training.freezeLastLayer ${training.freezeLastLayer} freezes the head's last layer for all ${training.epochs} epochs`,
      `set training.freezeLastLayer below ${training.epochs}, e.g. 0`,
    );
  }
  const peak = peakLr(training);
  if (training.minLr > peak) {
    const scaled = training.lrScaling === 'linear' ? ` (lr ${training.lr} × batchClips ${training.batchClips} / 256)` : '';
    const [minLr, peakText] = [formatNumber(training.minLr), formatNumber(peak)];
    push(
      '$.training.minLr',
      `training.minLr ${minLr} is above the peak learning rate ${peakText}${scaled}`,
      `set training.minLr to at most ${peakText}, or raise training.lr (or set training.lrScaling to "none")`,
    );
  }
  const clipSpan = data.framesPerClip * data.stride;
  if (data.maxFrames !== undefined && data.maxFrames <= clipSpan) {
    push(
      '$.data.maxFrames',
      `data.maxFrames ${data.maxFrames} leaves no clip: one clip spans framesPerClip × stride = ${data.framesPerClip} × ${data.stride} = ${clipSpan} frames`,
      `set data.maxFrames above ${clipSpan}, or lower data.stride`,
    );
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Public API

/** Every problem in a parsed config file; [] when it is valid. `file` is only used in the reports. */
export function validateConfig(raw: unknown, file: string): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  checkObject(raw, ROOT_SPEC, [], file, problems);
  if (!isPlainObject(raw)) return problems;
  checkRequired(raw, ROOT_SPEC, [], file, problems);
  // Cross-field checks need well-typed values; they run once the structure is right.
  if (problems.length > 0) return problems;
  return crossFieldProblems(mergeRaw(raw), file);
}

/** Official defaults ← preset ← file values, with relative paths resolved against the config file. Throws ConfigError. */
export function resolveConfig(raw: unknown, opts: { file: string }): DoraConfig {
  const file = path.resolve(opts.file);
  const problems = validateConfig(raw, opts.file);
  if (problems.length > 0) throw new ConfigError(opts.file, problems);
  const input = raw as Record<string, unknown>;
  const merged = mergeRaw(input);
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

/** `venice.dora.json` → `venice`. */
export function configBaseName(file: string): string {
  return path
    .basename(file)
    .replace(/\.dora\.json$/i, '')
    .replace(/\.json$/i, '');
}

/** Parses JSON text; a syntax error becomes a ConfigError that names the line and column. */
export function parseConfigText(text: string, file: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    const detail = error instanceof Error ? error.message : String(error);
    const position = /position (\d+)/.exec(detail);
    let where = '';
    if (position) {
      const before = text.slice(0, Number(position[1]));
      const line = before.split('\n').length;
      const column = before.length - before.lastIndexOf('\n');
      where = ` at line ${line}, column ${column}`;
    }
    throw new ConfigError(file, [
      {
        file,
        path: '$',
        message: `not valid JSON${where}: ${detail}`,
        fix: 'fix the JSON syntax (comments and trailing commas are not allowed)',
      },
    ]);
  }
}

/** Reads, parses, validates and resolves a config file. Throws ConfigError (or the fs error when unreadable). */
export async function loadConfigFile(file: string): Promise<DoraConfig> {
  const text = await readFile(file, 'utf8');
  return resolveConfig(parseConfigText(text, file), { file });
}

/** Clip starts available in a video of `totalFrames` frames (the official `__len__`). */
export function clipCount(data: Pick<DataConfig, 'framesPerClip' | 'stride' | 'startFrame' | 'maxFrames'>, totalFrames: number): number {
  const usable = Math.max(0, Math.min(totalFrames - data.startFrame, data.maxFrames ?? Infinity));
  return Math.max(0, usable - data.framesPerClip * data.stride);
}

/** Optimisation steps per epoch (drop_last, as the official sampler). */
export function stepsPerEpoch(config: Pick<DoraConfig, 'data' | 'training'>, totalFrames: number): number {
  return Math.floor(clipCount(config.data, totalFrames) / config.training.batchClips);
}
