import type { Engine } from '../backend/engine.js';
import { openEngine } from '../backend/registry.js';
import type { Curvature } from '../curvature/curvature.js';
import { unitwiseLeastSquares } from '../curvature/least-squares.js';
import { unitBlockCurvature } from '../curvature/unit-blocks.js';
import { makeBatch } from '../engine/batch.js';
import type { Model } from '../engine/model.js';
import { loadBatch } from '../engine/propagate.js';
import type { BaselineChoices } from '../curvature/baselines.js';
import { createMethod, type KroneckerChoices, type Method, type MethodName } from '../methods/methods.js';
import { MethodRunner } from '../methods/runner.js';
import type { DataDocument } from '../network/types.js';
import { Prng } from '../random/prng.js';
import { applyTransform, congruence } from './recombination.js';

/** A network taking fixed-rate batch steps of one method; `step` returns the loss before the step (nats). */
export interface Stepper {
  readonly model: Model;
  readonly data: DataDocument;
  step(): number;
  /** Frees the stepper's engine. */
  dispose(): void;
}

export interface StepperOptions {
  method: MethodName;
  backend: string;
  lr: number;
  epsilon: number;
  mcSamples: number;
  seed: number;
  /** The Kronecker methods' groups, damping and solve, the baselines' β, ε and μ (empty for the others). */
  choices: KroneckerChoices & BaselineChoices;
}

/** The engine, parameters, batch workspace and runner of a stepper. */
function open(model: Model, data: DataDocument, o: StepperOptions, method: Method) {
  const batch = makeBatch(model.net, data);
  const engine: Engine = openEngine(o.backend, model.net, batch.size);
  const { params, ws } = loadBatch(engine, model.params, batch);
  return { engine, params, ws, runner: new MethodRunner(engine, method), random: { rng: new Prng(o.seed), mcSamples: o.mcSamples } };
}

/** Plain steps w ← w + η δw on the whole data set. */
export function plainStepper(model: Model, data: DataDocument, o: StepperOptions): Stepper {
  const { engine, params, ws, runner, random } = open(model, data, o, createMethod(o.method, o.choices));
  return {
    model,
    data,
    step() {
      const lossNats = runner.measure(params, ws, 1, random);
      engine.combine(params, 1, params, o.lr, runner.solve(o.epsilon));
      model.params = engine.read(params).slice();
      return lossNats;
    },
    dispose: () => engine.dispose(),
  };
}

/**
 * Steps of a network whose units receive affinely recombined incoming signals (Prop. 31):
 * unit k sees ã = T_k (1, a_i...) with T_k = [[1, 0], [c_k, B_k]] fixed, and is parametrised by
 * θ'_k with V_k = θ'_kᵀ ã, i.e. effective weights θ_k = T_kᵀ θ'_k. Everything a unit computes
 * from its inputs transforms accordingly: G' = T G and A' = T A Tᵀ (ψ_k does not change: the
 * network function is the same), and the reduction runs on A' (the method's curvature restricted
 * from the dense T A Tᵀ, so quasi-diagonal entries are those of A', not of A). The step δθ' is
 * mapped back, δθ = Tᵀ δθ'. `model.params` holds the effective θ.
 * Kronecker methods: the dense A ⊗ G (`toDense`) maps by congruence and `fromDense` refits the
 * nearest Kronecker product per group; with one T_g per complete group (`groupTransforms`) the
 * mapped block is exactly (T_g A T_gᵀ) ⊗ G, so the refit and the solve are exact.
 */
export function recombinedStepper(model: Model, data: DataDocument, o: StepperOptions, transforms: Float64Array[]): Stepper {
  const { net } = model;
  const method = createMethod(o.method, o.choices);
  // Curvatures within the units are measured as whole blocks, so that A' = T A Tᵀ is exact.
  const measured: Method = method.curvature.usesModulus ? { ...method, curvature: unitBlockCurvature as Curvature } : method;
  const { engine, params, ws, runner, random } = open(model, data, o, measured);
  const gradient = engine.alloc(net.nParams);
  const direction = engine.alloc(net.nParams);
  return {
    model,
    data,
    step() {
      const lossNats = runner.measure(params, ws, 1, random);
      const measuredGradient = engine.read(runner.gradient);
      const transformedGradient = new Float64Array(net.nParams);
      for (let k = net.nInputs; k < net.nUnits; k++) applyTransform(transforms[k], measuredGradient, transformedGradient, net.blockOffsets[k], false);
      let delta: Float64Array;
      if (method.spec.reduction === 'full' && o.epsilon === 0 && runner.modulus) {
        delta = unitwiseLeastSquares(net, { size: ws.size, act: engine.read(ws.act), backReduced: engine.read(ws.backReduced), modulus: engine.read(runner.modulus), transforms });
      } else {
        const dense = congruence(measured.curvature.toDense(engine, runner.state), net, transforms);
        const state = method.curvature.fromDense(engine, dense);
        engine.upload(gradient, transformedGradient);
        method.curvature.solve(engine, state, gradient, o.epsilon, direction);
        method.curvature.dispose(engine, state);
        delta = engine.read(direction).slice();
      }
      const effective = new Float64Array(net.nParams);
      for (let k = net.nInputs; k < net.nUnits; k++) applyTransform(transforms[k], delta, effective, net.blockOffsets[k], true);
      for (let p = 0; p < effective.length; p++) model.params[p] += o.lr * effective[p];
      engine.upload(params, model.params);
      return lossNats;
    },
    dispose: () => engine.dispose(),
  };
}
