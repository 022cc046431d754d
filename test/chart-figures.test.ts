import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { scalingCharts, type ScalingResult } from '../src/bench/scaling.js';
import { createModel } from '../src/engine/model.js';
import { evaluateModel } from '../src/evaluate/evaluate.js';
import { generateAutoencoder } from '../src/generate/autoencoder.js';
import { generateBinaryData } from '../src/generate/data.js';
import { METHODS } from '../src/methods/methods.js';
import { keyStyle, styleFor } from '../src/replicate/chart-style.js';
import { replicationFigures, writeReplicationReport } from '../src/replicate/report.js';
import { rerenderReplicationReport } from '../src/replicate/rerender.js';
import { runAutoencoder, type Curve, type RunResult } from '../src/replicate/run.js';
import { meanCurve } from '../src/replicate/summary.js';
import { lineChart } from '../src/replicate/svg.js';
import { train } from '../src/train/trainer.js';

/** Per drawn series of an SVG chart: its stroke, dash pattern and marker element, and the legend entries. */
function chartStyles(svg: string): { series: string[]; legend: string[]; names: string[] } {
  const groups = [...svg.matchAll(/<g class="series" data-series="(\d+)" data-name="([^"]*)">([\s\S]*?)<\/g>/g)];
  const series = groups.map(([, , , body]) => {
    const path = /<path d="[^"]*" fill="none" stroke="([^"]+)" stroke-width="2"(?: stroke-dasharray="([^"]+)")?/.exec(body);
    const marker = /<(circle|polygon) class="marker" (?:cx="[^"]*" cy="[^"]*" r="[^"]*"|points="[^"]*") fill="([^"]+)"/.exec(body);
    // The marker's shape: a circle, or a polygon's vertex offsets from its first vertex; and whether it is filled.
    const outline = marker?.[1] === 'circle' ? 'circle' : (/points="([^"]+)"/.exec(body)?.[1] ?? '').split(' ').map((p) => p.split(',').map(Number)).map(([x, y], _, all) => `${(x - all[0][0]).toFixed(1)},${(y - all[0][1]).toFixed(1)}`).join(' ');
    return `${path?.[1]}|${path?.[2] ?? ''}|${outline} ${marker?.[2] === 'white' ? 'open' : 'filled'}`;
  });
  const legend = [...svg.matchAll(/<g class="legend-entry" data-series="(\d+)">/g)].map((m) => m[1]);
  return { series, legend, names: groups.map((g) => g[2]) };
}

/** A series' look without its colour: dash and marker. */
const withoutColour = (style: string) => style.split('|').slice(1).join('|');

describe('chart styles', () => {
  it('no two of 56 automatic styles share marker and dash: series are never told apart by colour alone', () => {
    const styles = Array.from({ length: 56 }, (_, i) => styleFor(i));
    expect(new Set(styles.map((s) => `${s.marker}|${s.dash}`)).size).toBe(56);
    const keys = Array.from({ length: 28 }, (_, i) => keyStyle(i));
    expect(new Set(keys.flatMap((k) => [`${k.marker}|${k.solid}`, `${k.marker}|${k.dashed}`])).size).toBe(56);
  });

  it('a chart of 20 series without colours draws each in its own colour/dash/marker, with one legend entry per series', () => {
    const svg = lineChart({ title: 't', xLabel: 'x', yLabel: 'y', series: Array.from({ length: 20 }, (_, i) => ({ name: `s${i}`, points: [[0, i], [1, i + 1], [2, i + 2]] as Array<[number, number]> })) });
    const { series, legend } = chartStyles(svg);
    expect(series).toHaveLength(20);
    expect(new Set(series.map(withoutColour)).size).toBe(20);
    expect(legend).toEqual(series.map((_, i) => String(i)));
  });

  it('keeps the old API: a given colour and `dash: true` are drawn as given; marker none draws the line alone', () => {
    const svg = lineChart({ title: 't', xLabel: 'x', yLabel: 'y', logY: true, series: [{ name: 'a', color: '#123456', dash: true, points: [[0, 1], [1, 10]] }, { name: 'b', color: '#654321', marker: 'none', points: [[0, 2], [1, 3]] }] });
    expect(svg).toMatch(/<path d="[^"]*" fill="none" stroke="#123456" stroke-width="2" stroke-dasharray="6 4"\/>/);
    expect(svg).toMatch(/<path d="[^"]*" fill="none" stroke="#654321" stroke-width="2"\/>/);
    expect(svg.match(/class="marker"[^>]*#654321/g)).toBeNull();
  });

  it('a log x axis is labelled with the given ticks', () => {
    const svg = lineChart({ title: 't', xLabel: 'units', yLabel: 'y', logX: true, logY: true, xTicks: [20000, 40000, 80000, 160000], series: [{ name: 'a', points: [[20000, 1], [40000, 2], [80000, 4], [160000, 8]] }] });
    for (const t of ['20000', '40000', '80000', '160000']) expect(svg).toContain(`>${t}</text>`);
    expect(svg).toContain('units (log scale)');
    expect(svg.match(/class="marker"/g)).toHaveLength(4 + 1); // one per measured size, one in the legend
  });
});

describe('replication curves and figures', () => {
  it('a curve starts at the loss before iteration 1 (a record holds the loss after its step)', { timeout: 60_000 }, async () => {
    const layers = [10, 6, 5, 6, 10];
    const result = await runAutoencoder(0, { seed: 1, layers, samples: 4, methods: ['backprop'], budget: { kind: 'iterations', iterations: 3 } });
    const curve = result.curves.backprop?.sigmoid as Curve;
    const document = generateAutoencoder({ seed: 1, activation: 'sigmoid', layers });
    const data = generateBinaryData({ seed: 1, samples: 4, length: 10 });
    const initial = evaluateModel(createModel(document), data).lossBits;
    expect(curve.initialLoss).toBe(initial);
    expect(curve.points[0]).toEqual([0, 0, Number(initial.toPrecision(6))]);
    expect(curve.points.map((p) => p[0])).toEqual([0, 1, 2, 3]);
    // The records: an accepted step reports the loss after it, a rejected one the loss before it (the initial loss here).
    const after: number[] = [];
    await train(createModel(document), data, { method: 'backprop', lr: 0.01, seed: 1 }, { iterations: 1 }, { onIteration: (r) => after.push(r.loss) });
    expect(after[0]).toBeLessThan(initial);
    expect(Number(after[0].toPrecision(6))).toBe(curve.points[1][2]);
    const rejected: Array<{ loss: number; accepted: boolean }> = [];
    await train(createModel(document), data, { method: 'backprop', lr: 1e6, seed: 1 }, { iterations: 1 }, { onIteration: (r) => rejected.push(r) });
    expect(rejected[0].accepted).toBe(false);
    expect(rejected[0].loss).toBeCloseTo(initial, 9);
  });

  const curve = (initial: boolean, scale: number): Curve => {
    const points: Array<[number, number, number]> = [[1, 0.1, 90 * scale], [10, 1, 50 * scale], [100, 10, 10 * scale]];
    return { iterations: 100, seconds: 10, initialLoss: initial ? 100 * scale : 90 * scale, finalLoss: 10 * scale, points: initial ? [[0, 0, 100 * scale], ...points] : points };
  };

  it('mean curves start at the initial loss, or, for curves recorded without it, at the first record (nothing invented before it)', () => {
    expect(meanCurve([curve(true, 1), curve(true, 2)], 0)[0]).toEqual([0, 150]);
    expect(meanCurve([curve(false, 1), curve(false, 2)], 0)[0]).toEqual([1, 135]);
    expect(meanCurve([curve(false, 1)], 1)[0]).toEqual([0.1, 90]);
    expect(meanCurve([curve(true, 1)], 0).at(-1)).toEqual([100, 10]);
  });

  it("draws the paper's Figures 2-5 with the tables' names, a legend entry per curve, no two curves alike", () => {
    const methods = ['backprop', 'diagonal-gauss-newton', 'adagrad', 'unitwise-natural', 'quasi-diagonal-natural', 'backpropagated-metric', 'quasi-diagonal-backpropagated-metric', 'mc-unitwise-natural', 'mc-quasi-diagonal-natural', 'unitwise-op'];
    const results: RunResult[] = [0, 1].map((run) => ({ run, seed: run + 1, backend: 'cpu', curves: Object.fromEntries(methods.map((m, i) => [m, { sigmoid: curve(true, 1 + i / 10), tanh: curve(true, 1 + i / 20) }])) }));
    const figures = replicationFigures(results, methods);
    expect(figures.map((f) => f.file)).toEqual(['figure2.svg', 'figure3.svg', 'sigmoid-vs-tanh.svg', 'dgn-vs-qdbm.svg', 'loss-vs-time-sigmoid.svg', 'loss-vs-time-tanh.svg']);
    expect(figures.map((f) => /^Figure (\w+):/.exec(f.caption)?.[1])).toEqual(['2', '3', '4', '5', 'S1', 'S2']);
    for (const f of figures) {
      const { series, legend, names } = chartStyles(f.svg);
      expect(legend, f.file).toEqual(series.map((_, i) => String(i)));
      expect(new Set(series.map(withoutColour)).size, f.file).toBe(series.length);
      expect(f.caption).toContain('Curves start at the initial loss');
      if (f.file === 'figure2.svg') expect(names).toEqual(['Backpropagation (sigmoid)', 'Backpropagation (tanh)', 'Unitwise natural gradient (sigmoid)', 'Quasi-diagonal natural gradient (sigmoid)', 'Backpropagated metric (sigmoid)', 'Quasi-diagonal backpropagated metric (sigmoid)']);
      if (f.file === 'figure3.svg') expect(names).toHaveLength(3 * 2 + 7); // the non-invariant in both implementations, the invariant in tanh
      if (f.file === 'dgn-vs-qdbm.svg') expect(names).toEqual(['Diagonal Gauss-Newton (sigmoid)', 'Diagonal Gauss-Newton (tanh)', 'Quasi-diagonal backpropagated metric (sigmoid)', 'Quasi-diagonal backpropagated metric (tanh)']);
    }
    // adagrad and unitwise-op, the two quasi-diagonal methods: told apart by marker as well as colour.
    const s1 = chartStyles(figures[4].svg);
    const style = (name: string) => s1.series[s1.names.indexOf(name)].split('|');
    expect(style('AdaGrad (batch)')[2]).not.toBe(style('Unitwise OP gradient')[2]);
    expect(style('Quasi-diagonal natural gradient')[2]).not.toBe(style('Quasi-diagonal backpropagated metric')[2]);
    // Every method of the library: 17 rows, 22 curves in Figure 3, still none alike without colour.
    const every = replicationFigures(results.map((r) => ({ ...r, curves: Object.fromEntries(METHODS.map((m) => [m, r.curves.backprop])) })), METHODS);
    const figure3 = chartStyles(every[1].svg);
    expect(figure3.series).toHaveLength(22);
    expect(new Set(figure3.series.map(withoutColour)).size).toBe(22);
    const old = replicationFigures([{ run: 0, seed: 1, backend: 'cpu', curves: { backprop: { sigmoid: curve(false, 1), tanh: curve(false, 1) } } }], ['backprop']);
    expect(old[0].caption).toContain('recorded without the initial loss: curves start after iteration 1');
  });

  it('a recorded folder is redrawn from its curves alone, to the same report; a folder without curves is a usage error', () => {
    const methods = ['backprop', 'unitwise-natural'];
    const results: RunResult[] = [0, 1].map((run) => ({ run, seed: run + 1, backend: 'cpu', curves: Object.fromEntries(methods.map((m) => [m, { sigmoid: curve(true, 1), tanh: curve(true, 2) }])) }));
    const dir = mkdtempSync(join(tmpdir(), 'unitwise-redraw-'));
    writeReplicationReport(dir, { results, methods, budget: { kind: 'iterations', iterations: 100 }, seed: 1, wallSeconds: 2, extraSections: [{ title: 'Extra', markdown: '| a | b |\n|---|---|\n| 1 | 2 |\n' }] });
    const written = Object.fromEntries(['index.html', 'report.md', 'figure3.svg'].map((f) => [f, readFileSync(join(dir, f), 'utf8')]));
    // report.md holds the tables the page shows: its figure list is rewritten, the rest kept.
    writeFileSync(join(dir, 'report.md'), written['report.md'].replace(/## Figures[\s\S]*/, '## Figures\n\nstale\n'));
    for (const f of ['index.html', 'figure3.svg']) writeFileSync(join(dir, f), 'stale');
    expect(rerenderReplicationReport(dir).runs).toBe(2);
    for (const [f, text] of Object.entries(written)) expect(readFileSync(join(dir, f), 'utf8'), f).toBe(text);
    expect(() => rerenderReplicationReport(tmpdir())).toThrow(/no recorded curves/);
  });

  it('scaling charts label the measured sizes on a log axis, with a marker at each', () => {
    const points = (values: number[], sweep: 'units' | 'fanIn') => values.map((v, i) => ({ units: sweep === 'units' ? v : 40000, fanIn: sweep === 'fanIn' ? v : 8, outputs: 8, edges: 1000 * (i + 1), secondsPerSample: 1e-5 * (i + 1) }));
    const entry = (values: number[], sweep: 'units' | 'fanIn') => ({ values, methods: { backprop: { points: points(values, sweep), exponent: 1, lastExponent: 1, expected: 1 }, 'unitwise-natural': { points: points(values, sweep), exponent: 2, lastExponent: 2, expected: 2 } } });
    const result: ScalingResult = { backend: 'cpu', detail: 'cpu', batch: 16, peakMemory: {}, sweeps: { units: entry([20000, 40000, 80000, 160000], 'units'), fanIn: entry([4, 8, 16, 32], 'fanIn'), outputs: entry([4, 8, 16, 32], 'units') } };
    const charts = scalingCharts(result);
    for (const t of ['20000', '40000', '80000', '160000']) expect(charts.units).toContain(`>${t}</text>`);
    for (const t of ['4', '8', '16', '32']) expect(charts.fanIn).toContain(`>${t}</text>`);
    expect(charts.fanIn).toContain('fan-in d (40000 units, 8 outputs) (log scale)');
    expect(charts.units).toContain('Unitwise natural gradient: 2.00 (paper 2)');
    const { series, legend } = chartStyles(charts.units);
    expect(legend).toHaveLength(2);
    expect(new Set(series.map(withoutColour)).size).toBe(2);
    expect(charts.units.match(/class="marker"/g)).toHaveLength(2 * 4 + 2);
  });
});
