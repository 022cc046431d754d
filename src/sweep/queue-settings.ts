/**
 * The queue's settings. A job is attempted at most `attempts` times (its first run and two
 * retries), `backoffMs`, then twice that, apart; a job whose worker died (no lock renewal for
 * `lockDuration`) is taken over by another worker at BullMQ's next stalled-job check, at most
 * `maxStalledCount` times, resuming from its last checkpoint.
 */
export const QUEUE_DEFAULTS = {
  name: 'unitwise-sweep',
  attempts: 3,
  backoffMs: 2000,
  checkpointSeconds: 10,
  /** Seconds the enqueuer waits for a Redis that stopped answering before giving up. */
  lostAfterSeconds: 5,
  pollMs: 500,
  lockDurationMs: 30000,
  stalledIntervalMs: 30000,
  maxStalledCount: 2,
} as const;
