import { forwardPass } from '../backend/engine.js';
import { openEngine } from '../backend/registry.js';
import { makeBatch } from '../engine/batch.js';
import type { Model } from '../engine/model.js';
import { BITS_PER_NAT } from '../engine/propagate.js';
import { batchProbabilities } from '../optimizer/probabilities.js';
import type { DataDocument, Interpretation } from '../network/types.js';

/** Accuracy of class outputs (softmax, spherical): argmax of the probabilities against argmax of the target. */
export interface ClassAccuracy {
  kind: 'class';
  /** Fraction of samples whose predicted class is the target's. */
  accuracy: number;
  /** confusion[target class][predicted class]: sample counts. */
  confusion: number[][];
}

/** Accuracy of Bernoulli outputs, each thresholded: P(Y = 1) ≥ 0.5 against target ≥ 0.5. */
export interface BernoulliAccuracy {
  kind: 'bernoulli';
  /** Mean over samples and outputs of the per-output agreement. */
  perOutput: number;
  /** Fraction of samples whose every output agrees. */
  exactMatch: number;
}

/** Square-loss outputs have no accuracy: the root mean square error of the means instead. */
export interface SquareError {
  kind: 'square';
  /** sqrt(mean over samples and outputs of (mean − target)²). */
  rmse: number;
}

/** A network's loss and accuracy on a data set (see {@link evaluateModel}). */
export interface ModelEvaluation {
  interpretation: Interpretation;
  samples: number;
  /** Mean loss per sample. */
  lossBits: number;
  lossNats: number;
  /** Loss of each sample, nats and bits. */
  sampleLossNats: number[];
  sampleLossBits: number[];
  /** [sample][output]: class probabilities, Bernoulli P(Y = 1), or Gaussian means (square). */
  probabilities: number[][];
  accuracy: ClassAccuracy | BernoulliAccuracy | SquareError;
}

/** Options of {@link evaluateModel}. */
export interface EvaluateOptions {
  /** A registered backend name (default `cpu`); non-CPU backends must be loaded first (`useBackend`). */
  backend?: string;
}

/**
 * Forward pass of `model` on the whole of `data` (validated against it) on one engine: mean and
 * per-sample loss (Eq. 3), the output probabilities, and the accuracy measure of the network's
 * interpretation (see {@link accuracyOf}).
 */
export function evaluateModel(model: Model, data: DataDocument, options: EvaluateOptions = {}): ModelEvaluation {
  const batch = makeBatch(model.net, data);
  const engine = openEngine(options.backend ?? 'cpu', model.net, batch.size);
  try {
    const params = engine.alloc(model.net.nParams);
    engine.upload(params, model.params);
    const ws = engine.workspace();
    engine.setBatch(ws, batch);
    forwardPass(engine, params, ws);
    engine.outputLayer(ws);
    const nats = Array.from(engine.read(ws.loss).subarray(0, batch.size));
    const probabilities = batchProbabilities(model.net, engine.read(ws.act), batch.size);
    const lossNats = nats.reduce((a, b) => a + b, 0) / nats.length;
    return {
      interpretation: model.net.interpretation,
      samples: batch.size,
      lossNats,
      lossBits: lossNats * BITS_PER_NAT,
      sampleLossNats: nats,
      sampleLossBits: nats.map((l) => l * BITS_PER_NAT),
      probabilities,
      accuracy: accuracyOf(model.net.interpretation, probabilities, data.targets),
    };
  } finally {
    engine.dispose();
  }
}

/** Index of the largest entry (the first on ties). */
export function argmax(values: readonly number[]): number {
  let best = 0;
  for (let i = 1; i < values.length; i++) if (values[i] > values[best]) best = i;
  return best;
}

/**
 * The accuracy measure of an interpretation from probabilities and targets ([sample][output]):
 * softmax and spherical, argmax against argmax with a confusion matrix; Bernoulli, each output
 * thresholded at 0.5 (per-output mean and exact-match rate); square, the RMSE of the means.
 */
export function accuracyOf(interpretation: Interpretation, probabilities: readonly number[][], targets: readonly number[][]): ModelEvaluation['accuracy'] {
  const n = probabilities.length;
  if (interpretation === 'softmax' || interpretation === 'spherical') {
    const k = probabilities[0]?.length ?? 0;
    const confusion = Array.from({ length: k }, () => new Array<number>(k).fill(0));
    let right = 0;
    for (let s = 0; s < n; s++) {
      const predicted = argmax(probabilities[s]);
      const actual = argmax(targets[s]);
      confusion[actual][predicted]++;
      if (predicted === actual) right++;
    }
    return { kind: 'class', accuracy: right / n, confusion };
  }
  if (interpretation === 'bernoulli') {
    let agree = 0;
    let exact = 0;
    let outputs = 0;
    for (let s = 0; s < n; s++) {
      let all = true;
      for (let j = 0; j < probabilities[s].length; j++) {
        const ok = probabilities[s][j] >= 0.5 === targets[s][j] >= 0.5;
        if (ok) agree++;
        else all = false;
        outputs++;
      }
      if (all) exact++;
    }
    return { kind: 'bernoulli', perOutput: agree / outputs, exactMatch: exact / n };
  }
  let sum = 0;
  let count = 0;
  for (let s = 0; s < n; s++) {
    for (let j = 0; j < probabilities[s].length; j++) {
      sum += (probabilities[s][j] - targets[s][j]) ** 2;
      count++;
    }
  }
  return { kind: 'square', rmse: Math.sqrt(sum / count) };
}
