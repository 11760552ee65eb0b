// Minimal PNG encoder on node:zlib (no dependency) for snapshots: 8-bit grey or RGB, every row with the
// "Up" filter and deflate level 1, which measured as the best speed/size trade-off for video frames.
import { deflateSync } from 'node:zlib';

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
const FILTER_UP = 2;

let crcTable: Uint32Array | null = null;

// zlib.crc32 only exists from Node 20.15, and engines allows any Node 20.
function crc32(bytes: Uint8Array, start = 0xffffffff): number {
  if (!crcTable) {
    crcTable = new Uint32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      crcTable[n] = c >>> 0;
    }
  }
  let c = start;
  for (let i = 0; i < bytes.length; i++) c = crcTable[(c ^ bytes[i]) & 0xff] ^ (c >>> 8);
  return c;
}

function chunk(type: string, data: Uint8Array): Buffer {
  const out = Buffer.alloc(12 + data.length);
  out.writeUInt32BE(data.length, 0);
  out.write(type, 4, 'ascii');
  out.set(data, 8);
  const crc = crc32(out.subarray(4, 8 + data.length)) ^ 0xffffffff;
  out.writeUInt32BE(crc >>> 0, 8 + data.length);
  return out;
}

export interface PngImage {
  width: number;
  height: number;
  /** 1 = grey, 3 = RGB. */
  channels: 1 | 3;
  /** height × width × channels bytes, row-major. */
  data: Uint8Array;
}

export function encodePng(image: PngImage, level = 1): Buffer {
  const { width, height, channels, data } = image;
  if (!(width > 0 && height > 0) || !Number.isInteger(width) || !Number.isInteger(height)) {
    throw new RangeError(`PNG size must be positive integers, got ${width}x${height}`);
  }
  const stride = width * channels;
  if (data.length !== stride * height) {
    throw new RangeError(`PNG data has ${data.length} bytes, expected ${stride * height} for ${width}x${height}x${channels}`);
  }
  const filtered = Buffer.allocUnsafe((stride + 1) * height);
  for (let y = 0; y < height; y++) {
    const out = y * (stride + 1);
    const row = y * stride;
    filtered[out] = FILTER_UP;
    if (y === 0) {
      filtered.set(data.subarray(0, stride), out + 1); // Up against an implicit zero row
      continue;
    }
    const prev = row - stride;
    for (let x = 0; x < stride; x++) filtered[out + 1 + x] = (data[row + x] - data[prev + x]) & 0xff;
  }
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header[8] = 8; // bit depth
  header[9] = channels === 3 ? 2 : 0; // colour type: truecolour or greyscale
  header[10] = 0; // deflate
  header[11] = 0; // adaptive filtering
  header[12] = 0; // no interlace
  return Buffer.concat([
    PNG_SIGNATURE,
    chunk('IHDR', header),
    chunk('IDAT', deflateSync(filtered, { level })),
    chunk('IEND', new Uint8Array(0)),
  ]);
}
