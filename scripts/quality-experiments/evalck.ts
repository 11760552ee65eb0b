// Experiment helper (not product code): evaluate a checkpoint's teacher, a random init, or raw pixels.
// usage: tsx scripts/quality-experiments/evalck.ts <sidecar.json | random:<preset|config>[:seed] | pixels> [knn,tracking,fashion]
import { initBackend } from '../../src/trainer/backend';
import { configFromPresetOrFile, loadCheckpointEncoder, randomInitEncoder, type EvalEncoder } from '../../src/trainer/eval/encoder';
import { record, tours } from './common';
import { evaluate, summary, type Suite } from './evaluate';

async function main() {
  const [what, suitesArg = 'knn,tracking'] = process.argv.slice(2);
  await initBackend('wasm');
  const { eval: video, train } = await tours();
  let encoder: EvalEncoder;
  if (what.startsWith('random:') || what === 'pixels') {
    const [, preset = 'demo', seed] = what.split(':');
    // Configured with the TRAINING tour, as a trained run is: the whole evaluation tour is then held out.
    const config = await configFromPresetOrFile(preset, train);
    encoder = randomInitEncoder(config, seed === undefined ? undefined : Number(seed));
  } else encoder = await loadCheckpointEncoder(what);
  const result = await evaluate(encoder, video, suitesArg.split(',') as Suite[], what === 'pixels');
  record({ what, label: encoder.label, ...result });
  console.log(`${what === 'pixels' ? 'raw pixels' : encoder.label}: ${summary(result)}`);
  encoder.dispose();
}
main().catch((e) => {
  console.error(e);
  process.exit(1);
});
