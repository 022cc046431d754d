import { Ajv } from 'ajv';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ACTIVATIONS } from '../src/network/types.js';
import { validateNetwork } from '../src/network/validate-network.js';
import { exampleData, exampleNetwork, repoRoot } from './helpers/documents.js';

const ajv = new Ajv({ allErrors: true, strict: false });
const networkSchema = ajv.compile(JSON.parse(readFileSync(`${repoRoot}schema/network.schema.json`, 'utf8')));
const dataSchema = ajv.compile(JSON.parse(readFileSync(`${repoRoot}schema/data.schema.json`, 'utf8')));

describe('shipped JSON Schemas', () => {
  const names = ['tiny-square', 'tiny-bernoulli', 'tiny-softmax', 'tiny-spherical', 'autoencoder-seed1-sigmoid', 'autoencoder-seed1-tanh'];
  it('accept every example network and data file', () => {
    for (const name of names) expect(networkSchema(exampleNetwork(name)), `${name}: ${ajv.errorsText(networkSchema.errors)}`).toBe(true);
    for (const name of ['tiny-square', 'tiny-bernoulli', 'autoencoder-seed1']) expect(dataSchema(exampleData(name))).toBe(true);
  });
  it('accept every activation the validator accepts (relu and softplus included)', () => {
    for (const activation of ACTIVATIONS) {
      const doc = exampleNetwork('tiny-square');
      doc.attributes.activation = activation;
      doc.nodes[3].attributes.activation = activation;
      expect(networkSchema(doc), `${activation}: ${ajv.errorsText(networkSchema.errors)}`).toBe(true);
      expect(validateNetwork(doc).document, activation).toBeDefined();
    }
  });
  it('reject what the validator rejects on shape (the schema agrees with the code)', () => {
    const cases: Array<(d: ReturnType<typeof exampleNetwork>) => void> = [
      (d) => ((d.attributes as { interpretation: string }).interpretation = 'poisson'),
      (d) => delete d.nodes[3].attributes.bias,
      (d) => (d.nodes[0].attributes.bias = 1),
      (d) => (d.nodes[1].attributes.role = 'bias' as never),
      (d) => (d.edges[0].attributes = {} as never),
      (d) => (d.options = { type: 'undirected' }),
      (d) => (d.nodes[3].attributes.activation = 'gelu' as never),
      (d) => ((d.attributes as { activation: string }).activation = 'elu'),
    ];
    for (const mutate of cases) {
      const doc = exampleNetwork('tiny-bernoulli');
      mutate(doc);
      expect(networkSchema(doc)).toBe(false);
      expect(validateNetwork(doc).document).toBeUndefined();
    }
  });
});
