// What New Config writes, without VS Code: the suggested name and how the video path is recorded.

import * as path from 'node:path';

export const VIDEO_EXTENSIONS = ['mp4', 'mkv', 'webm', 'mov', 'avi', 'm4v', 'mpg', 'mpeg'];

/** A config name from a video file name: `Venice tour.mp4` → `Venice-tour`. */
export function suggestedConfigName(video: string): string {
  return path
    .basename(video)
    .replace(/\.[^.]+$/, '')
    .replace(/[^A-Za-z0-9_-]+/g, '-');
}

export function isValidConfigName(name: string): boolean {
  return /^[A-Za-z0-9_.-]+$/.test(name);
}

/** The video as the config records it: relative when video and config share a workspace folder (it can move), else absolute. */
export function videoValueFor(configFile: string, video: string, roots: readonly string[]): string {
  const videoRoot = roots.find((r) => video.startsWith(r + path.sep));
  return videoRoot && configFile.startsWith(videoRoot + path.sep) ? path.relative(path.dirname(configFile), video) : video;
}
