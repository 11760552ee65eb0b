// The golden suite through the real CLI, on the backends that run here, plus proof that the runner can fail.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseSafetensors, serializeSafetensors, type TensorToWrite } from '../../../src/trainer/io/safetensors';
import { readFileSync } from 'node:fs';

const GOLDEN_DIR = resolve(process.env.DORA_GOLDEN_DIR ?? join(__dirname, '..', '..', '..', '..', 'shared', 'golden'));
const CLI = resolve(__dirname, '..', '..', '..', 'dist', 'cli.js');

function runCli(args: string[]) {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', timeout: 300_000 });
  return { code: r.status, out: `${r.stdout}${r.stderr}` };
}

const caseCount = readdirSync(GOLDEN_DIR).filter((f) => f.endsWith('.safetensors')).length;

// webgpu needs an adapter: a GPU, or lavapipe on CPU (scripts/setup-lavapipe.sh; run-tests.mjs sets the env).
const webgpuSkip =
  process.env.VK_ICD_FILENAMES || process.env.DORA_REQUIRE_WEBGPU ? false : 'no Vulkan driver configured (run scripts/setup-lavapipe.sh)';

for (const backend of ['cpu', 'wasm', 'webgpu']) {
  test(`every golden case passes on ${backend}`, { skip: backend === 'webgpu' ? webgpuSkip : false }, () => {
    assert.ok(caseCount >= 12, `expected the 12 shipped cases in ${GOLDEN_DIR}`);
    const { code, out } = runCli(['golden', GOLDEN_DIR, '--backend', backend]);
    assert.match(out, new RegExp(`^${caseCount} passed, 0 failed$`, 'm'), out);
    assert.equal(code, 0, out);
    assert.equal((out.match(/ PASS /g) ?? []).length, caseCount, out);
  });
}

test('the runner fails a case whose expected values are perturbed, and exits non-zero', () => {
  const dir = mkdtempSync(join(tmpdir(), 'dora-golden-'));
  const parsed = parseSafetensors(readFileSync(join(GOLDEN_DIR, 'vit_forward.safetensors')));
  const tensors = new Map<string, TensorToWrite>();
  for (const [name, t] of parsed.tensors) {
    const data = Float32Array.from(t.data as ArrayLike<number>);
    if (name === 'expected.attn') data[5] += 1e-3; // well above rtol 1e-4 · max|attn| ≤ 1e-4
    tensors.set(name, { shape: t.shape, data });
  }
  writeFileSync(join(dir, 'perturbed.safetensors'), serializeSafetensors(tensors, parsed.metadata));
  copyFileSync(join(GOLDEN_DIR, 'sinkhorn.safetensors'), join(dir, 'sinkhorn.safetensors'));
  const { code, out } = runCli(['golden', dir, '--backend', 'cpu']);
  assert.equal(code, 1, out);
  assert.match(out, /^vit_forward\s+FAIL/m);
  assert.match(out, /FAIL expected\.attn: max\|Δ\| 1\.00e-3/);
  assert.match(out, /^sinkhorn\s+PASS/m);
  assert.match(out, /^1 passed, 1 failed$/m);
});

test('a file that is not a golden case is reported, not crashed on', () => {
  const dir = mkdtempSync(join(tmpdir(), 'dora-golden-'));
  writeFileSync(join(dir, 'broken.safetensors'), Buffer.from([1, 2, 3]));
  const { code, out } = runCli(['golden', dir, '--backend', 'cpu']);
  assert.equal(code, 1);
  assert.match(out, /broken\.safetensors: not a valid safetensors file: only 3 bytes/);
});

test('golden without arguments explains the usage', () => {
  const { code, out } = runCli(['golden']);
  assert.equal(code, 2);
  assert.match(out, /give at least one folder or \.safetensors file/);
});
