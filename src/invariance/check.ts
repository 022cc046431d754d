import { buildGroups } from '../curvature/kronecker/groups.js';
import { UsageError, problem } from '../errors.js';
import { createModel } from '../engine/model.js';
import { maxDistributionGap, outputDistribution } from '../engine/output-distribution.js';
import { BITS_PER_NAT } from '../engine/propagate.js';
import type { BaselineChoices } from '../curvature/baselines.js';
import { METHOD_SPECS, METHODS, type KroneckerChoices, type MethodName } from '../methods/methods.js';
import { baselineChoicesFor } from '../train/options-check.js';
import type { DataDocument, NetworkDocument } from '../network/types.js';
import { Prng } from '../random/prng.js';
import { convertData, convertNetwork, twinTarget } from '../transform/convert.js';
import { reparametrize, type AffineReparametrization } from '../transform/reparametrize.js';
import { expectedInvariance, type TwinKind } from './expectation.js';
import { groupTransforms, unitTransforms } from './recombination.js';
import { plainStepper, recombinedStepper, type Stepper, type StepperOptions } from './steppers.js';

export type { TwinKind } from './expectation.js';

/**
 * Defaults of the invariance check. Rounding differences (1e-16) grow along a trajectory, fast
 * where steps are large: with ε = 0 and singular blocks (the autoencoder: up to 18 parameters
 * and 16 samples per unit) the Monte-Carlo and OP full-block methods amplify them by about
 * 10³ per step at η = 1e-3, and K-FAC's ε = 0 steps are larger still (its G_g averages 16
 * draws for up to 100 units: singular, and the gradient leaves its range), so that at η = 1e-4
 * its loss rises (110 → 255 bits in 4 steps) and its twins part at step 3 (9e-11, 1e-9,
 * 1.3e-8, 5e-7) although its step is covariant. At η = 1e-5 every invariant method stays
 * within 1e-9 of its twin for 5 steps on the seed-1 autoencoder (mc-unitwise-natural 4e-10,
 * kfac 4e-11, the others ≤ 1e-13), while the non-invariant ones part by 5e-5 or more at step 1.
 */
export const DEFAULT_INVARIANCE = { steps: 5, lr: 1e-5, tolerance: 1e-8 } as const;

/** The Kronecker choices an invariance check takes (`--groups`, `--kronecker-damping`, `--kronecker-solve`); other methods ignore them. */
export type InvarianceKroneckerChoices = Pick<KroneckerChoices, 'groups' | 'kroneckerDamping' | 'kroneckerSolve'>;

/** Options of {@link checkInvariance}; the baseline choices apply to adam and momentum only (the others ignore them). */
export interface InvarianceOptions extends InvarianceKroneckerChoices, BaselineChoices {
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
  /** Whether the method should be invariant under this kind of twin on this network (Prop. 30, 31; see {@link expectedInvariance}). */
  expectedInvariant: boolean;
  /** Why, in one sentence. */
  expectation: string;
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
  const choices: InvarianceKroneckerChoices = spec.reduction === 'kronecker' ? { groups: options.groups, kroneckerDamping: options.kroneckerDamping, kroneckerSolve: options.kroneckerSolve } : {};
  const o: StepperOptions = { method: options.method, backend: options.backend ?? 'cpu', lr: options.lr ?? DEFAULT_INVARIANCE.lr, epsilon: options.epsilon ?? 0, mcSamples: options.mcSamples ?? 1, seed: options.seed ?? 1, choices: { ...choices, ...baselineChoicesFor(options.method, options) } };
  const model = createModel(document);
  const expectation = expectedInvariance(options.method, twin, { net: model.net, samples: data.inputs.length, mcSamples: o.mcSamples, choices });
  const a = plainStepper(model, data, o);
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
    expectedInvariant: expectation.invariant,
    expectation: expectation.reason,
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
    const to = twinTarget(document);
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
  // A Kronecker method sees one activity per group: complete groups are recombined as a whole.
  const kronecker = METHOD_SPECS[o.method].reduction === 'kronecker';
  const transforms = kronecker ? groupTransforms(model.net, buildGroups(model.net, o.choices.groups ?? 'levels'), rng) : unitTransforms(model.net, rng);
  return recombinedStepper(model, data, o, transforms);
}

/** {@link checkInvariance} for every method (or those given), one report each. */
export function checkAllMethods(document: NetworkDocument, data: DataDocument, options: Omit<InvarianceOptions, 'method'>, methods: MethodName[] = METHODS): InvarianceReport[] {
  return methods.map((method) => checkInvariance(document, data, { ...options, method }));
}
