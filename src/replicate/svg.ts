import { DEFAULT_DASH, markedIndices, markerSvg, styleFor, type MarkerShape } from './chart-style.js';

export { DASHES, DEFAULT_DASH, keyStyle, MARKERS, PALETTE, styleFor, type MarkerShape, type SeriesStyle } from './chart-style.js';

/**
 * One line of a chart: points [x, y]. Colour, dash and marker left out come from
 * {@link styleFor} of the series' index; `dash: true` is the default dash pattern, a string a
 * `stroke-dasharray`; `marker: 'none'` draws the line alone.
 */
export interface Series {
  name: string;
  color?: string;
  dash?: boolean | string;
  marker?: MarkerShape | 'none';
  points: Array<[number, number]>;
}

export interface ChartOptions {
  title: string;
  xLabel: string;
  yLabel: string;
  logY?: boolean;
  /** Log-scale x axis (points with x ≤ 0 are left out). */
  logX?: boolean;
  /** Where to put the x ticks, labelled with their values (default: round values, or decades on a log axis). */
  xTicks?: number[];
  series: Series[];
  width?: number;
  height?: number;
}

/**
 * A self-contained SVG line chart: labelled axes with ticks, optional log-scale axes, a legend.
 * Each series is a `<g class="series" data-series="i">` (its line and markers) and has one
 * `<g class="legend-entry" data-series="i">`, so that tools can match curves and legend.
 */
export function lineChart(o: ChartOptions): string {
  const width = o.width ?? 940;
  const legendWidth = 360;
  const m = { left: 70, right: legendWidth + 20, top: 40, bottom: 55 };
  const height = Math.max(o.height ?? 460, m.top + 20 + o.series.length * 18 + m.bottom);
  const plotW = width - m.left - m.right;
  const plotH = height - m.top - m.bottom;
  const usable = ([x, y]: [number, number]) => Number.isFinite(x) && Number.isFinite(y) && (!o.logY || y > 0) && (!o.logX || x > 0);
  const all = o.series.flatMap((s) => s.points).filter(usable);
  const xs = all.map(([x]) => x);
  let xMin = o.logX ? Math.min(...xs) : Math.min(0, ...xs);
  let xMax = Math.max(o.logX ? xMin : 1e-9, ...xs);
  if (o.logX && xs.length === 0) [xMin, xMax] = [1, 10];
  else if (o.logX && xMax === xMin) [xMin, xMax] = [xMin / 2, xMax * 2];
  const ys = all.map(([, y]) => y);
  let yMin = Math.min(...ys);
  let yMax = Math.max(...ys);
  if (o.logY) {
    yMin = 10 ** Math.floor(Math.log10(Math.max(yMin, 1e-6)));
    yMax = 10 ** Math.ceil(Math.log10(yMax));
    if (!(yMax > yMin)) yMax = yMin * 10;
  } else {
    yMin = Math.min(0, yMin);
    yMax = yMax > yMin ? yMax : yMin + 1;
  }
  const fy = (y: number) => (o.logY ? (Math.log10(y) - Math.log10(yMin)) / (Math.log10(yMax) - Math.log10(yMin)) : (y - yMin) / (yMax - yMin));
  const fx = (x: number) => (o.logX ? (Math.log10(x) - Math.log10(xMin)) / (Math.log10(xMax) - Math.log10(xMin)) : (x - xMin) / (xMax - xMin));
  const px = (x: number) => m.left + fx(x) * plotW;
  const py = (y: number) => m.top + plotH - fy(Math.max(y, o.logY ? yMin : -Infinity)) * plotH;
  const clip = `plot-${hash(o.title + o.series.map((s) => s.name).join('\n'))}`;
  const out: string[] = [];
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="12">`);
  out.push(`<rect width="${width}" height="${height}" fill="white"/>`);
  out.push(`<text x="${m.left + plotW / 2}" y="22" text-anchor="middle" font-size="15" font-weight="bold">${escape(o.title)}</text>`);
  // Axes and ticks.
  out.push(`<rect x="${m.left}" y="${m.top}" width="${plotW}" height="${plotH}" fill="none" stroke="#333"/>`);
  const xTicks = (o.xTicks ?? (o.logX ? decades(xMin, xMax) : niceTicks(xMin, xMax, 6))).filter((t) => t >= xMin * (1 - 1e-9) && t <= xMax * (1 + 1e-9));
  for (const t of xTicks) {
    out.push(`<line x1="${px(t)}" y1="${m.top + plotH}" x2="${px(t)}" y2="${m.top + plotH + 5}" stroke="#333"/><line x1="${px(t)}" y1="${m.top}" x2="${px(t)}" y2="${m.top + plotH}" stroke="#eee"/>`);
    out.push(`<text x="${px(t)}" y="${m.top + plotH + 18}" text-anchor="middle">${formatTick(t)}</text>`);
  }
  const yTicks = o.logY ? decades(yMin, yMax) : niceTicks(yMin, yMax, 6);
  for (const t of yTicks) {
    out.push(`<line x1="${m.left - 5}" y1="${py(t)}" x2="${m.left}" y2="${py(t)}" stroke="#333"/><line x1="${m.left}" y1="${py(t)}" x2="${m.left + plotW}" y2="${py(t)}" stroke="#eee"/>`);
    out.push(`<text x="${m.left - 8}" y="${py(t) + 4}" text-anchor="end">${formatTick(t)}</text>`);
  }
  out.push(`<text x="${m.left + plotW / 2}" y="${height - 14}" text-anchor="middle">${escape(o.xLabel)}${o.logX ? ' (log scale)' : ''}</text>`);
  out.push(`<text transform="translate(18 ${m.top + plotH / 2}) rotate(-90)" text-anchor="middle">${escape(o.yLabel)}${o.logY ? ' (log scale)' : ''}</text>`);
  const styles = o.series.map((s, i) => {
    const auto = styleFor(i);
    const dash = s.dash === true ? DEFAULT_DASH : typeof s.dash === 'string' ? s.dash : s.color !== undefined ? '' : auto.dash;
    return { color: s.color ?? auto.color, dash, marker: s.marker ?? auto.marker };
  });
  const stroke = (i: number) => `stroke="${styles[i].color}" stroke-width="2"${styles[i].dash ? ` stroke-dasharray="${styles[i].dash}"` : ''}`;
  // Lines and markers.
  out.push(`<clipPath id="${clip}"><rect x="${m.left - 6}" y="${m.top - 6}" width="${plotW + 12}" height="${plotH + 12}"/></clipPath><g clip-path="url(#${clip})">`);
  o.series.forEach((s, i) => {
    const pts = s.points.filter(usable);
    out.push(`<g class="series" data-series="${i}" data-name="${escape(s.name)}">`);
    if (pts.length > 0) {
      const d = pts.map(([x, y], k) => `${k ? 'L' : 'M'}${px(x).toFixed(1)} ${py(y).toFixed(1)}`).join(' ');
      out.push(`<path d="${d}" fill="none" ${stroke(i)}/>`);
      const marker = styles[i].marker;
      if (marker !== 'none') for (const k of markedIndices(pts.length, (i * 0.37) % 1)) out.push(markerSvg(marker, px(pts[k][0]), py(pts[k][1]), styles[i].color));
    }
    out.push('</g>');
  });
  out.push('</g>');
  // Legend.
  o.series.forEach((s, i) => {
    const y = m.top + 10 + i * 18;
    const x = width - legendWidth;
    const marker = styles[i].marker;
    out.push(`<g class="legend-entry" data-series="${i}"><line x1="${x}" y1="${y}" x2="${x + 30}" y2="${y}" ${stroke(i)}/>${marker !== 'none' ? markerSvg(marker, x + 15, y, styles[i].color) : ''}<text x="${x + 36}" y="${y + 4}">${escape(s.name)}</text></g>`);
  });
  out.push('</svg>');
  return out.join('\n') + '\n';
}

function niceTicks(min: number, max: number, count: number): number[] {
  const span = max - min || 1;
  const step0 = span / count;
  const magnitude = 10 ** Math.floor(Math.log10(step0));
  const step = [1, 2, 5, 10].map((f) => f * magnitude).find((s) => s >= step0) ?? 10 * magnitude;
  const ticks: number[] = [];
  for (let t = Math.ceil(min / step) * step; t <= max + step * 1e-9; t += step) ticks.push(Number(t.toPrecision(12)));
  return ticks;
}

function decades(min: number, max: number): number[] {
  const out: number[] = [];
  for (let e = Math.round(Math.log10(min)); e <= Math.round(Math.log10(max)); e++) out.push(10 ** e);
  return out;
}

function formatTick(t: number): string {
  if (t === 0) return '0';
  const a = Math.abs(t);
  if (a >= 1e6 || a < 1e-3) return t.toExponential(0);
  return String(Number(t.toPrecision(4)));
}

/** A short deterministic hash (ids unique per chart when several SVGs are inlined in one page). */
function hash(text: string): string {
  let h = 2166136261;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 16777619);
  return (h >>> 0).toString(36);
}

function escape(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}
