import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { test } from 'node:test';
import { configProblem, ConfigIndex, shouldSkipDir } from '../../../src/host/configs/configIndex';

const waitFor = async (what: string, probe: () => boolean, ms = 5000) => {
  const end = Date.now() + ms;
  while (!probe()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
};

test('ConfigIndex finds *.dora.json files, skips node_modules, and follows adds and deletes (chokidar)', async () => {
  const root = mkdtempSync(path.join(tmpdir(), 'dora-configs-'));
  mkdirSync(path.join(root, 'exp'));
  mkdirSync(path.join(root, 'node_modules', 'pkg'), { recursive: true });
  writeFileSync(path.join(root, 'exp', 'a.dora.json'), JSON.stringify({ preset: 'demo', data: { video: 'v.mp4' } }));
  writeFileSync(path.join(root, 'node_modules', 'pkg', 'x.dora.json'), '{}');
  writeFileSync(path.join(root, 'package.json'), '{}');
  const index = new ConfigIndex();
  try {
    await index.watch([root]);
    await waitFor('the initial scan', () => index.list().length === 1);
    assert.equal(index.list()[0].file, path.join(root, 'exp', 'a.dora.json'));
    assert.equal(index.list()[0].problem, undefined);
    writeFileSync(path.join(root, 'b.dora.json'), '{ "preset": "demo", "data": { "video": "v.mp4" }, "training": { "learningRate": 1 } }');
    await waitFor('the new config', () => index.list().length === 2);
    const b = index.list().find((c) => c.file.endsWith('b.dora.json'))!;
    assert.match(b.problem ?? '', /b\.dora\.json: \$\.training\.learningRate/);
    unlinkSync(path.join(root, 'exp', 'a.dora.json'));
    await waitFor('the deletion', () => index.list().length === 1);
  } finally {
    await index.dispose();
  }
});

test('config problems name the file, the JSON path and the fix', async () => {
  const root = mkdtempSync(path.join(tmpdir(), 'dora-configs-'));
  const file = path.join(root, 'x.dora.json');
  writeFileSync(file, '{ "preset": "demo", ');
  assert.match((await configProblem(file)) ?? '', /x\.dora\.json: \$: not valid JSON/);
  assert.match((await configProblem(path.join(root, 'missing.dora.json'))) ?? '', /missing\.dora\.json: cannot be read/);
  assert.equal(shouldSkipDir('node_modules'), true);
  assert.equal(shouldSkipDir('.git'), true);
  assert.equal(shouldSkipDir('experiments'), false);
});
