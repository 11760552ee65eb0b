// The benchmark's stand-in for a 4K60 walking tour, made with ffmpeg's lavfi sources (never committed): a 5120×2880
// still with real texture (a Mandelbrot boundary region: detail at every scale, rendered once, its luminance laid over
// smooth colour gradients so chroma behaves like a natural scene), panned by a moving 3840×2160 crop (ego-motion),
// with temporal sensor noise and two moving objects (testsrc2, a Game-of-Life disc). H.264 High at 60 fps,
// ≈ 30 Mb/s (superfast, CRF 21), 2 s GOP. Encoding 4K is the slow part (≈ 80 CPU-ms per frame), so a segment of at
// most 20 s is encoded and repeated without re-encoding (-stream_loop, -c copy) up to the asked length: decoding and
// caching cost the same per frame. Kept in a cache folder and reused while the recipe is unchanged.
import { existsSync, mkdirSync, renameSync, rmSync, writeFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { runFfmpeg } from '../ffmpeg/decode';
import type { FfmpegTools } from '../ffmpeg/tools';

const RECIPE_VERSION = 2;
const SEGMENT_SECONDS = 20;

function textureArgs(out: string): string[] {
  return [
    '-y',
    '-filter_complex',
    'mandelbrot=s=5120x2880:maxiter=200:start_x=-0.743643887037151:start_y=0.13182590420533:start_scale=0.0008,' +
      'trim=end_frame=1,format=gray,format=rgb24[l];' +
      'gradients=s=5120x2880:c0=0x6a8caf:c1=0xc9a66b:c2=0x4f7942:c3=0xb0b7c0:x0=0:y0=0:x1=5120:y1=2880:nb_colors=4:d=1,' +
      'format=rgb24[g];[g][l]blend=all_mode=overlay,format=yuv420p',
    '-frames:v',
    '1',
    '-c:v',
    'rawvideo',
    '-f',
    'nut',
    out,
  ];
}

function videoArgs(texture: string, seconds: number, out: string): string[] {
  return [
    '-y',
    '-i',
    texture,
    '-filter_complex',
    "[0:v]loop=loop=-1:size=1,setpts=N/60/TB,crop=3840:2160:x='640+620*sin(2*PI*t/23)':y='360+340*sin(2*PI*t/17)'," +
      'noise=alls=3:allf=t[bg];testsrc2=s=480x480:r=60[a];' +
      'life=s=320x320:r=60:seed=7:ratio=0.3:mold=10:life_color=#FFD700:death_color=#1E3C78,scale=640:640:flags=neighbor[b];' +
      "[bg][a]overlay=x='1600+1400*sin(2*PI*t/7)':y='800+600*sin(2*PI*t/5)':shortest=1[v1];" +
      "[v1][b]overlay=x='mod(300*t,3840)-320':y='1300+200*sin(t)':shortest=1,format=yuv420p[v]",
    ...['-map', '[v]', '-t', String(seconds), '-r', '60'],
    ...['-c:v', 'libx264', '-preset', 'superfast', '-crf', '21', '-g', '120', '-pix_fmt', 'yuv420p', out],
  ];
}

/** The generated 4K60 video of `seconds`, made once into `dir` (minutes on 2 cores). */
export async function ensureBenchVideo(tools: FfmpegTools, dir: string, seconds: number, log: (line: string) => void): Promise<string> {
  mkdirSync(dir, { recursive: true });
  const video = join(dir, `walk4k60-${seconds}s.mp4`);
  const stamp = `${video}.recipe`;
  const recipe = JSON.stringify({ v: RECIPE_VERSION, seconds });
  if (existsSync(video) && existsSync(stamp) && readFileSync(stamp, 'utf8') === recipe) return video;
  const texture = join(dir, 'texture-5120x2880.nut');
  if (!existsSync(texture)) {
    await runFfmpeg(tools, textureArgs(`${texture}.part.nut`));
    renameSync(`${texture}.part.nut`, texture);
  }
  const segmentSeconds = Math.min(seconds, SEGMENT_SECONDS);
  const segment = join(dir, `segment4k60-${segmentSeconds}s.mp4`);
  if (!existsSync(segment)) {
    log(`encoding a ${segmentSeconds} s 4K60 H.264 segment in ${segment} (once; reused by later runs)`);
    await runFfmpeg(tools, videoArgs(texture, segmentSeconds, `${segment}.part.mp4`));
    renameSync(`${segment}.part.mp4`, segment);
  }
  const part = `${video}.part.mp4`;
  rmSync(part, { force: true });
  const loops = String(Math.ceil(seconds / segmentSeconds) - 1);
  await runFfmpeg(tools, ['-y', '-stream_loop', loops, '-i', segment, '-c', 'copy', '-t', String(seconds), part]);
  renameSync(part, video);
  writeFileSync(stamp, recipe);
  return video;
}
