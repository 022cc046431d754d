/** One line of a chart: points [x, y], drawn in `color`, dashed if `dash`. */
export interface Series {
  name: string;
  color: string;
  dash?: boolean;
  points: Array<[number, number]>;
}

export interface ChartOptions {
  title: string;
  xLabel: string;
  yLabel: string;
  logY?: boolean;
  series: Series[];
  width?: number;
  height?: number;
}

/** A self-contained SVG line chart: labelled axes with ticks, optional log-scale y axis, a legend. */
export function lineChart(o: ChartOptions): string {
  const width = o.width ?? 940;
  const height = o.height ?? 460;
  const legendWidth = 360;
  const m = { left: 70, right: legendWidth + 20, top: 40, bottom: 55 };
  const plotW = width - m.left - m.right;
  const plotH = height - m.top - m.bottom;
  const all = o.series.flatMap((s) => s.points).filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y) && (!o.logY || y > 0));
  const xMax = Math.max(1e-9, ...all.map(([x]) => x));
  const xMin = Math.min(0, ...all.map(([x]) => x));
  const ys = all.map(([, y]) => y);
  let yMin = Math.min(...ys);
  let yMax = Math.max(...ys);
  if (o.logY) {
    yMin = 10 ** Math.floor(Math.log10(Math.max(yMin, 1e-6)));
    yMax = 10 ** Math.ceil(Math.log10(yMax));
  } else {
    yMin = Math.min(0, yMin);
    yMax = yMax > yMin ? yMax : yMin + 1;
  }
  const fy = (y: number) => (o.logY ? (Math.log10(y) - Math.log10(yMin)) / (Math.log10(yMax) - Math.log10(yMin)) : (y - yMin) / (yMax - yMin));
  const px = (x: number) => m.left + ((x - xMin) / (xMax - xMin)) * plotW;
  const py = (y: number) => m.top + plotH - fy(Math.max(y, o.logY ? yMin : -Infinity)) * plotH;
  const out: string[] = [];
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="12">`);
  out.push(`<rect width="${width}" height="${height}" fill="white"/>`);
  out.push(`<text x="${m.left + plotW / 2}" y="22" text-anchor="middle" font-size="15" font-weight="bold">${escape(o.title)}</text>`);
  // Axes and ticks.
  out.push(`<rect x="${m.left}" y="${m.top}" width="${plotW}" height="${plotH}" fill="none" stroke="#333"/>`);
  for (const t of niceTicks(xMin, xMax, 6)) {
    out.push(`<line x1="${px(t)}" y1="${m.top + plotH}" x2="${px(t)}" y2="${m.top + plotH + 5}" stroke="#333"/><line x1="${px(t)}" y1="${m.top}" x2="${px(t)}" y2="${m.top + plotH}" stroke="#eee"/>`);
    out.push(`<text x="${px(t)}" y="${m.top + plotH + 18}" text-anchor="middle">${formatTick(t)}</text>`);
  }
  const yTicks = o.logY ? decades(yMin, yMax) : niceTicks(yMin, yMax, 6);
  for (const t of yTicks) {
    out.push(`<line x1="${m.left - 5}" y1="${py(t)}" x2="${m.left}" y2="${py(t)}" stroke="#333"/><line x1="${m.left}" y1="${py(t)}" x2="${m.left + plotW}" y2="${py(t)}" stroke="#eee"/>`);
    out.push(`<text x="${m.left - 8}" y="${py(t) + 4}" text-anchor="end">${formatTick(t)}</text>`);
  }
  out.push(`<text x="${m.left + plotW / 2}" y="${height - 14}" text-anchor="middle">${escape(o.xLabel)}</text>`);
  out.push(`<text transform="translate(18 ${m.top + plotH / 2}) rotate(-90)" text-anchor="middle">${escape(o.yLabel)}${o.logY ? ' (log scale)' : ''}</text>`);
  // Lines.
  out.push(`<clipPath id="plot"><rect x="${m.left}" y="${m.top}" width="${plotW}" height="${plotH}"/></clipPath><g clip-path="url(#plot)">`);
  for (const s of o.series) {
    const pts = s.points.filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y) && (!o.logY || y > 0));
    if (pts.length === 0) continue;
    const d = pts.map(([x, y], i) => `${i ? 'L' : 'M'}${px(x).toFixed(1)} ${py(y).toFixed(1)}`).join(' ');
    out.push(`<path d="${d}" fill="none" stroke="${s.color}" stroke-width="2"${s.dash ? ' stroke-dasharray="6 4"' : ''}/>`);
  }
  out.push('</g>');
  // Legend.
  o.series.forEach((s, i) => {
    const y = m.top + 10 + i * 18;
    const x = width - legendWidth;
    out.push(`<line x1="${x}" y1="${y}" x2="${x + 26}" y2="${y}" stroke="${s.color}" stroke-width="2"${s.dash ? ' stroke-dasharray="6 4"' : ''}/><text x="${x + 32}" y="${y + 4}">${escape(s.name)}</text>`);
  });
  out.push('</svg>');
  return out.join('\n') + '\n';
}

/** Colours for up to 12 series (colour-blind-safe palette first). */
export const PALETTE = ['#0072B2', '#D55E00', '#009E73', '#CC79A7', '#E69F00', '#56B4E9', '#B8860B', '#000000', '#882255', '#44AA99', '#999933', '#AA4499'];

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
  if (a >= 1e5 || a < 1e-3) return t.toExponential(0);
  return String(Number(t.toPrecision(4)));
}

function escape(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}
