import { basename } from 'node:path';
import { isMethodName, METHOD_SPECS } from '../methods/methods.js';
import type { RunLogData } from './read-log.js';

/** Options of a command line that name outputs, steer the bookkeeping or set the budget (visible on the x axis): never in a legend. */
const NOT_SETTINGS = new Set(['out', 'log', 'force', 'quiet', 'resume', 'checkpoint-every', 'progress', 'summary', 'iterations', 'time', 'backprop-equivalent']);

/** A command line's options (`--name value`, `--name=value`, `--flag`, `--no-flag`) and its positional arguments after the command. */
export function parseArgv(argv: readonly string[]): { positional: string[]; options: Map<string, string> } {
  const options = new Map<string, string>();
  const positional: string[] = [];
  for (let i = 1; i < argv.length; i++) {
    const a = argv[i];
    if (!a.startsWith('--')) {
      positional.push(a);
      continue;
    }
    const eq = a.indexOf('=');
    if (eq > 0) options.set(a.slice(2, eq), a.slice(eq + 1));
    else if (argv[i + 1] !== undefined && !argv[i + 1].startsWith('--')) options.set(a.slice(2), argv[++i]);
    else if (a.startsWith('--no-')) options.set(a.slice(5), 'false');
    else options.set(a.slice(2), 'true');
  }
  return { positional, options };
}

/**
 * Legend labels of runs: the paper's name of each run's method (from the run header's command
 * line; `backprop` when it names none) and the settings that differ between the runs (e.g.
 * `lr 0.1`, the network file when the runs trained different ones); the log's file name when it
 * has no header, or where two labels would still be the same.
 */
export function runLabels(logs: readonly RunLogData[]): string[] {
  const parsed = logs.map((l) => (l.header ? parseArgv(l.header.argv) : undefined));
  const settings = parsed.map((p) => {
    if (!p) return undefined;
    const s = new Map<string, string>();
    if (p.positional[0] !== undefined) s.set('network', basename(p.positional[0]));
    for (const [k, v] of p.options) if (!NOT_SETTINGS.has(k) && k !== 'method') s.set(k, k === 'data' || k === 'val-data' ? basename(v) : v);
    return s;
  });
  const keys = [...new Set(settings.flatMap((s) => (s ? [...s.keys()] : [])))];
  const differing = keys.filter((k) => new Set(settings.filter((s) => s !== undefined).map((s) => s.get(k) ?? '')).size > 1);
  const labels = logs.map((l, i) => {
    const p = parsed[i];
    const s = settings[i];
    if (!p || !s) return basename(l.path);
    const method = p.options.get('method') ?? 'backprop';
    const title = isMethodName(method) ? METHOD_SPECS[method].title : method;
    const extra = differing.filter((k) => s.has(k)).map((k) => `${k === 'network' ? '' : `${k} `}${s.get(k)}`);
    return [title, ...extra].join(', ');
  });
  const count = new Map<string, number>();
  for (const l of labels) count.set(l, (count.get(l) ?? 0) + 1);
  return labels.map((l, i) => ((count.get(l) ?? 0) > 1 && l !== basename(logs[i].path) ? `${l} [${basename(logs[i].path)}]` : l));
}
