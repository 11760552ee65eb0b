// Backend selection with an injected probe: auto's order, skip reasons and explicit requests, deterministically.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  BackendInitError,
  initBackend,
  type AdapterLookup,
  type BackendProbe,
  type ConcreteBackendName,
  type WebGpuAdapterSummary,
} from '../../../src/trainer/backend';
import { describeOptionalLoadFailure } from '../../../src/trainer/backend/optionalModule';
import { NO_ADAPTER_REASON, summariseAdapter } from '../../../src/trainer/backend/webgpu';

function moduleNotFound(moduleId: string): Error {
  // The shape of Node's own error, message and code included.
  return Object.assign(new Error(`Cannot find module '${moduleId}'\nRequire stack:\n- /work/main/dist/trainer.js`), {
    code: 'MODULE_NOT_FOUND',
  });
}

const LLVMPIPE: WebGpuAdapterSummary = {
  vendor: 'mesa',
  architecture: 'software',
  device: 'llvmpipe-llvm-15-0-6-256-bits-',
  description: 'llvmpipe: Mesa 25.0.7-2~bpo12+1 (LLVM 15.0.6) 0.0.1',
  isSoftware: true,
};
const NVIDIA: WebGpuAdapterSummary = {
  vendor: 'nvidia',
  architecture: 'hopper',
  device: '',
  description: 'NVIDIA H200',
  isSoftware: false,
};

interface FakeEnvironment {
  installed?: ConcreteBackendName[]; // which tfjs-node flavours "load"
  adapter?: AdapterLookup;
  failing?: Partial<Record<ConcreteBackendName, string>>; // activation throws this message
}

function fakeProbe(env: FakeEnvironment): { probe: BackendProbe; activated: ConcreteBackendName[]; loaded: string[] } {
  const activated: ConcreteBackendName[] = [];
  const loaded: string[] = [];
  const probe: BackendProbe = {
    loadOptionalModule(moduleId) {
      loaded.push(moduleId);
      const flavour = moduleId === '@tensorflow/tfjs-node-gpu' ? 'tensorflow-gpu' : 'tensorflow';
      if (!env.installed?.includes(flavour)) throw moduleNotFound(moduleId);
      return {};
    },
    findWebGpuAdapter: async () => env.adapter ?? { adapter: null, reason: NO_ADAPTER_REASON },
    async activate(name) {
      activated.push(name);
      const failure = env.failing?.[name];
      if (failure !== undefined) throw new Error(failure);
    },
  };
  return { probe, activated, loaded };
}

describe('auto selection', () => {
  test('with no tfjs-node and no adapter it picks wasm and says why each faster backend was skipped', async () => {
    const { probe, activated, loaded } = fakeProbe({});
    const report = await initBackend('auto', { probe });
    assert.equal(report.active, 'wasm');
    assert.deepEqual(
      report.attempts.map((a) => [a.backend, a.outcome]),
      [
        ['tensorflow-gpu', 'skipped'],
        ['webgpu', 'skipped'],
        ['tensorflow', 'skipped'],
        ['wasm', 'active'],
      ],
    );
    assert.match(report.attempts[0].reason, /Cannot find module '@tensorflow\/tfjs-node-gpu'/);
    assert.match(report.attempts[0].reason, /not installed/);
    assert.match(report.attempts[1].reason, /no GPU adapter \(requestAdapter returned null\)/);
    assert.match(report.attempts[2].reason, /Cannot find module '@tensorflow\/tfjs-node'/);
    assert.deepEqual(loaded, ['@tensorflow/tfjs-node-gpu', '@tensorflow/tfjs-node']);
    assert.deepEqual(activated, ['wasm']);
    // The summary line carries every skip reason, so one log line explains the choice.
    for (const attempt of report.attempts.slice(0, 3)) assert.ok(report.reason.includes(attempt.reason));
    assert.match(report.reason, /^auto: wasm/);
  });

  test('a software adapter (lavapipe) is skipped in auto with the reason, and wasm is used', async () => {
    const { probe, activated } = fakeProbe({ adapter: { adapter: LLVMPIPE } });
    const report = await initBackend('auto', { probe });
    assert.equal(report.active, 'wasm');
    const webgpu = report.attempts.find((a) => a.backend === 'webgpu')!;
    assert.equal(webgpu.outcome, 'skipped');
    assert.match(webgpu.reason, /software adapter 'llvmpipe: Mesa 25\.0\.7.*' is slower than wasm/);
    assert.deepEqual(activated, ['wasm']);
  });

  test('a hardware adapter wins over tfjs-node (cpu) and wasm', async () => {
    const { probe, activated } = fakeProbe({ adapter: { adapter: NVIDIA }, installed: ['tensorflow'] });
    const report = await initBackend('auto', { probe });
    assert.equal(report.active, 'webgpu');
    assert.deepEqual(activated, ['webgpu']);
    assert.deepEqual(
      report.attempts.map((a) => a.backend),
      ['tensorflow-gpu', 'webgpu'],
    );
    assert.match(report.attempts[1].reason, /NVIDIA H200/);
  });

  test('tfjs-node-gpu, when it loads, is tried first and nothing else is probed', async () => {
    const { probe, activated, loaded } = fakeProbe({ installed: ['tensorflow-gpu', 'tensorflow'], adapter: { adapter: NVIDIA } });
    const report = await initBackend('auto', { probe });
    assert.equal(report.active, 'tensorflow-gpu');
    assert.equal(report.attempts.length, 1);
    assert.deepEqual(loaded, ['@tensorflow/tfjs-node-gpu']);
    assert.deepEqual(activated, ['tensorflow-gpu']);
  });

  test('tfjs-node is preferred to wasm when there is no usable GPU', async () => {
    const { probe } = fakeProbe({ installed: ['tensorflow'] });
    const report = await initBackend('auto', { probe });
    assert.equal(report.active, 'tensorflow');
    assert.deepEqual(
      report.attempts.map((a) => a.outcome),
      ['skipped', 'skipped', 'active'],
    );
  });

  test('a backend whose initialisation throws is recorded as failed with the error, and auto moves on', async () => {
    const { probe, activated } = fakeProbe({
      adapter: { adapter: NVIDIA },
      failing: { webgpu: "TypeError: Cannot read properties of null (reading 'features')", wasm: 'wasm exploded' },
    });
    const report = await initBackend('auto', { probe });
    assert.equal(report.active, 'cpu');
    assert.deepEqual(activated, ['webgpu', 'wasm', 'cpu']);
    const byName = new Map(report.attempts.map((a) => [a.backend, a]));
    assert.equal(byName.get('webgpu')!.outcome, 'failed');
    assert.match(byName.get('webgpu')!.reason, /reading 'features'/);
    assert.equal(byName.get('wasm')!.outcome, 'failed');
    assert.equal(byName.get('wasm')!.reason, 'wasm exploded');
  });

  test('when nothing initialises, auto rejects with every reason', async () => {
    const { probe } = fakeProbe({ failing: { wasm: 'no wasm', cpu: 'no cpu' } });
    await assert.rejects(initBackend('auto', { probe }), (error: unknown) => {
      assert.ok(error instanceof BackendInitError);
      assert.equal(error.attempts.length, 5);
      assert.match(error.message, /tfjs-node-gpu.*no GPU adapter.*tfjs-node.*no wasm.*no cpu/s);
      return true;
    });
  });
});

describe('explicit requests', () => {
  test("an explicit 'webgpu' accepts a software adapter and says it is slow", async () => {
    const { probe, activated } = fakeProbe({ adapter: { adapter: LLVMPIPE } });
    const report = await initBackend('webgpu', { probe });
    assert.equal(report.active, 'webgpu');
    assert.deepEqual(activated, ['webgpu']);
    assert.match(report.reason, /^requested explicitly/);
    assert.match(report.reason, /software/);
  });

  test("an explicit 'webgpu' without an adapter fails (no silent fallback) with the reason", async () => {
    const { probe, activated } = fakeProbe({});
    await assert.rejects(initBackend('webgpu', { probe }), (error: unknown) => {
      assert.ok(error instanceof BackendInitError);
      assert.equal(error.attempts.length, 1);
      assert.equal(error.attempts[0].outcome, 'skipped');
      assert.match(error.message, /no GPU adapter \(requestAdapter returned null\)/);
      return true;
    });
    assert.deepEqual(activated, []);
  });

  test("an explicit 'tensorflow' without @tensorflow/tfjs-node fails naming the package", async () => {
    const { probe } = fakeProbe({});
    await assert.rejects(
      initBackend('tensorflow', { probe }),
      /@tensorflow\/tfjs-node is not installed \(Cannot find module '@tensorflow\/tfjs-node'\)/,
    );
  });
});

describe('reason formatting', () => {
  test('tfjs-node load failures are classified', () => {
    assert.match(describeOptionalLoadFailure('@tensorflow/tfjs-node', moduleNotFound('@tensorflow/tfjs-node')), /is not installed/);
    const bindingMissing = new Error(
      'The Node.js native addon module (tfjs_binding.node) can not be found at path: ' +
        '/x/lib/napi-v8/tfjs_binding.node. \nPlease run command ...',
    );
    assert.match(
      describeOptionalLoadFailure('@tensorflow/tfjs-node', bindingMissing),
      /installed but its native binding is missing \(The Node.js native addon module \(tfjs_binding\.node\) can not be found at path: \/x\/lib\/napi-v8\/tfjs_binding\.node\.\)/,
    );
    // A missing dependency of an installed package is not "not installed".
    assert.match(
      describeOptionalLoadFailure('@tensorflow/tfjs-node', moduleNotFound('node-pre-gyp')),
      /failed to load: Cannot find module 'node-pre-gyp'/,
    );
  });

  test('software adapters are recognised from the adapter info', () => {
    const adapter = (info: Partial<GPUAdapterInfo> & { isFallbackAdapter?: boolean }) =>
      ({
        info,
        limits: { maxStorageBuffersPerShaderStage: 8, maxStorageBufferBindingSize: 1 << 27 },
        features: new Set(['timestamp-query', 'texture-compression-bc']),
      }) as unknown as GPUAdapter;
    assert.equal(
      summariseAdapter(adapter({ vendor: 'mesa', architecture: '', description: 'llvmpipe (LLVM 15.0.6, 256 bits)' })).isSoftware,
      true,
    );
    assert.equal(summariseAdapter(adapter({ vendor: 'google', description: 'SwiftShader Device (Subzero)' })).isSoftware, true);
    assert.equal(summariseAdapter(adapter({ vendor: 'x', description: 'y', isFallbackAdapter: true })).isSoftware, true);
    const nvidia = summariseAdapter(adapter({ vendor: 'nvidia', architecture: 'hopper', description: 'NVIDIA H200' }));
    assert.equal(nvidia.isSoftware, false);
    assert.deepEqual(nvidia.features, ['timestamp-query']);
  });
});
