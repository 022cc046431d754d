import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** What produced a log or output file: enough to find and rerun it. */
export interface RunHeader {
  /** `unitwise`'s package version. */
  version: string;
  /** The commit of the git checkout unitwise runs from, or null outside one. */
  commit: string | null;
  /** The command line, without `node` and the script (as `process.argv.slice(2)`). */
  argv: string[];
  /** Seeds of the run (option name → value); empty when the command draws nothing. */
  seeds: Record<string, number>;
  /** SHA-256 (hex) of each input file's bytes, by the path as given; null for an unreadable one. */
  files: Record<string, string | null>;
}

/** Inputs of {@link runHeader}. */
export interface RunHeaderOptions {
  argv: readonly string[];
  files?: readonly string[];
  seeds?: Record<string, number | undefined>;
  /** Folder to look for the git checkout from (default: this package's root). */
  root?: string;
}

/** The package root (the folder holding package.json), from this module's location. */
export function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json')) && dirname(dir) !== dir) dir = dirname(dir);
  return dir;
}

/** The run header: package version, git commit, command line, seeds and digests of the input files. */
export function runHeader(options: RunHeaderOptions): RunHeader {
  const root = options.root ?? packageRoot();
  const files: Record<string, string | null> = {};
  for (const f of options.files ?? []) files[f] = fileDigest(f);
  const seeds: Record<string, number> = {};
  for (const [k, v] of Object.entries(options.seeds ?? {})) if (v !== undefined) seeds[k] = v;
  return { version: packageVersion(packageRoot()), commit: gitCommit(root), argv: [...options.argv], seeds, files };
}

/** SHA-256 (hex) of a file's bytes, or null when it cannot be read (standard input, a missing file). */
export function fileDigest(path: string): string | null {
  try {
    return createHash('sha256').update(readFileSync(path)).digest('hex');
  } catch {
    return null;
  }
}

function packageVersion(root: string): string {
  try {
    return (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version?: string }).version ?? 'unknown';
  } catch {
    return 'unknown';
  }
}

/**
 * The commit checked out in the git repository at or above `from`, or null outside one. Reads
 * `.git/HEAD` and the ref it names (loose, then packed-refs); worktrees and other layouts
 * (`.git` a file) fall back to `git rev-parse HEAD` with a short timeout.
 */
export function gitCommit(from: string): string | null {
  let dir = resolve(from);
  while (!existsSync(join(dir, '.git'))) {
    if (dirname(dir) === dir) return null;
    dir = dirname(dir);
  }
  const gitDir = join(dir, '.git');
  try {
    if (statSync(gitDir).isDirectory()) {
      const head = readFileSync(join(gitDir, 'HEAD'), 'utf8').trim();
      if (/^[0-9a-f]{40,64}$/.test(head)) return head;
      const ref = /^ref: (.+)$/.exec(head)?.[1];
      if (ref) {
        const loose = join(gitDir, ref);
        if (existsSync(loose)) return readFileSync(loose, 'utf8').trim();
        const packed = existsSync(join(gitDir, 'packed-refs')) ? readFileSync(join(gitDir, 'packed-refs'), 'utf8') : '';
        const line = packed.split('\n').find((l) => l.endsWith(` ${ref}`));
        if (line) return line.split(' ')[0];
      }
    }
    const out = execFileSync('git', ['rev-parse', 'HEAD'], { cwd: dir, timeout: 2000, stdio: ['ignore', 'pipe', 'ignore'], encoding: 'utf8' }).trim();
    return /^[0-9a-f]{40,64}$/.test(out) ? out : null;
  } catch {
    return null;
  }
}
