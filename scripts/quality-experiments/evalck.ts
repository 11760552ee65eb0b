// Experiment helper (not product code): k-NN of a checkpoint's teacher and/or student, or random init.
// usage: tsx scripts/quality-experiments/evalck.ts <sidecar.json|random> [teacher|student] [synthetic|fashion-mnist|both] [imageSize]
import { resolve } from 'node:path';
import { initBackend } from '../../src/trainer/backend';
import { loadCheckpointEncoder, randomInitEncoder, configFromPresetOrFile, type EvalEncoder } from '../../src/trainer/eval/encoder';
import { runEvaluation, type KnnResult } from '../../src/trainer/eval/runEval';

// Work folder with media/demo-walking-tour.mp4 (+ .json) and a frame cache; runs go to <E>/runs.
const E = resolve(process.env.QUALITY_EXP_DIR ?? '.cache/exp');
async function main() {
  const [ck, which = 'teacher', ds = 'both', sizeArg] = process.argv.slice(2);
  await initBackend('wasm');
  let enc: EvalEncoder;
  if (ck === 'random') enc = randomInitEncoder(await configFromPresetOrFile('demo', `${E}/media/demo-walking-tour.mp4`));
  else enc = await loadCheckpointEncoder(ck);
  if (which === 'student') for (const [n, t] of enc.state.teacher) t.assign(enc.state.student.get(n)!);
  const label = enc.label;
  delete enc.sidecar;
  delete enc.sidecarPath; // no caching
  const out: string[] = [];
  for (const d of ds === 'both' ? ['synthetic', 'fashion-mnist'] : [ds]) {
    const r = (
      await runEvaluation(enc, {
        suite: 'knn',
        dataset: d,
        video: `${E}/media/demo-walking-tour.mp4`,
        cacheRoot: `${E}/frame-cache`,
        imageSize: sizeArg ? Number(sizeArg) : undefined,
      })
    ).record.result as KnnResult;
    out.push(`${d}: ${r.scores.map((s) => s.top1.toFixed(1)).join('/')}`);
  }
  console.log(`${label} [${which}] ${out.join('  |  ')}`);
  enc.dispose();
}
main().catch((e) => {
  console.error(e);
  process.exit(1);
});
