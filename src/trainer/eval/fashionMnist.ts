/**
 * Fashion-MNIST (MIT licence) from Debian's `dataset-fashion-mnist` package, unpacked by
 * scripts/fetch-fashion-mnist.sh into .cache/datasets/fashion-mnist (never installed or committed).
 * A seeded subset is upscaled bilinearly to the model's image size, grey copied to 3 channels, ImageNet-normalised.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { Rng } from '../../core/rng';
import { resizeBilinearF32 } from '../data/image/torchBilinear';
import { normaliseUnitRgbToPlanar, stackImages, type KnnDataset, type LabelledImages } from './evalImages';

export const FASHION_MNIST_CLASSES = [
  'T-shirt/top',
  'Trouser',
  'Pullover',
  'Dress',
  'Coat',
  'Sandal',
  'Shirt',
  'Sneaker',
  'Bag',
  'Ankle boot',
];

export const FASHION_MNIST_FILES = {
  trainImages: 'train-images-idx3-ubyte.gz',
  trainLabels: 'train-labels-idx1-ubyte.gz',
  testImages: 't10k-images-idx3-ubyte.gz',
  testLabels: 't10k-labels-idx1-ubyte.gz',
} as const;

export function hasFashionMnist(dir: string): boolean {
  return Object.values(FASHION_MNIST_FILES).every((f) => existsSync(join(dir, f)));
}

/** IDX file (big-endian magic 0x0000 08 rank, then the dimensions): 2051 = uint8 images, 2049 = uint8 labels. */
export function readIdx(file: string): { dims: number[]; data: Uint8Array } {
  const bytes = gunzipSync(readFileSync(file));
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const magic = view.getUint32(0);
  if (magic >>> 8 !== 0x08) throw new Error(`${file}: not an uint8 IDX file (magic 0x${magic.toString(16)})`);
  const rank = magic & 0xff;
  const dims = Array.from({ length: rank }, (_, i) => view.getUint32(4 + 4 * i));
  const start = 4 + 4 * rank;
  const count = dims.reduce((a, b) => a * b, 1);
  if (bytes.length < start + count) throw new Error(`${file}: truncated (${bytes.length - start} of ${count} bytes)`);
  return { dims, data: bytes.subarray(start, start + count) };
}

function subset(imagesFile: string, labelsFile: string, take: number, rng: Rng, size: number): LabelledImages {
  const images = readIdx(imagesFile);
  const labels = readIdx(labelsFile);
  const [total, h, w] = images.dims;
  if (labels.dims[0] !== total) throw new Error(`${labelsFile}: ${labels.dims[0]} labels for ${total} images`);
  const order = rng.shuffle(Array.from({ length: total }, (_, i) => i)).slice(0, Math.min(take, total));
  const grey = new Float32Array(h * w);
  const resized = new Float32Array(size * size);
  const rgb = new Float32Array(size * size * 3);
  const items = order.map((index) => {
    for (let p = 0; p < h * w; p++) grey[p] = images.data[index * h * w + p] / 255;
    resizeBilinearF32(grey, w, { top: 0, left: 0, height: h, width: w }, size, size, resized, 1);
    for (let p = 0; p < size * size; p++) rgb[p * 3] = rgb[p * 3 + 1] = rgb[p * 3 + 2] = resized[p];
    const image = new Float32Array(3 * size * size);
    normaliseUnitRgbToPlanar(rgb, size * size, image, 0);
    return { image, label: labels.data[index] };
  });
  return stackImages(items, size);
}

/** Where Debian's dataset-fashion-mnist package installs the files. */
export const DEBIAN_FASHION_MNIST_DIR = '/usr/share/datasets/fashion-mnist';

export interface FashionMnistOptions {
  dir: string;
  trainCount: number;
  testCount: number;
  seed: number;
  size: number;
}

export function loadFashionMnist(options: FashionMnistOptions): KnnDataset {
  if (!hasFashionMnist(options.dir)) {
    throw new Error(
      `${options.dir}: Fashion-MNIST is missing. Fix: \`sudo apt install dataset-fashion-mnist\` (Debian/Ubuntu; ` +
        `installs it in ${DEBIAN_FASHION_MNIST_DIR}), or run scripts/fetch-fashion-mnist.sh from the DoRA Studio ` +
        `sources (downloads that .deb and unpacks it into ${options.dir}), or copy the four *-ubyte.gz files there.`,
    );
  }
  const f = FASHION_MNIST_FILES;
  return {
    name: 'fashion-mnist',
    classNames: FASHION_MNIST_CLASSES,
    train: subset(
      join(options.dir, f.trainImages),
      join(options.dir, f.trainLabels),
      options.trainCount,
      new Rng(`fashion-mnist/train/seed=${options.seed}`),
      options.size,
    ),
    test: subset(
      join(options.dir, f.testImages),
      join(options.dir, f.testLabels),
      options.testCount,
      new Rng(`fashion-mnist/test/seed=${options.seed}`),
      options.size,
    ),
  };
}
