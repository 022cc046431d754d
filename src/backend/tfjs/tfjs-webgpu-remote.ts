import type { CompiledNetwork } from '../../engine/compiled-network.js';
import { UsageError, problem } from '../../errors.js';
import { TransferCounter, type DeviceBuffer, type EngineWorkspace, type OutputMetricBuffers, type TransferStats } from '../engine.js';
import type { Arg } from './tfjs-webgpu-protocol.js';

/*
 * The main thread's handles of what a tfjs-webgpu engine keeps in the worker (see
 * `tfjs-webgpu-engine.ts`): buffers and workspaces by id, and the transfers the worker counts.
 */

/** A buffer of the worker's engine, by id. */
export class RemoteBuffer implements DeviceBuffer {
  constructor(
    readonly id: number,
    readonly length: number,
  ) {}
}

const WORKSPACE_FIELDS = ['pre', 'act', 'deriv', 'back', 'backReduced', 'targets', 'loss'] as const;

/** A workspace of the worker's engine: its id and its buffers' ids. */
export class RemoteWorkspace implements EngineWorkspace {
  readonly pre: RemoteBuffer;
  readonly act: RemoteBuffer;
  readonly deriv: RemoteBuffer;
  readonly back: RemoteBuffer;
  readonly backReduced: RemoteBuffer;
  readonly targets: RemoteBuffer;
  readonly loss: RemoteBuffer;
  /** The output metric's buffers of this workspace, once asked for. */
  metric?: OutputMetricBuffers & Record<string, RemoteBuffer>;

  constructor(
    readonly id: number,
    readonly size: number,
    net: CompiledNetwork,
    next: () => number,
  ) {
    const n = net.nUnits * size;
    [this.pre, this.act, this.deriv, this.back, this.backReduced] = [0, 1, 2, 3, 4].map(() => new RemoteBuffer(next(), n));
    this.targets = new RemoteBuffer(next(), net.nOutputs * size);
    this.loss = new RemoteBuffer(next(), size);
  }

  /** Ids of the buffers by field, as the worker keeps them. */
  fields(): Record<string, number> {
    return Object.fromEntries(WORKSPACE_FIELDS.map((f) => [f, this[f].id]));
  }
}

/**
 * The engine's transfers, counted by the worker's engine: each answer brings its counts, and
 * {@link snapshot} asks for them (a round trip), so that calls not yet answered are counted too.
 */
export class RemoteTransfers extends TransferCounter {
  constructor(private readonly owner: { syncTransfers(): void; resetTransfers(): void }) {
    super();
  }
  override snapshot(): TransferStats {
    this.owner.syncTransfers();
    return super.snapshot();
  }
  override reset(): void {
    this.owner.resetTransfers();
    super.reset();
  }
  /** Takes the worker's counts. */
  update(stats: TransferStats): void {
    Object.assign(this, stats);
  }
}

/** The worker-side reference of a buffer or workspace of a tfjs-webgpu engine. */
export function ref(b: DeviceBuffer | EngineWorkspace): Arg {
  if (b instanceof RemoteBuffer || b instanceof RemoteWorkspace) return { $ref: b.id };
  throw foreign();
}

export function foreign(): UsageError {
  return new UsageError([problem('engine', 'a buffer or workspace of another engine was given to the tfjs-webgpu engine')]);
}
