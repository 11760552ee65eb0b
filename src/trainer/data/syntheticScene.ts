// The synthetic walking tour as a plan: scenes (a background, a camera pan, lighting, occluding poles) each showing four
// objects, three of the scene's dominant class and one of another, each instance with its own random colours, size
// change, spin and path. Class = silhouette and part structure (wheel, star, ladder, cross), never colour: every instance
// draws its two colours at random (test/trainer/data/syntheticVideo.test.ts checks it with a colour-histogram k-NN).
// Everything is a pure function of the options: `tourPlan` draws the plan from the seed, `objectPoses` places the objects
// at a frame and `rasteriseObjects` decides per pixel which object (and part) is on top, in the same double-precision
// arithmetic for the RGB video and the ground truth, so the masks are exact by construction.
import { Rng } from '../../core/rng';

export interface SyntheticVideoOptions {
  /** Seconds; default 40. */
  durationSeconds?: number;
  /** Frame size, both even (H.264 4:2:0); default 640×360. Object sizes and paths scale with it. */
  width?: number;
  height?: number;
  /** Integer frames per second; default 30. */
  fps?: number;
  /** Draws scenes, objects, colours, paths and textures; default 42. */
  seed?: number;
}

export type ResolvedOptions = Required<SyntheticVideoOptions>;

export const SYNTHETIC_DEFAULTS: ResolvedOptions = { durationSeconds: 40, width: 640, height: 360, fps: 30, seed: 42 };

/** Object classes: what the k-NN evaluation asks for (label = 1 + index; 0 is background). */
export const OBJECT_CLASSES = ['wheel', 'star', 'ladder', 'cross'] as const;
export type ObjectClass = (typeof OBJECT_CLASSES)[number];

/** Objects on screen at once; the mask value of an object is its slot (1..SLOTS), which is also its z-order. */
export const SLOTS = OBJECT_CLASSES.length;

export type Rgb = [number, number, number];

export interface ObjectInstance {
  /** Index over the whole video (scene · SLOTS + slot − 1). */
  instance: number;
  scene: number;
  /** 1..SLOTS: the mask value; higher slots are drawn on top. */
  slot: number;
  cls: number;
  /** Path: a bouncing straight line plus a sinusoidal wobble, in frame pixels (centre of the object). */
  x0: number;
  y0: number;
  vx: number;
  vy: number;
  wobble: number;
  wobblePeriod: number;
  wobblePhase: number;
  /** Radius of the bounding circle in pixels at the scene's start and end (scale change). */
  radius0: number;
  radius1: number;
  angle0: number;
  /** Radians per second. */
  spin: number;
  body: Rgb;
  pattern: Rgb;
  /** Directional shading across the object: brightness × (1 + gain · (d · offset / radius)). */
  lightAngle: number;
  lightGain: number;
}

export interface Occluder {
  /** Left edge at the scene's start (pixels) and speed (pixels per second); the pole spans the whole height. */
  x0: number;
  vx: number;
  width: number;
  colour: Rgb;
}

export interface Scene {
  index: number;
  /** Frames [startFrame, endFrame). */
  startFrame: number;
  endFrame: number;
  /** Seeds the background texture (syntheticPaint.ts). */
  textureSeed: string;
  /** Camera: offset of the frame inside the (width + 2·margin) × (height + 2·margin) background, pixels. */
  margin: number;
  camX0: number;
  camY0: number;
  camVx: number;
  camVy: number;
  /** Scene lighting: brightness = base + amp · sin(2π t / period + phase). */
  light: { base: number; amp: number; period: number; phase: number };
  objects: ObjectInstance[];
  occluders: Occluder[];
}

export interface TourPlan {
  options: ResolvedOptions;
  frameCount: number;
  scenes: Scene[];
}

export function resolveOptions(options: SyntheticVideoOptions = {}): ResolvedOptions {
  const o = { ...SYNTHETIC_DEFAULTS, ...options };
  if (o.width % 2 || o.height % 2 || o.width < 64 || o.height < 64)
    throw new RangeError(`Synthetic video size must be even and ≥ 64, got ${o.width}x${o.height}`);
  if (!Number.isInteger(o.fps) || o.fps < 1) throw new RangeError(`Synthetic video fps must be a positive integer, got ${o.fps}`);
  if (!(o.durationSeconds > 0)) throw new RangeError(`Synthetic video duration must be > 0, got ${o.durationSeconds}`);
  return o;
}

/** A random colour: any hue, saturation ≥ 0.25, value in [lo, hi] (HSV → RGB in [0, 1]). */
export function randomColour(rng: Rng, lo: number, hi: number): Rgb {
  const h = rng.next() * 6;
  const s = rng.uniform(0.25, 1);
  const v = rng.uniform(lo, hi);
  const i = Math.floor(h);
  const f = h - i;
  const p = v * (1 - s);
  const q = v * (1 - s * f);
  const t = v * (1 - s * (1 - f));
  const table: Rgb[] = [
    [v, t, p],
    [q, v, p],
    [p, v, t],
    [p, q, v],
    [t, p, v],
    [v, p, q],
  ];
  return table[i % 6];
}

/** Body and pattern colours of one instance: random hues, brightness far enough apart that the parts stay visible. */
function instanceColours(rng: Rng): { body: Rgb; pattern: Rgb } {
  const darkBody = rng.next() < 0.5;
  const body = darkBody ? randomColour(rng, 0.15, 0.5) : randomColour(rng, 0.6, 1);
  const pattern = darkBody ? randomColour(rng, 0.65, 1) : randomColour(rng, 0.1, 0.4);
  return { body, pattern };
}

function planInstance(rng: Rng, o: ResolvedOptions, scene: number, slot: number, cls: number, unit: number): ObjectInstance {
  const radius = rng.uniform(30, 62) * unit;
  const speed = rng.uniform(15, 70) * unit;
  const heading = rng.uniform(0, 2 * Math.PI);
  return {
    instance: scene * SLOTS + slot - 1,
    scene,
    slot,
    cls,
    x0: rng.uniform(0.1, 0.9) * o.width,
    y0: rng.uniform(0.15, 0.85) * o.height,
    vx: speed * Math.cos(heading),
    vy: speed * Math.sin(heading),
    wobble: rng.uniform(0, 18) * unit,
    wobblePeriod: rng.uniform(1.5, 4),
    wobblePhase: rng.uniform(0, 2 * Math.PI),
    radius0: radius,
    radius1: radius * Math.exp(rng.uniform(-0.45, 0.45)),
    angle0: rng.uniform(0, 2 * Math.PI),
    spin: rng.uniform(-0.7, 0.7),
    ...instanceColours(rng),
    lightAngle: rng.uniform(0, 2 * Math.PI),
    lightGain: rng.uniform(0, 0.4),
  };
}

/**
 * The classes of a scene's slots: SLOTS − 1 instances of the dominant class and one of another, shuffled. Scenes differ
 * in what they show (a street of wheels, a yard of ladders), as places on a real walk do: which classes a view contains
 * then says something about where it was taken, which is what self-distillation across views and frames can pick up.
 * (With one instance of every class in every scene, class would carry no information about the scene at all.)
 */
function sceneClasses(rng: Rng, dominant: number): number[] {
  const other = (dominant + rng.int(1, OBJECT_CLASSES.length)) % OBJECT_CLASSES.length;
  return rng.shuffle([...Array.from({ length: SLOTS - 1 }, () => dominant), other]);
}

function planScene(rng: Rng, o: ResolvedOptions, index: number, startFrame: number, endFrame: number, dominant: number): Scene {
  const unit = Math.min(o.width / 640, o.height / 360);
  const margin = Math.round(0.2 * Math.min(o.width, o.height));
  const seconds = (endFrame - startFrame) / o.fps;
  const pan = (extent: number) => {
    const start = rng.uniform(0, 2 * extent);
    const end = rng.uniform(0, 2 * extent);
    return { start, v: (end - start) / Math.max(seconds, 1e-9) };
  };
  const px = pan(margin);
  const py = pan(margin);
  // Three instances of the scene's dominant class and one of another class, in a random z-order (see sceneClasses).
  const objects = sceneClasses(rng, dominant).map((cls, k) => planInstance(rng, o, index, k + 1, cls, unit));
  const poles = rng.next() < 0.5 ? rng.int(1, 3) : 0;
  const occluders = Array.from({ length: poles }, () => {
    const fromLeft = rng.next() < 0.5;
    const width = Math.max(2, Math.round(rng.uniform(6, 16) * unit));
    const speed = rng.uniform(60, 160) * unit;
    return {
      x0: fromLeft ? rng.uniform(-0.4, 0.5) * o.width : rng.uniform(0.5, 1.4) * o.width,
      vx: fromLeft ? speed : -speed,
      width,
      colour: randomColour(rng, 0.05, 0.95),
    };
  });
  return {
    index,
    startFrame,
    endFrame,
    textureSeed: `${o.seed}/scene-${index}`,
    margin,
    camX0: px.start,
    camY0: py.start,
    camVx: px.v,
    camVy: py.v,
    light: { base: rng.uniform(0.8, 1.1), amp: rng.uniform(0, 0.15), period: rng.uniform(1, 4), phase: rng.uniform(0, 2 * Math.PI) },
    objects,
    occluders,
  };
}

const planCache = new Map<string, TourPlan>();

/** The scenes of a video (3–5 s each, cut at whole frames), memoised per options. */
export function tourPlan(options: SyntheticVideoOptions = {}): TourPlan {
  const o = resolveOptions(options);
  const key = JSON.stringify(o);
  const cached = planCache.get(key);
  if (cached) return cached;
  const frameCount = Math.round(o.durationSeconds * o.fps);
  const rng = new Rng(`synthetic-tour/v3/seed=${o.seed}`);
  const scenes: Scene[] = [];
  let round: number[] = []; // dominant classes cycle through shuffled rounds: each dominates equally often (± 1)
  for (let start = 0; start < frameCount;) {
    const end = Math.min(frameCount, start + Math.max(1, Math.round(rng.uniform(3, 5) * o.fps)));
    if (round.length === 0) round = Array.from(rng.permutation(OBJECT_CLASSES.length));
    scenes.push(planScene(rng, o, scenes.length, start, end, round.pop()!));
    start = end;
  }
  const plan = { options: o, frameCount, scenes };
  if (planCache.size > 16) planCache.clear();
  planCache.set(key, plan);
  return plan;
}

/** The scene a frame belongs to. */
export function sceneOfFrame(plan: TourPlan, frameIndex: number): Scene {
  if (!Number.isInteger(frameIndex) || frameIndex < 0 || frameIndex >= plan.frameCount)
    throw new RangeError(`frame ${frameIndex} is outside the synthetic video's ${plan.frameCount} frames`);
  let lo = 0;
  let hi = plan.scenes.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (plan.scenes[mid].startFrame <= frameIndex) lo = mid;
    else hi = mid - 1;
  }
  return plan.scenes[lo];
}

/** Reflects `value` into [lo, hi] (a bouncing path). */
function bounce(value: number, lo: number, hi: number): number {
  const span = hi - lo;
  const u = (((value - lo) / span) % 2) + 2;
  const m = u % 2;
  return lo + span * (m <= 1 ? m : 2 - m);
}

export interface ObjectPose {
  object: ObjectInstance;
  cx: number;
  cy: number;
  radius: number;
  angle: number;
}

/** Where every object of the frame's scene is, in slot (z) order. */
export function objectPoses(plan: TourPlan, frameIndex: number): ObjectPose[] {
  const scene = sceneOfFrame(plan, frameIndex);
  const { width: W, height: H, fps } = plan.options;
  const t = (frameIndex - scene.startFrame) / fps;
  const progress = (frameIndex - scene.startFrame) / Math.max(1, scene.endFrame - scene.startFrame - 1);
  return scene.objects.map((object) => {
    const radius = object.radius0 * Math.pow(object.radius1 / object.radius0, progress);
    const wobble = object.wobble * Math.sin((2 * Math.PI * t) / object.wobblePeriod + object.wobblePhase);
    const heading = Math.atan2(object.vy, object.vx);
    return {
      object,
      cx: bounce(object.x0 + object.vx * t - wobble * Math.sin(heading), 0.3 * radius, W - 0.3 * radius),
      cy: bounce(object.y0 + object.vy * t + wobble * Math.cos(heading), 0.3 * radius, H - 0.3 * radius),
      radius,
      angle: object.angle0 + object.spin * t,
    };
  });
}

/** Left edges of the scene's poles at a frame. */
export function occluderLefts(plan: TourPlan, frameIndex: number): { occluder: Occluder; left: number }[] {
  const scene = sceneOfFrame(plan, frameIndex);
  const t = (frameIndex - scene.startFrame) / plan.options.fps;
  return scene.occluders.map((occluder) => ({ occluder, left: Math.floor(occluder.x0 + occluder.vx * t) }));
}

/** 0 outside, 1 body, 2 pattern, for a point in object coordinates (the bounding circle has radius 1). */
export function shapePart(cls: number, u: number, v: number): 0 | 1 | 2 {
  const r = Math.hypot(u, v);
  if (r >= 1) return 0;
  switch (OBJECT_CLASSES[cls]) {
    case 'wheel': {
      // Rim, hub and three spokes through the centre.
      if (r > 0.78 || r < 0.2) return 2;
      const phi = Math.atan2(v, u);
      const spoke = r * Math.min(Math.abs(Math.sin(phi)), Math.abs(Math.sin(phi - Math.PI / 3)), Math.abs(Math.sin(phi + Math.PI / 3)));
      return spoke < 0.07 ? 2 : 1;
    }
    case 'star': {
      // Five points (inner radius 0.42) with a pattern-coloured centre and tips.
      const sector = (2 * Math.PI) / 5;
      const phi = Math.atan2(v, u) + Math.PI / 2;
      const a = Math.abs((((phi % sector) + sector) % sector) - sector / 2);
      const ax = Math.cos(a) * r;
      const ay = Math.sin(a) * r;
      // Edge from the inner vertex (angle 0 from the sector centre, radius 0.42) to the tip (angle sector/2, radius 1).
      const ix = 0.42;
      const tx = Math.cos(sector / 2);
      const ty = Math.sin(sector / 2);
      const cross = (tx - ix) * ay - ty * (ax - ix);
      if (cross < 0) return 0;
      return r < 0.26 || r > 0.72 ? 2 : 1;
    }
    case 'ladder': {
      // A tall panel: two rails and five rungs.
      const au = Math.abs(u);
      if (au >= 0.42 || Math.abs(v) >= 0.9) return 0;
      if (au > 0.28) return 2;
      return (v + 0.9) / 0.36 - Math.floor((v + 0.9) / 0.36) < 0.4 ? 2 : 1;
    }
    case 'cross': {
      // A plus sign with a checkerboard.
      const au = Math.abs(u);
      const av = Math.abs(v);
      if (!((au < 0.3 && av < 0.92) || (av < 0.3 && au < 0.92))) return 0;
      return (Math.floor((u + 1) / 0.2) + Math.floor((v + 1) / 0.2)) % 2 === 0 ? 2 : 1;
    }
  }
  return 0;
}

/**
 * Calls `paint(pixel, pose, part, u, v)` for every pixel an object covers, objects in slot order (later ones paint
 * over earlier ones), and writes the slot into `mask` (row-major width × height). Poles then clear the mask to 0
 * (they are background) and are reported through `paintPole`.
 */
export function rasteriseObjects(
  plan: TourPlan,
  frameIndex: number,
  mask: Uint8Array,
  paint?: (pixel: number, pose: ObjectPose, part: 1 | 2, dx: number, dy: number) => void,
  paintPole?: (pixel: number, occluder: Occluder) => void,
): void {
  const { width: W, height: H } = plan.options;
  for (const pose of objectPoses(plan, frameIndex)) {
    const cos = Math.cos(pose.angle);
    const sin = Math.sin(pose.angle);
    const x0 = Math.max(0, Math.floor(pose.cx - pose.radius));
    const x1 = Math.min(W - 1, Math.ceil(pose.cx + pose.radius));
    const y0 = Math.max(0, Math.floor(pose.cy - pose.radius));
    const y1 = Math.min(H - 1, Math.ceil(pose.cy + pose.radius));
    for (let y = y0; y <= y1; y++) {
      const dy = (y + 0.5 - pose.cy) / pose.radius;
      for (let x = x0; x <= x1; x++) {
        const dx = (x + 0.5 - pose.cx) / pose.radius;
        const part = shapePart(pose.object.cls, dx * cos + dy * sin, -dx * sin + dy * cos);
        if (part === 0) continue;
        mask[y * W + x] = pose.object.slot;
        paint?.(y * W + x, pose, part, dx, dy);
      }
    }
  }
  for (const { occluder, left } of occluderLefts(plan, frameIndex)) {
    for (let x = Math.max(0, left); x < Math.min(W, left + occluder.width); x++) {
      for (let y = 0; y < H; y++) {
        mask[y * W + x] = 0;
        paintPole?.(y * W + x, occluder);
      }
    }
  }
}

/** Object slot per pixel (0 = background), row-major height × width, for a frame of the plan. */
export function slotMask(plan: TourPlan, frameIndex: number): Uint8Array {
  const mask = new Uint8Array(plan.options.width * plan.options.height);
  rasteriseObjects(plan, frameIndex, mask);
  return mask;
}

const areaCache = new Map<number, number>();

/** Area of a class's silhouette as a fraction of its bounding square (2r)², measured on a 400 × 400 grid once. */
export function shapeAreaFraction(cls: number): number {
  let fraction = areaCache.get(cls);
  if (fraction === undefined) {
    const n = 400;
    let inside = 0;
    for (let i = 0; i < n; i++)
      for (let j = 0; j < n; j++) if (shapePart(cls, ((j + 0.5) / n) * 2 - 1, ((i + 0.5) / n) * 2 - 1) > 0) inside++;
    fraction = inside / (n * n);
    areaCache.set(cls, fraction);
  }
  return fraction;
}
