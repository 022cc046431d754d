import type { Engine, TransferStats } from '../backend/engine.js';
import { openEngine } from '../backend/registry.js';
import type { Batch } from '../engine/batch.js';
import type { CompiledNetwork } from '../engine/compiled-network.js';
import { createMethod, type CurvatureOptions, type MethodName } from '../methods/methods.js';
import { MethodRunner } from '../methods/runner.js';
import { Prng } from '../random/prng.js';

/** A method's benchmark iteration on an engine of its own, and what it moved. */
export interface MethodLoop {
  readonly engine: Engine;
  /** One iteration: the batch in, forward, loss, backward and modulus, curvature, solve, w ← w + 10⁻⁶ δw. */
  iterate(): void;
  /** What the curvature's last solve did (Kronecker: route, CG iterations and residual per group), if it reports. */
  solveReport(): unknown;
  dispose(): void;
}

/**
 * Opens an engine for `method` on `net` and a batch, and returns the iteration the benchmarks
 * time: a training iteration without the candidate's evaluation (each batch's own curvature,
 * ε = 10⁻⁴, one Monte-Carlo draw from a fixed seed), with the curvature `options` (e.g. the
 * Kronecker solve).
 */
export function methodLoop(backend: string, net: CompiledNetwork, params: Float64Array, batch: Batch, method: MethodName, options: CurvatureOptions = {}): MethodLoop {
  const engine = openEngine(backend, net, batch.size);
  const p = engine.alloc(net.nParams);
  engine.upload(p, params);
  const ws = engine.workspace();
  const runner = new MethodRunner(engine, createMethod(method, options));
  const random = { rng: new Prng(1), mcSamples: 1 };
  return {
    engine,
    iterate() {
      engine.setBatch(ws, batch);
      runner.measure(p, ws, 1, random);
      engine.combine(p, 1, p, 1e-6, runner.solve(1e-4));
    },
    solveReport() {
      return runner.method.curvature.solveReport?.(runner.state);
    },
    dispose() {
      runner.dispose();
      engine.dispose();
    },
  };
}

/** Transfers per iteration of a loop: the difference of two snapshots over `iterations`. */
export function transfersPerIteration(before: TransferStats, after: TransferStats, iterations: number): TransferStats {
  return {
    uploads: (after.uploads - before.uploads) / iterations,
    uploadBytes: (after.uploadBytes - before.uploadBytes) / iterations,
    reads: (after.reads - before.reads) / iterations,
    readBytes: (after.readBytes - before.readBytes) / iterations,
  };
}
