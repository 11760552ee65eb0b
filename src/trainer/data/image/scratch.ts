// Reusable scratch memory: the pipeline runs single-threaded, so per-size buffers can be shared
// instead of allocated per call.

const u8Scratch = new Map<string, Uint8Array>();

export function scratchU8(slot: string, length: number): Uint8Array {
  let buf = u8Scratch.get(slot);
  if (!buf || buf.length < length) {
    buf = new Uint8Array(length);
    u8Scratch.set(slot, buf);
  }
  return buf;
}

const i32Scratch = new Map<string, Int32Array>();

export function scratchI32(slot: string, length: number): Int32Array {
  let buf = i32Scratch.get(slot);
  if (!buf || buf.length < length) {
    buf = new Int32Array(length);
    i32Scratch.set(slot, buf);
  }
  return buf;
}
