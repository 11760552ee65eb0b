import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from '../../../src/core/rng';
import { normalizationTable, normalizeToPlanar } from '../../../src/trainer/data/image/normalize';
import { gaussianBlurPil } from '../../../src/trainer/data/image/blur';
import {
  adjustBrightness,
  adjustContrast,
  adjustHue,
  adjustSaturation,
  pilLuma,
  toGrayscale,
} from '../../../src/trainer/data/image/enhance';
import { resizeBicubicPil } from '../../../src/trainer/data/image/pilResample';
import { floatToPilU8, resizeBilinearF32 } from '../../../src/trainer/data/image/torchBilinear';
import { centreCropBoxForRatio, roundHalfEven, sampleResizedCropBox } from '../../../src/trainer/data/image/crop';

function randomImage(seed: number, pixels: number): Uint8Array {
  const rng = new Rng(seed);
  const img = new Uint8Array(pixels * 3);
  for (let i = 0; i < img.length; i++) img[i] = rng.int(0, 256);
  return img;
}

describe('RandomResizedCrop.get_params', () => {
  it('stays in bounds and follows the scale and ratio ranges', () => {
    const rng = new Rng(1);
    const n = 4000;
    let areaSum = 0;
    let logRatioSum = 0;
    for (let k = 0; k < n; k++) {
      // A square image with scale (0.05, 0.4): the first try always fits, so the law is exact.
      const box = sampleResizedCropBox(rng, 300, 300, [0.05, 0.4], [3 / 4, 4 / 3]);
      assert.ok(box.top >= 0 && box.left >= 0 && box.top + box.height <= 300 && box.left + box.width <= 300);
      const area = (box.width * box.height) / (300 * 300);
      assert.ok(area > 0.04 && area < 0.41, `area ${area}`);
      const ratio = box.width / box.height;
      assert.ok(ratio > 0.72 && ratio < 1.39, `ratio ${ratio}`);
      areaSum += area;
      logRatioSum += Math.log(ratio);
    }
    assert.ok(Math.abs(areaSum / n - 0.225) < 0.01, `mean area ${areaSum / n}`);
    assert.ok(Math.abs(logRatioSum / n) < 0.01, `mean log ratio ${logRatioSum / n}`);
  });

  it('handles a wide frame (some tries rejected) and spreads the top-left corner', () => {
    const rng = new Rng(2);
    const lefts = new Set<number>();
    for (let k = 0; k < 2000; k++) {
      const box = sampleResizedCropBox(rng, 180, 320, [0.2, 1], [3 / 4, 4 / 3]);
      assert.ok(box.top + box.height <= 180 && box.left + box.width <= 320);
      assert.ok(box.height >= 1 && box.width >= 1);
      lefts.add(box.left);
    }
    assert.ok(lefts.size > 100);
  });

  it('falls back to a centre crop clamped to the ratio range', () => {
    assert.deepEqual(centreCropBoxForRatio(10, 100, [3 / 4, 4 / 3]), { top: 0, left: 43, height: 10, width: 13 });
    assert.deepEqual(centreCropBoxForRatio(100, 10, [3 / 4, 4 / 3]), { top: 43, left: 0, height: 13, width: 10 });
    // An impossible scale forces the fallback after 10 tries.
    assert.deepEqual(sampleResizedCropBox(new Rng(3), 10, 100, [5, 6], [3 / 4, 4 / 3]), { top: 0, left: 43, height: 10, width: 13 });
    assert.equal(roundHalfEven(2.5), 2);
    assert.equal(roundHalfEven(3.5), 4);
  });
});

describe('bilinear (torch interpolate, align_corners=False, no antialias)', () => {
  it('downscales 4×4 -> 2×2 to 2×2 block means', () => {
    const src = Float32Array.from({ length: 16 }, (_, i) => i);
    const dst = new Float32Array(4);
    resizeBilinearF32(src, 4, { top: 0, left: 0, height: 4, width: 4 }, 2, 2, dst, 1);
    assert.deepEqual([...dst], [2.5, 4.5, 10.5, 12.5]);
  });

  it('upscales 2×2 -> 4×4 with half-pixel centres and clamped edges', () => {
    const src = Float32Array.from([1, 2, 3, 4]);
    const dst = new Float32Array(16);
    resizeBilinearF32(src, 2, { top: 0, left: 0, height: 2, width: 2 }, 4, 4, dst, 1);
    assert.deepEqual([...dst], [1, 1.25, 1.75, 2, 1.5, 1.75, 2.25, 2.5, 2.5, 2.75, 3.25, 3.5, 3, 3.25, 3.75, 4]);
  });

  it('reads only the crop box and is the identity at equal size', () => {
    const src = Float32Array.from({ length: 5 * 5 * 3 }, (_, i) => i / 100);
    const dst = new Float32Array(2 * 3 * 3);
    resizeBilinearF32(src, 5, { top: 1, left: 2, height: 3, width: 2 }, 2, 3, dst);
    const expected: number[] = [];
    for (let y = 1; y < 4; y++) for (let x = 2; x < 4; x++) for (let c = 0; c < 3; c++) expected.push(src[(y * 5 + x) * 3 + c]);
    assert.deepEqual([...dst], expected);
  });

  it('ToPILImage truncates (mul(255).byte()) and flips rows', () => {
    const src = Float32Array.from([0.999, 0.5, 0, 1, 0.2, 0.1]);
    const dst = new Uint8Array(6);
    floatToPilU8(src, 2, 1, dst);
    assert.deepEqual([...dst], [254, 127, 0, 255, 51, 25]);
    floatToPilU8(src, 2, 1, dst, true);
    assert.deepEqual([...dst], [255, 51, 25, 254, 127, 0]);
  });
});

describe('PIL bicubic resize', () => {
  it('keeps a constant image constant (down and up)', () => {
    const src = new Uint8Array(300 * 300 * 3).fill(137);
    const down = new Uint8Array(112 * 112 * 3);
    resizeBicubicPil(src, 300, { top: 0, left: 0, height: 300, width: 300 }, 112, 112, down);
    assert.ok(down.every((v) => v === 137));
    const up = new Uint8Array(112 * 112 * 3);
    resizeBicubicPil(src, 300, { top: 10, left: 20, height: 40, width: 50 }, 112, 112, up);
    assert.ok(up.every((v) => v === 137));
  });

  it('keeps a linear ramp monotonic and rows identical', () => {
    const w = 200;
    const h = 60;
    const src = new Uint8Array(w * h * 3);
    for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) src.fill(Math.round((x * 255) / (w - 1)), (y * w + x) * 3, (y * w + x) * 3 + 3);
    const out = new Uint8Array(37 * 23 * 3);
    resizeBicubicPil(src, w, { top: 0, left: 0, height: h, width: w }, 37, 23, out);
    for (let y = 0; y < 23; y++) {
      for (let x = 1; x < 37; x++) assert.ok(out[(y * 37 + x) * 3] >= out[(y * 37 + x - 1) * 3], `row ${y} x ${x}`);
      for (let x = 0; x < 37 * 3; x++) assert.equal(out[y * 37 * 3 + x], out[x]);
    }
    assert.ok(out[0] < 10 && out[36 * 3] > 245);
  });

  it('antialiases when downscaling (a 1-pixel checkerboard becomes mid-grey)', () => {
    const n = 64;
    const src = new Uint8Array(n * n * 3);
    for (let y = 0; y < n; y++) for (let x = 0; x < n; x++) src.fill((x + y) % 2 ? 255 : 0, (y * n + x) * 3, (y * n + x) * 3 + 3);
    const out = new Uint8Array(16 * 16 * 3);
    resizeBicubicPil(src, n, { top: 0, left: 0, height: n, width: n }, 16, 16, out);
    for (const v of out) assert.ok(Math.abs(v - 127.5) < 3, `value ${v}`);
  });
});

describe('colour ops (PIL uint8 semantics)', () => {
  const pixels = 500;
  const base = randomImage(4, pixels);

  it('brightness, contrast and saturation with factor 1 are the identity', () => {
    for (const op of [adjustBrightness, adjustContrast, adjustSaturation]) {
      const img = base.slice();
      op(img, pixels, 1);
      assert.deepEqual(img, base);
    }
  });

  it('hue 0 is PIL’s lossy uint8 HSV round trip: close to, not exactly, the identity', () => {
    const img = base.slice();
    adjustHue(img, pixels, 0);
    let maxDiff = 0;
    let sumDiff = 0;
    for (let i = 0; i < img.length; i++) {
      maxDiff = Math.max(maxDiff, Math.abs(img[i] - base[i]));
      sumDiff += Math.abs(img[i] - base[i]);
    }
    // A hue step of 1/255 turn moves a channel by up to ~6 levels (255 / 42.5 per sector).
    assert.ok(maxDiff <= 6, `max diff ${maxDiff}`);
    assert.ok(sumDiff / img.length < 1.5, `mean diff ${sumDiff / img.length}`);
  });

  it('blends like PIL: brightness 0.5 truncates, contrast 0 gives the rounded mean luma', () => {
    const img = Uint8Array.from([255, 101, 3]);
    adjustBrightness(img, 1, 0.5);
    assert.deepEqual([...img], [127, 50, 1]);
    const two = Uint8Array.from([0, 0, 0, 255, 255, 255]);
    adjustContrast(two, 2, 0);
    assert.deepEqual([...two], [128, 128, 128, 128, 128, 128]);
    const grey = Uint8Array.from([200, 100, 50]);
    adjustSaturation(grey, 1, 0);
    const l = pilLuma(200, 100, 50);
    assert.deepEqual([...grey], [l, l, l]);
  });

  it('hue shifts a pure red by the expected angle', () => {
    const img = Uint8Array.from([255, 0, 0]);
    adjustHue(img, 1, 1 / 3); // +85 of 255: red -> green
    assert.deepEqual([...img], [0, 255, 0]);
  });

  it('grayscale gives R = G = B = ITU-R 601-2 luma', () => {
    const img = base.slice();
    toGrayscale(img, pixels);
    for (let p = 0; p < pixels; p++) {
      const i = p * 3;
      assert.equal(img[i], img[i + 1]);
      assert.equal(img[i], img[i + 2]);
      const expected = 0.299 * base[i] + 0.587 * base[i + 1] + 0.114 * base[i + 2];
      assert.ok(Math.abs(img[i] - expected) <= 0.51);
    }
  });

  it('Gaussian blur keeps constants, preserves mass and is symmetric', () => {
    const flat = new Uint8Array(20 * 10 * 3).fill(90);
    gaussianBlurPil(flat, 20, 10, 1.7);
    assert.ok(flat.every((v) => v === 90));
    const n = 21;
    const impulse = new Uint8Array(n * n * 3);
    impulse.fill(255, (10 * n + 10) * 3, (10 * n + 10) * 3 + 3);
    const before = impulse.slice();
    gaussianBlurPil(impulse, n, n, 0.1);
    // sigma 0.1 -> box radius ~0.002: each of the 6 passes leaks ~0.3% to the neighbours.
    assert.ok(Math.abs(impulse[(10 * n + 10) * 3] - 255) <= 8, 'sigma 0.1 barely changes the image');
    impulse.set(before);
    gaussianBlurPil(impulse, n, n, 2);
    let sum = 0;
    for (let i = 0; i < impulse.length; i += 3) sum += impulse[i];
    assert.ok(Math.abs(sum - 255) < 40, `mass ${sum}`);
    for (let d = 1; d < 6; d++) {
      assert.equal(impulse[(10 * n + 10 - d) * 3], impulse[(10 * n + 10 + d) * 3]);
      assert.equal(impulse[((10 - d) * n + 10) * 3], impulse[((10 + d) * n + 10) * 3]);
    }
    assert.ok(impulse[(10 * n + 10) * 3] < 60 && impulse[(10 * n + 10) * 3] > impulse[(10 * n + 13) * 3]);
  });

  it('ToTensor + Normalize matches ((v/255) − mean) / std in planar order', () => {
    const table = normalizationTable();
    const img = Uint8Array.from([0, 128, 255, 10, 20, 30]);
    const out = new Float32Array(6);
    normalizeToPlanar(img, 2, table, out, 0);
    const mean = [0.485, 0.456, 0.406];
    const std = [0.229, 0.224, 0.225];
    const expected = [
      (0 / 255 - mean[0]) / std[0],
      (10 / 255 - mean[0]) / std[0],
      (128 / 255 - mean[1]) / std[1],
      (20 / 255 - mean[1]) / std[1],
      (255 / 255 - mean[2]) / std[2],
      (30 / 255 - mean[2]) / std[2],
    ];
    out.forEach((v, i) => assert.ok(Math.abs(v - expected[i]) < 1e-6, `${v} vs ${expected[i]}`));
  });
});

// Reference outputs of Pillow 9.4 (ImageEnhance, convert('HSV') + torchvision's adjust_hue,
// ImageFilter.GaussianBlur, crop().resize(BICUBIC)) on the 8×6 test image below, as hex.
const PIL_REFERENCE = {
  contrast137:
    '00175f014992337cc566aff799e1ffcbff00fe0031001b634b93dc87cfffc3ff00ff003200266e1962aa569ee792daffc7ff00ff0040003d8' +
    '63a83cb80c9ffc6ff00ff003e003c84002e76357dc684cdffd4ff06ff0d56236bb472bbffc2ff0062aaf3bbff00ff00460e57a067b0f9c' +
    'fff02ff125b236bb4dfff11002b74458ed6a8f000ff003d1d66af80c9ffe3ff15',
  saturation06:
    '1131503656755b7b9a80a0bfa5c5e4bede64a72d4d1434536c8cab98b8d7b8d85ea82e4e1c3c5b4868877494b3a0c0dfbbdb61b238582d4d6' +
    'c60809f93b3d2bada60b137572c4c6b2242615c7c9b96b6d5c4e46ac248684f6f8e89a9c8b7d75d7d9dbcb2d258b73d5d40607f81a1c0c' +
    '1e167c64c6c4f6f8eccec7220405f6888a7a4c44ab036564b6b8a93b3d2cfef75',
  hueMinus008:
    '00696a258e8f4ab3b46fd8d994fdfeeec123de13ac036c6d5bc4c587f0f1e8bb1ddf14ad0b747538a0a164cccd90f8f9ebbe20e91eb71c858' +
    '64fb8b982ebeceabd1fe81db61b8485117a7b4bb4b585eeeff4c729f92fc73fa7a879e1e2e7ba1c6cd5d6e2b517ee23bc2f989971d9daf' +
    '1c427fd33cb3fa7a8fccf310f787957c0c1d4a709e71cb53ba3a482ebecffd234',
  blur13:
    '4b748d587b916b8397778b99808d938187887978856e6b885e7d8867808b7484907b8892818a8e8287887c7e8773768a7087817686847e868' +
    '882878a8689888789868386867d8487768f7c7b8b7f8388818988838d89838f8b848d8f82889280779a767b91788289798b867b91877d9' +
    '48d8294978192a07d7aa3707b9772818a728b8474918479948d81969d8398ab7f',
  bicubicDown: '8c83867d81868086907f847798877b989b84',
  bicubicUp:
    'bbff12d4ab21f0143e761055003a701857993065af76b8398b884da93a736b49952e74a35392806da169184d82295e934b80b5699ee386bbe' +
    '4a8dd5fb9ee0f5589d867a7ab8dd264bd9b78d263988f8c8065a76f88bdff9cdcb3c3ff26f58f28fa205f754d99256fb9',
};

describe('bit-exact against Pillow', () => {
  const W = 8;
  const H = 6;
  const image = new Uint8Array(W * H * 3);
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      for (let c = 0; c < 3; c++) {
        image[(y * W + x) * 3 + c] = (x * 37 + y * 91 + c * 53 + x * y * 7 + Math.floor(x / 5) * Math.floor(y / 3) * 11) % 256;
      }
    }
  }
  const hex = (a: Uint8Array) => Buffer.from(a).toString('hex');
  const run = (op: (img: Uint8Array) => void) => {
    const img = image.slice();
    op(img);
    return hex(img);
  };

  it('matches ImageEnhance contrast / colour and the torchvision PIL hue shift', () => {
    assert.equal(
      run((img) => adjustContrast(img, W * H, 1.37)),
      PIL_REFERENCE.contrast137,
    );
    assert.equal(
      run((img) => adjustSaturation(img, W * H, 0.6)),
      PIL_REFERENCE.saturation06,
    );
    assert.equal(
      run((img) => adjustHue(img, W * H, -0.08)),
      PIL_REFERENCE.hueMinus008,
    );
  });

  it('matches ImageFilter.GaussianBlur', () => {
    assert.equal(
      run((img) => gaussianBlurPil(img, W, H, 1.3)),
      PIL_REFERENCE.blur13,
    );
  });

  it('matches crop().resize(BICUBIC) down and up', () => {
    const down = new Uint8Array(3 * 2 * 3);
    resizeBicubicPil(image, W, { left: 1, top: 1, width: 7, height: 5 }, 3, 2, down);
    assert.equal(hex(down), PIL_REFERENCE.bicubicDown);
    const up = new Uint8Array(7 * 5 * 3);
    resizeBicubicPil(image, W, { left: 2, top: 1, width: 4, height: 3 }, 7, 5, up);
    assert.equal(hex(up), PIL_REFERENCE.bicubicUp);
  });
});
