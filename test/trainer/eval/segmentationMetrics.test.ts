// J (region IoU) and F (boundary F-measure) against values worked out by hand.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { boundaryFMeasure, davisBoundaryTolerance, maskBoundary, regionIoU } from '../../../src/trainer/eval/segmentationMetrics';

/** A 10×10 mask with a filled rectangle [top, bottom] × [left, right] (inclusive). */
function rectangle(top: number, left: number, bottom: number, right: number): Uint8Array {
  const mask = new Uint8Array(100);
  for (let y = top; y <= bottom; y++) for (let x = left; x <= right; x++) mask[y * 10 + x] = 1;
  return mask;
}

const square = rectangle(2, 2, 5, 5); // 4×4
const shifted = rectangle(2, 3, 5, 6); // the same square one pixel to the right

test('J of a 4×4 square and its one-pixel shift is 12 / 20', () => {
  // overlap: columns 3..5 × 4 rows = 12; union: 16 + 16 − 12 = 20.
  assert.equal(regionIoU(shifted, square), 0.6);
  assert.equal(regionIoU(new Uint8Array(100), new Uint8Array(100)), 1, 'two empty masks agree perfectly (DAVIS)');
  assert.equal(regionIoU(square, new Uint8Array(100)), 0);
});

test('F of the shifted square: 0.5 with no tolerance, 1 within one pixel', () => {
  // The boundary of a 4×4 square is its 12 outer pixels. Shared boundary pixels: rows 2 and 5 at columns 3..5 = 6.
  assert.equal(
    maskBoundary(square, 10, 10).reduce((s, v) => s + v, 0),
    12,
  );
  const exact = boundaryFMeasure(shifted, square, 10, 10, 0);
  assert.deepEqual(exact, { precision: 0.5, recall: 0.5, f: 0.5 });
  // Every boundary pixel of one square has a boundary pixel of the other at distance ≤ 1.
  assert.deepEqual(boundaryFMeasure(shifted, square, 10, 10, 1), { precision: 1, recall: 1, f: 1 });
  // DAVIS's default for 10×10: ceil(0.008 · √200) = ceil(0.113) = 1.
  assert.equal(davisBoundaryTolerance(10, 10), 1);
});

test('F of a square against a far-away square is 0; against an empty mask 0; two empty masks 1', () => {
  assert.equal(boundaryFMeasure(rectangle(0, 0, 1, 1), rectangle(7, 7, 9, 9), 10, 10, 1).f, 0);
  assert.equal(boundaryFMeasure(square, new Uint8Array(100), 10, 10).f, 0);
  assert.equal(boundaryFMeasure(new Uint8Array(100), new Uint8Array(100), 10, 10).f, 1);
});
