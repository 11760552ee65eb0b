// What can go wrong with a frame cache itself (problems with the video or ffmpeg are VideoErrors, ../ffmpeg.ts). Each
// message names the file or folder, the cause and a fix; the code lets callers tell them apart.

export type FrameCacheErrorCode =
  /** Another live process is building the same cache. */
  | 'CACHE_LOCKED'
  /** Not enough free space for the cache (before the build, or ENOSPC during it). */
  | 'DISK_FULL'
  /** The build was stopped (the signal); the frames done so far are kept. */
  | 'CANCELLED'
  /** No (current) cache in the folder. */
  | 'NO_CACHE'
  /** A chunk file is shorter than its index says. */
  | 'TRUNCATED';

export class FrameCacheError extends Error {
  constructor(
    readonly code: FrameCacheErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'FrameCacheError';
  }
}
