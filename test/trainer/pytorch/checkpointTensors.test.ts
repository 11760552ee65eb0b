// The PyTorch engine reads the TF.js engine's checkpoint tensors (contract 4: same safetensors names and optimiser
// layout) with its own safetensors reader into its DoraState, and writes them back under the same names and dtypes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { Rng } from '../../../src/core/rng';
import { initBackend } from '../../../src/trainer/backend';
import { createDoraState, disposeDoraState, type DoraModelConfig } from '../../../src/trainer/dora/model';
import { OFFICIAL_SINKHORN } from '../../../src/trainer/dora/sinkhorn';
import { doraTrainStep } from '../../../src/trainer/dora/trainStep';
import { parseSafetensors } from '../../../src/trainer/io/safetensors';
import { serializeState } from '../../../src/trainer/run/checkpoint';
import { findCliPython, pythonPackageDir } from '../../../src/trainer/pytorch/interpreter';

const MODEL: DoraModelConfig = {
  vit: { embedDim: 24, depth: 2, numHeads: 3, patchSize: 8, imgSize: 32, mlpRatio: 4, lnEps: 1e-6, qkvBias: true },
  head: { outDim: 40, hiddenDim: 16, bottleneckDim: 8, nlayers: 3, normLastLayer: false },
};

const PY = `
import json, sys, torch
from dora_studio.io import safetensors as st
from dora_studio.dora.state import create_dora_state
from dora_studio.model import DoraModelConfig, HeadConfig, VitConfig
d = sys.argv[1]
cfg = DoraModelConfig(VitConfig(24, 2, 3, 8, 32), HeadConfig(24, 40, 16, 8, 3, False))
state = create_dora_state(cfg, seed=123)
weights = st.load(d + "/w.safetensors", use_library=False)
optim = st.load(d + "/o.safetensors", use_library=False)
state.load_weight_tensors(weights.tensors, "w.safetensors")
state.load_optimizer_tensors(optim.tensors, "o.safetensors")
w, o = state.weight_tensors(), state.optimizer_tensors()
same_w = all(torch.equal(w[k], weights.tensors[k]) for k in weights.tensors) and set(w) == set(weights.tensors)
same_o = all(torch.equal(o[k], optim.tensors[k].to(o[k].dtype)) for k in optim.tensors) and set(o) == set(optim.tensors)
st.save(d + "/w2.safetensors", w, {"format": "dora-studio checkpoint"})
st.save(d + "/o2.safetensors", o)
print(json.dumps({"weights": same_w, "optimizer": same_o, "steps": sorted({int(v) for k, v in o.items() if k.startswith("step.")})}))
`;

test('TF.js checkpoint tensors load into the PyTorch state and round-trip under the same names', async () => {
  await initBackend('cpu');
  const rng = new Rng('interop');
  const state = createDoraState(MODEL, () => rng.next());
  try {
    const batch = {
      global: tf.randomNormal([2, 2, 3, 32, 32], 0, 1, 'float32', 1),
      local: tf.randomNormal([2, 2, 2, 3, 16, 16], 0, 1, 'float32', 2),
      heads: [0, 2, 1],
    };
    const hyper = { epoch: 1, lr: 1e-3, weightDecay: 0.04, momentum: 0.99, teacherTemp: 0.04, freezeLastLayer: 1, clipGrad: 3 };
    const common = { studentTemp: 0.1, centerMomentum: 0.9, lossVariant: 'official' as const, sinkhorn: OFFICIAL_SINKHORN, tracker: true };
    await doraTrainStep(state, batch, { ...hyper, ...common });
    await doraTrainStep(state, batch, { ...hyper, ...common });
    tf.dispose([batch.global, batch.local]);
    const { weights, optimizer } = await serializeState(state);
    const dir = mkdtempSync(join(tmpdir(), 'dora-interop-'));
    writeFileSync(join(dir, 'w.safetensors'), weights);
    writeFileSync(join(dir, 'o.safetensors'), optimizer);
    const python = (await findCliPython()).python;
    const r = spawnSync(python, ['-c', PY, dir], { encoding: 'utf8', env: { ...process.env, PYTHONPATH: pythonPackageDir() } });
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(JSON.parse(r.stdout.trim()), { weights: true, optimizer: true, steps: [2] });
    for (const [a, b] of [
      ['w.safetensors', 'w2.safetensors'],
      ['o.safetensors', 'o2.safetensors'],
    ]) {
      const before = parseSafetensors(readFileSync(join(dir, a))).tensors;
      const after = parseSafetensors(readFileSync(join(dir, b))).tensors;
      assert.deepEqual([...after.keys()].sort(), [...before.keys()].sort());
      for (const [name, t] of before) {
        assert.equal(after.get(name)!.dtype, t.dtype, name);
        assert.deepEqual(Array.from(after.get(name)!.data), Array.from(t.data), name);
      }
    }
  } finally {
    disposeDoraState(state);
  }
});
