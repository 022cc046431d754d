import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { initialiseNetwork } from '../src/generate/init.js';
import { generateMlp } from '../src/generate/mlp.js';
import { generateRandomDag } from '../src/generate/random-dag.js';
import { stringifyJson } from '../src/json/stringify-json.js';
import type { NetworkDocument } from '../src/network/types.js';
import { repoRoot } from './helpers/documents.js';

const bin = join(repoRoot, 'bin/unitwise.js');
let dir: string;

/** Runs the real binary (built by `npm test`'s pretest step). */
function run(...args: string[]): { status: number; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [bin, ...args], { cwd: dir, encoding: 'utf8' });
  return { status: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}
const read = (file: string) => readFileSync(join(dir, file), 'utf8');

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'unitwise-build-'));
  expect(run('generate', 'autoencoder', '--layers', '6,3,6', '--fan', '2', '--out', 'ae.json').status).toBe(0);
  expect(run('generate', 'data', '--samples', '4', '--length', '6', '--out', 'data.json').status).toBe(0);
  const doc = JSON.parse(read('ae.json')) as NetworkDocument;
  for (const e of doc.edges) delete (e as { attributes?: unknown }).attributes;
  for (const n of doc.nodes) delete n.attributes.bias;
  writeFileSync(join(dir, 'skeleton.json'), JSON.stringify(doc));
});

// Real processes on a possibly loaded 2-core machine: a timeout far above what these need.
describe('generate mlp and init (real binary)', { timeout: 120_000 }, () => {
  it('generate mlp writes what generateMlp builds, and it validates', () => {
    const r = run('generate', 'mlp', '--layers', '30,20,10', '--fan-in', '4', '--skip', '0.2', '--activation', 'relu', '--interpretation', 'softmax', '--init', 'glorot', '--seed', '3', '--out', 'mlp.json');
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(read('mlp.json')).toBe(stringifyJson(generateMlp({ layers: [30, 20, 10], fanIn: 4, skip: 0.2, activation: 'relu', interpretation: 'softmax', init: 'glorot', seed: 3 })));
    const v = run('validate', 'mlp.json');
    expect(v.status).toBe(0);
    expect(v.stdout).toMatch(/valid: 60 units \(30 inputs, 10 outputs\).*softmax/);
  });

  it('generate mlp is dense by default; random-dag keeps its fan-in 8', () => {
    expect(run('generate', 'mlp', '--layers', '7,5,3', '--out', 'dense.json').status).toBe(0);
    expect(read('dense.json')).toBe(stringifyJson(generateMlp({ layers: [7, 5, 3], seed: 1 })));
    expect((JSON.parse(read('dense.json')) as NetworkDocument).edges).toHaveLength(7 * 5 + 5 * 3);
    expect(run('generate', 'random-dag', '--units', '100', '--out', 'dag.json').status).toBe(0);
    expect(read('dag.json')).toBe(stringifyJson(generateRandomDag({ units: 100, fanIn: 8, outputs: 10, seed: 1 })));
  });

  it('generate refuses bad options naming the option (exit 2)', () => {
    const cases: Array<[string[], RegExp]> = [
      [['generate', 'mlp'], /--layers: 'generate mlp' needs the layer sizes/],
      [['generate', 'mlp', '--layers', '8,6,4', '--fan-in', '7'], /--fan-in 7: units of layer 2 must each pick 7 distinct units of layer 1, which has 6/],
      [['generate', 'mlp', '--layers', '8,6', '--fan-in', 'many'], /--fan-in many: give a positive integer or 'dense'/],
      [['generate', 'mlp', '--layers', '8,6', '--skip', '2'], /--skip 2: give a probability in \[0, 1\]/],
      [['generate', 'random-dag', '--fan-in', 'dense'], /--fan-in dense: only 'generate mlp' builds dense layers/],
      [['generate', 'autoencoder', '--activation', 'relu'], /--activation relu: 'generate autoencoder' builds sigmoid or tanh networks/],
    ];
    for (const [args, message] of cases) {
      const r = run(...args, '--out', 'unwritten.json');
      expect(r.status, args.join(' ')).toBe(2);
      expect(r.stderr).toMatch(message);
    }
  });

  it('a network without weights is refused by validate and train, naming the edges and suggesting init', () => {
    const v = run('validate', 'skeleton.json');
    expect(v.status).toBe(1);
    expect(v.stderr).toMatch(/edge 'L0_\d+' -> 'L1_\d+' \(edges\[0\]\): missing "attributes": \{"weight": number\}.*unitwise init NET --scheme/);
    const t = run('train', 'skeleton.json', '--data', 'data.json', '--out', 'trained.json');
    expect(t.status).toBe(1);
    expect(t.stderr).toMatch(/missing "attributes": \{"weight": number\}.*unitwise init/);
  });

  it('init draws every weight and bias; the result validates and trains; --keep keeps what is there', () => {
    const r = run('init', 'skeleton.json', '--scheme', 'he', '--seed', '4', '--out', 'he.json');
    expect(r.status).toBe(0);
    const skeleton = JSON.parse(read('skeleton.json'));
    expect(read('he.json')).toBe(stringifyJson(initialiseNetwork(skeleton, { scheme: 'he', seed: 4 })));
    expect(run('validate', 'he.json').status).toBe(0);
    expect(run('train', 'he.json', '--data', 'data.json', '--iterations', '2', '--out', 'trained.json').status).toBe(0);

    expect(run('init', 'ae.json', '--scheme', 'glorot', '--seed', '4', '--keep', '--out', 'kept.json').status).toBe(0);
    expect(read('kept.json')).toBe(read('ae.json'));
    expect(run('init', 'ae.json', '--scheme', 'glorot', '--seed', '4', '--out', 'replaced.json').status).toBe(0);
    expect(read('replaced.json')).toBe(stringifyJson(initialiseNetwork(JSON.parse(read('ae.json')), { scheme: 'glorot', seed: 4 })));
    expect(read('replaced.json')).not.toBe(read('ae.json'));
  });

  it('init needs --scheme and --out, and names an unknown scheme (exit 2)', () => {
    expect(run('init', 'skeleton.json', '--out', 'x.json').stderr).toMatch(/Missing required argument: scheme/);
    const r = run('init', 'skeleton.json', '--scheme', 'xavier', '--out', 'x.json');
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/scheme.*xavier/);
  });
});
