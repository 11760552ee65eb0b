import assert from 'node:assert/strict';
import { statSync, writeFileSync } from 'node:fs';
import { after, describe, test } from 'node:test';
import { decodeFrames } from '../../../src/trainer/data/ffmpeg/decode';
import { probeVideo } from '../../../src/trainer/data/ffmpeg/probe';
import {
  ensureDemoVideo,
  generateSyntheticVideo,
  groundTruthMask,
  maskLevelToObjectId,
  readSyntheticOptions,
} from '../../../src/trainer/data/syntheticVideo';
import { objectPoses, OBJECT_CLASSES, occluderLefts, shapePart, SLOTS, tourPlan } from '../../../src/trainer/data/syntheticScene';
import { ffmpegOrSkip, makeTempDir } from './helpers';
import { colourHistogram, crossValidatedKnn, objectCrops, rawPixels, silhouette } from './syntheticStats';

const { tools, skip: noFfmpeg } = ffmpegOrSkip();
const temp = makeTempDir('synthetic');
after(temp.cleanup);

/** Compares the decoded mask video with groundTruthMask() on the given frames; returns the mismatching frames. */
async function maskMismatches(
  maskFile: string,
  width: number,
  height: number,
  options: { fps: number; seed: number; durationSeconds: number },
  frames: Set<number> | 'all',
) {
  const bad: string[] = [];
  let index = 0;
  let compared = 0;
  for await (const decoded of decodeFrames(tools!, maskFile, { width, height, pixelFormat: 'gray' })) {
    if (frames === 'all' || frames.has(index)) {
      const expected = groundTruthMask(index, width, height, options);
      let wrong = 0;
      for (let i = 0; i < decoded.length; i++) if (maskLevelToObjectId(decoded[i]) !== expected[i]) wrong++;
      if (wrong) bad.push(`frame ${index}: ${wrong} pixels`);
      compared++;
    }
    index++;
  }
  return { bad, compared, decodedFrames: index };
}

describe('synthetic walking tour: video and exact masks', { skip: noFfmpeg }, () => {
  test('analytic masks equal the decoded mask video on every frame (320×180, 15 fps, 8 s, seed 7)', async () => {
    const options = { width: 320, height: 180, fps: 15, durationSeconds: 8, seed: 7 };
    const files = await generateSyntheticVideo(`${temp.dir}/small`, options, tools!);
    assert.equal(files.frameCount, 120);
    assert.ok(tourPlan(options).scenes.length >= 2, 'the clip spans a scene cut');
    const probe = await probeVideo(files.video, tools!);
    assert.deepEqual([probe.width, probe.height, probe.fps, probe.frameCount], [320, 180, 15, 120]);
    const result = await maskMismatches(files.mask, 320, 180, options, 'all');
    assert.equal(result.decodedFrames, 120);
    assert.deepEqual(result.bad, []);
    assert.deepEqual(readSyntheticOptions(files.video), { ...options });
  });

  test('ensureDemoVideo: default size, exact masks on sampled frames, idempotent; an older generator is regenerated', async () => {
    const options = { durationSeconds: 2.5 };
    const demo = await ensureDemoVideo(temp.dir, options, tools!);
    assert.equal(demo.frameCount, 75);
    assert.deepEqual([demo.options.width, demo.options.height, demo.options.fps], [640, 360, 30]);
    const sampled = new Set([0, 1, 29, 30, 31, 59, 74]);
    const result = await maskMismatches(demo.mask, 640, 360, demo.options, sampled);
    assert.equal(result.compared, sampled.size);
    assert.deepEqual(result.bad, []);

    const mtime = statSync(demo.video).mtimeMs;
    const again = await ensureDemoVideo(temp.dir, options, { ...tools!, ffmpeg: '/nonexistent/ffmpeg' }); // would fail if it re-ran ffmpeg
    assert.equal(again.video, demo.video);
    assert.equal(statSync(again.video).mtimeMs, mtime);

    // A video of an earlier generator (same options, other pictures): not trusted as ground truth, regenerated.
    writeFileSync(demo.meta, JSON.stringify({ generator: 'dora-studio synthetic walking tour v2', options: demo.options, frameCount: 75 }));
    assert.equal(readSyntheticOptions(demo.video), undefined);
    await assert.rejects(ensureDemoVideo(temp.dir, options, { ...tools!, ffmpeg: '/nonexistent/ffmpeg' }), /nonexistent/);
    const regenerated = await ensureDemoVideo(temp.dir, options, tools!);
    assert.deepEqual(readSyntheticOptions(regenerated.video), regenerated.options);
  });
});

describe('synthetic walking tour: plan', () => {
  const options = { width: 320, height: 180, durationSeconds: 40, seed: 3 };
  const plan = tourPlan(options);

  test('scenes tile the video and last 3–5 s; each shows three objects of its dominant class and one other, dominants balanced', () => {
    const dominants = new Array<number>(OBJECT_CLASSES.length).fill(0);
    assert.equal(plan.scenes[0].startFrame, 0);
    assert.equal(plan.scenes.at(-1)!.endFrame, plan.frameCount);
    plan.scenes.forEach((scene, i) => {
      if (i > 0) assert.equal(scene.startFrame, plan.scenes[i - 1].endFrame);
      if (i < plan.scenes.length - 1) assert.ok(scene.endFrame - scene.startFrame >= 90 && scene.endFrame - scene.startFrame <= 150);
      const counts = new Map<number, number>();
      for (const o of scene.objects) counts.set(o.cls, (counts.get(o.cls) ?? 0) + 1);
      assert.deepEqual([...counts.values()].sort(), [1, SLOTS - 1], `scene ${i}: ${scene.objects.map((o) => OBJECT_CLASSES[o.cls])}`);
      dominants[[...counts].find(([, n]) => n === SLOTS - 1)![0]]++;
      assert.deepEqual(
        scene.objects.map((o) => o.slot),
        Array.from({ length: SLOTS }, (_, k) => k + 1),
      );
    });
    assert.equal(OBJECT_CLASSES.length, SLOTS);
    assert.ok(Math.max(...dominants) - Math.min(...dominants) <= 1, `dominant classes ${dominants}`);
  });

  test('occlusion: each pixel shows the highest slot whose shape covers it, and poles cover everything', () => {
    const { width: W, height: H } = plan.options;
    let overlaps = 0;
    let poles = 0;
    for (let frame = 0; frame < plan.frameCount; frame += 37) {
      const mask = groundTruthMask(frame, W, H, options);
      const poses = objectPoses(plan, frame);
      const poleColumns = new Set(
        occluderLefts(plan, frame).flatMap(({ left, occluder }) => Array.from({ length: occluder.width }, (_, i) => left + i)),
      );
      for (let y = 0; y < H; y += 3) {
        for (let x = 0; x < W; x += 3) {
          const covering = poses.filter((p) => {
            const dx = (x + 0.5 - p.cx) / p.radius;
            const dy = (y + 0.5 - p.cy) / p.radius;
            const [c, s] = [Math.cos(p.angle), Math.sin(p.angle)];
            return shapePart(p.object.cls, dx * c + dy * s, -dx * s + dy * c) > 0;
          });
          if (covering.length > 1) overlaps++;
          const expected = poleColumns.has(x) ? 0 : covering.length ? Math.max(...covering.map((p) => p.object.slot)) : 0;
          if (poleColumns.has(x) && covering.length) poles++;
          assert.equal(mask[y * W + x], expected, `frame ${frame} pixel (${x}, ${y})`);
        }
      }
    }
    assert.ok(overlaps > 0 && poles > 0, `the sampled frames contain occlusions (${overlaps} overlaps, ${poles} pole pixels)`);
  });

  test('objects change scale and move; seed changes the plan; same seed, same masks', () => {
    assert.ok(plan.scenes.some((s) => s.objects.some((o) => Math.abs(Math.log(o.radius1 / o.radius0)) > 0.2)));
    const [a, b] = [objectPoses(plan, 0)[0], objectPoses(plan, 20)[0]];
    assert.ok(Math.hypot(a.cx - b.cx, a.cy - b.cy) > 1);
    assert.deepEqual(groundTruthMask(100, 320, 180, { seed: 3 }), groundTruthMask(100, 320, 180, { seed: 3 }));
    assert.notDeepEqual(groundTruthMask(100, 320, 180, { seed: 3 }), groundTruthMask(100, 320, 180, { seed: 4 }));
  });
});

describe('synthetic walking tour: class is shape, not colour', () => {
  // Object crops as the k-NN evaluation takes them (context 1.3–2 × the box, centre shifted by up to ±0.2 of the side),
  // scene-grouped 5-fold cross-validation, k = 20, 4 classes (chance 25 %). Measured over seeds 11–13: colour
  // histograms 11–25 %, raw pixels 15–26 %, the silhouette descriptor 61–64 % (83–87 % on centred crops).
  const samples = objectCrops({ width: 320, height: 180, durationSeconds: 60, seed: 11 }, 10, { context: [1.3, 2], shift: 0.2 });

  test('a colour-histogram k-NN is near chance', () => {
    assert.ok(samples.length > 500, `${samples.length} crops`);
    const top1 = crossValidatedKnn(samples, colourHistogram);
    assert.ok(top1 < 33, `colour histogram k-NN ${top1.toFixed(1)} %`);
  });

  test('a raw-pixel k-NN is near chance', () => {
    const top1 = crossValidatedKnn(samples, (s) => rawPixels(s, 24));
    assert.ok(top1 < 33, `raw-pixel k-NN ${top1.toFixed(1)} %`);
  });

  test('the classes are separable by shape (a silhouette descriptor, so the two tests above can tell)', () => {
    const top1 = crossValidatedKnn(samples, silhouette);
    assert.ok(top1 > 55, `silhouette k-NN ${top1.toFixed(1)} %`);
  });
});
