import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { repoRoot } from './helpers/documents.js';

const bin = join(repoRoot, 'bin/unitwise.js');
let dir: string;

/** Runs the real binary (built by `npm test`'s pretest step). */
function run(...args: string[]): { status: number; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [bin, ...args], { cwd: dir, encoding: 'utf8' });
  return { status: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'unitwise-cli-'));
  execFileSync(process.execPath, [bin, 'generate', 'autoencoder', '--seed', '1', '--activation', 'sigmoid', '--out', 'net.json'], { cwd: dir });
  execFileSync(process.execPath, [bin, 'generate', 'data', '--seed', '1', '--samples', '16', '--length', '100', '--out', 'data.json'], { cwd: dir });
});

// Real processes on a possibly loaded 2-core machine: a timeout far above what these need (a few seconds here).
describe('unitwise CLI (real binary)', { timeout: 240_000 }, () => {
  it('generate writes the Section 4 autoencoder and data', () => {
    const net = JSON.parse(readFileSync(join(dir, 'net.json'), 'utf8'));
    expect(net.nodes).toHaveLength(270);
    expect(net.edges).toHaveLength(1300);
    expect(readFileSync(join(dir, 'net.json'), 'utf8')).toBe(readFileSync(join(repoRoot, 'networks/autoencoder-seed1-sigmoid.json'), 'utf8'));
    const data = JSON.parse(readFileSync(join(dir, 'data.json'), 'utf8'));
    expect(data.inputs).toHaveLength(16);
    expect(data.inputs[0]).toHaveLength(100);
  });

  it('validate: exit 0 with a summary', () => {
    const r = run('validate', 'net.json', '--data', 'data.json');
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/net\.json: valid: 270 units \(100 inputs, 100 outputs\), 1300 edges, 1470 parameters, 5 levels, bernoulli/);
    expect(r.stdout).toMatch(/data\.json: valid: 16 samples/);
  });

  it('validate: exit 1, one line per problem, no stack trace', () => {
    const net = JSON.parse(readFileSync(join(dir, 'net.json'), 'utf8'));
    net.edges.push({ source: 'L4_0', target: 'L0_0', attributes: { weight: 1 } });
    delete net.nodes[150].attributes.bias;
    writeFileSync(join(dir, 'bad.json'), JSON.stringify(net));
    const r = run('validate', 'bad.json');
    expect(r.status).toBe(1);
    const lines = r.stderr.trim().split('\n');
    expect(lines.some((l) => /^bad\.json: error: unit 'L3_10' \(nodes\[150\]\): missing "bias"/.test(l))).toBe(true);
    expect(lines.some((l) => /input unit 'L0_0' cannot have incoming edges/.test(l))).toBe(true);
    expect(lines.some((l) => /output unit 'L4_0' cannot have outgoing edges/.test(l))).toBe(true);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  it('validate: invalid JSON gives line and column; a missing file is named', () => {
    writeFileSync(join(dir, 'broken.json'), '{\n  "nodes": [\n    {"key": "a",}\n  ]\n}\n');
    const r = run('validate', 'broken.json');
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/broken\.json: error: invalid JSON: .* at line 3, column 17/);
    const missing = run('validate', 'nope.json');
    expect(missing.status).toBe(1);
    expect(missing.stderr).toMatch(/nope\.json: error: cannot read the file: no such file/);
  });

  it('validate: bad data is reported against the network', () => {
    writeFileSync(join(dir, 'bad-data.json'), JSON.stringify({ inputs: [[0, 1]], targets: [[2, 0]] }));
    const r = run('validate', 'net.json', '--data', 'bad-data.json');
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/bad-data\.json: error: inputs\[0\] has 2 values but the network has 100 input units/);
  });

  it('inspect prints JSON with activations, loss and gradient', () => {
    const r = run('inspect', 'net.json', '--data', 'data.json');
    expect(r.status).toBe(0);
    const report = JSON.parse(r.stdout);
    expect(report.samples).toBe(16);
    expect(report.activations.L0_0).toHaveLength(16);
    expect(report.loss.perSampleBits).toHaveLength(16);
    expect(report.gradient.edges).toHaveLength(1300);
    expect(Object.keys(report.gradient.biases)).toHaveLength(170);
  });

  it('step writes a network with a lower loss, and step on it continues', () => {
    const r = run('step', 'net.json', '--data', 'data.json', '--method', 'backprop', '--lr', '0.1', '--out', 'next.json');
    expect(r.status).toBe(0);
    const [, before, after] = /loss ([\d.]+) -> ([\d.]+) bits/.exec(r.stderr) ?? [];
    expect(Number(after)).toBeLessThan(Number(before));
    const inspect = JSON.parse(run('inspect', 'next.json', '--data', 'data.json').stdout);
    expect(inspect.loss.meanBits).toBeCloseTo(Number(after), 5);
  });

  it('convert to tanh (with data) keeps the outputs; back to sigmoid restores them', () => {
    expect(run('convert', 'net.json', '--data', 'data.json', '--to', 'tanh', '--out', 'net-tanh.json', '--data-out', 'data-pm1.json').status).toBe(0);
    const data = JSON.parse(readFileSync(join(dir, 'data-pm1.json'), 'utf8'));
    expect(data.inputs[0].every((x: number) => x === 1 || x === -1)).toBe(true);
    const a = JSON.parse(run('inspect', 'net.json', '--data', 'data.json').stdout);
    const b = JSON.parse(run('inspect', 'net-tanh.json', '--data', 'data-pm1.json').stdout);
    expect(Math.abs(a.loss.meanBits - b.loss.meanBits)).toBeLessThan(1e-9);
    expect(run('convert', 'net-tanh.json', '--to', 'sigmoid', '--out', 'back.json').status).toBe(0);
  });

  it('usage errors exit 2 with a hint; unknown method is refused', () => {
    const r = run('step', 'net.json', '--data', 'data.json', '--method', 'newton', '--out', 'x.json');
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/Invalid values[\s\S]*method/);
    expect(run('frobnicate').status).toBe(2);
    const unpaired = run('convert', 'net.json', '--to', 'tanh', '--out', 'x.json', '--data', 'data.json');
    expect(unpaired.status).toBe(2);
    expect(unpaired.stderr).toMatch(/--data and --data-out go together/);
  });

  it('step runs every method (metric options included) and writes finite networks', () => {
    const tiny = join(repoRoot, 'networks/tiny-softmax.json');
    const tinyData = join(repoRoot, 'networks/tiny-softmax.data.json');
    for (const method of ['unitwise-natural', 'quasi-diagonal-natural', 'backpropagated-metric', 'quasi-diagonal-backpropagated-metric', 'unitwise-op', 'quasi-diagonal-op', 'mc-unitwise-natural', 'mc-quasi-diagonal-natural', 'diagonal-gauss-newton', 'adagrad', 'natural', 'kflr', 'kfac', 'kfra']) {
      const r = run('step', tiny, '--data', tinyData, '--method', method, '--lr', '0.05', '--epsilon', '1e-3', '--mc-samples', '2', '--seed', '3', '--out', `${method}.json`);
      expect(r.status, `${method}: ${r.stderr}`).toBe(0);
      const [, before, after] = /loss ([\d.]+) -> ([\d.]+) bits/.exec(r.stderr) ?? [];
      expect(Number(after), method).toBeLessThan(Number(before));
    }
  });

  it('step with ε = 0 solves singular blocks (one sample) in the least-squares sense', () => {
    writeFileSync(join(dir, 'one.json'), JSON.stringify({ inputs: [JSON.parse(readFileSync(join(dir, 'data.json'), 'utf8')).inputs[0]], targets: [JSON.parse(readFileSync(join(dir, 'data.json'), 'utf8')).targets[0]] }));
    const r = run('step', 'net.json', '--data', 'one.json', '--method', 'backpropagated-metric', '--epsilon', '0', '--lr', '0.1', '--out', 'one-step.json');
    expect(r.status, r.stderr).toBe(0);
    const [, before, after] = /loss ([\d.]+) -> ([\d.]+) bits/.exec(r.stderr) ?? [];
    expect(Number(after)).toBeLessThan(Number(before));
  });

  it('inspect --method prints the direction; --quantities prints J, Φ, m and blocks', () => {
    const tiny = join(repoRoot, 'networks/tiny-bernoulli.json');
    const tinyData = join(repoRoot, 'networks/tiny-bernoulli.data.json');
    const r = run('inspect', tiny, '--data', tinyData, '--method', 'quasi-diagonal-natural', '--quantities', 'J,phi,m,blocks');
    expect(r.status, r.stderr).toBe(0);
    const report = JSON.parse(r.stdout);
    expect(report.direction.method).toBe('quasi-diagonal-natural');
    expect(report.direction.edges).toHaveLength(9);
    expect(report.quantities.transferRates.y1.y1).toEqual([1, 1, 1, 1]);
    expect(Object.keys(report.quantities.fisherModulus)).toEqual(['h1', 'h2', 'y1', 'y2']);
    expect(report.quantities.backpropagatedModulus.y1).toEqual(report.quantities.fisherModulus.y1.map((v: number) => expect.closeTo(v, 12)));
    expect(report.quantities.blocks.units.h2.parameters).toEqual(['bias', 'h1', 'x2']);
    expect(run('inspect', tiny, '--data', tinyData, '--quantities', 'J,psi').status).toBe(2);
  });

  it('Kronecker methods: inspect prints the factors and the solve routes; --groups attribute and KFRA errors name the units and the edge', () => {
    const tiny = join(repoRoot, 'networks/tiny-bernoulli.json');
    const tinyData = join(repoRoot, 'networks/tiny-bernoulli.data.json');
    const r = run('inspect', tiny, '--data', tinyData, '--method', 'kflr', '--quantities', 'factors', '--kronecker-solve', 'restricted');
    expect(r.status, r.stderr).toBe(0);
    const report = JSON.parse(r.stdout);
    const groups = report.quantities.factors.groups;
    expect(groups.map((g: { name: string }) => g.name)).toEqual(['level 1', 'level 2', 'level 3']);
    for (const g of groups) {
      expect(g.A).toHaveLength(g.sources.length + 1);
      expect(g.G).toHaveLength(g.units.length);
      expect(g.A[0][0]).toBeCloseTo(1, 12);
      expect(g.pi).toBeGreaterThan(0);
    }
    expect(report.direction.solve.map((s: { route: string }) => s.route)).toHaveLength(3);
    // The network with group attributes: one group holding an edge (h1 → h2) is refused by KFRA only.
    const doc = JSON.parse(readFileSync(tiny, 'utf8'));
    for (const n of doc.nodes) if (n.attributes.role !== 'input') n.attributes.group = n.attributes.role === 'output' ? 'out' : 'hidden';
    writeFileSync(join(dir, 'grouped.json'), JSON.stringify(doc));
    expect(run('step', 'grouped.json', '--data', tinyData, '--method', 'kflr', '--groups', 'attribute', '--lr', '0.1', '--out', 'g.json').status).toBe(0);
    const kfra = run('step', 'grouped.json', '--data', tinyData, '--method', 'kfra', '--groups', 'attribute', '--lr', '0.1', '--out', 'g.json');
    expect(kfra.status).toBe(2);
    expect(kfra.stderr).toMatch(/edge 'h1' → 'h2' lies inside group 'hidden'/);
    const missing = run('step', tiny, '--data', tinyData, '--method', 'kfac', '--groups', 'attribute', '--lr', '0.1', '--out', 'g.json');
    expect(missing.status).toBe(2);
    expect(missing.stderr).toMatch(/4 non-input unit\(s\) have no "group" attribute \('h1', 'h2', 'y1', 'y2'\)/);
    expect(run('step', tiny, '--data', tinyData, '--method', 'backprop', '--groups', 'units', '--lr', '0.1', '--out', 'g.json').status).toBe(2);
  });

  it('train writes the network, its state and a JSONL log; plain progress lines when not a terminal', () => {
    const r = run('train', 'net.json', '--data', 'data.json', '--method', 'quasi-diagonal-backpropagated-metric', '--iterations', '200', '--out', 'trained.json', '--log', 'train.jsonl');
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/^iteration 10\/200 {2}loss [\d.]+ bits\/sample {2}lr /m);
    expect(r.stderr).toMatch(/done after 200 iterations/);
    const [first, ...records] = readFileSync(join(dir, 'train.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(Object.keys(first)).toEqual(['header']);
    expect(first.header.argv).toEqual(['train', 'net.json', '--data', 'data.json', '--method', 'quasi-diagonal-backpropagated-metric', '--iterations', '200', '--out', 'trained.json', '--log', 'train.jsonl']);
    expect(first.header.seeds).toEqual({ seed: 1 });
    expect(first.header.files['net.json']).toMatch(/^[0-9a-f]{64}$/);
    expect(records).toHaveLength(200);
    expect(Object.keys(records[0]).sort()).toEqual(['accepted', 'elapsed', 'iteration', 'loss', 'lossBefore', 'lr']);
    expect(records[199].loss).toBeLessThan(records[0].loss);
    // Batch mode: each iteration starts where the previous one ended (its loss, or its lossBefore if it was rejected).
    for (let i = 1; i < 200; i++) expect(records[i].lossBefore).toBe(records[i - 1].loss);
    expect(records[0].lossBefore).toBeGreaterThan(records[0].loss);
    const inspect = JSON.parse(run('inspect', 'trained.json', '--data', 'data.json').stdout);
    expect(inspect.loss.meanBits).toBeCloseTo(records[199].loss, 9);
    expect(run('train', 'net.json', '--data', 'data.json', '--method', 'backprop', '--iterations', '5', '--out', 'q.json', '--quiet').stderr).toBe('');
  });

  it('train refuses contradictory options', () => {
    expect(run('train', 'net.json', '--data', 'data.json', '--method', 'backprop', '--out', 'x.json').stderr).toMatch(/give a budget/);
    expect(run('train', 'net.json', '--data', 'data.json', '--method', 'backprop', '--iterations', '5', '--time', '3', '--out', 'x.json').status).toBe(2);
    const online = run('train', 'net.json', '--data', 'data.json', '--method', 'backprop', '--mode', 'online', '--lr-schedule', 'adaptive', '--iterations', '5', '--out', 'x.json');
    expect(online.status).toBe(2);
    expect(online.stderr).toMatch(/no meaning online/);
    expect(run('train', 'net.json', '--data', 'data.json', '--method', 'backprop', '--iterations', '5', '--out', 'fresh.json', '--resume').stderr).toMatch(/nothing to resume/);
  });

  it('Ctrl-C stops after the current iteration, writes everything and exits 130; --resume ends where an uninterrupted run does', async () => {
    const args = ['train', 'net.json', '--data', 'data.json', '--method', 'backprop', '--lr', '0.05', '--seed', '4'];
    const child = spawn(process.execPath, [bin, ...args, '--iterations', '10000000', '--out', 'int.json', '--log', 'int.jsonl'], { cwd: dir });
    let stderr = '';
    // Once it says training has begun its handlers are installed; then let it run a little.
    await new Promise<void>((resolve) => {
      child.stderr.on('data', (d) => (stderr += d) && /stops after the current iteration and saves/.test(stderr) && resolve());
      child.on('exit', () => resolve());
    });
    await new Promise((resolve) => setTimeout(resolve, 800));
    child.kill('SIGINT');
    const code = await new Promise((resolve) => child.on('exit', resolve));
    expect(code, stderr).toBe(130);
    expect(stderr).toMatch(/interrupted after \d+ iterations.*continue with --resume/);
    const saved = JSON.parse(readFileSync(join(dir, 'int.json.state.json'), 'utf8'));
    const done: number = saved.state.iteration;
    expect(done).toBeGreaterThan(0);
    expect(readFileSync(join(dir, 'int.jsonl'), 'utf8').trim().split('\n')).toHaveLength(done + 1); // the header first
    const total = String(done + 25);
    expect(run(...args, '--iterations', total, '--out', 'int.json', '--log', 'int.jsonl', '--resume').status).toBe(0);
    expect(run(...args, '--iterations', total, '--out', 'straight.json', '--log', 'straight.jsonl').status).toBe(0);
    expect(readFileSync(join(dir, 'int.json'), 'utf8')).toBe(readFileSync(join(dir, 'straight.json'), 'utf8'));
    const strip = (f: string) => readFileSync(join(dir, f), 'utf8').trim().split('\n').slice(1).map((l) => ({ ...JSON.parse(l), elapsed: 0 }));
    expect(strip('int.jsonl')).toEqual(strip('straight.jsonl'));
  });

  const backendRuns: Array<[string, string[], Record<string, string>, RegExp]> = [
    ['tfjs', ['--backend', 'tfjs'], {}, /backend: TensorFlow\.js '(wasm|tensorflow)' backend from @tensorflow\/tfjs-(backend-wasm|node|node-gpu) \(float32(; SIMD on, threads off \(.*\))?\)/],
    ['tfjs on tfjs-cpu', ['--backend', 'tfjs', '--tfjs-backend', 'cpu'], {}, /backend: TensorFlow\.js 'cpu' backend from @tensorflow\/tfjs-backend-cpu \(float32\)/],
    ['gpujs', ['--backend', 'gpujs'], {}, process.env.DISPLAY ? /backend: gpu\.js 'headlessgl' mode/ : /backend: gpu\.js 'webasm' mode \(headlessgl unavailable: /],
    ['gpujs forced to webasm', ['--backend', 'gpujs'], { UNITWISE_GPUJS_MODE: 'webasm' }, /backend: gpu\.js 'webasm' mode \(requested; float32\)/],
    ['webgpu', ['--backend', 'webgpu'], {}, /backend: webgpu \(.+ via (OpenGL ES|Vulkan|Metal|D3D12)/],
  ];
  it.each(backendRuns)('--backend %s: says which backend ran and agrees with cpu to float32 precision', (label, flags, env, says) => {
    const tiny = join(repoRoot, 'networks/tiny-softmax.json');
    const tinyData = join(repoRoot, 'networks/tiny-softmax.data.json');
    const out = `${label.replace(/\W+/g, '-')}-step.json`;
    const r = spawnSync(process.execPath, [bin, 'step', tiny, '--data', tinyData, '--method', 'backpropagated-metric', '--lr', '0.1', ...flags, '--out', out], { cwd: dir, encoding: 'utf8', env: { ...process.env, ...env } });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toMatch(says);
    expect(run('step', tiny, '--data', tinyData, '--method', 'backpropagated-metric', '--lr', '0.1', '--out', 'cpu-step.json').status).toBe(0);
    const weights = (f: string) => JSON.parse(readFileSync(join(dir, f), 'utf8')).edges.map((e: { attributes: { weight: number } }) => e.attributes.weight);
    weights(out).forEach((w: number, i: number) => expect(Math.abs(w - weights('cpu-step.json')[i])).toBeLessThan(1e-4));
  });

  it('--backend: an unknown backend, or a gpu.js mode that cannot run, is a usage error (exit 2)', () => {
    const tiny = join(repoRoot, 'networks/tiny-softmax.json');
    const tinyData = join(repoRoot, 'networks/tiny-softmax.data.json');
    expect(run('step', tiny, '--data', tinyData, '--backend', 'gpu', '--out', 'x.json').status).toBe(2);
    const bad = spawnSync(process.execPath, [bin, 'step', tiny, '--data', tinyData, '--backend', 'gpujs', '--out', 'x.json'], { cwd: dir, encoding: 'utf8', env: { ...process.env, UNITWISE_GPUJS_MODE: 'cuda' } });
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/unknown gpu\.js mode 'cuda'; use headlessgl or webasm/);
  });

  it('--tfjs-backend: train records tfjs-wasm in its saved settings; webgpu says what ran and trains as cpu does; tensorflow without tfjs-node is a usage error saying why', () => {
    const tiny = join(repoRoot, 'networks/tiny-softmax.json');
    const tinyData = join(repoRoot, 'networks/tiny-softmax.data.json');
    const trained = run('train', tiny, '--data', tinyData, '--method', 'kflr', '--iterations', '3', '--backend', 'tfjs', '--tfjs-backend', 'wasm', '--out', 'wasm-trained.json');
    expect(trained.status, trained.stderr).toBe(0);
    expect(trained.stderr).toMatch(/backend: TensorFlow\.js 'wasm' backend/);
    expect(JSON.parse(readFileSync(join(dir, 'wasm-trained.json.state.json'), 'utf8')).state.settings.backend).toBe('tfjs-wasm');
    const train = (out: string, ...backend: string[]) => {
      const r = run('train', tiny, '--data', tinyData, '--method', 'kflr', '--iterations', '3', ...backend, '--out', out);
      expect(r.status, r.stderr).toBe(0);
      const weights = (JSON.parse(readFileSync(join(dir, out), 'utf8')) as { edges: { attributes: { weight: number } }[] }).edges.map((e) => e.attributes.weight);
      return { stderr: r.stderr, weights };
    };
    const webgpu = train('webgpu-trained.json', '--backend', 'tfjs', '--tfjs-backend', 'webgpu');
    expect(webgpu.stderr).toMatch(/backend: TensorFlow\.js 'webgpu' backend from @tensorflow\/tfjs-backend-webgpu \(float32; .+ via (Vulkan|Metal|D3D12|OpenGL ES, compatibility mode); in a worker thread, reads awaited\)/);
    expect(JSON.parse(readFileSync(join(dir, 'webgpu-trained.json.state.json'), 'utf8')).state.settings.backend).toBe('tfjs-webgpu');
    const cpu = train('cpu-trained.json', '--backend', 'cpu');
    const start = (JSON.parse(readFileSync(tiny, 'utf8')) as { edges: { attributes?: { weight?: number } }[] }).edges.map((e) => e.attributes?.weight ?? 0);
    const gap = (a: number[], b: number[]) => Math.max(...a.map((w, i) => Math.abs(w - b[i]) / Math.max(1, Math.abs(w))));
    expect(gap(cpu.weights, start), 'training moved the weights').toBeGreaterThan(0.1);
    expect(gap(cpu.weights, webgpu.weights), 'weights after 3 kflr iterations, tfjs-webgpu against cpu').toBeLessThan(1e-3);
    const native = spawnSync(process.execPath, ['-e', "import('@tensorflow/tfjs-node').then(() => process.exit(0), () => process.exit(1))"], { cwd: repoRoot });
    if (native.status !== 0) {
      const tensorflow = run('step', tiny, '--data', tinyData, '--backend', 'tfjs', '--tfjs-backend', 'tensorflow', '--out', 'x.json');
      expect(tensorflow.status).toBe(2);
      expect(tensorflow.stderr).toMatch(/npm install @tensorflow\/tfjs-node@4\.22\.0/);
    }
  });

  it('replicate --backend gpujs: says when worker threads ran another gpu.js mode than the main thread', () => {
    const args = ['replicate', 'autoencoder', '--runs', '2', '--budget', 'iterations:5', '--methods', 'backprop', '--backend', 'gpujs', '--quiet'];
    const pooled = run(...args, '--workers', '2', '--out', 'rep-gpu2');
    expect(pooled.status, pooled.stderr).toBe(0);
    const main = /backend: gpu\.js '(\w+)' mode/.exec(pooled.stderr)?.[1];
    if (main === 'headlessgl') expect(pooled.stderr).toMatch(/backend in worker threads: gpu\.js 'webasm' mode \(headlessgl unavailable: headless-gl gives no GL context in worker threads; float32\); --workers 1 keeps/);
    else expect(pooled.stderr).not.toMatch(/worker threads/);
    const single = run(...args, '--workers', '1', '--out', 'rep-gpu1');
    expect(single.status, single.stderr).toBe(0);
    expect(single.stderr).not.toMatch(/worker threads/);
    const runs = JSON.parse(readFileSync(join(dir, 'rep-gpu1', 'curves', 'run-01.json'), 'utf8'));
    expect(runs.backend).toMatch(new RegExp(`^gpu\\.js '${main}' mode`));
  });

  it('replicate autoencoder: results do not depend on the number of workers', () => {
    const args = ['replicate', 'autoencoder', '--runs', '3', '--budget', 'iterations:30', '--methods', 'backprop,quasi-diagonal-backpropagated-metric', '--quiet'];
    expect(run(...args, '--workers', '1', '--out', 'rep1').status).toBe(0);
    expect(run(...args, '--workers', '2', '--out', 'rep2').status).toBe(0);
    const losses = (d: string) => JSON.parse(readFileSync(join(dir, d, 'table2.json'), 'utf8')).methods;
    expect(losses('rep2')).toEqual(losses('rep1'));
    const curve = (d: string) => JSON.parse(readFileSync(join(dir, d, 'curves/run-02.json'), 'utf8')).curves.backprop.tanh.points.map((p: number[]) => [p[0], p[2]]);
    expect(curve('rep2')).toEqual(curve('rep1'));
  });

  it('replicate autoencoder: Kronecker rows with their choices, accumulated rows METHOD@γ keyed by that text', () => {
    const r = run('replicate', 'autoencoder', '--runs', '1', '--budget', 'iterations:3', '--methods', 'backprop,kflr,kfac@0.05,mc-unitwise-natural@0.05', '--kronecker-solve', 'masked', '--workers', '1', '--quiet', '--out', 'rep-kron');
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/\| K-FAC \(accumulated, γ = 0\.05\) \| yes \| [\d.]+ ± 0\.0 \|/);
    expect(r.stdout).toMatch(/\| Monte Carlo unitwise natural gradient \(accumulated, γ = 0\.05\) \| 3 \| 3 \|/);
    const table2 = JSON.parse(readFileSync(join(dir, 'rep-kron', 'table2.json'), 'utf8'));
    expect(table2.kronecker).toEqual({ kroneckerSolve: 'masked' });
    expect(table2.methods.map((m: { method: string; metricDecay?: number }) => [m.method, m.metricDecay])).toEqual([['backprop', undefined], ['kflr', undefined], ['kfac@0.05', 0.05], ['mc-unitwise-natural@0.05', 0.05]]);
    expect(Object.keys(JSON.parse(readFileSync(join(dir, 'rep-kron', 'curves', 'run-00.json'), 'utf8')).curves)).toEqual(['backprop', 'kflr', 'kfac@0.05', 'mc-unitwise-natural@0.05']);
    expect(readFileSync(join(dir, 'rep-kron', 'report.md'), 'utf8')).toMatch(/Kronecker-factored rows: --kronecker-solve masked \(the others at their defaults\)\./);
  });

  // The paper's budget takes over a minute on a loaded 2-core machine: the same code path with a
  // short iteration budget, and a timeout far above what it needs.
  it('quickstart (npm start) runs a short replication and the invariance table and writes the report', { timeout: 240_000 }, () => {
    const r = run('quickstart', '--runs', '1', '--budget', 'iterations:200', '--out', 'qs');
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/Table 2 — final loss in bits per sample, mean ± std over 1 runs/);
    expect(r.stdout.match(/as expected/g)).toHaveLength(10);
    expect(r.stdout).toMatch(/Report: .*qs\/index\.html/);
    for (const f of ['index.html', 'report.md', 'table1.json', 'table2.md', 'loss-vs-time-sigmoid.svg', 'sigmoid-vs-tanh.svg', 'dgn-vs-qdbm.svg', 'curves/run-00.json']) {
      expect(readFileSync(join(dir, 'qs', f), 'utf8').length, f).toBeGreaterThan(100);
    }
  });

  it('evaluate: a table with the loss, accuracy and confusion matrix; --json with a run header and per-sample losses', () => {
    const tiny = join(repoRoot, 'networks/tiny-softmax.json');
    const tinyData = join(repoRoot, 'networks/tiny-softmax.data.json');
    const table = run('evaluate', tiny, '--data', tinyData);
    expect(table.status, table.stderr).toBe(0);
    expect(table.stdout).toMatch(/mean loss: [\d.]+ bits, [\d.]+ nats per sample/);
    expect(table.stdout).toMatch(/accuracy: 75\.00% \(argmax\)/);
    expect(table.stdout).toMatch(/confusion \(rows: target class, columns: predicted\)/);
    const json = run('evaluate', tiny, '--data', tinyData, '--json');
    expect(json.status, json.stderr).toBe(0);
    const r = JSON.parse(json.stdout);
    expect(r.header.argv).toEqual(['evaluate', tiny, '--data', tinyData, '--json']);
    expect(Object.keys(r.header.files)).toEqual([tiny, tinyData]);
    expect(r.sampleLossBits).toHaveLength(4);
    expect(r.accuracy.confusion).toEqual([[3, 0], [1, 0]]);
    const bern = JSON.parse(run('evaluate', join(repoRoot, 'networks/tiny-bernoulli.json'), '--data', join(repoRoot, 'networks/tiny-bernoulli.data.json'), '--json').stdout);
    expect(bern.accuracy).toMatchObject({ kind: 'bernoulli' });
  });

  it('predict writes the probabilities per sample with a run header; a missing output folder is refused', () => {
    const tiny = join(repoRoot, 'networks/tiny-bernoulli.json');
    const tinyData = join(repoRoot, 'networks/tiny-bernoulli.data.json');
    const r = run('predict', tiny, '--data', tinyData, '--out', 'pred.json');
    expect(r.status, r.stderr).toBe(0);
    const p = JSON.parse(readFileSync(join(dir, 'pred.json'), 'utf8'));
    expect(p.interpretation).toBe('bernoulli');
    expect(p.probabilities).toHaveLength(4);
    expect(p.probabilities[0]).toHaveLength(2);
    expect(p.header.files[tiny]).toMatch(/^[0-9a-f]{64}$/);
    expect(run('predict', tiny, '--data', tinyData, '--out', 'no-such-folder/p.json').status).toBe(1);
  });

  it('data mnist writes a seeded stratified split and meta.json; the same seed gives the same files', () => {
    const args = ['data', 'mnist', '--train', '40', '--test', '20', '--seed', '2', '--downsample', '2', '--task', 'autoencoder'];
    expect(run(...args, '--out', 'mnist-a').status).toBe(0);
    expect(run(...args, '--out', 'mnist-b').status).toBe(0);
    const read = (f: string) => readFileSync(join(dir, f), 'utf8');
    expect(read('mnist-a/train.json')).toBe(read('mnist-b/train.json'));
    expect(read('mnist-a/test.json')).toBe(read('mnist-b/test.json'));
    const train = JSON.parse(read('mnist-a/train.json'));
    expect(train.inputs).toHaveLength(40);
    expect(train.inputs[0]).toHaveLength(196);
    const meta = JSON.parse(read('mnist-a/meta.json'));
    expect(meta.testPerClass.reduce((a: number, b: number) => a + b, 0)).toBe(20);
    expect(meta.header.seeds).toEqual({ seed: 2 });
    expect(run('data', 'mnist', '--train', '9000', '--test', '2000', '--out', 'mnist-c').status).toBe(2);
  });
});
