import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { UsageError, problem } from '../errors.js';
import { html, replicationFigures, type Figure } from './report.js';
import type { RunResult } from './run.js';

/** What {@link rerenderReplicationReport} did: the figures written and whether the curves held the initial loss. */
export interface RerenderResult {
  figures: Figure[];
  runs: number;
}

/**
 * Redraws the figures of a recorded replication folder from what it recorded (`curves/run-NN.json`
 * and the rows of `table1.json`), without training: the SVGs, the figure list of `report.md`,
 * and `index.html` (its tables taken from `report.md`'s sections). Curves recorded before the
 * initial loss was kept start after iteration 1, and the captions say so. Throws a
 * {@link UsageError} for a folder without recorded curves.
 */
export function rerenderReplicationReport(dir: string): RerenderResult {
  let names: string[];
  try {
    names = readdirSync(join(dir, 'curves')).filter((f) => /^run-\d+\.json$/.test(f)).sort();
  } catch {
    names = [];
  }
  if (names.length === 0) throw new UsageError([problem('curves', `${dir}: no recorded curves (curves/run-NN.json): the figures can only be redrawn by running the replication again`)]);
  const results = names.map((f) => JSON.parse(readFileSync(join(dir, 'curves', f), 'utf8')) as RunResult);
  const methods = (JSON.parse(readFileSync(join(dir, 'table1.json'), 'utf8')) as { methods: Array<{ method: string }> }).methods.map((m) => m.method);
  const figures = replicationFigures(results, methods);
  for (const f of figures) writeFileSync(join(dir, f.file), f.svg);
  const report = readFileSync(join(dir, 'report.md'), 'utf8');
  const head = report.slice(0, report.indexOf('\n## Figures'));
  writeFileSync(join(dir, 'report.md'), [head, '## Figures', '', ...figures.flatMap((f) => [`![${f.caption}](${f.file})`, '', f.caption, ''])].join('\n'));
  const title = /^# (.*)$/m.exec(head)?.[1] ?? 'unitwise: replication of Section 4';
  const sections = head
    .split(/\n## /)
    .slice(1)
    .map((block) => {
      const [first, ...rest] = block.split('\n');
      return { title: first.trim(), markdown: rest.join('\n').trim() + '\n' };
    });
  writeFileSync(join(dir, 'index.html'), html(title, sections, figures));
  return { figures, runs: results.length };
}
