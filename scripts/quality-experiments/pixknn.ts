// Experiment helper: weighted k-NN on raw (normalised) pixels of the same eval images, as a feature-free reference.
import { resolve } from 'node:path';
import { DINO_KNN_KS, DINO_KNN_TEMPERATURE, knnClassify } from '../../src/trainer/eval/knn';
import { objectCropDataset, openTourFrames } from '../../src/trainer/eval/syntheticTour';
import { loadFashionMnist } from '../../src/trainer/eval/fashionMnist';
import { defaultFashionMnistDir } from '../../src/trainer/eval/runEval';
import type { KnnDataset } from '../../src/trainer/eval/evalImages';
// Work folder with media/demo-walking-tour.mp4 (+ .json) and a frame cache; runs go to <E>/runs.
const E = resolve(process.env.QUALITY_EXP_DIR ?? '.cache/exp');
function run(name: string, ds: KnnDataset) {
  const dim = ds.train.images.length / ds.train.count;
  const s = knnClassify(
    { features: ds.train.images, labels: ds.train.labels, count: ds.train.count, dim },
    { features: ds.test.images, labels: ds.test.labels, count: ds.test.count, dim },
    { ks: DINO_KNN_KS, temperature: DINO_KNN_TEMPERATURE, numClasses: ds.classNames.length },
  );
  console.log(`pixels ${name}: ${s.map((x) => x.top1.toFixed(1)).join('/')}`);
}
async function main() {
  const tour = await openTourFrames(`${E}/media/demo-walking-tour.mp4`, { shortSide: 96, cacheRoot: `${E}/frame-cache` });
  run(
    'synthetic',
    objectCropDataset(tour, {
      size: 48,
      trainFrames: [512, 856],
      testFrames: [856, 1200],
      frameStep: 3,
      context: 1.5,
      minVisible: 0.6,
      seed: 0,
    }),
  );
  tour.close();
  run('fashion-mnist', loadFashionMnist({ dir: defaultFashionMnistDir(), trainCount: 2000, testCount: 500, seed: 0, size: 48 }));
}
main().catch((e) => {
  console.error(e);
  process.exit(1);
});
