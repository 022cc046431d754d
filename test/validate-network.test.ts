import { describe, expect, it } from 'vitest';
import { NetworkFormatError, FileFormatError, type Problem } from '../src/errors.js';
import { checkNetwork, parseNetwork } from '../src/network/load.js';
import { validateNetwork } from '../src/network/validate-network.js';
import type { NetworkDocument } from '../src/network/types.js';
import { exampleNetwork } from './helpers/documents.js';

/** The tiny softmax network with a mutation applied; returns every problem found. */
function problemsAfter(mutate: (doc: NetworkDocument & Record<string, unknown>) => void): Problem[] {
  const doc = exampleNetwork('tiny-bernoulli') as NetworkDocument & Record<string, unknown>;
  mutate(doc);
  return validateNetwork(doc).problems;
}

function expectError(code: string, mutate: (doc: NetworkDocument & Record<string, unknown>) => void, mentions: RegExp): void {
  const problems = problemsAfter(mutate);
  const found = problems.find((p) => p.code === code && p.severity === 'error');
  expect(found, `expected '${code}' among ${JSON.stringify(problems)}`).toBeDefined();
  expect(found?.message).toMatch(mentions);
  const doc = exampleNetwork('tiny-bernoulli') as NetworkDocument & Record<string, unknown>;
  mutate(doc);
  expect(() => checkNetwork(doc, 'net.json')).toThrow(NetworkFormatError);
}

describe('network validation: one test per error kind', () => {
  it('accepts the example networks without problems', () => {
    for (const name of ['tiny-square', 'tiny-bernoulli', 'tiny-softmax', 'tiny-spherical', 'autoencoder-seed1-sigmoid', 'autoencoder-seed1-tanh']) {
      const { problems } = validateNetwork(exampleNetwork(name));
      expect(problems.filter((p) => p.severity === 'error'), name).toEqual([]);
    }
  });
  it('invalid JSON: line and column', () => {
    const text = '{\n  "attributes": {"interpretation": "square",}\n}';
    expect(() => parseNetwork(text, 'net.json')).toThrow(FileFormatError);
    expect(() => parseNetwork(text, 'net.json')).toThrow(/net\.json: error: invalid JSON: .* at line 2, column 45/);
    expect(() => parseNetwork('', 'e.json')).toThrow(/line 1, column 1/);
  });
  it('not an object / data file given as network', () => {
    expect(validateNetwork([1, 2]).problems[0].code).toBe('shape');
    expect(validateNetwork({ inputs: [], targets: [] }).problems[0].message).toMatch(/looks like a data file/);
  });
  it('unknown interpretation', () => expectError('unknown-interpretation', (d) => ((d.attributes as { interpretation: string }).interpretation = 'poisson'), /"poisson".*'bernoulli'/));
  it('unknown default activation', () => expectError('unknown-activation', (d) => ((d.attributes as { activation: string }).activation = 'gelu'), /"gelu".*'relu', 'softplus'/));
  it('unknown unit activation', () => expectError('unknown-activation', (d) => (d.nodes[2].attributes.activation = 'gelu' as never), /unit 'h1' \(nodes\[2\]\).*"gelu"/));
  it('relu and softplus units are accepted (hidden, and outputs outside Bernoulli)', () => {
    const problems = problemsAfter((d) => {
      d.attributes.interpretation = 'square';
      d.nodes.forEach((n, i) => n.attributes.role !== 'input' && (n.attributes.activation = i % 2 ? 'relu' : 'softplus'));
    });
    expect(problems.filter((p) => p.severity === 'error')).toEqual([]);
  });
  it('unknown role', () => expectError('unknown-role', (d) => (d.nodes[3].attributes.role = 'bias' as never), /unit 'h2'.*"bias"/));
  it('duplicate unit key', () => expectError('duplicate-unit', (d) => (d.nodes[3].key = 'h1'), /unit 'h1' \(nodes\[3\]\)/));
  it('cycle, with the units on it', () =>
    expectError('cycle', (d) => d.edges.push({ source: 'h2', target: 'h1', attributes: { weight: 1 } }), /cycle: 'h1' -> 'h2' -> 'h1'/));
  it('edge from an unknown unit', () => expectError('unknown-source', (d) => (d.edges[0].source = 'x9'), /edge 'x9' -> 'h1' \(edges\[0\]\).*'x9'/));
  it('edge to an unknown unit', () => expectError('unknown-target', (d) => (d.edges[0].target = 'h9'), /edge 'x1' -> 'h9'/));
  it('duplicate edge', () => expectError('duplicate-edge', (d) => d.edges.push({ ...d.edges[2] }), /edge 'h1' -> 'h2' \(edges\[9\]\) duplicates edges\[2\]/));
  it('self-loop', () => expectError('self-loop', (d) => d.edges.push({ source: 'h1', target: 'h1', attributes: { weight: 1 } }), /'h1' -> 'h1'/));
  it('input unit with an incoming edge', () => expectError('input-incoming', (d) => d.edges.push({ source: 'h1', target: 'x2', attributes: { weight: 1 } }), /input unit 'x2'/));
  it('output unit with an outgoing edge', () => expectError('output-outgoing', (d) => d.edges.push({ source: 'y1', target: 'y2', attributes: { weight: 1 } }), /output unit 'y1'/));
  it('missing bias', () => expectError('missing-bias', (d) => delete d.nodes[4].attributes.bias, /unit 'y1'.*missing "bias"/));
  it('non-finite bias', () => expectError('non-finite-bias', (d) => (d.nodes[4].attributes.bias = 'NaN' as never), /unit 'y1'.*"NaN"/));
  it('missing weight', () => expectError('missing-weight', (d) => (d.edges[4].attributes = {} as never), /edge 'h2' -> 'y1'/));
  it('non-finite weight (1e999 reads as Infinity)', () => {
    const text = JSON.stringify(exampleNetwork('tiny-bernoulli')).replace('"weight":0.8', '"weight":1e999');
    expect(() => parseNetwork(text, 'n.json')).toThrow(/edge 'x1' -> 'h1' \(edges\[0\]\): weight null is not a finite number|weight .* is not a finite/);
  });
  it('no input units', () => expectError('no-inputs', (d) => (d.nodes = d.nodes.filter((n) => n.attributes.role !== 'input')), /no input units/));
  it('no output units', () => expectError('no-outputs', (d) => d.nodes.forEach((n) => n.attributes.role === 'output' && (n.attributes.role = 'hidden')), /no output units/));
  it('bias or activation on an input unit', () => {
    expectError('input-bias', (d) => (d.nodes[0].attributes.bias = 0), /unit 'x1'.*no bias/);
    expectError('input-activation', (d) => (d.nodes[0].attributes.activation = 'tanh'), /unit 'x1'.*no activation/);
  });
  it('Bernoulli output with a linear activation', () => expectError('bernoulli-activation', (d) => (d.nodes[5].attributes.activation = 'linear'), /unit 'y2'.*sigmoid or tanh/));
  it('Bernoulli output with a relu or softplus activation', () => {
    expectError('bernoulli-activation', (d) => (d.nodes[5].attributes.activation = 'relu'), /unit 'y2'.*sigmoid or tanh.*not "relu"/);
    const softplusDefault = (d: NetworkDocument) => {
      d.attributes.activation = 'softplus';
      d.nodes.forEach((n) => delete n.attributes.activation);
    };
    expectError('bernoulli-activation', softplusDefault, /unit 'y\d'.*not "softplus"/);
  });
  it('spherical with every output relu (Σa² can vanish)', () => {
    const allRelu = (d: NetworkDocument) => {
      d.attributes.interpretation = 'spherical';
      d.nodes.forEach((n) => n.attributes.role === 'output' && (n.attributes.activation = 'relu'));
    };
    expectError('spherical-relu', allRelu, /every output unit is relu.*softplus/);
    const oneSoftplus = problemsAfter((d) => {
      allRelu(d);
      d.nodes[5].attributes.activation = 'softplus';
    });
    expect(oneSoftplus.filter((p) => p.severity === 'error')).toEqual([]);
  });
  it('undirected or multi graphs', () => {
    expectError('graph-type', (d) => (d.options = { type: 'undirected' }), /directed/);
    expectError('graph-type', (d) => (d.edges[0].undirected = true), /undirected/);
  });
  it('malformed node and edge entries', () => {
    expectError('shape', (d) => ((d as Record<string, unknown>).nodes = {}), /"nodes" must be an array/);
    expectError('shape', (d) => (d.nodes[1] = 7 as never), /nodes\[1\]/);
    expectError('shape', (d) => (d.edges[1] = { source: 'x1' } as never), /edges\[1\]/);
  });
  it('reports every problem at once', () => {
    const problems = problemsAfter((d) => {
      d.edges[0].source = 'nope';
      delete d.nodes[4].attributes.bias;
    });
    expect(problems.map((p) => p.code).sort()).toEqual(['missing-bias', 'unknown-source']);
  });
});

describe('network validation: warnings', () => {
  it('hidden unit no input reaches, hidden unit reaching no output', () => {
    const problems = problemsAfter((d) => {
      d.nodes.push({ key: 'lonely', attributes: { role: 'hidden', bias: 0 } });
      d.edges.push({ source: 'lonely', target: 'y1', attributes: { weight: 1 } });
      d.nodes.push({ key: 'dead', attributes: { role: 'hidden', bias: 0 } });
      d.edges.push({ source: 'x1', target: 'dead', attributes: { weight: 1 } });
    });
    expect(problems.every((p) => p.severity === 'warning')).toBe(true);
    expect(problems.find((p) => p.code === 'unreachable')?.message).toMatch(/'lonely'/);
    expect(problems.find((p) => p.code === 'dead-end')?.message).toMatch(/'dead'/);
  });
  it('a warning does not stop loading', () => {
    const doc = exampleNetwork('tiny-bernoulli');
    doc.nodes.push({ key: 'dead', attributes: { role: 'hidden', bias: 0 } });
    expect(checkNetwork(doc).warnings).toHaveLength(2);
  });
});
