import type { Problem } from '../errors.js';
import { formatProblems } from '../errors.js';
import type { IterationRecord } from '../train/trainer.js';

/** How the CLI shows training: a progress bar on a terminal, periodic plain lines otherwise, or nothing. */
export interface ProgressView {
  update(record: IterationRecord): void;
  warn(problem: Problem): void;
  end(message: string): void;
}

export function createProgress(options: { iterations?: number; seconds?: number; tty: boolean; quiet: boolean; stream?: NodeJS.WriteStream }): ProgressView {
  const stream = options.stream ?? process.stderr;
  const write = (text: string) => stream.write(text);
  let last = 0;
  let lastLine = 0;
  let pending: IterationRecord | undefined;
  const fraction = (r: IterationRecord) =>
    Math.min(1, Math.max(options.iterations ? r.iteration / options.iterations : 0, options.seconds ? r.elapsed / options.seconds : 0));
  const describe = (r: IterationRecord) =>
    `iteration ${r.iteration}${options.iterations ? `/${options.iterations}` : ''}  loss ${r.loss.toFixed(4)} bits/sample  lr ${r.lr.toExponential(2)}  ${r.elapsed.toFixed(1)}s${r.fault ? `  (${r.fault})` : ''}`;
  const render = (r: IterationRecord) => {
    const width = 24;
    const filled = Math.round(fraction(r) * width);
    write(`\r[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${describe(r)}\u001b[K`);
  };
  return {
    update(record) {
      if (options.quiet) return;
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
