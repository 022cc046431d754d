/**
 * How the series of a chart tell themselves apart without colour: a colour-blind-safe palette,
 * point markers and dash patterns, combined so that no two of the first
 * `PALETTE.length × DASHES.length` series share colour, marker and dash (see {@link styleFor}).
 */

/** Okabe & Ito's colour-blind-safe palette (its yellow left out: unreadable on white). */
export const PALETTE = ['#0072B2', '#D55E00', '#009E73', '#CC79A7', '#E69F00', '#56B4E9', '#000000'];

/** Marker shapes, as many as {@link PALETTE} colours, drawn by {@link markerSvg}. */
export const MARKERS = ['circle', 'square', 'triangle', 'diamond', 'cross', 'triangle-down', 'plus'] as const;
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
 * The style of the `index`-th series: colour and marker step together through their seven
 * values, the dash pattern changes every seven series; so series i and j share a colour only
 * when they also share the marker and then differ in dash (up to 28 series), and two series are
 * never told apart by colour alone.
 */
export function styleFor(index: number): SeriesStyle {
  const n = PALETTE.length;
  return { color: PALETTE[index % n], marker: MARKERS[index % n], dash: DASHES[Math.floor(index / n) % DASHES.length] };
}

/** An SVG marker of `shape` centred at (x, y), radius about `r`, in `color` (white-filled open shapes keep lines visible). */
export function markerSvg(shape: MarkerShape, x: number, y: number, color: string, r = 4): string {
  const f = (v: number) => v.toFixed(1);
  const polygon = (pts: Array<[number, number]>) => `<polygon class="marker" points="${pts.map(([dx, dy]) => `${f(x + dx)},${f(y + dy)}`).join(' ')}" fill="${color}" stroke="${color}"/>`;
  const t = r * 0.35;
  switch (shape) {
    case 'circle':
      return `<circle class="marker" cx="${f(x)}" cy="${f(y)}" r="${r}" fill="${color}"/>`;
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
    case 'cross': {
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
 * Colour and marker of the `index`-th of several keys (methods) whose series the caller tells
 * apart by dash itself (e.g. solid sigmoid, dashed tanh): distinct (colour, marker) pairs for
 * the first 49 keys, the marker shifting by three every seven keys.
 */
export function keyStyle(index: number): { color: string; marker: MarkerShape } {
  const n = PALETTE.length;
  return { color: PALETTE[index % n], marker: MARKERS[(index + 3 * Math.floor(index / n)) % n] };
}
