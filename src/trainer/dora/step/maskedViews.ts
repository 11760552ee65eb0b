/**
 * Step stages 2 and 3, the tracker and the masked views: the tracker (MOT, dora/tracker.ts) on the teacher's last-block
 * attention gives k binary masks per frame; each masks the global crop into one view per object. The DINO baseline
 * (tracker off) has one view: the unmasked global crop.
 */
import * as tf from '@tensorflow/tfjs';
import type { DoraState } from '../model';
import type { SinkhornOptions } from '../sinkhorn';
import { maskFrameMajorImages, runTracker, type TrackerResult } from '../tracker';
import type { TeacherPass } from './teacherPass';

export interface MaskedViews {
  /** [k, F, B, 3, H, W] (k = 1 without the tracker). */
  views: tf.Tensor;
  tracker?: TrackerResult;
}

export async function maskedViews(
  state: DoraState,
  teacher: TeacherPass,
  globalFramesFirst: tf.Tensor,
  heads: number[],
  options: { tracker: boolean; sinkhorn: SinkhornOptions },
): Promise<MaskedViews> {
  if (!options.tracker) {
    const [f, b, c, h, w] = globalFramesFirst.shape;
    return { views: globalFramesFirst.reshape([1, f, b, c, h, w]) };
  }
  const tracker = await runTracker({ ...teacher, heads, sinkhorn: options.sinkhorn });
  return { views: maskFrameMajorImages(globalFramesFirst, tracker.maskPatch, heads.length, state.cfg.vit.patchSize), tracker };
}
