// Pixels of the synthetic walking tour: a per-scene background texture (value noise in a random palette, with blocks
// and faint stripes), panned by the scene's camera; objects coloured by part with per-instance colours and directional
// shading; scene lighting that drifts over time; poles in front; mild per-pixel noise. The geometry (and so the mask)
// comes from syntheticScene.ts: painting never decides what is object and what is not.
import { Rng } from '../../core/rng';
import { randomColour, rasteriseObjects, sceneOfFrame, type Rgb, type Scene, type TourPlan } from './syntheticScene';

interface Texture {
  width: number;
  height: number;
  /** Interleaved RGB in [0, 1]. */
  rgb: Float32Array;
}

/** Smooth random values on a grid of `cell`-pixel cells, bilinearly interpolated with a smoothstep. */
function valueNoise(rng: Rng, width: number, height: number, cell: number): Float32Array {
  const gw = Math.ceil(width / cell) + 2;
  const gh = Math.ceil(height / cell) + 2;
  const grid = Float32Array.from({ length: gw * gh }, () => rng.next());
  const out = new Float32Array(width * height);
  const smooth = (f: number) => f * f * (3 - 2 * f);
  for (let y = 0; y < height; y++) {
    const gy = y / cell;
    const iy = Math.floor(gy);
    const fy = smooth(gy - iy);
    for (let x = 0; x < width; x++) {
      const gx = x / cell;
      const ix = Math.floor(gx);
      const fx = smooth(gx - ix);
      const a = grid[iy * gw + ix] * (1 - fx) + grid[iy * gw + ix + 1] * fx;
      const b = grid[(iy + 1) * gw + ix] * (1 - fx) + grid[(iy + 1) * gw + ix + 1] * fx;
      out[y * width + x] = a * (1 - fy) + b * fy;
    }
  }
  return out;
}

/** Linear interpolation through a palette of colours for t in [0, 1]. */
function palette(colours: Rgb[], t: number, out: Float32Array, at: number): void {
  const s = Math.min(0.999999, Math.max(0, t)) * (colours.length - 1);
  const i = Math.floor(s);
  const f = s - i;
  for (let c = 0; c < 3; c++) out[at + c] = colours[i][c] * (1 - f) + colours[i + 1][c] * f;
}

/** The scene's background, larger than the frame by `margin` on every side (the camera pans over it). */
export function sceneTexture(plan: TourPlan, scene: Scene): Texture {
  const { width: W, height: H } = plan.options;
  const width = W + 2 * scene.margin;
  const height = H + 2 * scene.margin;
  const rng = new Rng(`synthetic-tour/v3/texture/${scene.textureSeed}`);
  const colours = Array.from({ length: rng.int(2, 5) }, () => randomColour(rng, 0.15, 0.95));
  const coarse = valueNoise(rng, width, height, Math.max(8, Math.round(rng.uniform(0.2, 0.5) * H)));
  const fine = valueNoise(rng, width, height, Math.max(3, Math.round(rng.uniform(0.03, 0.08) * H)));
  const rgb = new Float32Array(width * height * 3);
  for (let i = 0; i < width * height; i++) palette(colours, 0.75 * coarse[i] + 0.25 * fine[i], rgb, 3 * i);
  // Blocks ("buildings", "signs"): flat rectangles of random colours.
  const blocks = rng.int(0, 9);
  for (let b = 0; b < blocks; b++) {
    const bw = Math.round(rng.uniform(0.05, 0.35) * W);
    const bh = Math.round(rng.uniform(0.05, 0.5) * H);
    const bx = rng.int(0, Math.max(1, width - bw));
    const by = rng.int(0, Math.max(1, height - bh));
    const colour = randomColour(rng, 0.1, 0.95);
    for (let y = by; y < by + bh; y++) for (let x = bx; x < bx + bw; x++) rgb.set(colour, 3 * (y * width + x));
  }
  // Faint stripes at a random angle (paving, railings).
  if (rng.next() < 0.5) {
    const angle = rng.uniform(0, Math.PI);
    const period = rng.uniform(0.04, 0.15) * H;
    const depth = rng.uniform(0.05, 0.2);
    const cx = Math.cos(angle) / period;
    const cy = Math.sin(angle) / period;
    for (let y = 0; y < height; y++)
      for (let x = 0; x < width; x++) {
        const k = 1 - depth * (0.5 + 0.5 * Math.sin(2 * Math.PI * (x * cx + y * cy)));
        for (let c = 0; c < 3; c++) rgb[3 * (y * width + x) + c] *= k;
      }
  }
  return { width, height, rgb };
}

/** Deterministic per-pixel noise in [-1, 1) (a 32-bit integer hash of frame and pixel). */
function pixelNoise(frame: number, pixel: number): number {
  let h = Math.imul(pixel ^ Math.imul(frame, 0x9e3779b1), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  h ^= h >>> 16;
  return (h & 0xffff) / 32768 - 1;
}

/** Renders frames in order, keeping the current scene's texture. */
export class TourPainter {
  private scene: Scene | undefined;
  private texture: Texture | undefined;

  constructor(private readonly plan: TourPlan) {}

  /** RGB24 pixels and the slot mask of one frame. */
  render(frameIndex: number): { rgb: Uint8Array; mask: Uint8Array } {
    const { width: W, height: H, fps } = this.plan.options;
    const scene = sceneOfFrame(this.plan, frameIndex);
    if (scene !== this.scene) {
      this.scene = scene;
      this.texture = sceneTexture(this.plan, scene);
    }
    const texture = this.texture!;
    const t = (frameIndex - scene.startFrame) / fps;
    const light = scene.light.base + scene.light.amp * Math.sin((2 * Math.PI * t) / scene.light.period + scene.light.phase);
    const camX = Math.round(scene.camX0 + scene.camVx * t);
    const camY = Math.round(scene.camY0 + scene.camVy * t);
    const linear = new Float32Array(W * H * 3);
    for (let y = 0; y < H; y++) {
      const sy = Math.min(texture.height - 1, Math.max(0, y + camY));
      for (let x = 0; x < W; x++) {
        const sx = Math.min(texture.width - 1, Math.max(0, x + camX));
        for (let c = 0; c < 3; c++) linear[3 * (y * W + x) + c] = texture.rgb[3 * (sy * texture.width + sx) + c];
      }
    }
    const mask = new Uint8Array(W * H);
    rasteriseObjects(
      this.plan,
      frameIndex,
      mask,
      (pixel, pose, part, dx, dy) => {
        const o = pose.object;
        const shade = 1 + o.lightGain * (dx * Math.cos(o.lightAngle) + dy * Math.sin(o.lightAngle));
        const colour = part === 1 ? o.body : o.pattern;
        for (let c = 0; c < 3; c++) linear[3 * pixel + c] = colour[c] * shade;
      },
      (pixel, occluder) => linear.set(occluder.colour, 3 * pixel),
    );
    const rgb = new Uint8Array(W * H * 3);
    for (let p = 0; p < W * H; p++) {
      const noise = 5 * pixelNoise(frameIndex, p);
      for (let c = 0; c < 3; c++) rgb[3 * p + c] = Math.min(255, Math.max(0, Math.round(255 * light * linear[3 * p + c] + noise)));
    }
    return { rgb, mask };
  }
}
