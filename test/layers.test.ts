// The layer rules of eslint.config.mjs (docs/architecture.md): each one fails on a file that breaks it, and the
// imports each layer is meant to use pass. Run through ESLint's Node API on source strings placed in each folder.
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { test } from 'node:test';
import { ESLint } from 'eslint';

const repoRoot = path.resolve(__dirname, '..');
const eslint = new ESLint({ cwd: repoRoot });

/** The messages of the layer rule for `code` placed at `file` (relative to the repository root). */
async function layerErrors(file: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath: path.join(repoRoot, file) });
  return result.messages.filter((m) => m.ruleId === 'no-restricted-imports').map((m) => m.message);
}

const use = (spec: string) => `import * as m from '${spec}';\nexport const used = m;\n`;

test('the host never imports the trainer (nor TF.js): engines are reached through the engine client', async () => {
  assert.match((await layerErrors('src/host/runs/x.ts', use('../../trainer/data/frameCache'))).join(), /src\/host\/engine/);
  assert.match((await layerErrors('src/host/x.ts', use('../trainer/run/train'))).join(), /src\/host\/engine/);
  assert.match(
    (await layerErrors('src/host/x.ts', "import type { X } from '../trainer/run/train';\nexport type Y = X;\n")).join(),
    /engine/,
  );
  assert.match((await layerErrors('src/host/x.ts', use('@tensorflow/tfjs'))).join(), /TF\.js/);
  assert.deepEqual(await layerErrors('src/host/runs/x.ts', use('../../core/node/runDir')), []);
  assert.deepEqual(await layerErrors('src/host/runs/x.ts', use('vscode')), []);
});

test('pure core imports only pure core: no Node built-ins, no src/core/node, nothing outside core', async () => {
  for (const spec of ['node:fs', 'fs', 'path', './node/runDir', './node', '../host/extension', '../trainer/cli', 'chokidar']) {
    assert.notDeepEqual(await layerErrors('src/core/x.ts', use(spec)), [], `src/core/x.ts may not import ${spec}`);
  }
  assert.deepEqual(await layerErrors('src/core/x.ts', use('./runRecords')), []);
});

test('the Node half of core imports core and Node built-ins only', async () => {
  assert.deepEqual(await layerErrors('src/core/node/x.ts', use('node:fs/promises') + use('../runRecords') + use('./jsonl')), []);
  for (const spec of ['../../host/logic/format', '../../trainer/backend', 'vscode', '@tensorflow/tfjs', 'fs']) {
    assert.notDeepEqual(await layerErrors('src/core/node/x.ts', use(spec)), [], `src/core/node/x.ts may not import ${spec}`);
  }
});

test('webviews import only the webview-safe core', async () => {
  assert.deepEqual(await layerErrors('webview/dashboard/x.ts', use('../../src/core/webviewMessages')), []);
  for (const spec of [
    '../../src/core/node/runDir',
    '../../src/host/runs/liveRun',
    '../../src/trainer/cli',
    'node:path',
    'path',
    'vscode',
  ]) {
    assert.notDeepEqual(await layerErrors('webview/dashboard/x.ts', use(spec)), [], `webview may not import ${spec}`);
  }
});

test('the trainer never imports the host, the webviews or vscode', async () => {
  for (const spec of ['../../host/engine/engineClient', '../../../webview/shared/dom', 'vscode']) {
    assert.notDeepEqual(await layerErrors('src/trainer/run/x.ts', use(spec)), [], `the trainer may not import ${spec}`);
  }
  assert.deepEqual(await layerErrors('src/trainer/run/x.ts', use('../../core/node/runDir') + use('@tensorflow/tfjs')), []);
});

test('size rules: a line over 140 characters, a function over 80 lines, a file over 400 lines fail in src/', async () => {
  const [longLine] = await eslint.lintText(`export const s = '${'x'.repeat(140)}';\n`, { filePath: path.join(repoRoot, 'src/core/x.ts') });
  assert.deepEqual(
    longLine.messages.map((m) => m.ruleId),
    ['max-len'],
  );
  const body = Array.from({ length: 85 }, (_, i) => `  total += ${i};`).join('\n');
  const [longFunction] = await eslint.lintText(`export function f(): number {\n  let total = 0;\n${body}\n  return total;\n}\n`, {
    filePath: path.join(repoRoot, 'src/core/x.ts'),
  });
  assert.deepEqual(
    longFunction.messages.map((m) => m.ruleId),
    ['max-lines-per-function'],
  );
  const lines = Array.from({ length: 401 }, (_, i) => `export const v${i} = ${i};`).join('\n');
  const [longFile] = await eslint.lintText(`${lines}\n`, { filePath: path.join(repoRoot, 'src/core/x.ts') });
  assert.ok(longFile.messages.some((m) => m.ruleId === 'max-lines'));
});
