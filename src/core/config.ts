// Validation and merging of *.dora.json run configs (pure; reading the file and resolving its relative paths is
// node/configFile.ts). Layering: OFFICIAL_DEFAULTS ← PRESETS[preset] ← the file's own values. Every problem is
// reported with the file, a JSON path ($.training.lr), the cause and a concrete fix.

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
import { ConfigError, describeValue, type ConfigProblem } from './configProblem';
import { crossFieldProblems } from './configRules';
import { normalizeKey, suggest } from './suggest';

export * from './configDefaults';

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

function describeNumberRule(spec: NumberSpec): string {
  const noun = spec.integer ? 'an integer' : 'a number';
  const low =
    spec.exclusiveMinimum !== undefined ? `> ${spec.exclusiveMinimum}` : spec.minimum !== undefined ? `>= ${spec.minimum}` : undefined;
  if (spec.minimum !== undefined && spec.maximum !== undefined) return `${noun} between ${spec.minimum} and ${spec.maximum}`;
  if (low && spec.maximum !== undefined) return `${noun} ${low} and <= ${spec.maximum}`;
  if (low) return `${noun} ${low}${spec.nullable ? ' or null' : ''}`;
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
  if (spec.kind === 'string' || spec.kind === 'stringList' || (spec.kind === 'number' && spec.example !== undefined))
    return describeValue(spec.example);
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
  if (value === null && 'nullable' in spec && spec.nullable) return;
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
      if (typeof value !== 'string' || value.trim() === '')
        report(`expected a non-empty string${spec.nullable ? ' or null' : ''}, got ${got}`, setTo);
      return;
    case 'stringList':
      if (!Array.isArray(value) || !value.every((v) => typeof v === 'string' && v.trim() !== ''))
        report(`expected an array of non-empty strings, got ${got}`, `set ${where} to e.g. [${JSON.stringify(spec.example)}]`);
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
export function mergeConfigLayers(raw: Record<string, unknown>): ConfigSections & { data: { video: string } } {
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
  return crossFieldProblems(mergeConfigLayers(raw), file);
}

/** `venice.dora.json` → `venice`. */
export function configBaseName(file: string): string {
  const base = file.split(/[\\/]/).pop() ?? file;
  return base.replace(/\.dora\.json$/i, '').replace(/\.json$/i, '');
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

/** Clip starts available in a video of `totalFrames` frames (the official `__len__`). */
export function clipCount(data: Pick<DataConfig, 'framesPerClip' | 'stride' | 'startFrame' | 'maxFrames'>, totalFrames: number): number {
  const usable = Math.max(0, Math.min(totalFrames - data.startFrame, data.maxFrames ?? Infinity));
  return Math.max(0, usable - data.framesPerClip * data.stride);
}

/** Optimisation steps per epoch (drop_last, as the official sampler). */
export function stepsPerEpoch(config: Pick<DoraConfig, 'data' | 'training'>, totalFrames: number): number {
  return Math.floor(clipCount(config.data, totalFrames) / config.training.batchClips);
}
