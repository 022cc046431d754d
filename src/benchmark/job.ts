import type { Model } from '../engine/model.js';
import { UnitwiseError } from '../errors.js';
import { evaluateModel } from '../evaluate/evaluate.js';
import type { MethodName } from '../methods/methods.js';
import type { DataDocument } from '../network/types.js';
import { train } from '../train/trainer.js';
import { benchmarkData, benchmarkModel, benchmarkOptions } from './setup.js';
import type { BenchmarkSpec } from './spec.js';

/** One evaluation of a network during a benchmark run. */
export interface EvalPoint {
  /** Iterations done (0: the initial network). */
  iteration: number;
  /** Training seconds spent (evaluation excluded). */
  seconds: number;
  /** Mean loss on the evaluated training images, bits per sample. */
  trainLoss: number;
  /** Mean loss on the test set, bits per sample (absent in the learning-rate search). */
  testLoss?: number;
  /** Classifier: fraction of test images classified right. */
  testAccuracy?: number;
}

/** What a method did in one run: its curve, or why it stopped. */
export interface MethodRun {
  method: MethodName;
  run: number;
  lr: number;
  /** done; failed: an error stopped it (the points before it are kept). */
  status: 'done' | 'failed';
  reason?: string;
  iterations: number;
  seconds: number;
  /** The initial point, then one per evaluation period in which the method completed an iteration, and the last. */
  points: EvalPoint[];
  /**
   * The running mini-batch loss at geometrically spaced iterations (1, 2, 3, 4, 5, 7, 9, 12, ...,
   * ×1.25, and the last): [iteration, training seconds, mean over the iterations since the
   * previous entry of each mini-batch's loss after its step], bits per image. Free to record,
   * it resolves the first iterations that the time-spaced evaluations miss.
   */
  batchLoss: Array<[number, number, number]>;
}

/** One pool job: a method trained for `seconds` in run `run`, evaluated at `points` times (search: once, at the end, on the training images only). */
export interface BenchmarkJob {
  spec: BenchmarkSpec;
  method: MethodName;
  run: number;
  lr: number;
  seconds: number;
  purpose: 'search' | 'final';
}

/**
 * Trains one method for the job's wall-clock seconds of training and evaluates it at evenly
 * spaced training times, in one training run: the trainer's checkpoints (every `seconds /
 * evalPoints` of training) hand over the parameters, and the time spent evaluating, and taking
 * the snapshot it evaluates, is measured and excluded from the method's clock, so evaluation
 * never counts against its budget. The run stops at the first iteration that ends past the
 * budget (a slow method may overrun by part of one iteration; the recorded seconds say so).
 * Errors do not escape: the run is marked failed with its message and the points so far.
 */
export async function benchmarkJob(job: BenchmarkJob): Promise<MethodRun> {
  const { spec, run } = job;
  const model = benchmarkModel(spec, run);
  const data = benchmarkData(spec, run);
  const options = benchmarkOptions(spec, job.method, spec.seed + run, job.lr);
  const search = job.purpose === 'search';
  const points: EvalPoint[] = [];
  let iterations = 0;
  let training = 0; // seconds of training, evaluation excluded
  let excluded = 0; // seconds of the trainer's clock spent on snapshots and evaluations
  let lastIteration = performance.now();
  const batchLoss: MethodRun['batchLoss'] = [];
  let window = { sum: 0, count: 0, next: 1 };
  const flush = () => {
    if (window.count > 0) batchLoss.push([iterations, round(training), round(window.sum / window.count)]);
    window = { sum: 0, count: 0, next: Math.max(window.next + 1, Math.ceil(window.next * 1.25)) };
  };
  const evaluate = () => points.push({ iteration: iterations, seconds: round(training), ...measure(model, data.trainEval, search ? undefined : data.test) });
  const result = (status: MethodRun['status'], reason?: string): MethodRun => ({ method: job.method, run, lr: job.lr, status, ...(reason !== undefined ? { reason } : {}), iterations, seconds: round(training), points, batchLoss });
  try {
    if (!search) evaluate();
    await train(model, data.train, options, { iterations: Number.MAX_SAFE_INTEGER }, {
      onIteration: (r) => {
        iterations = r.iteration;
        training = r.elapsed - excluded;
        window.sum += r.loss;
        window.count++;
        if (iterations >= window.next) flush();
        lastIteration = performance.now();
      },
      shouldStop: () => training >= job.seconds,
      ...(search
        ? {}
        : {
            checkpointEvery: { seconds: job.seconds / spec.evalPoints },
            onCheckpoint: () => {
              evaluate();
              excluded += (performance.now() - lastIteration) / 1000;
            },
          }),
    });
    flush();
    if (points[points.length - 1]?.iteration !== iterations || points.length === 0) evaluate();
    return result('done');
  } catch (err) {
    if (err instanceof UnitwiseError || err instanceof RangeError) return result('failed', err.message);
    throw err;
  }
}

/** Loss on the training images (and loss, accuracy on the test set when given), bits per sample. */
function measure(model: Model, trainEval: DataDocument, test?: DataDocument): Omit<EvalPoint, 'iteration' | 'seconds'> {
  const trainLoss = round(evaluateModel(model, trainEval).lossBits);
  if (!test) return { trainLoss };
  const t = evaluateModel(model, test);
  return { trainLoss, testLoss: round(t.lossBits), ...(t.accuracy.kind === 'class' ? { testAccuracy: round(t.accuracy.accuracy) } : {}) };
}

function round(x: number): number {
  return Number.isFinite(x) ? Number(x.toPrecision(6)) : x;
}
