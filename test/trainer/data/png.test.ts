import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { decodeFrames } from '../../../src/trainer/data/ffmpeg/decode';
import { encodePng } from '../../../src/trainer/data/png';
import { ffmpegOrSkip, makeTempDir, seededRandom } from './helpers';

const { tools, skip: noFfmpeg } = ffmpegOrSkip();
const temp = makeTempDir('png');
after(temp.cleanup);

async function decodeWithFfmpeg(file: string, width: number, height: number, pixelFormat: 'rgb24' | 'gray'): Promise<Buffer> {
  const frames: Buffer[] = [];
  for await (const frame of decodeFrames(tools!, file, { width, height, pixelFormat })) frames.push(Buffer.from(frame));
  assert.equal(frames.length, 1);
  return frames[0];
}

function testImage(width: number, height: number, channels: number): Uint8Array {
  const random = seededRandom(width * 31 + channels);
  const data = new Uint8Array(width * height * channels);
  // Smooth gradients (exercise the Up filter's wrap-around) plus noise (exercise deflate on random bytes).
  for (let i = 0; i < data.length; i++)
    data[i] = (i % 7 === 0 ? random() * 256 : (i * 3) / channels + Math.floor(i / (width * channels)) * 5) & 0xff;
  return data;
}

describe('encodePng', () => {
  for (const [channels, pixelFormat] of [
    [3, 'rgb24'],
    [1, 'gray'],
  ] as const) {
    test(`${pixelFormat} round-trips through ffmpeg's PNG decoder`, { skip: noFfmpeg }, async () => {
      const width = 37;
      const height = 23;
      const data = testImage(width, height, channels);
      const file = join(temp.dir, `${pixelFormat}.png`);
      writeFileSync(file, encodePng({ width, height, channels, data }));
      assert.ok((await decodeWithFfmpeg(file, width, height, pixelFormat)).equals(Buffer.from(data)));
    });
  }

  test('starts with the PNG signature and IHDR; rejects a wrong buffer size', () => {
    const png = encodePng({ width: 2, height: 2, channels: 1, data: new Uint8Array(4) });
    assert.deepEqual([...png.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
    assert.equal(png.subarray(12, 16).toString('ascii'), 'IHDR');
    assert.throws(() => encodePng({ width: 2, height: 2, channels: 3, data: new Uint8Array(4) }), /expected 12/);
  });
});
