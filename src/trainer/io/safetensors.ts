/**
 * safetensors reader/writer (https://huggingface.co/docs/safetensors): an 8-byte little-endian header length,
 * a JSON header padded with spaces to a multiple of 8, then the raw little-endian tensor bytes.
 * Used for the golden reference cases and for checkpoints (official PyTorch parameter names and layouts).
 */
import { readFileSync } from 'node:fs';

export type SafetensorsDtype = 'F64' | 'F32' | 'F16' | 'I64' | 'I32' | 'I16' | 'I8' | 'U8' | 'BOOL';

export interface NamedArray {
  dtype: SafetensorsDtype;
  shape: number[];
  /** F32/F16/F64 → Float32Array or Float64Array; integer types → Int32Array (I64 values must fit in 53 bits) or Uint8Array. */
  data: Float32Array | Float64Array | Int32Array | Uint8Array;
}

export interface SafetensorsFile {
  metadata: Record<string, string>;
  tensors: Map<string, NamedArray>;
}

const BYTES_PER_ELEMENT: Record<SafetensorsDtype, number> = {
  F64: 8,
  F32: 4,
  F16: 2,
  I64: 8,
  I32: 4,
  I16: 2,
  I8: 1,
  U8: 1,
  BOOL: 1,
};

export class SafetensorsError extends Error {
  constructor(file: string, cause: string) {
    super(`${file}: not a valid safetensors file: ${cause}`);
    this.name = 'SafetensorsError';
  }
}

function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * 2 ** -14 * (frac / 1024);
  if (exp === 31) return frac ? NaN : sign * Infinity;
  return sign * 2 ** (exp - 15) * (1 + frac / 1024);
}

export function parseSafetensors(bytes: Uint8Array, file = '<buffer>'): SafetensorsFile {
  if (bytes.length < 8) throw new SafetensorsError(file, `only ${bytes.length} bytes`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLen = Number(view.getBigUint64(0, true));
  if (headerLen > bytes.length - 8) {
    throw new SafetensorsError(file, `header length ${headerLen} exceeds file size ${bytes.length} (truncated file?)`);
  }
  let header: Record<string, unknown>;
  try {
    header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + headerLen)));
  } catch (e) {
    throw new SafetensorsError(file, `header is not JSON (${(e as Error).message})`);
  }
  const dataStart = 8 + headerLen;
  const metadata = (header.__metadata__ ?? {}) as Record<string, string>;
  const tensors = new Map<string, NamedArray>();
  for (const [name, raw] of Object.entries(header)) {
    if (name === '__metadata__') continue;
    const info = raw as { dtype: SafetensorsDtype; shape: number[]; data_offsets: [number, number] };
    const bpe = BYTES_PER_ELEMENT[info.dtype];
    if (!bpe) throw new SafetensorsError(file, `tensor ${name} has unsupported dtype ${info.dtype}`);
    const [begin, end] = info.data_offsets;
    const count = info.shape.reduce((a, b) => a * b, 1);
    if (end - begin !== count * bpe || dataStart + end > bytes.length) {
      throw new SafetensorsError(
        file,
        `tensor ${name}: data_offsets [${begin}, ${end}] do not match shape [${info.shape}] ${info.dtype} or run past ` +
          `the end (truncated file?)`,
      );
    }
    // Copy into an aligned buffer: the source offset need not be a multiple of the element size.
    const slice = new Uint8Array(bytes.subarray(dataStart + begin, dataStart + end)); // a copy (Buffer#slice would share)
    const dv = new DataView(slice.buffer);
    let data: NamedArray['data'];
    switch (info.dtype) {
      case 'F32':
        data = new Float32Array(slice.buffer);
        break;
      case 'F64':
        data = new Float64Array(slice.buffer);
        break;
      case 'F16': {
        const f = new Float32Array(count);
        for (let i = 0; i < count; i++) f[i] = halfToFloat(dv.getUint16(2 * i, true));
        data = f;
        break;
      }
      case 'I64': {
        const a = new Int32Array(count);
        for (let i = 0; i < count; i++) a[i] = Number(dv.getBigInt64(8 * i, true));
        data = a;
        break;
      }
      case 'I32':
        data = new Int32Array(slice.buffer);
        break;
      case 'I16': {
        const a = new Int32Array(count);
        for (let i = 0; i < count; i++) a[i] = dv.getInt16(2 * i, true);
        data = a;
        break;
      }
      case 'I8':
        data = Int32Array.from(new Int8Array(slice.buffer));
        break;
      case 'U8':
      case 'BOOL':
        data = new Uint8Array(slice.buffer);
        break;
    }
    tensors.set(name, { dtype: info.dtype, shape: info.shape, data });
  }
  return { metadata, tensors };
}

export function readSafetensors(file: string): SafetensorsFile {
  return parseSafetensors(readFileSync(file), file);
}

export interface TensorToWrite {
  shape: number[];
  data: Float32Array | Int32Array | Uint8Array;
  /** Defaults: Float32Array → F32, Int32Array → I32 (or I64 if asked), Uint8Array → U8. */
  dtype?: 'F32' | 'I32' | 'I64' | 'U8';
}

/** Serialises tensors in insertion order; metadata values must be strings (the format's rule). */
export function serializeSafetensors(
  tensors: Map<string, TensorToWrite> | Record<string, TensorToWrite>,
  metadata: Record<string, string> = {},
): Buffer {
  const entries = tensors instanceof Map ? [...tensors.entries()] : Object.entries(tensors);
  const header: Record<string, unknown> = {};
  if (Object.keys(metadata).length > 0) header.__metadata__ = metadata;
  let offset = 0;
  const chunks: Buffer[] = [];
  for (const [name, t] of entries) {
    const dtype = t.dtype ?? (t.data instanceof Float32Array ? 'F32' : t.data instanceof Int32Array ? 'I32' : 'U8');
    const count = t.shape.reduce((a, b) => a * b, 1);
    if (count !== t.data.length) throw new Error(`serializeSafetensors: ${name} has ${t.data.length} values for shape [${t.shape}]`);
    let buf: Buffer;
    if (dtype === 'I64') {
      buf = Buffer.alloc(count * 8);
      for (let i = 0; i < count; i++) buf.writeBigInt64LE(BigInt(t.data[i]), 8 * i);
    } else {
      buf = Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength);
    }
    header[name] = { dtype, shape: t.shape, data_offsets: [offset, offset + buf.length] };
    offset += buf.length;
    chunks.push(buf);
  }
  let json = JSON.stringify(header);
  json += ' '.repeat((8 - (Buffer.byteLength(json) % 8)) % 8);
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(Buffer.byteLength(json)));
  return Buffer.concat([len, Buffer.from(json), ...chunks]);
}
