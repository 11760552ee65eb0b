// Runs every test/**/*.test.ts file with Node's built-in test runner (TypeScript through tsx).
// Usage: node scripts/run-tests.mjs [substring filters...]
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { spawnSync } from 'node:child_process';

function walk(dir) {
  const out = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    // test/integration runs inside VS Code (npm run test:integration); fixtures hold data, not tests.
    if (statSync(p).isDirectory()) {
      if (name !== 'integration' && name !== 'fixtures') out.push(...walk(p));
    } else if (name.endsWith('.test.ts')) out.push(p);
  }
  return out;
}

const filters = process.argv.slice(2);
const files = walk('test')
  .filter((f) => filters.length === 0 || filters.some((s) => f.includes(s)))
  .sort();
if (files.length === 0) {
  console.error('no test files matched');
  process.exit(1);
}
// A software WebGPU adapter (lavapipe, unpacked by scripts/setup-lavapipe.sh) makes the webgpu tests runnable on CPU.
const env = { ...process.env };
const lavapipe = resolve('.cache/lavapipe/root');
if (existsSync(join(lavapipe, 'usr/share/vulkan/icd.d/lvp_icd.json')) && !env.VK_ICD_FILENAMES) {
  env.VK_ICD_FILENAMES = join(lavapipe, 'usr/share/vulkan/icd.d/lvp_icd.json');
  env.LD_LIBRARY_PATH = [join(lavapipe, 'usr/lib/x86_64-linux-gnu'), env.LD_LIBRARY_PATH].filter(Boolean).join(':');
  if (env.CI) env.DORA_REQUIRE_WEBGPU ??= '1'; // on CI a missing adapter is a failure, not a skip
}
const r = spawnSync(process.execPath, ['--import', 'tsx', '--test', '--test-reporter=spec', ...files], { stdio: 'inherit', env });
process.exit(r.status ?? 1);
