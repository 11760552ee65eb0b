// Probing a video: size (after rotation), frame rate, frame count, codec and duration of its first video stream, with
// ffprobe or, without it, from `ffmpeg -i` output.
import { resolveFfmpeg, runTool, type FfmpegTools } from './tools';
import { assertReadableFile, unreadableVideo, VideoError, zeroFramesError } from './videoError';

export interface VideoProbe {
  file: string;
  codec: string;
  /** Display size: already swapped for ±90° rotation metadata, because ffmpeg auto-rotates when decoding. */
  width: number;
  height: number;
  /** Average frame rate (frames / second). */
  fps: number;
  /** True when the container reports a constant frame rate (r_frame_rate == avg_frame_rate). */
  constantFrameRate: boolean;
  frameCount: number;
  /** 'container': from the header; 'counted': packets counted (demux only); 'estimated': duration × fps. */
  frameCountSource: 'container' | 'counted' | 'estimated';
  durationSeconds: number;
  rotation: number;
  /** Caveats worth showing to the user (e.g. an estimated frame count). */
  notes: string[];
}

function parseRate(rate: string | undefined): number {
  if (!rate) return NaN;
  const [num, den] = rate.split('/').map(Number);
  if (den === undefined) return Number(num);
  return den ? num / den : NaN;
}

interface FfprobeStream {
  codec_name?: string;
  codec_type?: string;
  width?: number;
  height?: number;
  r_frame_rate?: string;
  avg_frame_rate?: string;
  nb_frames?: string;
  nb_read_packets?: string;
  duration?: string;
  tags?: { rotate?: string };
  side_data_list?: { rotation?: number }[];
}

async function probeWithFfprobe(
  ffprobe: string,
  file: string,
): Promise<Omit<VideoProbe, 'frameCount' | 'frameCountSource' | 'notes'> & { nbFrames: number }> {
  const result = await runTool(ffprobe, [
    '-v',
    'error',
    '-show_entries',
    'stream=codec_type,codec_name,width,height,r_frame_rate,avg_frame_rate,nb_frames,duration:stream_tags=rotate:strea' +
      'm_side_data=rotation:format=duration',
    '-of',
    'json',
    file,
  ]);
  if (result.code !== 0) throw unreadableVideo(file, result.stderr);
  const parsed = JSON.parse(result.stdout) as { streams?: FfprobeStream[]; format?: { duration?: string } };
  const streams = parsed.streams ?? [];
  const video =
    streams.find((s) => s.codec_type === 'video' && s.codec_name !== 'mjpeg' && s.codec_name !== 'png') ??
    streams.find((s) => s.codec_type === 'video');
  if (!video)
    throw noVideoStream(
      file,
      streams.map((s) => s.codec_type ?? '?'),
    );
  const rotation = Number(video.side_data_list?.find((d) => d.rotation !== undefined)?.rotation ?? video.tags?.rotate ?? 0);
  const avg = parseRate(video.avg_frame_rate);
  const real = parseRate(video.r_frame_rate);
  const fps = Number.isFinite(avg) && avg > 0 ? avg : real;
  const streamDuration = Number(video.duration);
  const durationSeconds = Number.isFinite(streamDuration) ? streamDuration : Number(parsed.format?.duration ?? NaN);
  return {
    file,
    codec: video.codec_name ?? 'unknown',
    ...displaySize(video.width ?? 0, video.height ?? 0, rotation),
    fps,
    constantFrameRate: Number.isFinite(avg) && Number.isFinite(real) && Math.abs(avg - real) < 1e-9 * Math.max(1, real),
    durationSeconds,
    rotation,
    nbFrames: Number(video.nb_frames ?? NaN),
  };
}

function noVideoStream(file: string, streamTypes: string[]): VideoError {
  const found = streamTypes.length ? `it has only ${streamTypes.join(', ')} streams` : 'it has no streams at all';
  return new VideoError('NO_VIDEO_STREAM', `"${file}" has no video stream (${found}). Fix: choose a video file.`);
}

function displaySize(width: number, height: number, rotation: number): { width: number; height: number } {
  const quarterTurns = Math.round(rotation / 90);
  return quarterTurns % 2 !== 0 ? { width: height, height: width } : { width, height };
}

async function countPackets(tools: FfmpegTools, file: string): Promise<number | null> {
  if (tools.ffprobe) {
    const r = await runTool(tools.ffprobe, [
      '-v',
      'error',
      '-select_streams',
      'v:0',
      '-count_packets',
      '-show_entries',
      'stream=nb_read_packets',
      '-of',
      'csv=p=0',
      file,
    ]);
    const n = Number.parseInt(r.stdout.trim(), 10);
    if (r.code === 0) return Number.isFinite(n) ? n : 0; // ffprobe omits the field for an empty stream
    return null;
  }
  // Demux-only copy to the null muxer: fast even for hours of 4K; the last "frame=" is the count.
  const r = await runTool(tools.ffmpeg, ['-hide_banner', '-nostdin', '-i', file, '-map', '0:v:0', '-c', 'copy', '-f', 'null', '-']);
  if (r.code !== 0) return null;
  const counts = [...r.stderr.matchAll(/frame=\s*(\d+)/g)];
  return counts.length ? Number(counts[counts.length - 1][1]) : 0; // no progress line: nothing was copied
}

/** Fallback when there is no ffprobe: `ffmpeg -i FILE` prints the stream summary to stderr and exits 1. */
async function probeWithFfmpeg(
  ffmpeg: string,
  file: string,
): Promise<Omit<VideoProbe, 'frameCount' | 'frameCountSource' | 'notes'> & { nbFrames: number }> {
  const { stderr } = await runTool(ffmpeg, ['-hide_banner', '-nostdin', '-i', file]);
  if (!/^\s*Input #0/m.test(stderr)) throw unreadableVideo(file, stderr);
  const videoLine = stderr.split(/\r?\n/).find((l) => /Stream #0:\d+.*: Video: /.test(l));
  if (!videoLine) {
    const types = [...stderr.matchAll(/Stream #0:\d+.*?: (\w+):/g)].map((m) => m[1].toLowerCase());
    throw noVideoStream(file, types);
  }
  const codec = /Video: (\w+)/.exec(videoLine)?.[1] ?? 'unknown';
  const size = /, (\d{2,5})x(\d{2,5})/.exec(videoLine);
  const fpsMatch = /, ([\d.]+)(k?) fps/.exec(videoLine) ?? /, ([\d.]+)(k?) tbr/.exec(videoLine);
  const fps = fpsMatch ? Number(fpsMatch[1]) * (fpsMatch[2] ? 1000 : 1) : NaN;
  const tbr = /, ([\d.]+)(k?) tbr/.exec(videoLine);
  const duration = /Duration: (\d+):(\d+):([\d.]+)/.exec(stderr);
  const rotationMatch = /rotation of (-?[\d.]+) degrees/.exec(stderr);
  const rotation = rotationMatch ? Number(rotationMatch[1]) : 0;
  return {
    file,
    codec,
    ...displaySize(Number(size?.[1] ?? 0), Number(size?.[2] ?? 0), rotation),
    fps,
    constantFrameRate: tbr !== null && Math.abs(Number(tbr[1]) * (tbr[2] ? 1000 : 1) - fps) < 1e-6,
    durationSeconds: duration ? Number(duration[1]) * 3600 + Number(duration[2]) * 60 + Number(duration[3]) : NaN,
    rotation,
    nbFrames: NaN, // `ffmpeg -i` does not print the frame count
  };
}

/** Reads size, frame rate, frame count, codec and duration of the first video stream. */
export async function probeVideo(file: string, tools: FfmpegTools = resolveFfmpeg()): Promise<VideoProbe> {
  assertReadableFile(file);
  const base = tools.ffprobe ? await probeWithFfprobe(tools.ffprobe, file) : await probeWithFfmpeg(tools.ffmpeg, file);
  const { nbFrames, ...info } = base;
  const notes: string[] = [];
  let frameCount: number;
  let frameCountSource: VideoProbe['frameCountSource'];
  if (Number.isFinite(nbFrames) && nbFrames > 0) {
    frameCount = nbFrames;
    frameCountSource = 'container';
  } else {
    const counted = await countPackets(tools, file);
    if (counted !== null) {
      frameCount = counted;
      frameCountSource = 'counted';
    } else {
      frameCount = Math.round(info.durationSeconds * info.fps);
      frameCountSource = 'estimated';
      notes.push(
        `Frame count estimated from duration × fps (${info.durationSeconds.toFixed(2)} s × ${info.fps.toFixed(3)}); ` +
          `the real count is known after decoding.`,
      );
    }
  }
  if (!Number.isFinite(frameCount) || frameCount <= 0) throw zeroFramesError(file);
  if (!(info.width > 0 && info.height > 0)) throw unreadableVideo(file, 'the video stream has no frame size');
  if (!(info.fps > 0)) notes.push('The frame rate is unknown; timings assume 30 fps.');
  if (!info.constantFrameRate) notes.push('Variable frame rate: frame indices follow decoded frames, not wall-clock time.');
  return { ...info, fps: info.fps > 0 ? info.fps : 30, frameCount, frameCountSource, notes };
}
