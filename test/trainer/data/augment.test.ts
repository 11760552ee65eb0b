import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from '../../../src/core/rng';
import {
  type ClipAugmentParams,
  type ClipFrames,
  ClipAugmenter,
  CPU_SMALL_AUGMENT,
  OFFICIAL_AUGMENT,
  sampleAugmentParams,
} from '../../../src/trainer/data/augment';

const WIDTH = 64;
const HEIGHT = 36;

/** A textured, non-symmetric frame so crops, flips and jitter all show up in the pixels. */
function makeFrame(seed: number): Uint8Array {
  const rng = new Rng(seed);
  const frame = new Uint8Array(WIDTH * HEIGHT * 3);
  for (let y = 0; y < HEIGHT; y++) {
    for (let x = 0; x < WIDTH; x++) {
      const i = (y * WIDTH + x) * 3;
      frame[i] = (x * 4) & 255;
      frame[i + 1] = (y * 7) & 255;
      frame[i + 2] = rng.int(0, 256);
    }
  }
  return frame;
}

function makeClip(frames: number, sameFrames = false): ClipFrames {
  return { frames: Array.from({ length: frames }, (_, t) => makeFrame(sameFrames ? 0 : t)), width: WIDTH, height: HEIGHT };
}

const SMALL = { precrop: 32, globalSize: 24, localSize: 12, nLocal: 3 };

function withoutColour(params: ClipAugmentParams): ClipAugmentParams {
  const identity = { jitter: null, grayscale: false, blurSigma: null };
  return {
    ...params,
    globalColour: params.globalColour.map(() => identity),
    localColour: params.localColour.map((crop) => crop.map(() => identity)),
  };
}

function frameSlice(a: Float32Array | Uint8Array, frames: number, t: number) {
  const n = a.length / frames;
  return a.subarray(t * n, (t + 1) * n);
}

describe('ClipAugmenter (DataAugmentationDINO)', () => {
  it('produces the documented shapes', () => {
    const out = new ClipAugmenter(CPU_SMALL_AUGMENT).augment(makeClip(4), new Rng(1));
    assert.equal(out.global.length, 4 * 3 * 96 * 96);
    assert.equal(out.globalRgb.length, 4 * 96 * 96 * 3);
    assert.equal(out.locals.length, 6);
    for (const local of out.locals) assert.equal(local.length, 4 * 3 * 48 * 48);
    assert.equal(out.params.localBoxes.length, 6);
    assert.equal(out.params.localBoxes[0].length, 4);
    assert.equal(OFFICIAL_AUGMENT.precrop, 300);
  });

  it('is bit-for-bit deterministic under a seed and changes with the seed', () => {
    const augmenter = new ClipAugmenter(SMALL);
    const clip = makeClip(3);
    const a = augmenter.augment(clip, new Rng(123));
    const b = augmenter.augment(clip, new Rng(123));
    assert.deepEqual(Buffer.from(b.global.buffer), Buffer.from(a.global.buffer));
    a.locals.forEach((local, i) => assert.deepEqual(Buffer.from(b.locals[i].buffer), Buffer.from(local.buffer)));
    assert.deepEqual(b.params, a.params);
    const c = augmenter.augment(clip, new Rng(124));
    assert.notDeepEqual(Buffer.from(c.global.buffer), Buffer.from(a.global.buffer));
  });

  it('resumes identically from a saved rng state', () => {
    const augmenter = new ClipAugmenter(SMALL);
    const clip = makeClip(2);
    const rng = new Rng(5);
    augmenter.augment(clip, rng);
    const saved = rng.getState();
    const expected = augmenter.augment(clip, rng);
    const resumed = augmenter.augment(clip, Rng.fromState(saved));
    assert.deepEqual(resumed.params, expected.params);
    assert.deepEqual(Buffer.from(resumed.global.buffer), Buffer.from(expected.global.buffer));
  });

  it('shares the pre-crop, global crop and flip across the frames of a clip', () => {
    const augmenter = new ClipAugmenter(SMALL);
    const clip = makeClip(4, true);
    const out = augmenter.render(clip, withoutColour(sampleAugmentParams(new Rng(8), 4, HEIGHT, WIDTH, augmenter.config)));
    for (let t = 1; t < 4; t++) assert.deepEqual(frameSlice(out.globalRgb, 4, t), frameSlice(out.globalRgb, 4, 0));
  });

  it('applies the flip to every frame identically (mirror of the unflipped crop)', () => {
    const augmenter = new ClipAugmenter(SMALL);
    const clip = makeClip(3);
    const params = withoutColour(sampleAugmentParams(new Rng(9), 3, HEIGHT, WIDTH, augmenter.config));
    const plain = augmenter.render(clip, { ...params, flip: false });
    const flipped = augmenter.render(clip, { ...params, flip: true });
    const G = SMALL.globalSize;
    for (let t = 0; t < 3; t++) {
      const a = frameSlice(plain.globalRgb, 3, t);
      const b = frameSlice(flipped.globalRgb, 3, t);
      for (let y = 0; y < G; y++) {
        for (let x = 0; x < G; x++) {
          for (let c = 0; c < 3; c++) assert.equal(b[(y * G + x) * 3 + c], a[(y * G + (G - 1 - x)) * 3 + c]);
        }
      }
    }
    // The flip does not touch the local crops (no flip in local_transfo, main.py L484).
    assert.deepEqual(Buffer.from(flipped.locals[0].buffer), Buffer.from(plain.locals[0].buffer));
  });

  it('draws colour jitter independently per frame', () => {
    const augmenter = new ClipAugmenter(SMALL);
    const clip = makeClip(4, true);
    const out = augmenter.augment(clip, new Rng(10));
    const colours = out.params.globalColour.map((c) => JSON.stringify(c));
    assert.ok(new Set(colours).size > 1, 'frames got different colour parameters');
    const distinct = new Set([0, 1, 2, 3].map((t) => Buffer.from(frameSlice(out.globalRgb, 4, t)).toString('hex')));
    assert.ok(distinct.size > 1, 'identical input frames came out different');
  });

  it('draws local crops independently per frame and per crop, from the pre-crop', () => {
    const augmenter = new ClipAugmenter(SMALL);
    const out = augmenter.augment(makeClip(4, true), new Rng(11));
    const boxes = out.params.localBoxes.flat().map((b) => JSON.stringify(b));
    assert.ok(new Set(boxes).size >= boxes.length - 1, 'local boxes repeat');
    for (const box of out.params.localBoxes.flat()) {
      assert.ok(box.top + box.height <= SMALL.precrop && box.left + box.width <= SMALL.precrop);
    }
    const L = SMALL.localSize;
    const per = 3 * L * L;
    assert.notDeepEqual(out.locals[0].subarray(0, per), out.locals[0].subarray(per, 2 * per));
    assert.notDeepEqual(out.locals[0].subarray(0, per), out.locals[1].subarray(0, per));
  });

  it('follows the official probabilities over many draws', () => {
    const rng = new Rng(12);
    let flips = 0;
    let jitter = 0;
    let grey = 0;
    let globalBlur = 0;
    let localBlur = 0;
    const n = 400;
    for (let k = 0; k < n; k++) {
      const p = sampleAugmentParams(rng, 4, 180, 320, OFFICIAL_AUGMENT);
      if (p.flip) flips++;
      for (const c of p.globalColour) {
        if (c.jitter) jitter++;
        if (c.grayscale) grey++;
        if (c.blurSigma !== null) {
          globalBlur++;
          assert.ok(c.blurSigma >= 0.1 && c.blurSigma < 2);
        }
        if (c.jitter) {
          assert.ok(c.jitter.brightness >= 0.6 && c.jitter.brightness < 1.4);
          assert.ok(c.jitter.saturation >= 0.8 && c.jitter.saturation < 1.2);
          assert.ok(Math.abs(c.jitter.hue) <= 0.1);
          assert.deepEqual([...c.jitter.order].sort(), [0, 1, 2, 3]);
        }
      }
      for (const c of p.localColour.flat()) if (c.blurSigma !== null) localBlur++;
    }
    const frames = n * 4;
    assert.ok(Math.abs(flips / n - 0.5) < 0.08);
    assert.ok(Math.abs(jitter / frames - 0.8) < 0.04);
    assert.ok(Math.abs(grey / frames - 0.2) < 0.04);
    assert.ok(Math.abs(globalBlur / frames - 0.1) < 0.03);
    assert.ok(Math.abs(localBlur / (frames * 6) - 0.5) < 0.03);
  });

  it('centre-crop path is deterministic and keeps a flat frame flat', () => {
    const augmenter = new ClipAugmenter(SMALL);
    const flat: ClipFrames = {
      frames: [new Uint8Array(WIDTH * HEIGHT * 3).fill(200), new Uint8Array(WIDTH * HEIGHT * 3).fill(200)],
      width: WIDTH,
      height: HEIGHT,
    };
    const out = augmenter.centreCrop(flat);
    assert.ok(out.globalRgb.every((v) => v === 200));
    const expectedR = (200 / 255 - 0.485) / 0.229;
    const G2 = SMALL.globalSize ** 2;
    for (let i = 0; i < G2; i++) assert.ok(Math.abs(out.global[i] - expectedR) < 1e-6);
    assert.deepEqual(out.params.precropBox, { top: 0, left: 14, height: 36, width: 36 });
    assert.equal(out.params.flip, false);
    const again = augmenter.centreCrop(makeClip(2));
    assert.deepEqual(Buffer.from(augmenter.centreCrop(makeClip(2)).global.buffer), Buffer.from(again.global.buffer));
  });

  it('rejects malformed input', () => {
    const augmenter = new ClipAugmenter(SMALL);
    assert.throws(
      () => augmenter.augment({ frames: [new Uint8Array(10)], width: WIDTH, height: HEIGHT }, new Rng(0)),
      /frame 0 has 10 bytes/,
    );
    const params = sampleAugmentParams(new Rng(0), 2, HEIGHT, WIDTH, augmenter.config);
    assert.throws(() => augmenter.render(makeClip(3), params), /params were drawn for 2 frames/);
  });
});
