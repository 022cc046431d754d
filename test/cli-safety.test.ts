import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { appendFileSync, chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { repoRoot } from './helpers/documents.js';

// "Runs that never lose work": every output path is checked before any computing, signals stop
// training cleanly, an interrupted run is never overwritten by accident, and options that would
// train nothing, diverge or be ignored are refused. Through the real binary (built by pretest).

// Every describe runs real processes: a timeout far above what they need (seconds here), for a loaded 2-core machine.
const bin = join(repoRoot, 'bin/unitwise.js');
const tiny = join(repoRoot, 'networks/tiny-softmax.json');
const tinyData = join(repoRoot, 'networks/tiny-softmax.data.json');
let dir: string;

function run(...args: string[]): { status: number; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [bin, ...args], { cwd: dir, encoding: 'utf8' });
  return { status: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

/** Every entry under `dir` (recursively), to show that a refused command leaves nothing behind. */
function listing(): string[] {
  return (readdirSync(dir, { recursive: true }) as string[]).sort();
}

/**
 * Starts `unitwise train ...` and sends `signal` once it says training has begun (its signal
 * handlers are then installed) and `afterMs` more have passed; resolves with its exit code and stderr.
 */
async function interrupt(args: string[], signal: NodeJS.Signals, afterMs = 800): Promise<{ code: number | null; stderr: string }> {
  const child = spawn(process.execPath, [bin, ...args], { cwd: dir });
  let stderr = '';
  const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
  await new Promise<void>((resolve) => {
    child.stderr.on('data', (d) => {
      stderr += d;
      if (/stops after the current iteration and saves/.test(stderr)) resolve();
    });
    void exited.then(() => resolve());
  });
  await new Promise((resolve) => setTimeout(resolve, afterMs));
  child.kill(signal);
  return { code: await exited, stderr };
}

/** The iteration records of a train log (its header record, first, left out). */
const records = (file: string) =>
  readFileSync(join(dir, file), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l))
    .filter((r) => !('header' in r));
const withoutTime = (list: Array<Record<string, unknown>>) => list.map((r) => ({ ...r, elapsed: 0 }));

/** `outputs` Bernoulli output units y0, y1, ..., each linked from all `inputs` inputs (fan-in = inputs), and 2 samples. */
function wideNetwork(name: string, inputs: number, outputs: number): void {
  const nodes = [
    ...Array.from({ length: inputs }, (_, i) => ({ key: `x${i}`, attributes: { role: 'input' } })),
    ...Array.from({ length: outputs }, (_, j) => ({ key: `y${j}`, attributes: { role: 'output', bias: 0 } })),
  ];
  const edges = [];
  for (let j = 0; j < outputs; j++) for (let i = 0; i < inputs; i++) edges.push({ source: `x${i}`, target: `y${j}`, attributes: { weight: (((i * 7 + j * 13) % 11) - 5) / 100 } });
  const document = { options: { type: 'directed', multi: false, allowSelfLoops: false }, attributes: { interpretation: 'bernoulli', activation: 'sigmoid' }, nodes, edges };
  writeFileSync(join(dir, `${name}.json`), JSON.stringify(document));
  const rows = [0, 1].map((s) => Array.from({ length: inputs }, (_, i) => (i + s) % 2));
  writeFileSync(join(dir, `${name}.data.json`), JSON.stringify({ inputs: rows, targets: [0, 1].map((s) => Array.from({ length: outputs }, (_, j) => (j + s) % 2)) }));
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'unitwise-safety-'));
  execFileSync(process.execPath, [bin, 'generate', 'autoencoder', '--seed', '1', '--out', 'net.json'], { cwd: dir });
  execFileSync(process.execPath, [bin, 'generate', 'data', '--seed', '1', '--out', 'data.json'], { cwd: dir });
  mkdirSync(join(dir, 'folder'));
  writeFileSync(join(dir, 'read-only.json'), '{}\n');
  chmodSync(join(dir, 'read-only.json'), 0o444);
});

describe('output paths are checked before any computing', { timeout: 240_000 }, () => {
  // Each command with OUT where the path under test goes; all of them would compute first today.
  const commands: Array<[string, (out: string) => string[]]> = [
    ['generate --out', (out) => ['generate', 'autoencoder', '--out', out]],
    ['generate mlp --out', (out) => ['generate', 'mlp', '--layers', '4,3,2', '--out', out]],
    ['init --out', (out) => ['init', 'net.json', '--scheme', 'glorot', '--out', out]],
    ['step --out', (out) => ['step', 'net.json', '--data', 'data.json', '--method', 'backpropagated-metric', '--out', out]],
    ['train --out', (out) => ['train', 'net.json', '--data', 'data.json', '--iterations', '50', '--out', out]],
    ['train --log', (out) => ['train', 'net.json', '--data', 'data.json', '--iterations', '50', '--out', 'never.json', '--log', out]],
    ['compare-directions --svg', (out) => ['compare-directions', 'net.json', '--data', 'data.json', '--along', 'backprop', '--iterations', '50', '--svg', out]],
    ['convert --out', (out) => ['convert', 'net.json', '--to', 'tanh', '--out', out]],
    ['convert --data-out', (out) => ['convert', 'net.json', '--to', 'tanh', '--data', 'data.json', '--out', 'never.json', '--data-out', out]],
  ];
  const badPaths: Array<[string, string, RegExp]> = [
    ['a missing folder', 'no-such-folder/out.json', /'no-such-folder\/out\.json': the folder 'no-such-folder' does not exist; create it first \(mkdir -p no-such-folder\)/],
    ['a folder', 'folder', /'folder': is a folder; give a file name, e.g\. folder\/out\.json/],
    ['a path under a file', 'net.json/out.json', /'net\.json\/out\.json': 'net\.json' is a file, not a folder/],
    ['a read-only file', 'read-only.json', /'read-only\.json': is read-only; give --force to replace it/],
  ];
  for (const [name, args] of commands) {
    it.each(badPaths)(`${name} on %s: one line naming it and the fix, exit 1, nothing computed or left behind`, (_label, path, says) => {
      const before = listing();
      const r = run(...args(path));
      expect(r.status, r.stderr).toBe(1);
      expect(r.stderr.trim().split('\n'), r.stderr).toHaveLength(1);
      expect(r.stderr).toMatch(says);
      expect(r.stderr).not.toMatch(/\n\s+at |iteration \d|loss/);
      expect(r.stdout).toBe('');
      expect(listing()).toEqual(before);
      expect(readFileSync(join(dir, 'read-only.json'), 'utf8')).toBe('{}\n');
    });
  }

  it('--force replaces a read-only file', () => {
    writeFileSync(join(dir, 'ro-step.json'), '{}\n');
    chmodSync(join(dir, 'ro-step.json'), 0o444);
    expect(run('step', tiny, '--data', tinyData, '--out', 'ro-step.json').status).toBe(1);
    const r = run('step', tiny, '--data', tinyData, '--out', 'ro-step.json', '--force');
    expect(r.status, r.stderr).toBe(0);
    expect(JSON.parse(readFileSync(join(dir, 'ro-step.json'), 'utf8')).nodes.length).toBeGreaterThan(0);
  });

  it('train also checks OUT.state.json, and refuses two outputs on one path (exit 2)', () => {
    mkdirSync(join(dir, 'stateful.json.state.json'));
    const r = run('train', 'net.json', '--data', 'data.json', '--iterations', '5', '--out', 'stateful.json');
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/^error: --out \(its state\) 'stateful\.json\.state\.json': is a folder/);
    expect(existsSync(join(dir, 'stateful.json'))).toBe(false);
    const same = run('convert', 'net.json', '--to', 'tanh', '--data', 'data.json', '--out', 'c.json', '--data-out', 'c.json');
    expect(same.status).toBe(2);
    expect(same.stderr).toMatch(/--out and --data-out both name 'c\.json'/);
  });

  it('folder outputs (replicate autoencoder|figure1, quickstart): a file where the folder goes, a folder under a file, a read-only report file', () => {
    const cases: Array<[string[], RegExp]> = [
      [['replicate', 'autoencoder', '--runs', '1', '--budget', 'iterations:5', '--out', 'net.json'], /--out 'net\.json': is a file, but a folder is needed here/],
      [['replicate', 'figure1', '--out', 'net.json/figure'], /--out 'net\.json\/figure': 'net\.json' is a file, not a folder/],
      [['quickstart', '--runs', '1', '--budget', 'iterations:5', '--out', 'data.json'], /--out 'data\.json': is a file, but a folder is needed here/],
    ];
    for (const [args, says] of cases) {
      const before = listing();
      const r = run(...args);
      expect(r.status, args.join(' ')).toBe(1);
      expect(r.stderr).toMatch(says);
      expect(r.stdout + r.stderr).not.toMatch(/runs|Figure 1:|unitwise: Section/);
      expect(listing()).toEqual(before);
    }
    mkdirSync(join(dir, 'report', 'table1.json'), { recursive: true });
    const blocked = run('replicate', 'autoencoder', '--runs', '1', '--budget', 'iterations:5', '--out', 'report', '--quiet');
    expect(blocked.status).toBe(1);
    expect(blocked.stderr).toMatch(/'report\/table1\.json' is a folder where a file is written; remove or rename it/);
    mkdirSync(join(dir, 'fig'));
    writeFileSync(join(dir, 'fig', 'index.html'), 'old');
    chmodSync(join(dir, 'fig', 'index.html'), 0o444);
    const ro = run('replicate', 'figure1', '--out', 'fig');
    expect(ro.status).toBe(1);
    expect(ro.stderr).toMatch(/'fig\/index\.html' is read-only; give --force to replace it/);
    expect(readFileSync(join(dir, 'fig', 'index.html'), 'utf8')).toBe('old');
    expect(run('replicate', 'figure1', '--out', 'fig', '--force').status).toBe(0);
    expect(readFileSync(join(dir, 'fig', 'index.html'), 'utf8')).toMatch(/<html/);
    // Report folders are created with their parents.
    expect(run('replicate', 'figure1', '--out', 'new/deeper/fig').status).toBe(0);
    expect(existsSync(join(dir, 'new/deeper/fig/figure1.svg'))).toBe(true);
  });

  // Root writes anywhere whatever the permission bits: as root the command runs as 'nobody'
  // (runuser); where that is not possible (no runuser, or nobody cannot read the checkout) the
  // case is skipped.
  it('a folder without write permission is refused (as root: run as nobody)', (ctx) => {
    const asNobody = process.getuid?.() === 0;
    if (asNobody && spawnSync('/usr/sbin/runuser', ['-u', 'nobody', '--', process.execPath, bin, '--help']).status !== 0) ctx.skip();
    const home = mkdtempSync(join(tmpdir(), 'unitwise-locked-'));
    chmodSync(home, 0o755);
    mkdirSync(join(home, 'locked'), { mode: 0o555 });
    chmodSync(join(home, 'locked'), 0o555);
    const command = (...args: string[]) => (asNobody ? ['/usr/sbin/runuser', ['-u', 'nobody', '--', process.execPath, bin, ...args]] : [process.execPath, [bin, ...args]]) as [string, string[]];
    for (const [args, says] of [
      [['step', tiny, '--data', tinyData, '--out', 'locked/x.json'], /^error: --out 'locked\/x\.json': cannot create files in the folder 'locked' \(permission denied\); choose a folder you can write in$/],
      [['replicate', 'figure1', '--out', 'locked/fig'], /^error: --out 'locked\/fig': cannot create it in 'locked' \(permission denied\)/],
    ] as const) {
      const r = spawnSync(...command(...args), { cwd: home, encoding: 'utf8' });
      expect(r.status, r.stderr).toBe(1);
      expect(r.stderr.trim()).toMatch(says);
      expect(readdirSync(join(home, 'locked'))).toEqual([]);
    }
  });

  it('--out - writes to standard output where the help offers it; elsewhere it is a usage error', () => {
    for (const args of [['generate', 'data', '--samples', '2', '--out', '-'], ['step', tiny, '--data', tinyData, '--out', '-'], ['convert', tiny, '--to', 'tanh', '--out', '-']]) {
      const r = run(...args);
      expect(r.status, `${args.join(' ')}: ${r.stderr}`).toBe(0);
      expect(typeof JSON.parse(r.stdout)).toBe('object');
    }
    const train = run('train', 'net.json', '--data', 'data.json', '--iterations', '5', '--out', '-');
    expect(train.status).toBe(2);
    expect(train.stderr).toMatch(/--out -: this output cannot go to standard output; give a file path/);
  });
});

describe('train never loses a run', { timeout: 240_000 }, () => {
  const args = ['train', 'net.json', '--data', 'data.json', '--method', 'backprop', '--lr', '0.05', '--seed', '4'];

  it('SIGTERM stops like Ctrl-C: network, state and log written, exit 143; the run is then protected, and resumes only with its log', async () => {
    const { code, stderr } = await interrupt([...args, '--iterations', '10000000', '--out', 'term.json', '--log', 'term.jsonl'], 'SIGTERM');
    expect(code, stderr).toBe(143);
    expect(stderr).toMatch(/SIGTERM: stopping after the current iteration/);
    expect(stderr).toMatch(/interrupted after \d+ iterations by SIGTERM, .*continue with --resume/);
    const saved = JSON.parse(readFileSync(join(dir, 'term.json.state.json'), 'utf8'));
    expect(saved).toMatchObject({ stoppedBy: 'interrupt', log: 'term.jsonl' });
    const done: number = saved.state.iteration;
    expect(done).toBeGreaterThan(0);
    expect(records('term.jsonl')).toHaveLength(done);

    // A fresh run over it would throw the work away.
    const network = readFileSync(join(dir, 'term.json'), 'utf8');
    const over = run(...args, '--iterations', '10', '--out', 'term.json', '--log', 'term.jsonl');
    expect(over.status).toBe(2);
    expect(over.stderr).toMatch(/term\.json holds an interrupted run \(iteration \d+ of 10000000.*continue it with --resume, or give --force to start over/);
    expect(readFileSync(join(dir, 'term.json'), 'utf8')).toBe(network);
    expect(records('term.jsonl')).toHaveLength(done);

    // The run kept a log: resuming without it is refused.
    const total = String(done + 25);
    const noLog = run(...args, '--iterations', total, '--out', 'term.json', '--resume');
    expect(noLog.status).toBe(2);
    expect(noLog.stderr).toMatch(/the run being resumed logs to term\.jsonl .*give --log term\.jsonl/);

    // Records past the state (a later run killed before saving) are dropped, and a half-written line.
    const lines = readFileSync(join(dir, 'term.jsonl'), 'utf8');
    appendFileSync(join(dir, 'term.jsonl'), lines.split('\n').slice(1, 4).join('\n') + '\n{"iteration": 9');
    const resumed = run(...args, '--iterations', total, '--out', 'term.json', '--log', 'term.jsonl', '--resume');
    expect(resumed.status, resumed.stderr).toBe(0);
    expect(resumed.stderr).toMatch(new RegExp(`term\\.jsonl: dropped 4 records past iteration ${done}, written after the last saved state`));
    expect(run(...args, '--iterations', total, '--out', 'straight.json', '--log', 'straight.jsonl').status).toBe(0);
    expect(readFileSync(join(dir, 'term.json'), 'utf8')).toBe(readFileSync(join(dir, 'straight.json'), 'utf8'));
    expect(withoutTime(records('term.jsonl'))).toEqual(withoutTime(records('straight.jsonl')));

    // A finished run may be overwritten; --force starts an interrupted one over.
    expect(JSON.parse(readFileSync(join(dir, 'term.json.state.json'), 'utf8')).stoppedBy).toBe('budget');
    expect(run(...args, '--iterations', '5', '--out', 'term.json', '--quiet').status).toBe(0);
  });

  it('--checkpoint-every: a run killed with SIGKILL resumes from its last checkpoint and ends as an uninterrupted run', async () => {
    const child = spawn(process.execPath, [bin, ...args, '--iterations', '10000000', '--out', 'ckpt.json', '--log', 'ckpt.jsonl', '--checkpoint-every', '50'], { cwd: dir });
    const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
    const state = join(dir, 'ckpt.json.state.json');
    // Kill it hard once a checkpoint past iteration 100 is on disk.
    for (let waited = 0; waited < 60_000; waited += 50) {
      if (existsSync(state) && JSON.parse(readFileSync(state, 'utf8')).state.iteration >= 100) break;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    child.kill('SIGKILL');
    await exited;
    const saved = JSON.parse(readFileSync(state, 'utf8'));
    expect(saved.stoppedBy).toBe('checkpoint');
    const at: number = saved.state.iteration;
    expect(at % 50).toBe(0);
    expect(records('ckpt.jsonl').length).toBeGreaterThanOrEqual(at);
    const total = String(at + 30);
    expect(run(...args, '--iterations', total, '--out', 'ckpt.json', '--quiet').status).toBe(2); // protected
    const resumed = run(...args, '--iterations', total, '--out', 'ckpt.json', '--log', 'ckpt.jsonl', '--resume', '--checkpoint-every', '0');
    expect(resumed.status, resumed.stderr).toBe(0);
    expect(run(...args, '--iterations', total, '--out', 'ckpt-straight.json', '--log', 'ckpt-straight.jsonl').status).toBe(0);
    expect(readFileSync(join(dir, 'ckpt.json'), 'utf8')).toBe(readFileSync(join(dir, 'ckpt-straight.json'), 'utf8'));
    expect(withoutTime(records('ckpt.jsonl'))).toEqual(withoutTime(records('ckpt-straight.jsonl')));
    expect(run(...args, '--iterations', '5', '--out', 'other.json', '--checkpoint-every', '5m').stderr).toMatch(/--checkpoint-every 5m: give a whole number of iterations/);
  }, 240_000);

  it('resume: a log with fewer records than the state is an error; a log where the run kept none is refused', async () => {
    expect((await interrupt([...args, '--iterations', '10000000', '--out', 'short.json', '--log', 'short.jsonl'], 'SIGINT')).code).toBe(130);
    const done: number = JSON.parse(readFileSync(join(dir, 'short.json.state.json'), 'utf8')).state.iteration;
    writeFileSync(join(dir, 'short.jsonl'), readFileSync(join(dir, 'short.jsonl'), 'utf8').split('\n').slice(0, done - 1).join('\n') + '\n'); // the header and done - 2 records
    const r = run(...args, '--iterations', String(done + 5), '--out', 'short.json', '--log', 'short.jsonl', '--resume');
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(new RegExp(`short\\.jsonl: error: holds ${done - 2} complete records but short\\.json\\.state\\.json stops at iteration ${done}: records are missing`));
    // --force starts over.
    expect(run(...args, '--iterations', '5', '--out', 'short.json', '--log', 'short.jsonl', '--force', '--quiet').status).toBe(0);
    expect(records('short.jsonl')).toHaveLength(5);

    expect((await interrupt([...args, '--iterations', '10000000', '--out', 'nolog.json'], 'SIGINT')).code).toBe(130);
    const late = run(...args, '--iterations', '10000001', '--out', 'nolog.json', '--log', 'late.jsonl', '--resume');
    expect(late.status).toBe(2);
    expect(late.stderr).toMatch(/--log late\.jsonl: the run being resumed kept no log/);
  });
});

describe('budgets, rates and options that do not apply are usage errors (exit 2), nothing computed', { timeout: 240_000 }, () => {
  const train = ['train', 'net.json', '--data', 'data.json', '--out', 'unwritten.json'];
  const cases: Array<[string[], RegExp]> = [
    [[...train, '--iterations', '0'], /--iterations 0: give a positive integer/],
    [[...train, '--iterations', '-3'], /--iterations -3: give a positive integer/],
    [[...train, '--iterations', '2.5'], /--iterations 2\.5: give a positive integer/],
    [[...train, '--time', '0'], /--time 0: give a positive finite number/],
    [[...train, '--time', '-1'], /--time -1: give a positive finite number/],
    [[...train, '--backprop-equivalent', '0'], /--backprop-equivalent 0: give a positive integer/],
    [[...train, '--backprop-equivalent', '-100'], /--backprop-equivalent -100: give a positive integer/],
    [[...train, '--iterations', '5', '--lr', '-0.1'], /--lr -0\.1: give a positive finite number/],
    [[...train, '--iterations', '5', '--lr', 'fast'], /--lr NaN: give a positive finite number/],
    [[...train, '--iterations', '5', '--epsilon', '-1e-4'], /--epsilon -0\.0001: give a finite number ≥ 0/],
    [['step', 'net.json', '--data', 'data.json', '--lr', '-1', '--out', 'unwritten.json'], /--lr -1: give a positive finite number/],
    [['step', 'net.json', '--data', 'data.json', '--lr', 'NaN', '--out', 'unwritten.json'], /--lr NaN: give a positive finite number/],
    [['step', 'net.json', '--data', 'data.json', '--epsilon', '-1', '--out', 'unwritten.json'], /--epsilon -1: give a finite number ≥ 0/],
    [['replicate', 'autoencoder', '--workers', '0', '--out', 'unwritten'], /--workers 0: give a positive integer/],
    [['replicate', 'autoencoder', '--workers', '1.5', '--out', 'unwritten'], /--workers 1\.5: give a positive integer/],
    [['replicate', 'autoencoder', '--runs', '0', '--out', 'unwritten'], /--runs 0: give a positive integer/],
    [['replicate', 'autoencoder', '--methods', 'kfac@2', '--out', 'unwritten'], /--methods: row 'kfac@2': γ = 2 is outside \(0, 1\]; a row is METHOD or METHOD@γ/],
    [['replicate', 'autoencoder', '--methods', 'kfac@,kflr@x', '--out', 'unwritten'], /row 'kfac@': '' after '@' is not a number γ[^]*row 'kflr@x': 'x' after '@' is not a number γ/],
    [['replicate', 'autoencoder', '--methods', 'backprop@0.05', '--out', 'unwritten'], /row 'backprop@0\.05': 'backprop' keeps no metric/],
    [['replicate', 'autoencoder', '--methods', 'kfacc@0.05', '--out', 'unwritten'], /row 'kfacc@0\.05': unknown method 'kfacc' \(available: backprop, /],
    [['replicate', 'autoencoder', '--methods', 'kflr,,kfac', '--out', 'unwritten'], /row '': empty/],
    [['replicate', 'autoencoder', '--methods', 'kfac@0.05,kfac@0.050', '--out', 'unwritten'], /row 'kfac@0\.05' is given twice/],
    [['replicate', 'autoencoder', '--methods', 'backprop,unitwise-natural@0.05', '--kronecker-solve', 'masked', '--out', 'unwritten'], /--kronecker-solve applies to the Kronecker-factored rows \(kflr, kfac, kfra, with or without @γ\) only, and --methods has none/],
    [['replicate', 'autoencoder', '--methods', 'kflr', '--inverse-every', '0', '--out', 'unwritten'], /--inverse-every 0: give a positive integer/],
    [['replicate', 'autoencoder', '--methods', 'kfra@0.05', '--groups', 'attribute', '--out', 'unwritten'], /--groups attribute: 170 non-input unit\(s\) have no "group" attribute/],
    [['quickstart', '--runs', '0', '--out', 'unwritten'], /--runs 0: give a positive integer/],
    [['quickstart', '--workers', '0', '--out', 'unwritten'], /--workers 0: give a positive integer/],
    [['invariance', 'net.json', '--data', 'data.json', '--steps', '0'], /--steps 0: give a positive integer/],
    [['invariance', 'net.json', '--data', 'data.json', '--lr', '-1'], /--lr -1: give a positive finite number/],
    [[...train, '--iterations', '5', '--batch-size', '4'], /--batch-size applies to minibatch mode only, not batch mode/],
    [[...train, '--iterations', '5', '--mode', 'online', '--metric-decay', '0.5'], /--metric-decay applies to batch and minibatch mode only, not online mode/],
    [[...train, '--iterations', '5', '--method', 'kfac', '--mode', 'online'], /no rank-one \(Sherman-Morrison\) update/],
    [[...train, '--iterations', '5', '--inverse-every', '3'], /--inverse-every applies to the Kronecker-factored methods/],
    [[...train, '--iterations', '5', '--mode', 'online', '--batch-size', '4'], /--batch-size applies to minibatch mode only, not online mode/],
    [[...train, '--iterations', '5', '--mode', 'minibatch', '--online-decay', '0.01'], /--online-decay applies to online mode only, not minibatch mode/],
    [[...train, '--iterations', '5', '--n-init', '20'], /--n-init applies to online mode only, not batch mode/],
    [[...train, '--iterations', '5', '--mode', 'minibatch', '--refresh-every', '10'], /--refresh-every applies to online mode only, not minibatch mode/],
    [[...train, '--iterations', '5', '--mode', 'minibatch', '--lr-schedule', 'adaptive'], /--lr-schedule adaptive judges each step on its own mini-batch.*diverges in minibatch mode; use --lr-schedule fixed/],
    [[...train, '--iterations', '5', '--mode', 'online', '--lr-schedule', 'adaptive'], /no meaning online; use --lr-schedule fixed/],
  ];
  it.each(cases)('%j', (args, says) => {
    const r = run(...args);
    expect(r.status, r.stderr).toBe(2);
    expect(r.stderr).toMatch(says);
    expect(r.stderr).not.toMatch(/iteration \d/);
    expect(existsSync(join(dir, 'unwritten.json'))).toBe(false);
    expect(existsSync(join(dir, 'unwritten'))).toBe(false);
  });

  it('checks that need the data come before any file is touched (an existing log is kept)', () => {
    writeFileSync(join(dir, 'keep.jsonl'), '{"iteration":1}\n');
    const r = run(...train, '--iterations', '5', '--mode', 'minibatch', '--batch-size', '100', '--log', 'keep.jsonl');
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/--batch-size 100: give an integer between 1 and the 16 samples/);
    expect(readFileSync(join(dir, 'keep.jsonl'), 'utf8')).toBe('{"iteration":1}\n');
    expect(existsSync(join(dir, 'unwritten.json'))).toBe(false);
  });

  it('several problems are reported at once, one line each', () => {
    const r = run(...train, '--iterations', '5', '--lr', '-1', '--batch-size', '4', '--refresh-every', '10');
    expect(r.status).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(3);
  });

  it('defaults never trip the mode checks; online backprop prints no --n-init warning (it keeps no metric)', () => {
    const online = run(...train, '--iterations', '5', '--mode', 'online', '--method', 'backprop', '--n-init', '2', '--out', 'online.json');
    expect(online.status, online.stderr).toBe(0);
    expect(online.stderr).not.toMatch(/warning/);
    const metric = run(...train, '--iterations', '5', '--mode', 'online', '--method', 'quasi-diagonal-op', '--n-init', '2', '--out', 'online.json');
    expect(metric.status, metric.stderr).toBe(0);
    expect(metric.stderr).toMatch(/warning: --n-init 2 is not above the \d+ parameters/);
    expect(run(...train, '--iterations', '5', '--mode', 'minibatch', '--out', 'mb.json', '--quiet').status).toBe(0);
  });
});

describe('size guard of the full-block methods', { timeout: 240_000 }, () => {
  it('a unit of fan-in 60,000 is refused before any work, naming the unit, its fan-in and the memory; quasi-diagonal methods run', () => {
    wideNetwork('wide', 60000, 1);
    const refusals: string[][] = [
      ['step', 'wide.json', '--data', 'wide.data.json', '--method', 'unitwise-natural', '--out', 'wide-out.json'],
      ['train', 'wide.json', '--data', 'wide.data.json', '--method', 'backpropagated-metric', '--iterations', '2', '--out', 'wide-out.json'],
      ['inspect', 'wide.json', '--data', 'wide.data.json', '--quantities', 'blocks'],
      ['inspect', 'wide.json', '--data', 'wide.data.json', '--method', 'mc-unitwise-natural'],
      ['invariance', 'wide.json', '--data', 'wide.data.json', '--method', 'unitwise-op'],
    ];
    for (const args of refusals) {
      const r = run(...args);
      expect(r.status, `${args.join(' ')}: ${r.stderr}`).toBe(2);
      expect(r.stderr).toMatch(/needs [\d.]+ GiB per iteration for its per-unit metric blocks .* above the 8\.00 GiB limit; unit 'y0' has fan-in 60000: its block alone holds 60001² = 3\.60e\+9 numbers \(26\.8 GiB\); use a quasi-diagonal method/);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stdout).toBe('');
    }
    expect(existsSync(join(dir, 'wide-out.json'))).toBe(false);
    const qd = run('step', 'wide.json', '--data', 'wide.data.json', '--method', 'quasi-diagonal-backpropagated-metric', '--out', 'wide-out.json');
    expect(qd.status, qd.stderr).toBe(0);
  });

  it('legal but large blocks (above 256 MiB per iteration) say the expected memory first', () => {
    wideNetwork('broad', 300, 200); // 200 blocks of 301²: 2 × 145 MB
    const r = run('step', 'broad.json', '--data', 'broad.data.json', '--method', 'backpropagated-metric', '--out', 'broad-out.json');
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/^note: backpropagated-metric needs about 276 MiB per iteration for its per-unit metric blocks \(largest: unit 'y0', fan-in 300\)/);
  });
});

describe('progress in minibatch and online modes', { timeout: 240_000 }, () => {
  it('shows the mean loss over the last epoch, not the last mini-batch', () => {
    const r = run('train', 'net.json', '--data', 'data.json', '--method', 'quasi-diagonal-backpropagated-metric', '--mode', 'minibatch', '--batch-size', '4', '--lr', '0.05', '--iterations', '100', '--out', 'mb-progress.json', '--log', 'mb-progress.jsonl');
    expect(r.status, r.stderr).toBe(0);
    const log = records('mb-progress.jsonl');
    const lines = [...r.stderr.matchAll(/^iteration (\d+)\/100 {2}loss ([\d.]+) bits\/sample \(mean of the last (\d+)\)/gm)];
    expect(lines.length).toBeGreaterThan(5);
    for (const [, at, shown, count] of lines) {
      expect(Number(count)).toBe(Math.min(4, Number(at))); // 16 samples in mini-batches of 4: an epoch is 4 iterations
      const window = log.slice(Math.max(0, Number(at) - 4), Number(at)).map((x) => x.loss as number);
      expect(Number(shown)).toBeCloseTo(window.reduce((a, b) => a + b, 0) / window.length, 3);
    }
    const batch = run('train', 'net.json', '--data', 'data.json', '--iterations', '20', '--out', 'batch-progress.json');
    expect(batch.stderr).toMatch(/^iteration 1\/20 {2}loss [\d.]+ bits\/sample {2}lr/m);
  });
});

it('the state file records the log and whether the run finished', { timeout: 240_000 }, () => {
  const r = run('train', tiny, '--data', tinyData, '--iterations', '3', '--out', 'recorded.json', '--quiet');
  expect(r.status, r.stderr).toBe(0);
  const saved = JSON.parse(readFileSync(join(dir, 'recorded.json.state.json'), 'utf8'));
  expect(saved).toMatchObject({ stoppedBy: 'budget', log: null, paramsDigest: expect.stringMatching(/^[0-9a-f]{64}$/) });
  expect(statSync(join(dir, 'recorded.json')).isFile()).toBe(true);
});
