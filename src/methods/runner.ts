import { forwardPass, type DeviceBuffer, type Engine, type EngineWorkspace } from '../backend/engine.js';
import type { Batch } from '../engine/batch.js';
import { loadBatch } from '../engine/propagate.js';
import type { CurvatureState } from '../curvature/curvature.js';
import type { Prng } from '../random/prng.js';
import type { Method } from './methods.js';

/**
 * A method running on one engine: its per-sample modulus, gradient and direction buffers and
 * its curvature state, kept across batches. One measurement is forward (unless done), output
 * layer and loss, the source's backward pass with its modulus, and the curvature's update (which
 * writes the gradient, fused with its statistic where it can); `solve` then gives the direction.
 */
export class MethodRunner {
  readonly modulus: DeviceBuffer | undefined;
  readonly gradient: DeviceBuffer;
  readonly direction: DeviceBuffer;
  /** The clipped gradient, allocated when clipping first scales G. */
  private clipped: DeviceBuffer | undefined;
  /** ‖G‖ before clipping, at the last solve with a clipping norm (reports and tests). */
  lastGradientNorm: number | undefined;
  state: CurvatureState;

  constructor(
    readonly engine: Engine,
    readonly method: Method,
    state?: CurvatureState,
  ) {
    const { net } = engine;
    this.modulus = method.needsModulus ? engine.alloc(net.nUnits * engine.size) : undefined;
    this.gradient = engine.alloc(net.nParams);
    this.direction = engine.alloc(net.nParams);
    this.state = state ?? method.curvature.init(engine);
  }

  /**
   * Measures the method on the batch in `ws` at `params` and folds the curvature statistic in
   * with `decay` (1: this batch's own). With `forwardDone`, `ws` already holds the forward pass
   * of `params`. Returns the mean loss before any step, nats per sample.
   */
  measure(params: DeviceBuffer, ws: EngineWorkspace, decay: number, random: { rng: Prng; mcSamples: number }, forwardDone = false): number {
    const { engine, method } = this;
    if (!forwardDone) forwardPass(engine, params, ws);
    engine.outputLayer(ws);
    const loss = engine.meanLoss(ws);
    method.source.backward({ engine, params, ws, rng: random.rng, mcSamples: random.mcSamples }, this.modulus);
    method.curvature.update(engine, this.state, { engine, params, ws, modulus: this.modulus, gradient: this.gradient, random }, decay);
    return loss;
  }

  /**
   * The direction δw = (A + εI)⁻¹ G of the current curvature state into {@link direction}. With
   * `clipNorm` c, G is first scaled by c/‖G‖ where ‖G‖ > c (one number read back); the scaled
   * copy goes to the solve (the curvature's statistic, measured by `measure`, is unclipped;
   * Adam's and momentum's moments see the clipped G, as they are advanced by the solve).
   */
  solve(epsilon: number, clipNorm: number | null = null): DeviceBuffer {
    const { engine } = this;
    let gradient = this.gradient;
    if (clipNorm !== null) {
      const norm = Math.sqrt(engine.squaredNorm(gradient));
      this.lastGradientNorm = norm;
      if (norm > clipNorm) {
        this.clipped ??= engine.alloc(gradient.length);
        engine.combine(this.clipped, clipNorm / norm, gradient, 0, gradient);
        gradient = this.clipped;
      }
    }
    this.method.curvature.solve(engine, this.state, gradient, epsilon, this.direction);
    return this.direction;
  }

  dispose(): void {
    this.method.curvature.dispose(this.engine, this.state);
    for (const b of [this.modulus, this.gradient, this.direction, this.clipped]) if (b) this.engine.free(b);
  }
}

/**
 * One batch evaluation of a method, as `unitwise step` and `inspect --method` take it: loss,
 * gradient and direction on the host (the batch's own curvature; least squares at ε = 0), and
 * the curvature's report of its solve where it has one (Kronecker: route and CG iterations per group).
 */
export function evaluateMethodOnce(engine: Engine, method: Method, params: Float64Array, batch: Batch, options: { epsilon: number; rng: Prng; mcSamples: number }): { lossNats: number; gradient: Float64Array; direction: Float64Array; solve?: unknown } {
  const { params: p, ws } = loadBatch(engine, params, batch);
  const runner = new MethodRunner(engine, method);
  try {
    const lossNats = runner.measure(p, ws, 1, options);
    const direction = engine.read(runner.solve(options.epsilon)).slice();
    const solve = method.curvature.solveReport?.(runner.state);
    return { lossNats, gradient: engine.read(runner.gradient).slice(), direction, ...(solve === undefined ? {} : { solve }) };
  } finally {
    runner.dispose();
    engine.free(ws);
    engine.free(p);
  }
}
