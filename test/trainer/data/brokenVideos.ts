// Videos that decode "successfully" but are not what they claim: for the truncation and variable-frame-rate checks.
import { spawnSync } from 'node:child_process';
import assert from 'node:assert/strict';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

function ffmpeg(args: string[]): void {
  const r = spawnSync('ffmpeg', ['-v', 'error', '-y', ...args], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
}

/** A +faststart mp4 (index first) cut to a third: ffmpeg decodes the first part, says "partial file", and exits 0. */
export function truncatedVideo(dir: string): string {
  const full = join(dir, 'full.mp4');
  ffmpeg(['-f', 'lavfi', '-i', 'testsrc2=s=160x96:r=15:d=8', '-c:v', 'libx264', '-pix_fmt', 'yuv420p', '-movflags', '+faststart', full]);
  const cut = join(dir, 'truncated.mp4');
  writeFileSync(cut, readFileSync(full).subarray(0, Math.floor(statSync(full).size / 3)));
  return cut;
}

/** 2 s at 30 fps then 2 s at 10 fps, kept variable. */
export function variableRateVideo(dir: string): string {
  const out = join(dir, 'vfr.mp4');
  ffmpeg([
    ...['-f', 'lavfi', '-i', 'testsrc2=s=160x96:r=30:d=2', '-f', 'lavfi', '-i', 'testsrc2=s=160x96:r=10:d=2'],
    ...['-filter_complex', '[0:v]settb=1/30[a];[1:v]settb=1/30[b];[a][b]concat=n=2:v=1[v]', '-map', '[v]'],
    ...['-fps_mode', 'vfr', '-c:v', 'libx264', '-pix_fmt', 'yuv420p', out],
  ]);
  return out;
}
