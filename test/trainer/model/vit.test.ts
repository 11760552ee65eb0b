// The ViT forward (src/trainer/model/vit.ts) against a float64 reference written from the formulas of the official
// vision_transformer.py (pre-norm blocks, qkv bias, exact GELU, LayerNorm eps 1e-6), on a tiny model in the repository
// (the golden cases, ../shared/golden, stay the reference against the official code itself).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../../src/trainer/backend';
import { patchify, vitForward, vitParamShapes, type VitConfig } from '../../../src/trainer/model/vit';
import {
  assertClose,
  geluExact,
  layerNormRow,
  linearRows,
  matmul,
  randomArray,
  rows,
  seeded,
  softmaxRow,
  transpose,
  type Mat,
} from '../reference';

const cfg: VitConfig = { embedDim: 8, depth: 2, numHeads: 2, patchSize: 2, imgSize: 4, mlpRatio: 2, lnEps: 1e-6, qkvBias: true };

function parameters(seed: number): Map<string, Float32Array> {
  const rand = seeded(seed, 0.5);
  const values = new Map<string, Float32Array>();
  for (const [name, shape] of vitParamShapes(cfg)) {
    const n = shape.reduce((a, b) => a * b, 1);
    // LayerNorm weights near 1, like a trained model, so the test is not dominated by the bias.
    values.set(
      name,
      name.endsWith('norm1.weight') || name.endsWith('norm2.weight') || name === 'norm.weight'
        ? randomArray(n, () => 1 + rand())
        : randomArray(n, rand),
    );
  }
  return values;
}

/** The reference forward of one image [3, H, W] (flat CHW): final-norm tokens and the last block's attention, q, k. */
function referenceForward(p: Map<string, Float32Array>, image: Float32Array, h: number, w: number) {
  const { embedDim: d, patchSize: ps, numHeads: heads } = cfg;
  const hd = d / heads;
  const patches: Mat = [];
  for (let r = 0; r < h / ps; r++)
    for (let c = 0; c < w / ps; c++) {
      const v: number[] = [];
      for (let ch = 0; ch < 3; ch++)
        for (let y = 0; y < ps; y++) for (let x = 0; x < ps; x++) v.push(image[ch * h * w + (r * ps + y) * w + c * ps + x]);
      patches.push(v);
    }
  const embedded = linearRows(patches, p.get('patch_embed.proj.weight')!, p.get('patch_embed.proj.bias')!, d);
  const pos = rows(p.get('pos_embed')!, d);
  let x: Mat = [Array.from(p.get('cls_token')!), ...embedded].map((row, t) => row.map((v, i) => v + pos[t][i]));
  let last = { attn: [] as Mat[], q: [] as Mat[], k: [] as Mat[] };
  for (let b = 0; b < cfg.depth; b++) {
    const g = (n: string) => p.get(`blocks.${b}.${n}`)!;
    const h1 = x.map((row) => layerNormRow(row, g('norm1.weight'), g('norm1.bias'), cfg.lnEps));
    const qkv = linearRows(h1, g('attn.qkv.weight'), g('attn.qkv.bias'), 3 * d);
    const part = (offset: number, head: number) => qkv.map((row) => row.slice(offset + head * hd, offset + (head + 1) * hd));
    last = { attn: [], q: [], k: [] };
    const mixed: Mat = x.map(() => []);
    for (let head = 0; head < heads; head++) {
      const [q, k, v] = [part(0, head), part(d, head), part(2 * d, head)];
      const attn = matmul(q, transpose(k)).map((row) => softmaxRow(row.map((s) => s / Math.sqrt(hd))));
      matmul(attn, v).forEach((row, t) => mixed[t].push(...row));
      last.attn.push(attn);
      last.q.push(q);
      last.k.push(k);
    }
    const y = linearRows(mixed, g('attn.proj.weight'), g('attn.proj.bias'), d).map((row, t) => row.map((v, i) => v + x[t][i]));
    const h2 = y.map((row) => layerNormRow(row, g('norm2.weight'), g('norm2.bias'), cfg.lnEps));
    const fc1 = linearRows(h2, g('mlp.fc1.weight'), g('mlp.fc1.bias'), cfg.mlpRatio * d).map((row) => row.map(geluExact));
    x = linearRows(fc1, g('mlp.fc2.weight'), g('mlp.fc2.bias'), d).map((row, t) => row.map((v, i) => v + y[t][i]));
  }
  const tokens = x.map((row) => layerNormRow(row, p.get('norm.weight')!, p.get('norm.bias')!, cfg.lnEps));
  return { tokens, ...last };
}

test('vitForward equals the reference forward: final tokens, the last block attention, queries and keys', async () => {
  await initBackend('cpu');
  const values = parameters(11);
  const params = new Map([...values].map(([name, data]) => [name, tf.tensor(data, vitParamShapes(cfg).get(name)!)]));
  const rand = seeded(5);
  const images = [randomArray(3 * 16, rand), randomArray(3 * 16, rand)];
  const x = tf.tensor4d(Float32Array.from([...images[0], ...images[1]]), [2, 3, 4, 4]);
  const out = vitForward(x, (n) => params.get(n)!, cfg);
  const [tokens, attn, q, k] = (await Promise.all([out.tokens.data(), out.attn.data(), out.q.data(), out.k.data()])) as Float32Array[];
  const t = 5; // [CLS] + 2×2 patches
  images.forEach((image, b) => {
    const ref = referenceForward(values, image, 4, 4);
    assertClose(tokens.subarray(b * t * 8, (b + 1) * t * 8), ref.tokens.flat(), `tokens of image ${b}`, 1e-4, 1e-5);
    assertClose(attn.subarray(b * 2 * t * t, (b + 1) * 2 * t * t), ref.attn.flat(2), `attention of image ${b}`, 1e-4, 1e-6);
    assertClose(q.subarray(b * 2 * t * 4, (b + 1) * 2 * t * 4), ref.q.flat(2), `queries of image ${b}`, 1e-4, 1e-5);
    assertClose(k.subarray(b * 2 * t * 4, (b + 1) * 2 * t * 4), ref.k.flat(2), `keys of image ${b}`, 1e-4, 1e-5);
  });
  for (let row = 0; row < attn.length / t; row++) {
    const sum = attn.subarray(row * t, (row + 1) * t).reduce((a, b) => a + b, 0);
    assert.ok(Math.abs(sum - 1) < 1e-5, `attention row ${row} sums to ${sum}`);
  }
  assertClose(await out.cls.data(), [...tokens.subarray(0, 8), ...tokens.subarray(t * 8, t * 8 + 8)], '[CLS] is token 0');
  tf.dispose([x, ...params.values()]);
});

test('patchify cuts channel, then row, then column inside each patch (the Conv2d weight order), patches row-major', async () => {
  await initBackend('cpu');
  // One 2-channel 4×4 image whose value encodes (channel, y, x) as c·100 + y·10 + x.
  const data = Float32Array.from({ length: 2 * 16 }, (_, i) => Math.floor(i / 16) * 100 + Math.floor((i % 16) / 4) * 10 + (i % 4));
  const { patches, rows: r, cols } = patchify(tf.tensor4d(data, [1, 2, 4, 4]), 2);
  assert.deepEqual([r, cols], [2, 2]);
  const got = rows(await patches.data(), 8);
  assert.deepEqual(got[0], [0, 1, 10, 11, 100, 101, 110, 111], 'top-left patch');
  assert.deepEqual(got[1], [2, 3, 12, 13, 102, 103, 112, 113], 'top-right patch');
  assert.deepEqual(got[2], [20, 21, 30, 31, 120, 121, 130, 131], 'bottom-left patch');
  patches.dispose();
});
