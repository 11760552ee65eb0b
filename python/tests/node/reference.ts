// The TypeScript side of the Python engine's cross-engine tests: reads one JSON request on stdin, answers one JSON
// line on stdout, computed by the TF.js engine's own code (src/core, src/trainer). Run from the repository root:
//   echo '{"op":"rng","seed":"x","n":4}' | node --import tsx python/tests/node/reference.ts
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ARCH_DIMS, OFFICIAL_DEFAULTS } from '../../../src/core/config';
import { writeJsonAtomic } from '../../../src/core/node/atomicWrite';
import { loadConfigFile } from '../../../src/core/node/configFile';
import { createRunDir } from '../../../src/core/node/runDir';
import { acquireRunLock, readRunLockState, RunLockedError } from '../../../src/core/node/runLock';
import { runPaths } from '../../../src/core/node/runPaths';
import { Rng } from '../../../src/core/rng';
import { ClipSampler } from '../../../src/trainer/data/clips';
import { ClipAugmenter, augmentConfig, sampleAugmentParams, type ClipAugmentParams } from '../../../src/trainer/data/augment';
import { buildFrameCache } from '../../../src/trainer/data/frameCache/build';
import { stepRng } from '../../../src/trainer/run/batch';
import { validateRunDir } from './validateRun';

// A JSON request from the Python tests; each op reads its own fields.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Request = Record<string, any>;

function rngOp(r: Request) {
  const rng = new Rng(r.seed);
  const uint32 = Array.from({ length: r.n }, () => rng.nextUint32());
  const floats = Array.from({ length: r.n }, () => rng.next());
  const uniforms = Array.from({ length: r.n }, () => rng.uniform(-3.5, 7.25));
  const ints = Array.from({ length: r.n }, () => rng.int(3, 17));
  const bigInts = Array.from({ length: r.n }, () => rng.int(0, 3000000019));
  const sample = rng.sample(3, 6);
  const permutation = Array.from(rng.permutation(r.n));
  const child = rng.fork('child');
  const forked = Array.from({ length: r.n }, () => child.nextUint32());
  return { uint32, floats, uniforms, ints, bigInts, sample, permutation, forked, state: rng.getState() };
}

function clipsOp(r: Request) {
  const sampler = new ClipSampler(r.options);
  const batches = (r.steps as [number, number][]).map(([epoch, step]) => sampler.batch(epoch, step));
  return { stepsPerEpoch: sampler.stepsPerEpoch, epochLength: sampler.epochLength, batches };
}

function augmentParamsOp(r: Request) {
  const config = augmentConfig(r.config);
  const rng = stepRng(r.seed, 'augment', r.iteration);
  const params = Array.from({ length: r.clips }, () => sampleAugmentParams(rng, r.frames, r.height, r.width, config));
  const heads = stepRng(r.seed, 'heads', r.iteration).sample(r.objects, r.numHeads);
  return { params, heads };
}

function augmentRenderOp(r: Request) {
  const augmenter = new ClipAugmenter(r.config);
  const bytes = readFileSync(r.framesFile);
  const frameBytes = r.width * r.height * 3;
  const frames = Array.from({ length: r.frames }, (_, t) => new Uint8Array(bytes.buffer, bytes.byteOffset + t * frameBytes, frameBytes));
  const out = augmenter.render({ frames, width: r.width, height: r.height }, r.params as ClipAugmentParams);
  const b64 = (a: ArrayBufferView) => Buffer.from(a.buffer, a.byteOffset, a.byteLength).toString('base64');
  return { global: b64(out.global), locals: out.locals.map(b64), globalRgb: b64(out.globalRgb) };
}

async function buildCacheOp(r: Request) {
  const cache = await buildFrameCache(r.video, { cacheRoot: r.cacheRoot, shortSide: r.shortSide });
  try {
    const frames = Buffer.from(cache.readFrames(r.indices)).toString('base64');
    return { dir: cache.dir, frameCount: cache.frameCount, width: cache.width, height: cache.height, frames };
  } finally {
    cache.close();
  }
}

/** What the Node front door does before it spawns the PyTorch engine: resolve a *.dora.json, create the run folder,
 * write its resolved config.json (train.ts). `file` is the config file's content. */
async function makeRunOp(r: Request) {
  const configFile = join(r.dir, `${r.name ?? 'run'}.dora.json`);
  writeFileSync(configFile, JSON.stringify(r.file, null, 2));
  const config = await loadConfigFile(configFile);
  const { dir } = await createRunDir(config.runtime.runsDir, config.name);
  await writeJsonAtomic(runPaths(dir).config, config);
  return { runDir: dir, config };
}

/** The TF.js engine's verdict on the run.lock of each folder (`readRunLockState`): 'free', 'live' or 'stale'. */
async function lockStatesOp(r: Request) {
  const states = [];
  for (const dir of r.runDirs as string[]) {
    const found = await readRunLockState(dir);
    states.push({ state: found.state, reason: found.state === 'free' ? '' : found.reason });
  }
  return { states };
}

/** The TF.js engine trying to take a run's lock (released at once when it gets it): what it says when refused. */
async function acquireLockOp(r: Request) {
  try {
    const handle = await acquireRunLock(r.runDir, { engine: 'tfjs', command: 'train' });
    await handle.release();
    return { got: handle.tookOver ? 'took-over' : 'fresh', reason: handle.tookOver?.reason ?? null };
  } catch (error) {
    if (!(error instanceof RunLockedError)) throw error;
    return { refused: error.message, fix: error.fix };
  }
}

async function main(): Promise<void> {
  const request = JSON.parse(readFileSync(0, 'utf8')) as Request;
  const ops: Record<string, (r: Request) => unknown> = {
    rng: rngOp,
    clips: clipsOp,
    augmentParams: augmentParamsOp,
    augmentRender: augmentRenderOp,
    buildCache: buildCacheOp,
    makeRun: makeRunOp,
    lockStates: lockStatesOp,
    acquireLock: acquireLockOp,
    officialDefaults: () => ({ defaults: OFFICIAL_DEFAULTS, archDims: ARCH_DIMS }),
    // Loaded on demand: the trainer's modules bring in TF.js, which the other ops do not need.
    loadRunConfig: async (r) => (await import('../../../src/trainer/run/runConfig')).loadRunConfig(r.runDir),
    validateRun: (r) => validateRunDir(r.runDir),
  };
  if (!ops[request.op]) throw new Error(`unknown op ${request.op}`);
  process.stdout.write(JSON.stringify(await ops[request.op](request)) + '\n');
}

main().catch((e) => {
  process.stderr.write(`${(e as Error).stack}\n`);
  process.exit(1);
});
