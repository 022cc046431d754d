import { UsageError, problem } from '../errors.js';
import { createModel } from '../engine/model.js';
import { maxDistributionGap, outputDistribution } from '../engine/output-distribution.js';
import { BITS_PER_NAT } from '../engine/propagate.js';
import { METHOD_SPECS, METHODS, type MethodName } from '../methods/methods.js';
import type { DataDocument, NetworkDocument } from '../network/types.js';
import { Prng } from '../random/prng.js';
import { convertData, convertNetwork } from '../transform/convert.js';
import { reparametrize, type AffineReparametrization } from '../transform/reparametrize.js';
import { plainStepper, recombinedStepper, type Stepper, type StepperOptions } from './steppers.js';

/**
 * Defaults of the invariance check. Rounding differences (1e-16) grow along a trajectory, fast
 * where steps are large: with ε = 0 and singular blocks (the autoencoder: up to 18 parameters
 * and 16 samples per unit) the Monte-Carlo and OP full-block methods amplify them by about
 * 10³ per step at η = 1e-3. At η = 1e-4 every invariant method stays within 1e-8 of its twin
 * for 5 steps on the seed-1 autoencoder, while the non-invariant ones part by 1e-4 at step 1.
 */
export const DEFAULT_INVARIANCE = { steps: 5, lr: 1e-4, tolerance: 1e-8 } as const;

/** Which twin a network is compared with: Section 3.2's sigmoid↔tanh twin, random Def. 29 reparametrisations (Prop. 30), or random recombinations (Prop. 31). */
export type TwinKind = 'convert' | 'reparametrize' | 'recombine';

export interface InvarianceOptions {
  method: MethodName;
  steps: number;
  twin?: TwinKind;
  lr?: number;
  /** Default 0: regularisation breaks invariance (Remark 12). */
  epsilon?: number;
  tolerance?: number;
  mcSamples?: number;
  /** Seed of the random twins and of the Monte-Carlo draws. */
  seed?: number;
  backend?: string;
}

export interface InvarianceStep {
  step: number;
  /** Loss of each network before this step, bits per sample. */
  lossA: number;
  lossB: number;
  /** Largest difference of the output distributions after this step (step 0: before training). */
  deviation: number;
}

export interface InvarianceReport {
  method: MethodName;
  twin: TwinKind;
  /** Whether the paper says the method is invariant under this kind of twin (Prop. 30, 31). */
  expectedInvariant: boolean;
  tolerance: number;
  steps: InvarianceStep[];
  maxDeviation: number;
  /** First step whose deviation exceeds the tolerance, or null. */
  partedAt: number | null;
  invariant: boolean;
}

/**
 * Trains a network and its twin side by side with one method at a fixed rate on the whole data
 * set, and compares their output distributions after every step.
 */
export function checkInvariance(document: NetworkDocument, data: DataDocument, options: InvarianceOptions): InvarianceReport {
  const twin = options.twin ?? 'convert';
  const tolerance = options.tolerance ?? DEFAULT_INVARIANCE.tolerance;
  const spec = METHOD_SPECS[options.method];
  if (!spec) throw new UsageError([problem('unknown-method', `unknown method '${options.method}'; available: ${METHODS.join(', ')}`)]);
  const o: StepperOptions = { method: options.method, backend: options.backend ?? 'cpu', lr: options.lr ?? DEFAULT_INVARIANCE.lr, epsilon: options.epsilon ?? 0, mcSamples: options.mcSamples ?? 1, seed: options.seed ?? 1 };
  const a = plainStepper(createModel(document), data, o);
  let b: Stepper | undefined;
  const steps: InvarianceStep[] = [];
  try {
    b = makeTwin(document, data, twin, o, options.seed ?? 1);
    const twinStepper = b;
    const distance = () => maxDistributionGap(outputDistribution(a.model, a.data), outputDistribution(twinStepper.model, twinStepper.data));
    steps.push({ step: 0, lossA: NaN, lossB: NaN, deviation: distance() });
    for (let step = 1; step <= options.steps; step++) {
      const lossA = a.step() * BITS_PER_NAT;
      const lossB = twinStepper.step() * BITS_PER_NAT;
      steps.push({ step, lossA, lossB, deviation: distance() });
    }
  } finally {
    a.dispose();
    b?.dispose();
  }
  const maxDeviation = Math.max(...steps.map((s) => s.deviation));
  const parted = steps.find((s) => !(s.deviation <= tolerance));
  return {
    method: options.method,
    twin,
    expectedInvariant: twin === 'recombine' ? spec.recombinationInvariant : spec.invariant,
    tolerance,
    steps,
    maxDeviation,
    partedAt: parted ? parted.step : null,
    invariant: parted === undefined,
  };
}

function makeTwin(document: NetworkDocument, data: DataDocument, twin: TwinKind, o: StepperOptions, seed: number): Stepper {
  const rng = new Prng(seed + 7919);
  if (twin === 'convert') {
    const hasSigmoid = document.nodes.some((n) => n.attributes.role !== 'input' && (n.attributes.activation ?? document.attributes.activation) === 'sigmoid');
    const to = hasSigmoid ? 'tanh' : 'sigmoid';
    return plainStepper(createModel(convertNetwork(document, to).document), convertData(data, to), o);
  }
  if (twin === 'reparametrize') {
    const units = new Map<string, AffineReparametrization>();
    for (const n of document.nodes) {
      if (n.attributes.role !== 'hidden') continue;
      const sign = rng.uniform() < 0.5 ? -1 : 1;
      units.set(n.key, { alpha: sign * (0.5 + 1.5 * rng.uniform()), beta: 2 * rng.uniform() - 1, gamma: 0.5 + 1.5 * rng.uniform() });
    }
    if (units.size === 0) throw new UsageError([problem('no-hidden', 'the network has no hidden unit to reparametrise')]);
    return plainStepper(createModel(reparametrize(document, units)), data, o);
  }
  const model = createModel(document);
  const { net } = model;
  const transforms: Float64Array[] = [];
  for (let k = 0; k < net.nUnits; k++) {
    const n = net.blockOffsets[k + 1] - net.blockOffsets[k];
    const t = new Float64Array(n * n);
    if (n > 0) t[0] = 1;
    for (let i = 1; i < n; i++) {
      t[i * n] = rng.normal(); // shift c_i
      for (let j = 1; j < n; j++) t[i * n + j] = (i === j ? 1 : 0) + (0.5 * rng.normal()) / Math.sqrt(n);
    }
    transforms.push(t);
  }
  return recombinedStepper(model, data, o, transforms);
}

/** {@link checkInvariance} for every method (or those given), one report each. */
export function checkAllMethods(document: NetworkDocument, data: DataDocument, options: Omit<InvarianceOptions, 'method'>, methods: MethodName[] = METHODS): InvarianceReport[] {
  return methods.map((method) => checkInvariance(document, data, { ...options, method }));
}
