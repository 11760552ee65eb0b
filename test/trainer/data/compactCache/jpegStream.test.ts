import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';
import { JpegStreamSplitter } from '../../../../src/trainer/data/compactCache/jpegStream';
import { ffmpegOrSkip } from '../helpers';

const { tools, skip } = ffmpegOrSkip();

/** A hand-made JPEG-shaped stream: APP0 whose payload holds FF D9, entropy data with stuffing, RST and fill bytes. */
function tricky(payload: number): Buffer {
  return Buffer.from([
    ...[0xff, 0xd8],
    ...[0xff, 0xe0, 0x00, 0x06, 0xff, 0xd9, payload, 0x00], // a segment whose bytes look like EOI
    ...[0xff, 0xda, 0x00, 0x03, 0x01], // SOS with a 1-byte header body
    ...[0x12, 0xff, 0x00, 0x34, 0xff, 0xd3, 0x56, 0xff, 0xff, 0xd9], // stuffing, RST3, a fill byte, EOI
  ]);
}

test('cuts JPEGs at their real EOI, whatever the chunk boundaries', () => {
  const stream = Buffer.concat([tricky(1), tricky(2), tricky(3)]);
  for (let size = 1; size <= stream.length; size++) {
    const splitter = new JpegStreamSplitter();
    const out: Buffer[] = [];
    for (let i = 0; i < stream.length; i += size) out.push(...splitter.push(stream.subarray(i, i + size)));
    assert.deepEqual(out, [tricky(1), tricky(2), tricky(3)], `chunks of ${size} bytes`);
    assert.equal(splitter.leftover, 0);
  }
});

test('reports a truncated stream and rejects bytes that are not a JPEG', () => {
  const splitter = new JpegStreamSplitter();
  assert.deepEqual(splitter.push(tricky(1).subarray(0, 12)), []);
  assert.equal(splitter.leftover, 12);
  assert.throws(() => new JpegStreamSplitter().push(Buffer.from('not a jpeg')), /out of sync \(expected SOI/);
});

test("splits ffmpeg's own mjpeg stream into the frames it encoded", { skip }, () => {
  const r = spawnSync(tools!.ffmpeg, [
    ...['-v', 'error', '-f', 'lavfi', '-i', 'testsrc2=s=64x48:r=10:d=2', '-c:v', 'mjpeg', '-q:v', '3', '-f', 'image2pipe', 'pipe:1'],
  ]);
  assert.equal(r.status, 0, r.stderr.toString());
  const jpegs = new JpegStreamSplitter().push(r.stdout);
  assert.equal(jpegs.length, 20);
  assert.equal(Buffer.concat(jpegs).length, r.stdout.length);
});
