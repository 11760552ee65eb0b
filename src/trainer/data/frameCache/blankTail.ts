// A trailing run of near-black frames (the official Venice video ends with ~2 h of black), found from the per-frame
// mean luminance the cache stores, so training can trim it.
import type { FrameSource } from './reader';

export interface BlankTail {
  /** First frame of the trailing near-black run; frames before it are usable. */
  firstBlankFrame: number;
  blankFrames: number;
  totalFrames: number;
  blankSeconds: number;
  /** A warning for the user that names the file. */
  message: string;
}

export interface BlankTailOptions {
  /** A frame is near-black when its mean luminance (0..255) is at most this. */
  maxLuminance?: number;
  /** Ignore shorter trailing runs (a fade-out is not a blank tail). */
  minSeconds?: number;
}

function formatClock(seconds: number): string {
  const s = Math.floor(seconds);
  const hh = Math.floor(s / 3600);
  const mm = Math.floor((s % 3600) / 60);
  const ss = s % 60;
  return `${hh}:${String(mm).padStart(2, '0')}:${String(ss).padStart(2, '0')}`;
}

/**
 * Finds a trailing run of near-black frames (the official Venice video ends with ~2 h of black),
 * so training can trim it. Returns null when the video does not end in such a run.
 */
export function detectBlankTail(cache: FrameSource, options: BlankTailOptions = {}): BlankTail | null {
  const maxLuminance = options.maxLuminance ?? 12;
  const minFrames = Math.max(1, Math.round((options.minSeconds ?? 1) * cache.fps));
  const luma = cache.luminance();
  let first = luma.length;
  while (first > 0 && luma[first - 1] <= maxLuminance) first--;
  const blankFrames = luma.length - first;
  if (blankFrames < minFrames) return null;
  const blankSeconds = blankFrames / cache.fps;
  const message =
    first === 0
      ? `"${cache.sourcePath}" is entirely near-black (mean luminance ≤ ${maxLuminance}/255 in all ${luma.length} ` +
        `frames). Fix: check the video.`
      : `"${cache.sourcePath}" ends with ${formatClock(blankSeconds)} of near-black frames (frames ${first}–${luma.length - 1}, ` +
        `from ${formatClock(first / cache.fps)}); training uses frames 0–${first - 1} only.`;
  return { firstBlankFrame: first, blankFrames, totalFrames: luma.length, blankSeconds, message };
}
