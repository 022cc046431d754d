import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { ChildMessage, ChildRequest } from './protocol.js';

/** How a backend's children run: the name `useBackend` takes, environment variables, and whether under `xvfb-run -a`. */
export interface ChildLaunch {
  backend: string;
  env: Record<string, string>;
  xvfb: boolean;
}

/** How a child ended: its exit code (null when killed), whether the watchdog killed it, and the end of its stderr. */
export interface ChildExit {
  code: number | null;
  killed: boolean;
  stderr: string;
}

/** The child script: beside this module in dist/, or dist/'s from the TypeScript sources (tests). */
export function childScript(): string {
  const beside = fileURLToPath(new URL('./child.js', import.meta.url));
  return existsSync(beside) ? beside : fileURLToPath(new URL('../../../dist/bench/all/child.js', import.meta.url));
}

/**
 * Runs one child (`child.ts`) for `request` and passes each message it writes to `onMessage`,
 * which returns the seconds of silence allowed until the next one (the watchdog: past it, the
 * child's process group is killed and `killed` is set). `initialSeconds` covers the start.
 */
export function runChild(launch: ChildLaunch, request: ChildRequest, initialSeconds: number, onMessage: (message: ChildMessage) => number): Promise<ChildExit> {
  const node = [process.execPath, childScript(), JSON.stringify({ ...request, backend: launch.backend })];
  const [command, ...args] = launch.xvfb ? ['xvfb-run', '-a', ...node] : node;
  // detached: the child leads a process group of its own, so that the watchdog also ends what xvfb-run started.
  const child = spawn(command, args, { env: { ...process.env, ...launch.env }, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  let stderr = '';
  let pending = '';
  let killed = false;
  let deadline = Date.now() + initialSeconds * 1000;
  const kill = () => {
    killed = true;
    try {
      process.kill(-(child.pid as number), 'SIGKILL');
    } catch {
      child.kill('SIGKILL');
    }
  };
  const timer = setInterval(() => {
    if (Date.now() > deadline && !killed) kill();
  }, 250);
  child.stderr.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-4000);
  });
  child.stdout.on('data', (chunk: Buffer) => {
    pending += chunk.toString();
    let newline: number;
    while ((newline = pending.indexOf('\n')) >= 0) {
      const line = pending.slice(0, newline);
      pending = pending.slice(newline + 1);
      if (!line.startsWith('{')) continue;
      if (!killed) deadline = Date.now() + onMessage(JSON.parse(line) as ChildMessage) * 1000;
    }
  });
  return new Promise((resolve) => {
    child.on('close', (code) => {
      clearInterval(timer);
      resolve({ code, killed, stderr: stderr.trim() });
    });
    child.on('error', (error) => {
      clearInterval(timer);
      resolve({ code: null, killed, stderr: error.message });
    });
  });
}

/** The last line of a child's stderr worth reporting (the error), or how it ended. */
export function exitReason(exit: ChildExit): string {
  const lines = exit.stderr.split('\n').map((l) => l.trim()).filter((l) => l.length > 0 && !l.startsWith('at '));
  const own = lines.find((l) => l.startsWith('error: '));
  // The child's own line: 'error: <name>: <message>', where a unitwise error's message starts with 'error: ' too.
  const error = own ? own.slice('error: '.length).replace(/^(\w+): error: /, '$1: ') : ([...lines].reverse().find((l) => /error|cannot|failed|abort/i.test(l)) ?? lines[lines.length - 1]);
  return error ?? (exit.code === null ? 'killed by a signal' : `exit code ${exit.code}`);
}
