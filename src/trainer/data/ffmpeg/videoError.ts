// Errors about a video or ffmpeg, meant to be shown as they are: each names the file, the cause and the fix.
import { accessSync, constants as fsConstants, statSync } from 'node:fs';

export type VideoErrorCode =
  'FFMPEG_NOT_FOUND' | 'FILE_NOT_FOUND' | 'FILE_NOT_READABLE' | 'UNREADABLE_VIDEO' | 'NO_VIDEO_STREAM' | 'ZERO_FRAMES' | 'FFMPEG_FAILED';

/** An error meant to be shown to the user as is: it names the file, the cause and the fix. */
export class VideoError extends Error {
  constructor(
    readonly code: VideoErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'VideoError';
  }
}

/** Fails early, before ffmpeg runs, with a message that names the file. */
export function assertReadableFile(file: string): void {
  let isFile: boolean;
  try {
    isFile = statSync(file).isFile();
  } catch {
    throw new VideoError('FILE_NOT_FOUND', `Video file not found: "${file}". Fix: check the video path in the run settings.`);
  }
  if (!isFile) throw new VideoError('FILE_NOT_FOUND', `Not a file: "${file}". Fix: choose a video file, not a folder.`);
  try {
    accessSync(file, fsConstants.R_OK);
  } catch {
    throw new VideoError('FILE_NOT_READABLE', `Video file "${file}" is not readable (permission denied). Fix: check its permissions.`);
  }
}

/** The line of ffmpeg/ffprobe stderr that explains a failure, without the "file: " prefix. */
export function ffmpegReason(stderr: string, file: string): string {
  const lines = stderr
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l.length > 0);
  const aboutFile = lines.filter((l) => l.startsWith(file + ':'));
  const line = aboutFile.at(-1) ?? lines.at(-1) ?? 'no error message';
  return line.startsWith(file + ':') ? line.slice(file.length + 1).trim() : line;
}

export function unreadableVideo(file: string, stderr: string): VideoError {
  return new VideoError(
    'UNREADABLE_VIDEO',
    `Cannot read video "${file}": ffmpeg says "${ffmpegReason(stderr, file)}". ` +
      'The file is corrupt, truncated or not a video. Fix: re-download it, or re-encode it with ffmpeg -i IN -c:v libx264 OUT.mp4.',
  );
}

export function zeroFramesError(file: string): VideoError {
  return new VideoError(
    'ZERO_FRAMES',
    `Video "${file}" contains no frames: its video stream is empty. Fix: choose another video, or re-export this one.`,
  );
}
