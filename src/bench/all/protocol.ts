import type { KroneckerSolve } from '../../curvature/kronecker/group-solve.js';
import type { TransferStats } from '../../backend/engine.js';
import type { ScalingConfig } from '../random-setup.js';
import type { AutoencoderBench } from '../autoencoder.js';
import type { CompareBackendsResult } from '../backends.js';
import type { TransferNetwork } from '../transfers.js';

/**
 * What a child of `npm run bench -- --backend all` measures (see `child.ts`): `probe` loads the
 * backend and says what ran; `autoencoder` times every method on the autoencoder; `transfers`
 * counts the transfers per iteration on the 5- and 13-level networks; `large` times the scaling
 * methods on one large random DAG; `goal3` times methods on several backends alternately in one
 * process (`compareBackends`, see `goal3-interleaved.ts`).
 */
export type ChildPart = 'probe' | 'autoencoder' | 'transfers' | 'large' | 'goal3';

/** The arguments of a child, as the parent passes them (JSON in one argument). */
export interface ChildRequest {
  part: ChildPart;
  /** A name `useBackend` takes ('cpu', 'gpujs', 'tfjs-wasm', 'webgpu', ...). */
  backend: string;
  methods: string[];
  /** autoencoder: timed rounds per method (see `benchAutoencoder`), default its own. */
  rounds?: number;
  /** autoencoder: the Kronecker solves to time (default both, as `benchAutoencoder`). */
  solves?: KroneckerSolve[];
  /** large: the network, timed iterations after the warm-up, and a cap on their total seconds. */
  size?: ScalingConfig;
  repeats?: number;
  maxSeconds?: number;
  /** goal3: the backends timed alternately (names `useBackend` takes). */
  compare?: string[];
}

/** One method on the large network, as a child reports it. */
export interface LargeMethodFigures {
  /** Median µs of a batch iteration over the batch size. */
  microsPerSample: number;
  /** Seconds of the warm-up iteration and of each timed one. */
  warmupSeconds: number;
  iterationSeconds: number[];
  /** Transfers per timed iteration. */
  transfers: TransferStats;
}

/** The lines a child writes on stdout, one JSON object each. */
export type ChildMessage =
  | { kind: 'progress'; message: string }
  /** probe: the backend's detail, and for gpu.js in GL mode the GL renderer and version. */
  | { kind: 'probe'; detail: string; precision: string; gl?: string }
  | { kind: 'autoencoder'; result: AutoencoderBench }
  | { kind: 'transfers'; networks: TransferNetwork[] }
  | { kind: 'goal3'; result: CompareBackendsResult }
  /** large: the network is built (its edge count), a method starts, its engine is open, an iteration ended, a method's figures. */
  | { kind: 'ready'; edges: number; batch: number }
  | { kind: 'start'; method: string }
  | { kind: 'opened'; method: string }
  | { kind: 'iteration'; method: string; seconds: number; warmup: boolean }
  | { kind: 'method'; method: string; figures: LargeMethodFigures };
