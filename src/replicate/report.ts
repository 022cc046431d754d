import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { KroneckerChoices } from '../methods/methods.js';
import { KRONECKER_FLAGS } from '../train/options-check.js';
import { METHOD_SPECS } from '../methods/methods.js';
import { parseRows, rowTitle, type ReplicateRow } from './rows.js';
import { hasInitialPoint, type Curve, type ReplicateBudget, type RunResult } from './run.js';
import { ACTIVATION_NAMES, meanCurve, summarise, type ActivationName, type MethodSummary } from './summary.js';
import { DEFAULT_DASH, keyStyle, lineChart, type Series } from './svg.js';
import { describeBudget, mixedBudgets, table1Markdown, table2Markdown } from './tables.js';

export interface Figure {
  file: string;
  caption: string;
  svg: string;
}

export interface ReportInput {
  results: RunResult[];
  /** Row keys, in table order (method names, or `METHOD@γ`). */
  methods: string[];
  budget: ReplicateBudget;
  /** The Kronecker choices the runs were given (recorded in the tables' JSON and the report). */
  kronecker?: KroneckerChoices;
  seed: number;
  /** Extra Markdown sections (e.g. the invariance table of the main job). */
  extraSections?: Array<{ title: string; markdown: string }>;
  wallSeconds: number;
}

export interface ReportFiles {
  summaries: MethodSummary[];
  table1: string;
  table2: string;
  figures: Figure[];
}

/** Section 1's four algorithms, drawn beside backprop in the paper's Figure 2. */
const SECTION1_METHODS = ['unitwise-natural', 'quasi-diagonal-natural', 'backpropagated-metric', 'quasi-diagonal-backpropagated-metric'];

/**
 * The figures of Section 4 from the runs, numbered and captioned as the paper's: Figure 2
 * (backprop sigmoid and tanh with Section 1's four algorithms, loss vs time), Figure 3 (every
 * row over time; the invariant ones in tanh implementation only), Figure 4 (Section 1's
 * invariant algorithms in sigmoid and tanh implementation, by iteration), Figure 5 (diagonal Gauss-Newton vs
 * QDBM), then every row per implementation (Figures S1, S2). Each row keeps one colour and
 * marker throughout; sigmoid is solid, tanh dashed; legends use the tables' names.
 */
export function replicationFigures(results: RunResult[], methods: readonly string[]): Figure[] {
  const rows = parseRows(methods);
  const byKey = new Map(rows.map((r, i) => [r.key, { row: r, style: keyStyle(i) }]));
  const curves = (m: string, a: ActivationName): Curve[] => results.map((r) => (r.curves[m] as Record<ActivationName, Curve>)[a]);
  const has = (m: string) => byKey.has(m);
  const series = (key: string, a: ActivationName, x: 0 | 1, suffix = true) => {
    const { row, style } = byKey.get(key) as { row: ReplicateRow; style: ReturnType<typeof keyStyle> };
    return { name: suffix ? `${rowTitle(row)} (${a})` : rowTitle(row), ...style, dash: a === 'tanh' ? DEFAULT_DASH : '', points: meanCurve(curves(key, a), x) };
  };
  const runs = `mean over ${results.length} run${results.length === 1 ? '' : 's'}`;
  const start = results.every((r) => Object.values(r.curves).every((c) => c !== undefined && hasInitialPoint(c.sigmoid) && hasInitialPoint(c.tanh)))
    ? 'Curves start at the initial loss (iteration 0, time 0).'
    : 'These runs were recorded without the initial loss: curves start after iteration 1.';
  const chart = (title: string, xLabel: string, s: Series[]) => lineChart({ title, xLabel, yLabel: 'loss (bits per sample)', logY: true, series: s });
  const figures: Figure[] = [];
  const fig = (file: string, caption: string, title: string, x: 0 | 1, s: Series[]) =>
    figures.push({ file, caption: `${caption} ${runs[0].toUpperCase()}${runs.slice(1)}. ${start}`, svg: chart(title, x === 1 ? 'time (seconds)' : 'iteration', s) });
  const section1 = SECTION1_METHODS.filter(has);
  if (has('backprop') && section1.length > 0) {
    fig('figure2.svg', 'Figure 2: Auto-encoding using a 100–30–10–30–100 deep sparsely connected network. Comparison of backpropagation using sigmoid (solid) and tanh (dashed) activation, and the four algorithms described in Section 1 (sigmoid implementation), over time.', 'Figure 2: backpropagation (sigmoid, tanh) and the algorithms of Section 1', 1, [
      series('backprop', 'sigmoid', 1),
      series('backprop', 'tanh', 1),
      ...section1.map((m) => series(m, 'sigmoid', 1)),
    ]);
  }
  const invariant = rows.filter((r) => METHOD_SPECS[r.method].invariant);
  // The paper's Figure 4 checks Section 1's four algorithms; other invariant rows only where none of them ran.
  const checked = invariant.some((r) => SECTION1_METHODS.includes(r.key)) ? invariant.filter((r) => SECTION1_METHODS.includes(r.key)) : invariant;
  fig('figure3.svg', 'Figure 3: Performance over time of all algorithms involved. For readability the trajectories of the invariant algorithms are plotted only in tanh implementation (dashed); the non-invariant ones in sigmoid (solid) and tanh (dashed).', 'Figure 3: loss over time, all methods', 1,
    rows.flatMap((r) => (METHOD_SPECS[r.method].invariant ? [series(r.key, 'tanh', 1)] : [series(r.key, 'sigmoid', 1), series(r.key, 'tanh', 1)])));
  if (checked.length > 0) {
    fig('sigmoid-vs-tanh.svg', 'Figure 4: Double-checking invariance: the trajectories of the invariant algorithms (Section 1’s four where they ran) in sigmoid (solid) and tanh (dashed) implementation from identical initial outputs, by iteration. ε = 1e-4 breaks exact invariance; the means stay together.', 'Figure 4: invariant methods, sigmoid vs tanh', 0,
      checked.flatMap((r) => ACTIVATION_NAMES.map((a) => series(r.key, a, 0))));
  }
  if (has('diagonal-gauss-newton') && has('quasi-diagonal-backpropagated-metric')) {
    fig('dgn-vs-qdbm.svg', 'Figure 5: Effect of introducing a few non-diagonal terms: the diagonal Gauss-Newton and the quasi-diagonal backpropagated metric methods in sigmoid (solid) and tanh (dashed) implementation, over time.', 'Figure 5: diagonal Gauss-Newton vs quasi-diagonal backpropagated metric', 1,
      ['diagonal-gauss-newton', 'quasi-diagonal-backpropagated-metric'].flatMap((m) => ACTIVATION_NAMES.map((a) => series(m, a, 1))));
  }
  ACTIVATION_NAMES.forEach((a, i) =>
    fig(`loss-vs-time-${a}.svg`, `Figure S${i + 1}: Loss over time of every method in ${a} implementation.`, `Figure S${i + 1}: loss over time, all methods, ${a}`, 1, rows.map((r) => series(r.key, a, 1, false))),
  );
  return figures;
}

/**
 * Writes the replication's output folder: table1.json|md, table2.json|md, curves/run-NN.json,
 * the SVG figures, report.md and index.html (which shows the tables and figures).
 */
export function writeReplicationReport(dir: string, input: ReportInput): ReportFiles {
  mkdirSync(join(dir, 'curves'), { recursive: true });
  const summaries = summarise(input.results, input.methods, input.budget);
  const budgetSeconds = input.results.map((r) => r.budgetSeconds).filter((x): x is number => x !== undefined);
  const table1 = table1Markdown(summaries, input.budget, budgetSeconds);
  const table2 = table2Markdown(summaries, input.results.length, input.budget, budgetSeconds);
  const kronecker = Object.fromEntries(Object.entries(input.kronecker ?? {}).filter(([, v]) => v !== undefined));
  const meta = {
    runs: input.results.length,
    seed: input.seed,
    budget: input.budget,
    wallSeconds: input.wallSeconds,
    ...(budgetSeconds.length ? { budgetSecondsPerRun: budgetSeconds } : {}),
    ...(Object.keys(kronecker).length ? { kronecker } : {}),
  };
  // NOTE: the default rows write exactly the fields they always did; a row's budget is added
  // where rows got different kinds of budget, its γ where it has one.
  const mixed = mixedBudgets(summaries, input.budget);
  const extra = (s: MethodSummary) => ({ ...(s.row.metricDecay !== undefined ? { metricDecay: s.row.metricDecay } : {}), ...(mixed ? { budget: s.budget } : {}) });
  writeFileSync(join(dir, 'table1.json'), JSON.stringify({ ...meta, methods: summaries.map((s) => ({ method: s.method, ...extra(s), iterations: s.iterations, seconds: s.seconds, paperIterations: s.paperIterations })) }, null, 2) + '\n');
  writeFileSync(join(dir, 'table2.json'), JSON.stringify({ ...meta, methods: summaries.map((s) => ({ method: s.method, ...extra(s), invariant: s.invariant, loss: s.loss, paperLoss: s.paperLoss })) }, null, 2) + '\n');
  writeFileSync(join(dir, 'table1.md'), table1);
  writeFileSync(join(dir, 'table2.md'), table2);
  for (const r of input.results) writeFileSync(join(dir, 'curves', `run-${String(r.run).padStart(2, '0')}.json`), JSON.stringify(r) + '\n');
  const figures = replicationFigures(input.results, input.methods);
  for (const f of figures) writeFileSync(join(dir, f.file), f.svg);
  const title = `unitwise: replication of Section 4 (${input.results.length} runs, ${describeBudget(input.budget)} budget)`;
  const sections = [
    { title: 'Table 1', markdown: table1 },
    { title: 'Table 2', markdown: table2 },
    ...(input.extraSections ?? []),
  ];
  const report = [
    `# ${title}`,
    '',
    `Seed ${input.seed}; wall time ${input.wallSeconds.toFixed(1)} s. Each run: a fresh seeded 100-30-10-30-100 sparse network, 16 random binary strings, Bernoulli outputs, batch mode with the adaptive rate, ε = 1e-4, every method from the sigmoid network and from its converted tanh twin.${kroneckerSentence(kronecker)}`,
    '',
    ...sections.flatMap((s) => [`## ${s.title}`, '', s.markdown, '']),
    '## Figures',
    '',
    ...figures.flatMap((f) => [`![${f.caption}](${f.file})`, '', f.caption, '']),
  ].join('\n');
  writeFileSync(join(dir, 'report.md'), report);
  writeFileSync(join(dir, 'index.html'), html(title, sections, figures));
  return { summaries, table1, table2, figures };
}

/** The report's sentence on the Kronecker choices given (empty when none). */
function kroneckerSentence(choices: KroneckerChoices): string {
  const given = (Object.keys(KRONECKER_FLAGS) as Array<keyof KroneckerChoices>).filter((k) => choices[k] !== undefined);
  return given.length ? ` Kronecker-factored rows: ${given.map((k) => `${KRONECKER_FLAGS[k]} ${choices[k]}`).join(', ')} (the others at their defaults).` : '';
}

/** A standalone page (no external resources) with the tables and the figures. */
export function html(title: string, sections: Array<{ title: string; markdown: string }>, figures: Figure[]): string {
  const escape = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
  const table = (markdown: string) => {
    const lines = markdown.trim().split('\n');
    const rows = lines.filter((l) => l.startsWith('|') && !/^\|[-| ]+\|$/.test(l)).map((l) => l.slice(1, -1).split('|').map((c) => escape(c.trim())));
    const text = lines.filter((l) => !l.startsWith('|') && l.trim() !== '').map((l) => `<p>${escape(l)}</p>`).join('');
    if (rows.length === 0) return text;
    const [head, ...body] = rows;
    return `${text}<table><thead><tr>${head.map((c) => `<th>${c}</th>`).join('')}</tr></thead><tbody>${body.map((r) => `<tr>${r.map((c) => `<td>${c}</td>`).join('')}</tr>`).join('')}</tbody></table>`;
  };
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>${escape(title)}</title>
<style>
body { font-family: sans-serif; max-width: 1100px; margin: 2em auto; padding: 0 1em; color: #222; }
table { border-collapse: collapse; margin: 1em 0; }
th, td { border: 1px solid #ccc; padding: 4px 10px; text-align: right; }
th:first-child, td:first-child { text-align: left; }
figure { margin: 2em 0; }
figcaption { color: #555; max-width: 760px; }
</style>
</head>
<body>
<h1>${escape(title)}</h1>
${sections.map((s) => `<h2>${escape(s.title)}</h2>\n${table(s.markdown)}`).join('\n')}
<h2>Figures</h2>
${figures.map((f) => `<figure><img src="${f.file}" alt="${escape(f.caption)}" width="940"><figcaption>${escape(f.caption)}</figcaption></figure>`).join('\n')}
</body>
</html>
`;
}
