import { UsageError, problem } from '../errors.js';
import { ACTIVATIONS, INTERPRETATIONS, type Activation, type Interpretation, type NetworkDocument, type SerializedNode } from '../network/types.js';
import { Prng } from '../random/prng.js';
import { assignParameters, defaultScheme, INIT_SCHEMES, type InitScheme, type SkeletonEdge } from './init.js';

/** Options of {@link generateMlp}. */
export interface MlpOptions {
  /** Layer sizes, input first, output last (at least two layers). */
  layers: number[];
  /**
   * `'dense'` (default): every unit of layer l ≥ 1 is linked from every unit of layer l−1; a
   * number D: from exactly D distinct random units of layer l−1 (uniformly, independently per
   * unit; a unit may then feed no unit of the next layer, which validation warns about).
   */
  fanIn?: number | 'dense';
  /**
   * Skip-connection probability P in [0, 1], default 0: each unit of layer l ≥ 2 is
   * additionally linked from each unit of layers 0 .. l−2, independently with probability P.
   */
  skip?: number;
  /** Activation of the hidden units (the graph default); default tanh. */
  activation?: Activation;
  /**
   * Output interpretation; default bernoulli. Output units are sigmoid under bernoulli (tanh
   * when the hidden units are tanh), linear under square, softmax and spherical.
   */
  interpretation?: Interpretation;
  seed?: number;
  /** Initialisation scheme ({@link initialiseNetwork}); default `paper` for tanh, sigmoid and linear hidden units, `he` for relu and softplus. */
  init?: InitScheme;
}

/**
 * A layered perceptron as a network document. Units are keyed `L{layer}_{index}` (e.g. `L1_17`);
 * nodes are listed layer by layer, edges grouped by target unit (its previous-layer sources,
 * then its skip sources, each in increasing layer and index order). Wiring is drawn first,
 * then the weights with {@link assignParameters} continuing the same PRNG stream, so a seed
 * fixes the network. O(edges) work (plus O(skip candidates) uniform draws when `skip` > 0).
 * Throws {@link UsageError} naming the option at fault.
 */
export function generateMlp(options: MlpOptions): NetworkDocument {
  const { layers } = options;
  const fanIn = options.fanIn ?? 'dense';
  const skip = options.skip ?? 0;
  const activation = options.activation ?? 'tanh';
  const interpretation = options.interpretation ?? 'bernoulli';
  const fail = (code: string, message: string): never => {
    throw new UsageError([problem(code, message)]);
  };
  if (!Array.isArray(layers) || layers.length < 2 || layers.some((n) => !Number.isInteger(n) || n < 1)) {
    fail('layers', `--layers ${String(layers)}: give at least two positive integer layer sizes, input first (e.g. 784,300,100,10)`);
  }
  if (fanIn !== 'dense') {
    if (!Number.isInteger(fanIn) || fanIn < 1) fail('fan-in', `--fan-in ${fanIn}: give a positive integer or 'dense'`);
    for (let l = 1; l < layers.length; l++) {
      if (fanIn > layers[l - 1]) fail('fan-in', `--fan-in ${fanIn}: units of layer ${l} must each pick ${fanIn} distinct units of layer ${l - 1}, which has ${layers[l - 1]}; give a fan-in of at most ${Math.min(...layers.slice(0, -1))} or 'dense'`);
    }
  }
  if (!(typeof skip === 'number' && skip >= 0 && skip <= 1)) fail('skip', `--skip ${skip}: give a probability in [0, 1]`);
  if (!ACTIVATIONS.includes(activation)) fail('activation', `--activation ${activation}: use one of ${ACTIVATIONS.join(', ')}`);
  if (!INTERPRETATIONS.includes(interpretation)) fail('interpretation', `--interpretation ${interpretation}: use one of ${INTERPRETATIONS.join(', ')}`);
  const init = options.init ?? defaultScheme(activation);
  if (!INIT_SCHEMES.includes(init)) fail('init', `--init ${init}: use one of ${INIT_SCHEMES.join(', ')}`);

  const output = outputActivation(activation, interpretation);
  const key = (l: number, i: number) => `L${l}_${i}`;
  const nodes: SerializedNode[] = [];
  layers.forEach((size, l) => {
    const last = l === layers.length - 1;
    for (let i = 0; i < size; i++) {
      if (l === 0) nodes.push({ key: key(l, i), attributes: { role: 'input' } });
      else if (!last) nodes.push({ key: key(l, i), attributes: { role: 'hidden', bias: 0 } });
      else nodes.push({ key: key(l, i), attributes: output === activation ? { role: 'output', bias: 0 } : { role: 'output', bias: 0, activation: output } });
    }
  });

  const rng = new Prng(options.seed ?? 1);
  const edges: SkeletonEdge[] = [];
  for (let l = 1; l < layers.length; l++) {
    const below = layers[l - 1];
    for (let j = 0; j < layers[l]; j++) {
      const target = key(l, j);
      if (fanIn === 'dense') {
        for (let i = 0; i < below; i++) edges.push({ source: key(l - 1, i), target });
      } else {
        const picked = rng.sampleWithoutReplacement(below, fanIn).sort((a, b) => a - b);
        for (const i of picked) edges.push({ source: key(l - 1, i), target });
      }
      if (skip > 0) {
        for (let m = 0; m + 1 < l; m++) for (let i = 0; i < layers[m]; i++) if (rng.uniform() < skip) edges.push({ source: key(m, i), target });
      }
    }
  }
  const skeleton = { options: { type: 'directed', multi: false, allowSelfLoops: false }, attributes: { interpretation, activation }, nodes, edges };
  return assignParameters(skeleton, { scheme: init, prng: rng });
}

/** Output activation for an interpretation: bernoulli needs sigmoid or tanh (kept when the hidden units use one), the others read linear outputs. */
function outputActivation(hidden: Activation, interpretation: Interpretation): Activation {
  if (interpretation === 'bernoulli') return hidden === 'tanh' || hidden === 'sigmoid' ? hidden : 'sigmoid';
  return 'linear';
}
