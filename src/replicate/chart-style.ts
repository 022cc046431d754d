/**
 * How the series of a chart tell themselves apart without colour: a colour-blind-safe palette,
 * point markers and dash patterns, combined so that no two of the first
 * `PALETTE.length × DASHES.length` series share colour, marker and dash (see {@link styleFor}).
 */

/** Okabe & Ito's colour-blind-safe palette (its yellow left out: unreadable on white). */
export const PALETTE = ['#0072B2', '#D55E00', '#009E73', '#CC79A7', '#E69F00', '#56B4E9', '#000000'];

/** Marker shapes, twice as many as {@link PALETTE} colours (filled, then open), drawn by {@link markerSvg}. */
export const MARKERS = ['circle', 'square', 'triangle', 'diamond', 'cross', 'triangle-down', 'plus', 'circle-open', 'square-open', 'triangle-open', 'diamond-open', 'triangle-down-open', 'star', 'pentagon-open'] as const;
export type MarkerShape = (typeof MARKERS)[number];

/** Dash patterns (SVG `stroke-dasharray`; '' is a solid line). */
export const DASHES = ['', '6 4', '2 3', '9 3 2 3'];

/** The dash of a series given `dash: true`. */
export const DEFAULT_DASH = '6 4';

export interface SeriesStyle {
  color: string;
  /** `stroke-dasharray`, '' for solid. */
  dash: string;
  marker: MarkerShape;
}

/**
 * The style of the `index`-th series: colour steps through its seven values, the marker through
 * its fourteen, the dash pattern every fourteen series; so no two of the first 56 series share
 * marker and dash, and two series are never told apart by colour alone.
 */
export function styleFor(index: number): SeriesStyle {
  return { color: PALETTE[index % PALETTE.length], marker: MARKERS[index % MARKERS.length], dash: DASHES[Math.floor(index / MARKERS.length) % DASHES.length] };
}

/** An SVG marker of `shape` centred at (x, y), radius about `r`, in `color` (open shapes: white inside, outlined). */
export function markerSvg(shape: MarkerShape, x: number, y: number, color: string, r = 4): string {
  const f = (v: number) => v.toFixed(1);
  const open = shape.endsWith('-open');
  const paint = open ? `fill="white" stroke="${color}" stroke-width="1.5"` : `fill="${color}" stroke="${color}"`;
  const polygon = (pts: Array<[number, number]>) => `<polygon class="marker" points="${pts.map(([dx, dy]) => `${f(x + dx)},${f(y + dy)}`).join(' ')}" ${paint}/>`;
  const regular = (n: number, radius: (k: number) => number) => Array.from({ length: n }, (_, k): [number, number] => [radius(k) * Math.sin((2 * Math.PI * k) / n), -radius(k) * Math.cos((2 * Math.PI * k) / n)]);
  const t = r * 0.35;
  switch (shape.replace(/-open$/, '')) {
    case 'circle':
      return `<circle class="marker" cx="${f(x)}" cy="${f(y)}" r="${r}" ${paint}/>`;
    case 'square':
      return polygon([[-r, -r], [r, -r], [r, r], [-r, r]]);
    case 'triangle':
      return polygon([[0, -r * 1.2], [r * 1.1, r * 0.8], [-r * 1.1, r * 0.8]]);
    case 'triangle-down':
      return polygon([[0, r * 1.2], [r * 1.1, -r * 0.8], [-r * 1.1, -r * 0.8]]);
    case 'diamond':
      return polygon([[0, -r * 1.3], [r * 1.1, 0], [0, r * 1.3], [-r * 1.1, 0]]);
    case 'plus':
      return polygon([[-t, -r * 1.2], [t, -r * 1.2], [t, -t], [r * 1.2, -t], [r * 1.2, t], [t, t], [t, r * 1.2], [-t, r * 1.2], [-t, t], [-r * 1.2, t], [-r * 1.2, -t], [-t, -t]]);
    case 'star':
      return polygon(regular(10, (k) => (k % 2 === 0 ? r * 1.4 : r * 0.6)));
    case 'pentagon':
      return polygon(regular(5, () => r * 1.15));
    default: {
      const a = r * 1.1;
      return polygon([[-a, -a + t], [-a + t, -a], [0, -t], [a - t, -a], [a, -a + t], [t, 0], [a, a - t], [a - t, a], [0, t], [-a + t, a], [-a, a - t], [-t, 0]]);
    }
  }
}

/**
 * Indices of the points that get a marker: all when there are at most `all`, else about
 * `count` evenly spaced ones, shifted by `phase` ∈ [0, 1) so that series do not stack theirs.
 */
export function markedIndices(length: number, phase: number, all = 16, count = 8): number[] {
  if (length <= all) return Array.from({ length }, (_, i) => i);
  const step = (length - 1) / count;
  const out: number[] = [];
  for (let k = 0; k < count; k++) out.push(Math.min(length - 1, Math.round((k + phase) * step)));
  return [...new Set(out)];
}

/**
 * The look of the `index`-th of several keys (methods) each drawn in up to two variants (e.g.
 * sigmoid and tanh implementation): a colour and a marker, and a solid-like and a dashed pattern
 * for the two variants. No two of the first 28 keys share marker and patterns: the first 14
 * differ by marker; the next 14 reuse the markers with other patterns.
 */
export function keyStyle(index: number): { color: string; marker: MarkerShape; solid: string; dashed: string } {
  const round = Math.floor(index / MARKERS.length) % 2;
  return { color: PALETTE[index % PALETTE.length], marker: MARKERS[index % MARKERS.length], solid: round === 0 ? DASHES[0] : DASHES[2], dashed: round === 0 ? DASHES[1] : DASHES[3] };
}
