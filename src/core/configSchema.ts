// Generates the JSON Schema (draft-07, what VS Code's jsonValidation understands) shipped as
// schemas/dora-config.schema.json from the same spec the validator uses. A test fails when the shipped
// file differs from this output; regenerate with: UPDATE_SCHEMA=1 node scripts/run-tests.mjs configSchema

import { OFFICIAL_DEFAULTS, PRESET_NAMES, isPlainObject } from './configDefaults';
import { CONFIG_FILE_SPEC, plainText, type AnySpec, type LeafSpec } from './configSpec';
import { presetValues } from './presets';

export const CONFIG_SCHEMA_PATH = 'schemas/dora-config.schema.json';

type JsonSchema = Record<string, unknown>;

function valueAt(root: unknown, keys: readonly string[]): unknown {
  let node = root;
  for (const key of keys) {
    if (!isPlainObject(node)) return undefined;
    node = node[key];
  }
  return node;
}

const inlineCode = (value: unknown) => '`' + JSON.stringify(value).replace(/,/g, ', ') + '`';

/** "Default: `0.0005`. Presets: cpu-small `0.0001`, demo `0.0005`." (presets listed only where they differ). */
function valuesNote(keys: readonly string[]): string {
  const official = valueAt(OFFICIAL_DEFAULTS, keys);
  const parts: string[] = [];
  if (official !== undefined) parts.push(`Default: ${inlineCode(official)}.`);
  const differing = PRESET_NAMES.map((name) => [name, valueAt(presetValues(name), keys)] as const).filter(
    ([, value]) => value !== undefined && JSON.stringify(value) !== JSON.stringify(official),
  );
  if (differing.length > 0) parts.push(`Presets: ${differing.map(([name, value]) => `${name} ${inlineCode(value)}`).join(', ')}.`);
  return parts.join(' ');
}

function leafSchema(spec: LeafSpec): JsonSchema {
  const base = leafSchemaOf(spec);
  return 'nullable' in spec && spec.nullable ? { anyOf: [base, { type: 'null' }] } : base;
}

function leafSchemaOf(spec: LeafSpec): JsonSchema {
  switch (spec.kind) {
    case 'number': {
      const schema: JsonSchema = { type: spec.integer ? 'integer' : 'number' };
      if (spec.minimum !== undefined) schema.minimum = spec.minimum;
      if (spec.exclusiveMinimum !== undefined) schema.exclusiveMinimum = spec.exclusiveMinimum;
      if (spec.maximum !== undefined) schema.maximum = spec.maximum;
      return schema;
    }
    case 'boolean':
      return { type: 'boolean' };
    case 'string':
      return { type: 'string', minLength: 1, pattern: '\\S' };
    case 'stringList':
      return { type: 'array', items: { type: 'string', minLength: 1, pattern: '\\S' } };
    case 'enum':
      return { type: 'string', enum: [...spec.values] };
    case 'integerOrAuto':
      return {
        anyOf: [
          { type: 'integer', minimum: spec.minimum },
          { type: 'string', enum: ['auto'] },
        ],
      };
    case 'range': {
      const bound: JsonSchema = { type: 'number', maximum: spec.maximum };
      if (spec.exclusiveMinimum) bound.exclusiveMinimum = spec.minimum;
      else bound.minimum = spec.minimum;
      return { type: 'array', items: bound, minItems: 2, maxItems: 2 };
    }
  }
}

function nodeSchema(spec: AnySpec, keys: readonly string[]): JsonSchema {
  const note = spec.kind === 'object' ? '' : valuesNote(keys);
  const markdown = [spec.doc, note].filter((s) => s !== '').join('\n\n');
  const described: JsonSchema = { description: plainText(markdown), markdownDescription: markdown };
  if (spec.kind !== 'object') {
    const schema: JsonSchema = { ...described, ...leafSchema(spec) };
    const official = valueAt(OFFICIAL_DEFAULTS, keys);
    if (official !== undefined) schema.default = official;
    return schema;
  }
  const properties: Record<string, JsonSchema> = {};
  for (const [key, child] of Object.entries(spec.fields)) properties[key] = nodeSchema(child, [...keys, key]);
  const schema: JsonSchema = { ...described, type: 'object', additionalProperties: false, properties };
  if (spec.required && spec.required.length > 0) schema.required = [...spec.required];
  return schema;
}

export function buildConfigSchema(): JsonSchema {
  const body = nodeSchema(CONFIG_FILE_SPEC as unknown as AnySpec, []);
  return {
    $schema: 'http://json-schema.org/draft-07/schema#',
    title: 'DoRA Studio run config (*.dora.json)',
    ...body,
  };
}

export function renderConfigSchema(): string {
  return JSON.stringify(buildConfigSchema(), null, 2) + '\n';
}
