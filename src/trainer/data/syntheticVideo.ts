// Synthetic "walking tour" with exact ground truth, for the demo and the evaluations. Scenes of 3–5 s, each with its
// own background texture, camera pan, lighting and sometimes poles in front, show four objects (three of the scene's
// dominant class, one of another; classes wheel, star, ladder, cross: silhouette and part structure) in random colours,
// moving, spinning, growing or shrinking and occluding each other (syntheticScene.ts plans it, syntheticPaint.ts paints it).
//
// Frames are rendered here in TypeScript and piped into two ffmpeg encoders: the RGB video (H.264) and a lossless grey
// mask video (FFV1; object slot 1..4 as grey 0x40/0x80/0xC0/0xFF, occlusion baked in). groundTruthMask() recomputes a
// frame's mask from the same geometry code without decoding anything, so it equals the mask video pixel for pixel.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Writable } from 'node:stream';
import { resolveFfmpeg, type FfmpegTools } from './ffmpeg/tools';
import { VideoError } from './ffmpeg/videoError';
import { TourPainter } from './syntheticPaint';
import {
  OBJECT_CLASSES,
  resolveOptions,
  SLOTS,
  slotMask,
  SYNTHETIC_DEFAULTS,
  tourPlan,
  type ResolvedOptions,
  type SyntheticVideoOptions,
} from './syntheticScene';

export { OBJECT_CLASSES, SLOTS, SYNTHETIC_DEFAULTS, tourPlan, type SyntheticVideoOptions };

/** The `generator` field of a synthetic tour's `<prefix>.json` starts with this. */
export const SYNTHETIC_GENERATOR = 'dora-studio synthetic walking tour';
/** Bumped when the same options would give other pixels or masks; older videos are regenerated, not trusted. */
export const SYNTHETIC_GENERATOR_VERSION = 3;
const GENERATOR_ID = `${SYNTHETIC_GENERATOR} v${SYNTHETIC_GENERATOR_VERSION}`;

/** Grey level of each slot in the mask video. */
export const MASK_LEVELS = [0, 0x40, 0x80, 0xc0, 0xff];

/**
 * Object slot per pixel for frame `frameIndex` (0 = background, 1..4 = the scene's objects in z-order), row-major
 * height × width, computed from the same geometry the video was drawn with. `width`/`height` are the video's size.
 */
export function groundTruthMask(
  frameIndex: number,
  width: number,
  height: number,
  options: Omit<SyntheticVideoOptions, 'width' | 'height'> = {},
): Uint8Array {
  return slotMask(tourPlan({ ...options, width, height }), frameIndex);
}

/** Maps a decoded mask-video grey level to the object slot (0 = background). */
export function maskLevelToObjectId(level: number): number {
  return level >= 0xe0 ? 4 : level >= 0xa0 ? 3 : level >= 0x60 ? 2 : level >= 0x20 ? 1 : 0;
}

export interface SyntheticVideoFiles {
  video: string;
  mask: string;
  meta: string;
  options: ResolvedOptions;
  frameCount: number;
}

/** An ffmpeg process reading raw frames on stdin. */
function rawEncoder(tools: FfmpegTools, input: string[], output: string[]) {
  const child = spawn(tools.ffmpeg, ['-hide_banner', '-nostdin', '-v', 'error', '-y', ...input, '-i', 'pipe:0', ...output], {
    stdio: ['pipe', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d.slice(0, 4000)));
  const closed = new Promise<number | null>((resolve, reject) => {
    child.once('error', (e) => reject(new VideoError('FFMPEG_NOT_FOUND', `Could not start "${tools.ffmpeg}": ${e.message}`)));
    child.once('close', resolve);
  });
  closed.catch(() => undefined); // reported by finish()
  const stdin = child.stdin as Writable;
  stdin.on('error', () => undefined); // an early exit is reported by finish() with ffmpeg's own message
  return {
    async write(chunk: Uint8Array) {
      if (!stdin.write(chunk)) await Promise.race([once(stdin, 'drain'), closed]);
    },
    async finish() {
      stdin.end();
      const code = await closed;
      if (code !== 0)
        throw new VideoError('FFMPEG_FAILED', `ffmpeg failed (exit code ${code}): ${stderr.trim().split(/\r?\n/).slice(-3).join(' | ')}`);
    },
    kill: () => child.kill('SIGKILL'),
  };
}

async function encodeTour(o: ResolvedOptions, tools: FfmpegTools, videoFile: string, maskFile: string): Promise<number> {
  const plan = tourPlan(o);
  const size = ['-s', `${o.width}x${o.height}`, '-r', String(o.fps)];
  const video = rawEncoder(
    tools,
    ['-f', 'rawvideo', '-pix_fmt', 'rgb24', ...size],
    ['-c:v', 'libx264', '-preset', 'veryfast', '-crf', '18', '-g', String(2 * o.fps), '-pix_fmt', 'yuv420p', '-f', 'mp4', videoFile],
  );
  // +bitexact: otherwise Matroska writes a random segment UID and reruns differ.
  const mask = rawEncoder(
    tools,
    ['-f', 'rawvideo', '-pix_fmt', 'gray', ...size],
    ['-c:v', 'ffv1', '-pix_fmt', 'gray', '-fflags', '+bitexact', '-f', 'matroska', maskFile],
  );
  try {
    const painter = new TourPainter(plan);
    for (let frame = 0; frame < plan.frameCount; frame++) {
      const { rgb, mask: slots } = painter.render(frame);
      await video.write(rgb);
      await mask.write(slots.map((s) => MASK_LEVELS[s]));
    }
    await Promise.all([video.finish(), mask.finish()]);
  } catch (e) {
    video.kill();
    mask.kill();
    throw e;
  }
  return plan.frameCount;
}

/** What `<prefix>.json` records: options, frame count, and every scene's objects (class per slot). */
function tourMetadata(o: ResolvedOptions, frameCount: number) {
  const plan = tourPlan(o);
  return {
    generator: GENERATOR_ID,
    options: o,
    frameCount,
    classes: [...OBJECT_CLASSES],
    slots: SLOTS,
    scenes: plan.scenes.map((s) => ({
      startFrame: s.startFrame,
      endFrame: s.endFrame,
      objects: s.objects.map((obj) => ({ slot: obj.slot, class: OBJECT_CLASSES[obj.cls] })),
    })),
  };
}

/** Writes `<prefix>.mp4` (H.264) and `<prefix>-mask.mkv` (FFV1 grey, lossless, bit-exact) plus `<prefix>.json`. */
export async function generateSyntheticVideo(
  outPrefix: string,
  options: SyntheticVideoOptions = {},
  tools: FfmpegTools = resolveFfmpeg(),
): Promise<SyntheticVideoFiles> {
  const o = resolveOptions(options);
  const files = { video: `${outPrefix}.mp4`, mask: `${outPrefix}-mask.mkv`, meta: `${outPrefix}.json` };
  // Write under temporary names and rename at the end, so an interrupted run never looks finished.
  const tmpVideo = `${outPrefix}.partial.mp4`;
  const tmpMask = `${outPrefix}-mask.partial.mkv`;
  let frameCount: number;
  try {
    frameCount = await encodeTour(o, tools, tmpVideo, tmpMask);
    renameSync(tmpMask, files.mask);
    renameSync(tmpVideo, files.video);
  } finally {
    rmSync(tmpVideo, { force: true });
    rmSync(tmpMask, { force: true });
  }
  writeFileSync(files.meta, JSON.stringify(tourMetadata(o, frameCount), null, 1));
  return { ...files, options: o, frameCount };
}

/** The generator options saved next to a synthetic video (`<prefix>.json`) of this generator version, else undefined. */
export function readSyntheticOptions(video: string): Required<SyntheticVideoOptions> | undefined {
  const meta = video.replace(/\.[^./\\]+$/, '.json');
  if (!existsSync(meta)) return undefined;
  try {
    const parsed = JSON.parse(readFileSync(meta, 'utf8')) as { generator?: string; options?: Required<SyntheticVideoOptions> };
    return parsed.generator === GENERATOR_ID ? parsed.options : undefined;
  } catch {
    return undefined;
  }
}

/**
 * A synthetic tour generated once into `dir` as `<name>.mp4` (default `demo-walking-tour`), then reused while its
 * options and generator version match. The default 40 s at 30 fps = 1200 frames (≈ 10 scenes) is enough distinct clip
 * starts for DoRA's clips while the first run stays short.
 */
export async function ensureDemoVideo(
  dir: string,
  options: SyntheticVideoOptions = {},
  tools?: FfmpegTools,
  name = 'demo-walking-tour',
): Promise<SyntheticVideoFiles> {
  const o = resolveOptions(options);
  mkdirSync(dir, { recursive: true });
  const prefix = join(dir, name);
  const meta = `${prefix}.json`;
  if (existsSync(meta) && existsSync(`${prefix}.mp4`) && existsSync(`${prefix}-mask.mkv`)) {
    try {
      const saved = JSON.parse(readFileSync(meta, 'utf8')) as { generator?: string; options: ResolvedOptions; frameCount: number };
      if (saved.generator === GENERATOR_ID && JSON.stringify(saved.options) === JSON.stringify(o)) {
        return { video: `${prefix}.mp4`, mask: `${prefix}-mask.mkv`, meta, options: o, frameCount: saved.frameCount };
      }
    } catch {
      // unreadable metadata: regenerate
    }
  }
  return generateSyntheticVideo(prefix, o, tools ?? resolveFfmpeg());
}
