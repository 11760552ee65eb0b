// Synthetic "walking tour" with exact ground truth: a panned Mandelbrot background (camera ego-motion)
// and four textured objects moving on analytic paths, drawn by ONE ffmpeg run that also writes a
// lossless grey mask video (A=0x40, B=0x80, C=0xC0, D=0xFF, z-order A<B<C<D, occlusion baked in).
//
// The object paths are small expression trees that render both to ffmpeg's expression syntax and to a
// TypeScript evaluator performing the same double-precision operations in the same order, so
// groundTruthMask() reproduces the mask video pixel for pixel without decoding anything.
// Positions are floor(expr + 1e-6): ffmpeg's t is N × (1/fps) as a double (e.g. 65.99999 vs 66) and
// overlay truncates, so without the epsilon some frames would be one pixel off.
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runFfmpeg } from './ffmpeg/decode';
import { resolveFfmpeg, type FfmpegTools } from './ffmpeg/tools';

type Expr =
  | { op: 'num'; value: number }
  | { op: 't' }
  | { op: 'pi' }
  | { op: 'add' | 'sub' | 'mul' | 'div' | 'mod'; a: Expr; b: Expr }
  | { op: 'sin' | 'cos' | 'abs' | 'floor'; a: Expr };

type Operand = Expr | number;
const lift = (x: Operand): Expr => (typeof x === 'number' ? { op: 'num', value: x } : x);
const T: Expr = { op: 't' };
const PI: Expr = { op: 'pi' };
const add = (a: Operand, b: Operand): Expr => ({ op: 'add', a: lift(a), b: lift(b) });
const sub = (a: Operand, b: Operand): Expr => ({ op: 'sub', a: lift(a), b: lift(b) });
const mul = (a: Operand, b: Operand): Expr => ({ op: 'mul', a: lift(a), b: lift(b) });
const div = (a: Operand, b: Operand): Expr => ({ op: 'div', a: lift(a), b: lift(b) });
const mod = (a: Operand, b: Operand): Expr => ({ op: 'mod', a: lift(a), b: lift(b) });
const sin = (a: Operand): Expr => ({ op: 'sin', a: lift(a) });
const cos = (a: Operand): Expr => ({ op: 'cos', a: lift(a) });
const abs = (a: Operand): Expr => ({ op: 'abs', a: lift(a) });
const floor = (a: Operand): Expr => ({ op: 'floor', a: lift(a) });
/** Pixel position: floor(expr + 1e-6), matching how overlay places the object. */
const pixel = (e: Expr): Expr => floor(add(e, 1e-6));
/** sin(2π t / period + phase) */
const wave = (fn: typeof sin, period: number, phase: number): Expr => fn(add(div(mul(mul(2, PI), T), period), phase));

function renderExpr(e: Expr): string {
  switch (e.op) {
    case 'num':
      return e.value < 0 ? `(${String(e.value)})` : String(e.value); // String() round-trips the double exactly
    case 't':
      return 't';
    case 'pi':
      return 'PI';
    case 'add':
      return `(${renderExpr(e.a)}+${renderExpr(e.b)})`;
    case 'sub':
      return `(${renderExpr(e.a)}-${renderExpr(e.b)})`;
    case 'mul':
      return `(${renderExpr(e.a)}*${renderExpr(e.b)})`;
    case 'div':
      return `(${renderExpr(e.a)}/${renderExpr(e.b)})`;
    case 'mod':
    case 'sin':
    case 'cos':
    case 'abs':
    case 'floor':
      return e.op === 'mod' ? `mod(${renderExpr(e.a)},${renderExpr(e.b)})` : `${e.op}(${renderExpr(e.a)})`;
  }
}

function evalExpr(e: Expr, t: number): number {
  switch (e.op) {
    case 'num':
      return e.value;
    case 't':
      return t;
    case 'pi':
      return Math.PI;
    case 'add':
      return evalExpr(e.a, t) + evalExpr(e.b, t);
    case 'sub':
      return evalExpr(e.a, t) - evalExpr(e.b, t);
    case 'mul':
      return evalExpr(e.a, t) * evalExpr(e.b, t);
    case 'div':
      return evalExpr(e.a, t) / evalExpr(e.b, t);
    case 'mod': {
      // ffmpeg: a - floor(a / b) * b
      const a = evalExpr(e.a, t);
      const b = evalExpr(e.b, t);
      return a - Math.floor(a / b) * b;
    }
    case 'sin':
      return Math.sin(evalExpr(e.a, t));
    case 'cos':
      return Math.cos(evalExpr(e.a, t));
    case 'abs':
      return Math.abs(evalExpr(e.a, t));
    case 'floor':
      return Math.floor(evalExpr(e.a, t));
  }
}

export interface SyntheticVideoOptions {
  /** Seconds; default 40. */
  durationSeconds?: number;
  /** Frame size, both even (H.264 4:2:0); default 640×360. Object sizes and paths scale with it. */
  width?: number;
  height?: number;
  /** Integer frames per second; default 30. */
  fps?: number;
  /** Changes path phases, the Game-of-Life pattern and the noise; default 42. */
  seed?: number;
}

type ResolvedOptions = Required<SyntheticVideoOptions>;

export const SYNTHETIC_DEFAULTS: ResolvedOptions = { durationSeconds: 40, width: 640, height: 360, fps: 30, seed: 42 };

export interface SyntheticObject {
  /** 1..4 for A..D, the value groundTruthMask() writes. */
  id: number;
  name: 'A' | 'B' | 'C' | 'D';
  shape: 'disc' | 'rect';
  /** Grey level of the object in the mask video. */
  maskLevel: number;
  width: number;
  height: number;
  x: Expr;
  y: Expr;
}

/** Deterministic phases in [0, 2π) from the seed (mulberry32), rounded so they print short and exact. */
function seededPhases(seed: number, count: number): number[] {
  let state = seed >>> 0;
  const phases: number[] = [];
  for (let i = 0; i < count; i++) {
    state = (state + 0x6d2b79f5) >>> 0;
    let z = state;
    z = Math.imul(z ^ (z >>> 15), z | 1);
    z ^= z + Math.imul(z ^ (z >>> 7), z | 61);
    const unit = ((z ^ (z >>> 14)) >>> 0) / 4294967296;
    phases.push(Math.round(unit * 6283) / 1000);
  }
  return phases;
}

function resolveOptions(options: SyntheticVideoOptions = {}): ResolvedOptions {
  const o = { ...SYNTHETIC_DEFAULTS, ...options };
  if (o.width % 2 || o.height % 2 || o.width < 64 || o.height < 64)
    throw new RangeError(`Synthetic video size must be even and ≥ 64, got ${o.width}x${o.height}`);
  if (!Number.isInteger(o.fps) || o.fps < 1) throw new RangeError(`Synthetic video fps must be a positive integer, got ${o.fps}`);
  if (!(o.durationSeconds > 0)) throw new RangeError(`Synthetic video duration must be > 0, got ${o.durationSeconds}`);
  return o;
}

/** The four objects for a given size and seed (reference geometry: 640×360). */
export function syntheticObjects(options: SyntheticVideoOptions = {}): SyntheticObject[] {
  const { width: W, height: H, seed } = resolveOptions(options);
  const sx = W / 640;
  const sy = H / 360;
  const size = (px: number) => Math.max(8, Math.round(px * Math.min(sx, sy)));
  const [pa, pb, pc, pd] = seededPhases(seed, 4);
  const a = size(96);
  const b = size(64);
  const c = size(80);
  const dw = size(120);
  const dh = size(40);
  return [
    // A: disc on a Lissajous path
    {
      id: 1,
      name: 'A',
      shape: 'disc',
      maskLevel: 0x40,
      width: a,
      height: a,
      x: pixel(add((W - a) / 2, mul(220 * sx, wave(sin, 7, pa)))),
      y: pixel(add((H - a) / 2, mul(110 * sy, wave(sin, 5, 1 + pa)))),
    },
    // B: square bouncing between the borders
    {
      id: 2,
      name: 'B',
      shape: 'rect',
      maskLevel: 0x80,
      width: b,
      height: b,
      x: pixel(mul(W - b, abs(sub(mod(add(div(T, 4), pb / 3), 2), 1)))),
      y: pixel(mul(H - b, abs(sub(mod(add(div(T, 3), 0.5 + pb / 3), 2), 1)))),
    },
    // C: disc on a circle
    {
      id: 3,
      name: 'C',
      shape: 'disc',
      maskLevel: 0xc0,
      width: c,
      height: c,
      x: pixel(add((W - c) / 2, mul(150 * sx, wave(cos, 9, pc)))),
      y: pixel(add((H - c) / 2, mul(100 * sy, wave(sin, 9, pc)))),
    },
    // D: bar that leaves the frame on the right and comes back from the left
    {
      id: 4,
      name: 'D',
      shape: 'rect',
      maskLevel: 0xff,
      width: dw,
      height: dh,
      x: pixel(sub(mod(add(mul(90 * sx, T), pd * 100 * sx), W + dw), dw)),
      y: pixel(add(300 * sy, mul(12 * sy, wave(sin, 2, pd)))),
    },
  ];
}

function discAlpha(size: number): string {
  const centre = (size - 1) / 2;
  return `a='255*lt(hypot(X-${centre},Y-${centre}),${size / 2})'`;
}

function insideDisc(x: number, y: number, size: number): boolean {
  const centre = (size - 1) / 2;
  return Math.hypot(x - centre, y - centre) < size / 2;
}

/** The ffmpeg filter graph writing [vid] (RGB video) and [mask] (grey mask) for these options. */
export function syntheticFilterGraph(options: SyntheticVideoOptions = {}): string {
  const o = resolveOptions(options);
  const { width: W, height: H, fps: R, durationSeconds: D, seed } = o;
  const objects = syntheticObjects(o);
  const keepRgb = "r='r(X,Y)':g='g(X,Y)':b='b(X,Y)'";
  const alphaFor = (obj: SyntheticObject) => (obj.shape === 'disc' ? `,geq=${keepRgb}:${discAlpha(obj.width)}` : '');
  const textures = [
    `testsrc2=s=${objects[0].width}x${objects[0].height}:r=${R}`,
    `rgbtestsrc=s=${objects[1].width}x${objects[1].height}:r=${R}`,
    `life=s=${objects[2].width}x${objects[2].height}:r=${R}:seed=${seed >>> 0}:ratio=0.35:mold=8:life_color=#FFD700:death_color=#1E3C78:mold_color=#B4285A`,
    `smptebars=s=${objects[3].width}x${objects[3].height}:r=${R}`,
  ];
  const lines: string[] = [];
  // Background: one Mandelbrot image rendered once, looped, and panned by a sinusoidal crop.
  lines.push(
    `mandelbrot=s=${3 * W}x${3 * H}:r=${R}:maxiter=256:start_x=-0.743643887037151:start_y=0.13182590420533:start_scale=0.005,` +
      `trim=end_frame=1,loop=loop=-1:size=1,settb=1/${R},setpts=N,` +
      `crop=${W}:${H}:x='${W}+${(W * 600) / 640}*sin(2*PI*t/20)':y='${H}+${(H * 330) / 360}*sin(2*PI*t/13)',` +
      `noise=alls=6:allf=t:all_seed=${(seed >>> 0) % 2147483647},format=rgb24,trim=duration=${D}[bg]`,
  );
  objects.forEach((obj, k) => lines.push(`${textures[k]},format=rgba${alphaFor(obj)}[o${k}]`));
  lines.push(`color=c=black:s=${W}x${H}:r=${R}:d=${D},format=rgb24[mbg]`);
  objects.forEach((obj, k) => {
    const level = obj.maskLevel.toString(16).padStart(2, '0').toUpperCase();
    lines.push(`color=c=0x${level}${level}${level}:s=${obj.width}x${obj.height}:r=${R},format=rgba${alphaFor(obj)}[m${k}]`);
  });
  const chain = (base: string, prefix: string, out: string, finalFormat: string) => {
    let current = base;
    objects.forEach((obj, k) => {
      const next = k === objects.length - 1 ? out : `${prefix}${k}`;
      const position = `x='${renderExpr(obj.x)}':y='${renderExpr(obj.y)}'`;
      const tail = k === objects.length - 1 ? `,format=${finalFormat}` : '';
      lines.push(`[${current}][${prefix === 'v' ? 'o' : 'm'}${k}]overlay=${position}:format=rgb:shortest=1${tail}[${next}]`);
      current = next;
    });
  };
  chain('bg', 'v', 'vid', 'yuv420p');
  chain('mbg', 'mk', 'mask', 'gray');
  return lines.join(';\n');
}

/**
 * Object id per pixel for frame `frameIndex` (0 = background, 1..4 = A..D), row-major height × width,
 * computed from the same formulas ffmpeg used. `width`/`height` are the video's size.
 */
export function groundTruthMask(
  frameIndex: number,
  width: number,
  height: number,
  options: Omit<SyntheticVideoOptions, 'width' | 'height'> = {},
): Uint8Array {
  const o = resolveOptions({ ...options, width, height });
  const t = frameIndex * (1 / o.fps); // overlay's t: pts × av_q2d(1/fps), not frameIndex / fps
  const mask = new Uint8Array(width * height);
  for (const obj of syntheticObjects(o)) {
    const left = evalExpr(obj.x, t);
    const top = evalExpr(obj.y, t);
    for (let dy = Math.max(0, -top); dy < obj.height && top + dy < height; dy++) {
      const row = (top + dy) * width;
      for (let dx = Math.max(0, -left); dx < obj.width && left + dx < width; dx++) {
        if (obj.shape === 'rect' || insideDisc(dx, dy, obj.width)) mask[row + left + dx] = obj.id;
      }
    }
  }
  return mask;
}

/** Maps a decoded mask-video grey level to the object id (0 = background). */
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
  const D = String(o.durationSeconds);
  try {
    await runFfmpeg(tools, [
      '-y',
      '-filter_complex',
      syntheticFilterGraph(o),
      // -t on both outputs: the lavfi sources are endless
      '-map',
      '[vid]',
      '-c:v',
      'libx264',
      '-preset',
      'veryfast',
      '-crf',
      '18',
      '-g',
      String(2 * o.fps),
      '-pix_fmt',
      'yuv420p',
      '-t',
      D,
      tmpVideo,
      // +bitexact: otherwise Matroska writes a random segment UID and reruns differ
      '-map',
      '[mask]',
      '-c:v',
      'ffv1',
      '-pix_fmt',
      'gray',
      '-fflags',
      '+bitexact',
      '-t',
      D,
      tmpMask,
    ]);
    renameSync(tmpMask, files.mask);
    renameSync(tmpVideo, files.video);
  } finally {
    rmSync(tmpVideo, { force: true });
    rmSync(tmpMask, { force: true });
  }
  const frameCount = Math.round(o.durationSeconds * o.fps);
  const objects = syntheticObjects(o).map((obj) => ({
    id: obj.id,
    name: obj.name,
    shape: obj.shape,
    maskLevel: obj.maskLevel,
    width: obj.width,
    height: obj.height,
    x: renderExpr(obj.x),
    y: renderExpr(obj.y),
  }));
  writeFileSync(files.meta, JSON.stringify({ generator: `${SYNTHETIC_GENERATOR} v1`, options: o, frameCount, objects }, null, 1));
  return { ...files, options: o, frameCount };
}

/**
 * The demo video for `npm run demo`: generated once into `dir` (≈20 s for the default 40 s at 640×360
 * on 2 cores), then reused. 40 s at 30 fps = 1200 frames: enough distinct clip starts for DoRA's
 * 8 frames × 1 s clips (stride 30 at 30 fps), while the first run stays short.
 */
/** The `generator` field of a synthetic tour's `<prefix>.json` starts with this. */
export const SYNTHETIC_GENERATOR = 'dora-studio synthetic walking tour';

/** The generator options saved next to a synthetic video (`<prefix>.json`), or undefined for any other video. */
export function readSyntheticOptions(video: string): Required<SyntheticVideoOptions> | undefined {
  const meta = video.replace(/\.[^./\\]+$/, '.json');
  if (!existsSync(meta)) return undefined;
  try {
    const parsed = JSON.parse(readFileSync(meta, 'utf8')) as { generator?: string; options?: Required<SyntheticVideoOptions> };
    return parsed.generator?.startsWith(SYNTHETIC_GENERATOR) ? parsed.options : undefined;
  } catch {
    return undefined;
  }
}

export async function ensureDemoVideo(dir: string, options: SyntheticVideoOptions = {}, tools?: FfmpegTools): Promise<SyntheticVideoFiles> {
  const o = resolveOptions(options);
  mkdirSync(dir, { recursive: true });
  const prefix = join(dir, 'demo-walking-tour');
  const meta = `${prefix}.json`;
  if (existsSync(meta) && existsSync(`${prefix}.mp4`) && existsSync(`${prefix}-mask.mkv`)) {
    try {
      const saved = JSON.parse(readFileSync(meta, 'utf8')) as { options: ResolvedOptions; frameCount: number };
      if (JSON.stringify(saved.options) === JSON.stringify(o)) {
        return { video: `${prefix}.mp4`, mask: `${prefix}-mask.mkv`, meta, options: o, frameCount: saved.frameCount };
      }
    } catch {
      // unreadable metadata: regenerate
    }
  }
  return generateSyntheticVideo(prefix, o, tools ?? resolveFfmpeg());
}
