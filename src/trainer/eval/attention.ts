/**
 * Attention maps of the teacher for the UI: the last block's [CLS]→patch attention of every head (the maps DINO's
 * visualize_attention.py shows and DoRA's tracker seeds its objects with), on chosen frames of the video
 * (the centred square crop, resized). Written as raw little-endian float32 plus a manifest, like snapshots:
 *   <outDir>/manifest.json, <outDir>/frame-00.png …, <outDir>/attention.f32 [frames, heads, grid, grid]
 * Each map sums to 1 − (the [CLS]→[CLS] weight), as in the tracker.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic, writeJsonAtomic } from '../../core/node/atomicWrite';
import type { AttentionManifest } from '../../core/evalResults';
import { encodePng } from '../data/png';
import { encodeImages, type EvalEncoder, type EvalProgress } from './encoder';
import { centreSquareBox, cropUnitRgb, type TourFrames } from './syntheticTour';
import { normaliseUnitRgbToPlanar } from './evalImages';

export type { AttentionManifest };

export async function writeAttentionMaps(
  encoder: EvalEncoder,
  tour: TourFrames,
  frames: number[],
  imageSize: number,
  outDir: string,
  progress?: EvalProgress,
): Promise<AttentionManifest> {
  const patch = encoder.state.cfg.vit.patchSize;
  const size = Math.floor(imageSize / patch) * patch;
  const grid = size / patch;
  const box = centreSquareBox(tour);
  const images = new Float32Array(frames.length * 3 * size * size);
  await mkdir(outDir, { recursive: true });
  const pngs: { index: number; png: string }[] = [];
  for (let i = 0; i < frames.length; i++) {
    if (!(frames[i] >= 0 && frames[i] < tour.frameCount))
      throw new Error(`attention: frame ${frames[i]} is outside the video (0..${tour.frameCount - 1})`);
    const rgb = cropUnitRgb(tour, frames[i], box, size);
    normaliseUnitRgbToPlanar(rgb, size * size, images, i * 3 * size * size);
    const bytes = Uint8Array.from(rgb, (v) => Math.round(Math.min(1, Math.max(0, v)) * 255));
    const png = `frame-${String(i).padStart(2, '0')}.png`;
    await writeFile(join(outDir, png), encodePng({ width: size, height: size, channels: 3, data: bytes }));
    pngs.push({ index: frames[i], png });
  }
  const encoded = await encodeImages(encoder, images, frames.length, size, { attention: true, progress });
  const attention = encoded.clsAttention!;
  await writeFileAtomic(join(outDir, 'attention.f32'), new Uint8Array(attention.buffer, attention.byteOffset, attention.byteLength));
  const manifest: AttentionManifest = {
    formatVersion: 1,
    model: encoder.label,
    video: tour.video,
    imageSize: size,
    patchSize: patch,
    grid,
    heads: encoded.heads,
    frames: pngs,
    attention: { file: 'attention.f32', dtype: 'float32', shape: [frames.length, encoded.heads, grid, grid] },
  };
  await writeJsonAtomic(join(outDir, 'manifest.json'), manifest);
  return manifest;
}
