// Colour maps: a perceptually ordered blue→green→yellow ramp for heat-maps (viridis-like, built by
// interpolating 9 anchor colours) and a colour-blind-friendly categorical palette for objects.

type Rgb = readonly [number, number, number];

const HEAT_ANCHORS: readonly string[] = ['#440154', '#472d7b', '#3b528b', '#2c728e', '#21918c', '#28ae80', '#5ec962', '#addc30', '#fde725'];

export function hexToRgb(hex: string): Rgb {
  const n = Number.parseInt(hex.replace('#', ''), 16);
  return [(n >> 16) & 255, (n >> 8) & 255, n & 255];
}

/** 256 RGB triples, flattened: entry i is at [3i, 3i+2]. */
export const HEAT_LUT: Uint8Array = (() => {
  const anchors = HEAT_ANCHORS.map(hexToRgb);
  const lut = new Uint8Array(256 * 3);
  for (let i = 0; i < 256; i++) {
    const t = (i / 255) * (anchors.length - 1);
    const lo = Math.min(anchors.length - 2, Math.floor(t));
    const f = t - lo;
    for (let c = 0; c < 3; c++) lut[i * 3 + c] = Math.round(anchors[lo][c] * (1 - f) + anchors[lo + 1][c] * f);
  }
  return lut;
})();

/** Heat colour of t in [0, 1] (clamped). */
export function heatColor(t: number): Rgb {
  const i = Math.max(0, Math.min(255, Math.round((Number.isFinite(t) ? t : 0) * 255))) * 3;
  return [HEAT_LUT[i], HEAT_LUT[i + 1], HEAT_LUT[i + 2]];
}

/** Okabe–Ito order, vermillion first: distinct for the common colour-vision deficiencies and visible over video frames. */
const OBJECT_PALETTE: readonly string[] = ['#e8601c', '#56b4e9', '#00b383', '#f0e442', '#cc79a7', '#2f7fd6', '#e69f00', '#b0b0b0'];

/** Colour of object i; past the palette, hues are spread by the golden angle so they stay distinct. */
export function objectColor(index: number): string {
  if (index < OBJECT_PALETTE.length) return OBJECT_PALETTE[index];
  const hue = (index * 137.508) % 360;
  return hslToHex(hue, 0.7, 0.55);
}

export function objectRgb(index: number): Rgb {
  return hexToRgb(objectColor(index));
}

function hslToHex(h: number, s: number, l: number): string {
  const a = s * Math.min(l, 1 - l);
  const channel = (n: number): string => {
    const k = (n + h / 30) % 12;
    const v = l - a * Math.max(-1, Math.min(k - 3, 9 - k, 1));
    return Math.round(v * 255)
      .toString(16)
      .padStart(2, '0');
  };
  return `#${channel(0)}${channel(8)}${channel(4)}`;
}
