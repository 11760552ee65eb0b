/**
 * An image-folder k-NN dataset (torchvision ImageFolder layout, as eval_knn.py reads it):
 *   <root>/train/<class>/*.png|jpg|jpeg|bmp|webp   and   <root>/val/<class>/…
 * Class indices follow the sorted class-folder names of train/. Images are decoded by ffmpeg (any format it reads)
 * with DINO's evaluation transform: Resize(size·256/224) on the short side, CenterCrop(size), then ImageNet Normalize.
 */
import { execFile } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { resolveFfmpeg, type FfmpegTools } from '../data/ffmpeg/tools';
import { normaliseU8RgbToPlanar, stackImages, type KnnDataset, type LabelledImages } from './evalImages';

const IMAGE_EXTENSIONS = /\.(png|jpe?g|bmp|webp|gif|tiff?)$/i;
const execFileAsync = promisify(execFile);

/** Decodes one image to size×size RGB24 with Resize(short side → size·256/224) + CenterCrop(size). */
export async function decodeImageCentreCrop(tools: FfmpegTools, file: string, size: number): Promise<Uint8Array> {
  const resized = Math.round((size * 256) / 224);
  const filter = `scale=${resized}:${resized}:force_original_aspect_ratio=increase:flags=bilinear,crop=${size}:${size}`;
  const { stdout } = await execFileAsync(
    tools.ffmpeg,
    ['-hide_banner', '-nostdin', '-v', 'error', '-i', file, '-vf', filter, '-frames:v', '1', '-f', 'rawvideo', '-pix_fmt', 'rgb24', '-'],
    { encoding: 'buffer', maxBuffer: 64 * 1024 * 1024 },
  );
  if (stdout.length !== size * size * 3) throw new Error(`${file}: ffmpeg returned ${stdout.length} bytes, expected ${size * size * 3}`);
  return new Uint8Array(stdout.buffer, stdout.byteOffset, stdout.length);
}

function listClassFiles(splitDir: string, classNames: string[]): { file: string; label: number }[] {
  const out: { file: string; label: number }[] = [];
  classNames.forEach((name, label) => {
    const dir = join(splitDir, name);
    if (!existsSync(dir)) return;
    for (const f of readdirSync(dir)
      .filter((n) => IMAGE_EXTENSIONS.test(n))
      .sort())
      out.push({ file: join(dir, f), label });
  });
  return out;
}

async function decodeSplit(tools: FfmpegTools, entries: { file: string; label: number }[], size: number): Promise<LabelledImages> {
  const items: { image: Float32Array; label: number }[] = [];
  for (const entry of entries) {
    const image = new Float32Array(3 * size * size);
    normaliseU8RgbToPlanar(await decodeImageCentreCrop(tools, entry.file, size), size * size, image, 0);
    items.push({ image, label: entry.label });
  }
  return stackImages(items, size);
}

export async function loadImageFolder(root: string, size: number, tools: FfmpegTools = resolveFfmpeg()): Promise<KnnDataset> {
  const trainDir = join(root, 'train');
  const valDir = join(root, 'val');
  if (!existsSync(trainDir) || !existsSync(valDir))
    throw new Error(`${root}: an image-folder dataset needs train/<class>/… and val/<class>/… sub-folders`);
  const classNames = readdirSync(trainDir)
    .filter((n) => statSync(join(trainDir, n)).isDirectory())
    .sort();
  if (classNames.length === 0) throw new Error(`${trainDir}: no class folders`);
  const train = listClassFiles(trainDir, classNames);
  const val = listClassFiles(valDir, classNames);
  if (train.length === 0 || val.length === 0)
    throw new Error(`${root}: train/ and val/ must both hold images (${train.length} and ${val.length} found)`);
  return { name: `folder:${root}`, classNames, train: await decodeSplit(tools, train, size), test: await decodeSplit(tools, val, size) };
}
