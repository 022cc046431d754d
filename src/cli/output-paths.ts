import { accessSync, chmodSync, closeSync, constants, openSync, statSync, unlinkSync, type Stats } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { dirname, join, resolve } from 'node:path';
import { OutputError, UsageError, problem, type Problem } from '../errors.js';

/** One path a command will write, checked by {@link checkOutputs} before any computing. */
export interface OutputSpec {
  /** The option that names it, as the user typed it (`--out`, `--log`, ...); messages quote it. */
  option: string;
  path: string;
  /** `file`: written atomically (temporary file beside it, then rename); `folder`: created with its parents. */
  kind: 'file' | 'folder';
  /** file: `-` means standard output (else `-` is a usage error). */
  stdout?: boolean;
  /** folder: the files (relative paths) the command writes inside it; a name ending in `/` is a subfolder. */
  files?: readonly string[];
}

/**
 * Checks every output path before a command computes anything, so that a long run never
 * fails at the end on a path it could have refused at the start. Refused, each with one line
 * naming the path and the fix: a missing parent folder (files; folders are created with their
 * parents), a folder where a file goes and a file where a folder goes, a path under a file,
 * something that is not a regular file (a device, a pipe), a folder this process cannot create
 * files in (probed by creating and removing a temporary file, so read-only file systems and
 * ACLs count), and an existing read-only file unless `force` (it is then replaced). Two outputs
 * on one path and `-` where standard output is not offered are usage errors (exit 2); the rest
 * throw {@link OutputError} (exit 1). Leaves nothing behind.
 *
 * Running as root, permission bits do not stop writes; read-only files are then recognised by
 * their mode bits alone (no write bit for anyone).
 */
export function checkOutputs(outputs: readonly OutputSpec[], options: { force?: boolean } = {}): void {
  const usage: Problem[] = [];
  const seen = new Map<string, string>();
  for (const o of outputs) {
    if (o.path === '-') {
      if (!o.stdout) usage.push(problem('output', `${o.option} -: this output cannot go to standard output; give a ${o.kind === 'file' ? 'file' : 'folder'} path`));
      continue;
    }
    if (o.path.trim() === '') {
      usage.push(problem('output', `${o.option}: empty path; give a ${o.kind} path`));
      continue;
    }
    const key = resolve(o.path);
    const other = seen.get(key);
    if (other !== undefined) usage.push(problem('output', `${other} and ${o.option} both name '${o.path}'; give them different paths`));
    else seen.set(key, o.option);
  }
  if (usage.length > 0) throw new UsageError(usage);
  const problems: Problem[] = [];
  const causes = new Set<string>();
  for (const o of outputs.filter((x) => x.path !== '-')) {
    for (const p of o.kind === 'file' ? fileProblems(o, Boolean(options.force)) : folderProblems(o, Boolean(options.force))) {
      // One line per cause: OUT and OUT.state.json in a missing folder is one problem.
      const cause = p.message.slice(where(o).length);
      if (!causes.has(cause)) problems.push(p);
      causes.add(cause);
    }
  }
  if (problems.length > 0) throw new OutputError(problems);
}

/**
 * With `--force`, makes the read-only files a folder output will overwrite writable again (the
 * report writers write in place). Call it after computing, right before writing.
 */
export function makeReplaceable(output: OutputSpec): void {
  for (const file of output.files ?? []) {
    if (file.endsWith('/')) continue;
    const path = join(output.path, file);
    const st = statOrUndefined(path);
    if (st?.isFile() && isReadOnly(path, st)) chmodSync(path, st.mode | 0o200);
  }
}

const where = (o: OutputSpec) => `${o.option} '${o.path}'`;

function fileProblems(o: OutputSpec, force: boolean): Problem[] {
  const fail = (message: string) => [problem('output', `${where(o)}: ${message}`)];
  const found = lookup(o.path);
  if (found.underFile !== undefined) return fail(`'${found.underFile}' is a file, not a folder; choose a path inside a folder`);
  const st = found.stats;
  if (st?.isDirectory() || /[/\\]$/.test(o.path)) return fail(`is a folder; give a file name, e.g. ${join(o.path, 'out.json')}`);
  if (st && !st.isFile()) return fail(`is not a regular file (a device, pipe or socket); give a file path${o.stdout ? ', or - for standard output' : ''}`);
  const parent = dirname(o.path);
  if (!statOrUndefined(parent)) return fail(`the folder '${parent}' does not exist; create it first (mkdir -p ${parent}) or choose another path`);
  if (st && isReadOnly(o.path, st) && !force) return fail('is read-only; give --force to replace it, or choose another path');
  const denied = probe(parent);
  return denied ? fail(`cannot create files in the folder '${parent}' (${denied}); choose a folder you can write in`) : [];
}

function folderProblems(o: OutputSpec, force: boolean): Problem[] {
  const fail = (message: string) => [problem('output', `${where(o)}: ${message}`)];
  const found = lookup(o.path);
  if (found.underFile !== undefined) return fail(`'${found.underFile}' is a file, not a folder; choose another path for the folder`);
  const st = found.stats;
  if (st && !st.isDirectory()) return fail('is a file, but a folder is needed here; choose another path, or remove the file');
  if (!st) {
    // Created with its parents: the nearest existing ancestor must take new entries.
    let ancestor = dirname(o.path);
    while (!statOrUndefined(ancestor) && dirname(ancestor) !== ancestor) ancestor = dirname(ancestor);
    const denied = probe(ancestor);
    return denied ? fail(`cannot create it in '${ancestor}' (${denied}); choose a folder you can write in`) : [];
  }
  const problems: Problem[] = [];
  const denied = probe(o.path);
  if (denied) problems.push(...fail(`cannot create files in it (${denied}); choose a folder you can write in`));
  for (const file of o.files ?? []) {
    const folder = file.endsWith('/');
    const path = join(o.path, file);
    const inner = statOrUndefined(path);
    if (!inner) continue;
    if (folder && !inner.isDirectory()) problems.push(problem('output', `${where(o)}: '${path}' is a file where a folder is written; remove or rename it`));
    else if (!folder && inner.isDirectory()) problems.push(problem('output', `${where(o)}: '${path}' is a folder where a file is written; remove or rename it`));
    else if (!folder && isReadOnly(path, inner) && !force) problems.push(problem('output', `${where(o)}: '${path}' is read-only; give --force to replace it, or choose another folder`));
  }
  return problems;
}

/** stat (following links) of `path`, or the first ancestor that is a file when a component is not a folder. */
function lookup(path: string): { stats?: Stats; underFile?: string } {
  try {
    return { stats: statSync(path) };
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code !== 'ENOTDIR' && code !== 'ENOENT') return {};
    for (let up = path; dirname(up) !== up; ) {
      up = dirname(up);
      const st = statOrUndefined(up);
      if (st) return st.isDirectory() ? {} : { underFile: up };
    }
    return {};
  }
}

function statOrUndefined(path: string): Stats | undefined {
  try {
    return statSync(path);
  } catch {
    return undefined;
  }
}

/** No write bit for anyone (what counts for root), or no write access for this process. */
function isReadOnly(path: string, st: Stats): boolean {
  if ((st.mode & 0o222) === 0) return true;
  try {
    accessSync(path, constants.W_OK);
    return false;
  } catch {
    return true;
  }
}

/** Creates and removes a temporary file in `folder`; returns why that failed, or undefined. */
function probe(folder: string): string | undefined {
  const path = join(folder, `.unitwise-probe-${process.pid}-${randomBytes(4).toString('hex')}.tmp`);
  try {
    closeSync(openSync(path, 'wx'));
    unlinkSync(path);
    return undefined;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EACCES' || code === 'EPERM') return 'permission denied';
    if (code === 'EROFS') return 'read-only file system';
    if (code === 'ENOSPC' || code === 'EDQUOT') return 'no space left';
    return code ?? String(err);
  }
}

/** The files `replicate autoencoder` (and `quickstart`) write in their report folder for `runs` runs. */
export function replicationReportFiles(runs: number): string[] {
  const curves = Array.from({ length: Math.max(0, Math.min(runs, 1000)) }, (_, r) => `curves/run-${String(r).padStart(2, '0')}.json`);
  return ['table1.json', 'table2.json', 'table1.md', 'table2.md', 'curves/', ...curves, 'figure2.svg', 'figure3.svg', 'loss-vs-time-sigmoid.svg', 'loss-vs-time-tanh.svg', 'sigmoid-vs-tanh.svg', 'dgn-vs-qdbm.svg', 'report.md', 'index.html'];
}

/** The files `replicate figure1` writes in its folder. */
export const FIGURE1_FILES: readonly string[] = ['figure1.json', 'figure1.svg', 'index.html'];
