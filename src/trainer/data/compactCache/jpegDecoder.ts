// JPEG → RGB24 with libjpeg-turbo's decoder (mozjpeg, compiled to WebAssembly by @jsquash/jpeg). Chosen over sharp
// (libvips): as fast on these frame sizes (docs/frame-cache.md), pixel-identical to Pillow and torchvision's
// decode_jpeg (the Python engine's decoders: same libjpeg-turbo IDCT and upsampling), and one platform-neutral
// .wasm file instead of per-platform native binaries in the .vsix. After init() decoding is synchronous, so it runs
// inside worker threads (decodePool.ts) and, for one-off reads, on the caller's thread.
import mozjpegFactory from '@jsquash/jpeg/codec/dec/mozjpeg_dec.js';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';

interface MozJpegModule {
  decode(data: Uint8Array, preserveOrientation: boolean): { data: Uint8ClampedArray; width: number; height: number } | null;
}
type Factory = (options: Record<string, unknown>) => Promise<MozJpegModule>;

const WASM_NAME = 'mozjpeg_dec.wasm';

/** dist/mozjpeg_dec.wasm next to the bundle (copied by scripts/build.mjs), else the npm package's copy. */
export function decoderWasmPath(): string {
  const here = typeof __dirname === 'string' ? __dirname : process.cwd();
  const bundled = join(here, WASM_NAME);
  if (existsSync(bundled)) return bundled;
  const anchor = typeof __filename === 'string' ? __filename : join(process.cwd(), 'index.js');
  return createRequire(anchor).resolve(`@jsquash/jpeg/codec/dec/${WASM_NAME}`);
}

let compiled: WebAssembly.Module | null = null;
let modulePromise: Promise<MozJpegModule> | null = null;
let ready: MozJpegModule | null = null;

/** Instantiates the decoder once per thread. */
export async function initJpegDecoder(): Promise<void> {
  if (ready) return;
  modulePromise ??= (async () => {
    compiled ??= await WebAssembly.compile(readFileSync(decoderWasmPath()));
    const wasm = compiled;
    return (mozjpegFactory as unknown as Factory)({
      noInitialRun: true,
      instantiateWasm: (imports: WebAssembly.Imports, callback: (instance: WebAssembly.Instance) => void) => {
        const instance = new WebAssembly.Instance(wasm, imports);
        callback(instance);
        return instance.exports;
      },
    });
  })();
  ready = await modulePromise;
}

export function jpegDecoderReady(): boolean {
  return ready !== null;
}

/**
 * Decodes one JPEG into `target` (height × width × 3 RGB24) at `offset`. Throws when the JPEG is broken or has
 * another size than expected.
 */
export function decodeJpegInto(jpeg: Uint8Array, width: number, height: number, target: Uint8Array, offset = 0): void {
  if (!ready) throw new Error('decodeJpegInto: call initJpegDecoder() first');
  const image = ready.decode(jpeg, false);
  if (!image) throw new Error('the JPEG could not be decoded');
  if (image.width !== width || image.height !== height)
    throw new Error(`the JPEG is ${image.width}×${image.height}, the cache says ${width}×${height}`);
  const rgba = image.data;
  const pixels = width * height;
  for (let p = 0, q = 0, o = offset; p < pixels; p++, q += 4, o += 3) {
    target[o] = rgba[q];
    target[o + 1] = rgba[q + 1];
    target[o + 2] = rgba[q + 2];
  }
}
