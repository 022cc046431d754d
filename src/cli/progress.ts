import type { Problem } from '../errors.js';
import { formatProblems } from '../errors.js';
import type { IterationRecord } from '../train/trainer.js';
import type { ValidationRecord } from '../train/validation.js';

/** How the CLI shows training: a progress bar on a terminal, periodic plain lines otherwise, or nothing. */
export interface ProgressView {
  update(record: IterationRecord): void;
  /** A held-out measurement: shown on the progress line (the bar, or the next plain line) from then on. */
  validation(record: ValidationRecord): void;
  warn(problem: Problem): void;
  end(message: string): void;
}

/** Options of {@link createProgress}. */
export interface ProgressOptions {
  iterations?: number;
  seconds?: number;
  tty: boolean;
  quiet: boolean;
  stream?: NodeJS.WriteStream;
  /**
   * Mini-batch and online modes: show the mean loss of the last this many iterations (one
   * epoch) instead of the last batch's, which jumps from batch to batch. Undefined: the last.
   */
  meanOver?: number;
}

/**
 * The training progress view: a bar on a terminal, a plain line every 5% (or 5 s) otherwise,
 * nothing when quiet; warnings always.
 */
export function createProgress(options: ProgressOptions): ProgressView {
  const stream = options.stream ?? process.stderr;
  const mean = options.meanOver === undefined ? undefined : runningMean(options.meanOver);
  const write = (text: string) => stream.write(text);
  let last = 0;
  let lastLine = 0;
  let pending: IterationRecord | undefined;
  let held: ValidationRecord | undefined;
  const fraction = (r: IterationRecord) =>
    Math.min(1, Math.max(options.iterations ? r.iteration / options.iterations : 0, options.seconds ? r.elapsed / options.seconds : 0));
  const loss = (r: IterationRecord) => (mean ? `loss ${mean.value().toFixed(4)} bits/sample (mean of the last ${mean.count()})` : `loss ${r.loss.toFixed(4)} bits/sample`);
  const describe = (r: IterationRecord) =>
    `iteration ${r.iteration}${options.iterations ? `/${options.iterations}` : ''}  ${loss(r)}${held ? `  ${heldOut(held)}` : ''}  lr ${r.lr.toExponential(2)}  ${r.elapsed.toFixed(1)}s${r.fault ? `  (${r.fault})` : ''}`;
  const render = (r: IterationRecord) => {
    const width = 24;
    const filled = Math.round(fraction(r) * width);
    write(`\r[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${describe(r)}\u001b[K`);
  };
  return {
    update(record) {
      if (options.quiet) return;
      mean?.add(record.loss);
      const now = performance.now();
      if (options.tty) {
        pending = record;
        if (now - last > 100) {
          render(record);
          last = now;
          pending = undefined;
        }
        return;
      }
      const every = options.iterations ? Math.max(1, Math.floor(options.iterations / 20)) : Infinity;
      if (record.iteration - lastLine >= every || now - last > 5000) {
        write(describe(record) + '\n');
        lastLine = record.iteration;
        last = now;
      }
    },
    validation(record) {
      held = record;
    },
    warn(problem) {
      if (options.tty && !options.quiet) write('\r\u001b[K');
      write(formatProblems([problem]) + '\n');
    },
    end(message) {
      if (options.quiet) return;
      if (options.tty) {
        if (pending) render(pending);
        write('\n');
      }
      write(message + '\n');
    },
  };
}

/** A validation measurement as the progress line shows it. */
function heldOut(r: ValidationRecord): string {
  return `val loss ${r.loss.toFixed(4)}${r.accuracy === undefined ? '' : ` acc ${(100 * r.accuracy).toFixed(1)}%`} (it. ${r.iteration})`;
}

/** Mean of the last `window` values, kept in a ring buffer (a fresh sum every window, so rounding cannot drift). */
function runningMean(window: number): { add(v: number): void; value(): number; count(): number } {
  const ring = new Float64Array(Math.max(1, window));
  let filled = 0;
  let next = 0;
  let sum = 0;
  return {
    add(v) {
      sum += v - (filled === ring.length ? ring[next] : 0);
      ring[next] = v;
      next = (next + 1) % ring.length;
      if (filled < ring.length) filled++;
      if (next === 0) sum = ring.reduce((a, b) => a + b, 0);
    },
    value: () => (filled === 0 ? NaN : sum / filled),
    count: () => filled,
  };
}
