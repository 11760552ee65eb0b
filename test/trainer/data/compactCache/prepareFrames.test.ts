import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { buildFrameCache } from '../../../../src/trainer/data/frameCache/build';
import { chooseFrameCacheFormat, prepareFrames } from '../../../../src/trainer/data/prepareFrames';
import { ffmpegOrSkip, makeTempDir, testVideosOrSkip } from '../helpers';

const { tools, skip: noFfmpeg } = ffmpegOrSkip();
const { videos, skip: noVideos } = testVideosOrSkip();
const temp = makeTempDir('prepare-frames');
after(temp.cleanup);

test(
  'format auto: RGB24 while small, JPEG above the limit, an existing complete RGB24 cache is kept',
  { skip: noFfmpeg || noVideos },
  async () => {
    const cacheRoot = join(temp.dir, 'frames');
    const base = { shortSide: 48, cacheRoot, tools: tools! };
    const small = await chooseFrameCacheFormat(videos!.vtest, { ...base, format: 'auto' });
    assert.deepEqual([small.format, small.reason], ['rgb24', 'RGB24 takes only 7.3 MB']);
    const big = await chooseFrameCacheFormat(videos!.vtest, { ...base, format: 'auto', autoRawLimitBytes: 1e6 });
    assert.deepEqual([big.format, big.reason], ['jpeg', 'RGB24 would take 7.3 MB']);
    (await buildFrameCache(videos!.vtest, { cacheRoot, shortSide: 48, tools: tools! })).close();
    const kept = await chooseFrameCacheFormat(videos!.vtest, { ...base, format: 'auto', autoRawLimitBytes: 1e6 });
    assert.equal(kept.format, 'rgb24');
    assert.match(kept.reason, /^an RGB24 cache of this video exists \(7\.3 MB\); set data\.frameCache\.format to "jpeg"/);
    const asked = await chooseFrameCacheFormat(videos!.vtest, { ...base, format: 'jpeg' });
    assert.equal(asked.format, 'jpeg');
    assert.match(asked.reason, /the RGB24 cache in .* is no longer used \(delete it to free space\)$/);
  },
);

test('both formats give the same frame indices; JPEG pixels stay close to the RGB24 ones', { skip: noFfmpeg || noVideos }, async () => {
  const cacheRoot = join(temp.dir, 'both');
  const raw = await prepareFrames(videos!.phoneMp4, { shortSide: 96, cacheRoot, tools: tools!, format: 'rgb24' });
  const jpeg = await prepareFrames(videos!.phoneMp4, { shortSide: 96, cacheRoot, tools: tools!, format: 'jpeg', workers: 1 });
  try {
    assert.equal(jpeg.source.frameCount, raw.source.frameCount);
    assert.deepEqual([jpeg.source.width, jpeg.source.height], [raw.source.width, raw.source.height]);
    const frames = [0, 17, 40];
    await jpeg.source.ready!(frames);
    const a = jpeg.source.readFrames(frames);
    const b = raw.source.readFrames(frames);
    let sum = 0;
    for (let i = 0; i < a.length; i++) sum += Math.abs(a[i] - b[i]);
    assert.ok(sum / a.length < 4, `mean abs difference ${sum / a.length}`);
    const la = jpeg.source.luminance();
    const lb = raw.source.luminance();
    for (const f of frames) assert.ok(Math.abs(la[f] - lb[f]) < 3, `luminance of frame ${f}: ${la[f]} vs ${lb[f]}`);
  } finally {
    raw.source.close();
    jpeg.source.close();
  }
});
