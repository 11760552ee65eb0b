import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { OFFICIAL_DEFAULTS, isPlainObject, validateConfig } from '../../src/core/config';
import { CONFIG_SCHEMA_PATH, renderConfigSchema } from '../../src/core/configSchema';
import { configFromPreset, presetNames } from '../../src/core/presets';

type Schema = {
  properties?: Record<string, Schema>;
  default?: unknown;
  description?: string;
  markdownDescription?: string;
  type?: unknown;
};
const shipped = JSON.parse(readFileSync(CONFIG_SCHEMA_PATH, 'utf8')) as Schema;

/** Dotted paths of every leaf property in a schema. */
function schemaLeaves(schema: Schema, prefix: string[] = []): string[] {
  if (!schema.properties) return [prefix.join('.')];
  return Object.entries(schema.properties).flatMap(([key, child]) => schemaLeaves(child, [...prefix, key]));
}
function valueLeaves(value: unknown, prefix: string[] = []): string[] {
  if (!isPlainObject(value)) return [prefix.join('.')];
  return Object.entries(value).flatMap(([key, child]) => valueLeaves(child, [...prefix, key]));
}
function setAt(root: Record<string, unknown>, dotted: string, value: unknown): Record<string, unknown> {
  const keys = dotted.split('.');
  let node = root;
  for (const key of keys.slice(0, -1)) node = (node[key] ??= {}) as Record<string, unknown>;
  node[keys[keys.length - 1]] = value;
  return root;
}
function schemaAt(dotted: string): Schema {
  return dotted.split('.').reduce<Schema>((node, key) => node.properties![key], shipped);
}

test('the shipped schema is the one generated from the validator spec', () => {
  const generated = renderConfigSchema();
  if (process.env.UPDATE_SCHEMA === '1') writeFileSync(CONFIG_SCHEMA_PATH, generated);
  assert.equal(
    readFileSync(CONFIG_SCHEMA_PATH, 'utf8'),
    generated,
    `${CONFIG_SCHEMA_PATH} is stale; regenerate it with: UPDATE_SCHEMA=1 node scripts/run-tests.mjs configSchema`,
  );
});

test('every schema property is a key the validator accepts', () => {
  for (const leaf of schemaLeaves(shipped)) {
    const node = schemaAt(leaf);
    const example = 'default' in node ? node.default : leaf === 'preset' ? 'demo' : leaf === 'data.maxFrames' ? 10_000 : 'x.mp4';
    const raw = setAt({ data: { video: 'v.mp4' } }, leaf, example);
    assert.deepEqual(validateConfig(raw, 'f.json'), [], `schema property ${leaf}`);
  }
});

test('every config key has a schema property with a description, and defaults agree', () => {
  const schemaPaths = new Set(schemaLeaves(shipped));
  for (const leaf of valueLeaves(OFFICIAL_DEFAULTS)) {
    assert.ok(schemaPaths.has(leaf), `${leaf} is missing from the schema`);
    assert.deepEqual(
      schemaAt(leaf).default,
      leaf.split('.').reduce<unknown>((n, k) => (n as Record<string, unknown>)[k], OFFICIAL_DEFAULTS),
      leaf,
    );
  }
  for (const leaf of schemaPaths) {
    const node = schemaAt(leaf);
    assert.ok(node.description && node.markdownDescription, `${leaf} has no description`);
  }
  // The validator rejects a key the schema does not have.
  assert.match(validateConfig(setAt({ data: { video: 'v.mp4' } }, 'training.learningRateMax', 1), 'f.json')[0].message, /unknown key/);
});

// ajv 6 (draft-07) is present as ESLint's dependency; it checks the schema independently of our validator.
const ajv = new (createRequire(import.meta.url)('ajv'))({ allErrors: true }) as {
  compile(s: unknown): ((v: unknown) => boolean) & { errors?: unknown };
};
const validateWithSchema = ajv.compile(shipped);

test('every preset, minimal and expanded, satisfies the JSON Schema', () => {
  for (const name of presetNames) {
    for (const expand of [false, true]) {
      const file = configFromPreset(name, { data: { video: 'v.mp4' } }, { expand });
      assert.ok(validateWithSchema(file), `${name} expand=${expand}: ${JSON.stringify(validateWithSchema.errors)}`);
    }
  }
});

test('schema and validator agree on single-field mistakes', () => {
  const cases: [string, unknown][] = [
    ['training.lr', 'abc'],
    ['training.lr', 0],
    ['training.epochs', 2.5],
    ['training.microBatch', 0],
    ['training.microBatch', 'max'],
    ['data.localScale', [0.1]],
    ['data.localScale', [0, 0.4]],
    ['data.augment.grayscaleProb', 1.5],
    ['dora.loss', 'offical'],
    ['runtime.backend', 'webgl'],
    ['model.head.unknown', 1],
    ['data.video', ''],
    ['preset', 'large'],
  ];
  for (const [leaf, value] of cases) {
    const raw = setAt({ data: { video: 'v.mp4' } }, leaf, value);
    assert.equal(validateWithSchema(raw), false, `schema accepts ${leaf} = ${JSON.stringify(value)}`);
    assert.notDeepEqual(validateConfig(raw, 'f.json'), [], `validator accepts ${leaf} = ${JSON.stringify(value)}`);
  }
  for (const [leaf, value] of [
    ['training.microBatch', 'auto'],
    ['training.microBatch', 4],
    ['data.maxFrames', 5000],
  ] as const) {
    const raw = setAt({ data: { video: 'v.mp4' } }, leaf, value);
    assert.ok(validateWithSchema(raw), `${leaf} = ${value}`);
    assert.deepEqual(validateConfig(raw, 'f.json'), [], `${leaf} = ${value}`);
  }
});
