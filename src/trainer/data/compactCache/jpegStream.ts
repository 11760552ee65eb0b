// Cuts ffmpeg's `-f image2pipe -c:v mjpeg` byte stream into whole JPEG files. It follows the JPEG marker
// structure (segment lengths, then the entropy-coded data up to the next marker), so it never mistakes bytes
// inside a segment for an end marker; inside entropy-coded data 0xFF is always followed by 0x00 (stuffing),
// a restart marker, or a real marker.

type State = 'soi' | 'segments' | 'entropy';

const EMPTY = Buffer.alloc(0);

export class JpegStreamSplitter {
  private pending: Buffer = EMPTY;
  private pos = 0;
  private state: State = 'soi';

  /** Feeds bytes; returns the JPEG files completed by them (copies, safe to keep). */
  push(chunk: Buffer): Buffer[] {
    this.pending = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk]);
    const out: Buffer[] = [];
    for (;;) {
      const end = this.scan();
      if (end < 0) break;
      out.push(Buffer.from(this.pending.subarray(0, end)));
      this.pending = this.pending.subarray(end);
      this.pos = 0;
      this.state = 'soi';
    }
    return out;
  }

  /** Bytes of an unfinished JPEG (non-zero after a truncated stream). */
  get leftover(): number {
    return this.pending.length;
  }

  /** Advances the parser; returns the end offset of a complete JPEG, or -1 when more bytes are needed. */
  private scan(): number {
    const b = this.pending;
    for (;;) {
      if (this.state === 'soi') {
        if (b.length < 2) return -1;
        if (b[0] !== 0xff || b[1] !== 0xd8) throw new Error(`ffmpeg's JPEG stream is out of sync (expected SOI, got ${hex(b, 0)})`);
        this.pos = 2;
        this.state = 'segments';
      } else if (this.state === 'segments') {
        if (b.length < this.pos + 2) return -1;
        if (b[this.pos] !== 0xff) throw new Error(`ffmpeg's JPEG stream is out of sync (expected a marker, got ${hex(b, this.pos)})`);
        const marker = b[this.pos + 1];
        if (marker === 0xff) {
          this.pos += 1; // fill byte
        } else if (marker === 0xd9) {
          return this.pos + 2; // EOI
        } else if (marker === 0x01 || (marker >= 0xd0 && marker <= 0xd7)) {
          this.pos += 2; // markers without a length
        } else {
          if (b.length < this.pos + 4) return -1;
          const length = b.readUInt16BE(this.pos + 2);
          this.pos += 2 + length;
          if (marker === 0xda) this.state = 'entropy';
        }
      } else {
        const next = this.nextMarker();
        if (next < 0) return -1;
        this.pos = next;
        this.state = 'segments';
      }
    }
  }

  /** Offset of the next real marker in entropy-coded data, or -1 (pos is advanced to resume the scan). */
  private nextMarker(): number {
    const b = this.pending;
    for (;;) {
      const i = b.indexOf(0xff, this.pos);
      if (i < 0 || i + 1 >= b.length) {
        this.pos = i < 0 ? b.length : i;
        return -1;
      }
      const next = b[i + 1];
      if (next === 0x00 || (next >= 0xd0 && next <= 0xd7)) this.pos = i + 2;
      else if (next === 0xff) this.pos = i + 1;
      else return i;
    }
  }
}

function hex(b: Buffer, at: number): string {
  return b.subarray(at, at + 2).toString('hex') || 'end of stream';
}
