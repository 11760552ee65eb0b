// npm run test:electron: the same extension-host suite in a desktop VS Code, through
// @vscode/test-electron, for machines that can download VS Code (not part of `npm test`).
// Offline it stops after one quick probe with a clear message instead of hanging on the download.
// A local VS Code can be used with VSCODE_EXECUTABLE_PATH=/path/to/code.
import { cpSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { lookup } from 'node:dns/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const WORK = join(ROOT, '.vscode-test', 'electron-work');
const UPDATE_HOST = 'update.code.visualstudio.com';

async function canDownload() {
  try {
    await Promise.race([lookup(UPDATE_HOST), new Promise((_, reject) => setTimeout(() => reject(new Error('DNS timeout')), 5000))]);
    return true;
  } catch {
    return false;
  }
}

async function main() {
  const executable = process.env.VSCODE_EXECUTABLE_PATH;
  if (!executable && !(await canDownload())) {
    console.error(
      `test:electron: ${UPDATE_HOST} cannot be reached, so @vscode/test-electron cannot download VS Code.\n` +
        'Fix: run it on a machine with internet access, set VSCODE_EXECUTABLE_PATH to a local VS Code, or use `npm run test:integration` (code-server, works offline).',
    );
    process.exit(3);
  }
  const { runTests } = await import('@vscode/test-electron');
  rmSync(WORK, { recursive: true, force: true });
  const ws = join(WORK, 'ws');
  mkdirSync(join(ws, 'runs'), { recursive: true });
  cpSync(join(ROOT, 'test/fixtures/runs/demo-run'), join(ws, 'runs', '20261126-114909-demo'), { recursive: true });
  writeFileSync(
    join(ws, 'experiment.dora.json'),
    JSON.stringify({ name: 'experiment', preset: 'cpu-small', data: { video: 'media/tour.mp4' } }),
  );
  writeFileSync(join(ws, 'broken.dora.json'), JSON.stringify({ preset: 'demo', data: { video: 'x.mp4' }, training: { learningRate: 1 } }));
  const suite = join(WORK, 'suite', 'index.js');
  await build({
    entryPoints: [join(ROOT, 'test/integration/suite/index.ts')],
    outfile: suite,
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    external: ['vscode', 'mocha'],
    nodePaths: [join(ROOT, 'node_modules')],
    logLevel: 'warning',
  });
  const code = await runTests({
    extensionDevelopmentPath: ROOT,
    extensionTestsPath: suite,
    launchArgs: [ws, '--disable-extensions'],
    extensionTestsEnv: { DORA_STUDIO_MAX_STEPS: '4', DORA_STUDIO_DEMO_SECONDS: '6' },
    ...(executable ? { vscodeExecutablePath: executable } : { version: 'stable' }),
  });
  process.exit(code);
}

main().catch((error) => {
  console.error(`test:electron failed: ${error?.message ?? error}`);
  process.exit(1);
});
