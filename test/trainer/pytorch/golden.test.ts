// The golden suite through the real CLI on the PyTorch engine (`dora golden --engine pytorch`): every shipped case,
// cases of other shapes it has never seen, and proof that the runner can fail. Needs a Python with torch (CI installs
// python3-torch); without one the first test fails with the interpreter message instead of skipping.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseSafetensors, serializeSafetensors, type TensorToWrite } from '../../../src/trainer/io/safetensors';
import { writeGoldenVariants } from '../golden/goldenVariants';

const GOLDEN_DIR = resolve(process.env.DORA_GOLDEN_DIR ?? join(__dirname, '..', '..', '..', '..', 'shared', 'golden'));
const CLI = resolve(__dirname, '..', '..', '..', 'dist', 'cli.js');

function runCli(args: string[]) {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', timeout: 300_000 });
  return { code: r.status, out: `${r.stdout}${r.stderr}` };
}

const caseCount = readdirSync(GOLDEN_DIR).filter((f) => f.endsWith('.safetensors')).length;

test('every shipped golden case passes on the PyTorch engine (float32, CPU)', () => {
  assert.ok(caseCount >= 12, `expected the 12 shipped cases in ${GOLDEN_DIR}`);
  const { code, out } = runCli(['golden', GOLDEN_DIR, '--engine', 'pytorch']);
  assert.match(out, /^engine: pytorch — Python 3\.\d+.*, torch \d/m, out);
  assert.match(out, new RegExp(`^${caseCount} passed, 0 failed$`, 'm'), out);
  assert.equal((out.match(/ PASS /g) ?? []).length, caseCount, out);
  assert.equal(code, 0, out);
});

test('cases of unseen shapes pass too (expected values from the TF.js engine)', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'dora-golden-variants-'));
  const files = await writeGoldenVariants(dir);
  assert.equal(files.length, 9);
  const { code, out } = runCli(['golden', dir, '--engine', 'pytorch', '--verbose']);
  assert.match(out, new RegExp(`^${files.length} passed, 0 failed$`, 'm'), out);
  assert.match(out, /^v_train_step\s+PASS .*masks: 0 of \d+ decided patches differ/m, out);
  assert.equal(code, 0, out);
});

test('the PyTorch runner fails a case whose expected values are perturbed, and exits non-zero', () => {
  const dir = mkdtempSync(join(tmpdir(), 'dora-golden-pytorch-'));
  const parsed = parseSafetensors(readFileSync(join(GOLDEN_DIR, 'train_step_later.safetensors')));
  const tensors = new Map<string, TensorToWrite>();
  for (const [name, t] of parsed.tensors) {
    const data = t.dtype === 'I64' ? Int32Array.from(t.data as ArrayLike<number>) : Float32Array.from(t.data as ArrayLike<number>);
    if (name === 'expected.student.backbone.blocks.1.mlp.fc2.weight') data[7] += 1e-3; // far above the update bound
    tensors.set(name, { shape: t.shape, data, dtype: t.dtype === 'I64' ? 'I64' : undefined });
  }
  writeFileSync(join(dir, 'perturbed.safetensors'), serializeSafetensors(tensors, parsed.metadata));
  copyFileSync(join(GOLDEN_DIR, 'sinkhorn.safetensors'), join(dir, 'sinkhorn.safetensors'));
  writeFileSync(join(dir, 'broken.safetensors'), Buffer.from([1, 2, 3]));
  const { code, out } = runCli(['golden', dir, '--engine', 'pytorch']);
  assert.equal(code, 1, out);
  assert.match(out, /^train_step_later\s+FAIL/m, out);
  assert.match(out, /FAIL expected\.student\.backbone\.blocks\.1\.mlp\.fc2\.weight \(update\): max\|Δ\| 1\.00e-3/, out);
  assert.match(out, /^sinkhorn\s+PASS/m, out);
  assert.match(out, /broken\.safetensors: not a valid safetensors file: only 3 bytes/, out);
  assert.match(out, /^1 passed, 2 failed$/m, out);
});

test('without a Python that has torch the message names what to install', () => {
  const { code, out } = runCli(['golden', GOLDEN_DIR, '--engine', 'pytorch', '--python', '/nonexistent/python3']);
  assert.equal(code, 1, out);
  assert.match(out, /\/nonexistent\/python3 \(from --python\): not found/, out);
  assert.match(out, /apt-get install python3-torch/, out);
  const bad = runCli(['golden', GOLDEN_DIR, '--engine', 'jax']);
  assert.equal(bad.code, 2);
  assert.match(bad.out, /--engine must be tfjs or pytorch \(got "jax"\)/);
});
