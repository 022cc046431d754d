/**
 * The pool jobs (`runJobs` functions) that the queue's workers run besides sweep jobs, by export
 * name, with their modules relative to this folder: a worker imports only these, never a module
 * named by the queue's data.
 */
export const POOL_JOBS: Record<string, string> = {
  benchmarkPoolJob: '../benchmark/run.js',
};

/** A pool job on the queue: the function's export name and its input (structured-cloneable, JSON-ready). */
export interface PoolJobInput {
  digest: string;
  pool: string;
  input: unknown;
}

/** Runs a pool job in a worker (see {@link POOL_JOBS}). */
export async function runPoolJob(job: PoolJobInput): Promise<unknown> {
  const path = POOL_JOBS[job.pool];
  if (path === undefined || !Object.hasOwn(POOL_JOBS, job.pool)) throw new Error(`unknown pool job '${job.pool}' (this worker runs ${Object.keys(POOL_JOBS).join(', ')}): is it the same unitwise version as the enqueuer?`);
  const module = (await import(new URL(path, import.meta.url).href)) as Record<string, (input: unknown) => Promise<unknown>>;
  return module[job.pool](job.input);
}
