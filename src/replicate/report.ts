import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { KroneckerChoices } from '../methods/methods.js';
import { KRONECKER_FLAGS } from '../train/options-check.js';
import { parseRows, rowLabel } from './rows.js';
import type { Curve, ReplicateBudget, RunResult } from './run.js';
import { ACTIVATION_NAMES, meanCurve, summarise, type ActivationName, type MethodSummary } from './summary.js';
import { lineChart, PALETTE } from './svg.js';
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

/**
 * The figures of Section 4 from the runs: Fig. 2-3 (loss vs time), Fig. 4 (sigmoid vs tanh),
 * Fig. 5 (DGN vs QDBM). A row with an accumulated metric (`METHOD@γ`) is drawn dashed in its
 * method's colour.
 */
export function replicationFigures(results: RunResult[], methods: readonly string[]): Figure[] {
  const rows = parseRows(methods);
  const curves = (m: string, a: ActivationName): Curve[] => results.map((r) => (r.curves[m] as Record<ActivationName, Curve>)[a]);
  const bases = [...new Set(rows.map((r) => r.method as string))];
  const color = (m: string) => PALETTE[bases.indexOf(rows.find((r) => r.key === m)?.method ?? m) % PALETTE.length];
  const accumulated = rows.some((r) => r.metricDecay !== undefined);
  const figures: Figure[] = [];
  for (const a of ACTIVATION_NAMES) {
    figures.push({
      file: `loss-vs-time-${a}.svg`,
      caption: `Loss over time, ${a} implementation, all methods (mean over ${results.length} runs; cf. the paper's Figures 2-3)${accumulated ? '; dashed: the metric accumulated across iterations' : ''}.`,
      svg: lineChart({
        title: `Autoencoder 100-30-10-30-100, ${a}: loss vs time`,
        xLabel: 'time (seconds)',
        yLabel: 'loss (bits per sample)',
        logY: true,
        series: rows.map((r) => ({ name: rowLabel(r), color: color(r.key), ...(r.metricDecay !== undefined ? { dash: true } : {}), points: meanCurve(curves(r.key, a), 1) })),
      }),
    });
  }
  const invariant = methods.filter((m) => ['unitwise-natural', 'quasi-diagonal-natural', 'backpropagated-metric', 'quasi-diagonal-backpropagated-metric'].includes(m));
  if (invariant.length > 0) {
    figures.push({
      file: 'sigmoid-vs-tanh.svg',
      caption: 'Invariant methods in sigmoid (solid) and tanh (dashed) implementation from identical initial outputs, by iteration (mean over runs; cf. Figure 4). ε = 1e-4 breaks exact invariance; the means stay together.',
      svg: lineChart({
        title: 'Sigmoid vs tanh trajectories of the invariant methods',
        xLabel: 'iteration',
        yLabel: 'loss (bits per sample)',
        logY: true,
        series: invariant.flatMap((m) => ACTIVATION_NAMES.map((a) => ({ name: `${m} (${a})`, color: color(m), dash: a === 'tanh', points: meanCurve(curves(m, a), 0) }))),
      }),
    });
  }
  const pair = ['diagonal-gauss-newton', 'quasi-diagonal-backpropagated-metric'].filter((m) => methods.includes(m));
  if (pair.length === 2) {
    figures.push({
      file: 'dgn-vs-qdbm.svg',
      caption: 'Diagonal Gauss-Newton vs the quasi-diagonal backpropagated metric, sigmoid (solid) and tanh (dashed), loss over time (cf. Figure 5): the few non-diagonal terms make the method invariant.',
      svg: lineChart({
        title: 'Diagonal Gauss-Newton vs quasi-diagonal backpropagated metric',
        xLabel: 'time (seconds)',
        yLabel: 'loss (bits per sample)',
        logY: true,
        series: pair.flatMap((m) => ACTIVATION_NAMES.map((a) => ({ name: `${m} (${a})`, color: color(m), dash: a === 'tanh', points: meanCurve(curves(m, a), 1) }))),
      }),
    });
  }
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
${figures.map((f) => `<figure><img src="${f.file}" alt="${escape(f.caption)}" width="940" height="460"><figcaption>${escape(f.caption)}</figcaption></figure>`).join('\n')}
</body>
</html>
`;
}
