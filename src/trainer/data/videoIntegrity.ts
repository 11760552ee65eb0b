// What the decode of a video says about the file beyond its frames: a truncated file (ffmpeg decodes fewer frames than
// the container lists, says "partial file", and still exits 0), and a variable frame rate. Both are recorded in the frame
// cache's index.json when it is built and turned into warnings for the log, the run's events and the extension.

/** Probe fields the checks need (a subset of VideoProbe, so old cache indexes work too). */
export interface IntegrityProbe {
  file: string;
  frameCount: number;
  frameCountSource: 'container' | 'counted' | 'estimated';
  constantFrameRate: boolean;
  fps: number;
}

/** The cache index fields the checks read. */
export interface IntegrityIndex {
  probe: IntegrityProbe;
  completedFrames: number;
  complete: boolean;
  /** ffmpeg's diagnostics of the decode, summarised (decodeDiagnostics below). */
  decodeDiagnostics?: string[];
}

/**
 * ffmpeg's stderr of a decode as distinct messages with counts, without the per-line noise (the demuxer's address and
 * the byte offsets): `partial file (×180)`, `Invalid NAL unit size (1447 > 988). (×2)`. At most `limit` messages.
 */
export function summarizeFfmpegDiagnostics(stderr: string, limit = 5): string[] {
  const counts = new Map<string, number>();
  for (const raw of stderr.split(/\r?\n/)) {
    const line = raw
      .replace(/^\[[^\]]*@ 0x[0-9a-f]+\]\s*/i, '')
      .replace(/^stream \d+, offset 0x[0-9a-f]+:\s*/i, '')
      .trim();
    if (line) counts.set(line, (counts.get(line) ?? 0) + 1);
  }
  return [...counts]
    .sort((a, b) => b[1] - a[1])
    .slice(0, limit)
    .map(([line, n]) => (n > 1 ? `${line} (×${n})` : line));
}

/** Frames the container promised but the decode did not give, when that is more than a rounding difference. */
export function missingFrames(index: IntegrityIndex): number {
  if (!index.complete || index.probe.frameCountSource === 'estimated') return 0;
  const missing = index.probe.frameCount - index.completedFrames;
  const slack = Math.max(1, Math.round(0.005 * index.probe.frameCount));
  return missing > slack ? missing : 0;
}

export function isTruncated(index: IntegrityIndex): boolean {
  return missingFrames(index) > 0 || (index.decodeDiagnostics ?? []).some((d) => /partial file/i.test(d));
}

/** Warnings for the user, each naming the file, what was found and what to do. */
export function videoIntegrityWarnings(index: IntegrityIndex): string[] {
  const warnings: string[] = [];
  const file = index.probe.file;
  if (isTruncated(index)) {
    const said = index.decodeDiagnostics?.length ? `; ffmpeg said: ${index.decodeDiagnostics.slice(0, 3).join(' | ')}` : '';
    const counts =
      index.probe.frameCountSource === 'estimated'
        ? `ffmpeg decoded ${index.completedFrames} frames`
        : `ffmpeg decoded ${index.completedFrames} of the ${index.probe.frameCount} frames its container lists`;
    warnings.push(
      `"${file}" looks truncated: ${counts}${said}. Training uses the ${index.completedFrames} decoded frames. ` +
        'Fix: re-download or re-copy the file (or re-encode what is left: ffmpeg -i IN -c:v libx264 OUT.mp4), then start a new run.',
    );
  }
  if (!index.probe.constantFrameRate) {
    warnings.push(
      `"${file}" has a variable frame rate (average ${index.probe.fps.toFixed(3)} fps): frames are used in decode order, so ` +
        'data.stride counts frames, not a fixed time. Fix (if the stride should be a fixed time): re-encode at a constant rate, ' +
        'e.g. ffmpeg -i IN -vf fps=30 -c:v libx264 OUT.mp4.',
    );
  }
  return warnings;
}
