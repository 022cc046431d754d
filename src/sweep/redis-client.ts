import { Redis } from 'ioredis';
import { UsageError, problem } from '../errors.js';

/** A Redis server's address from a `redis://HOST:PORT[/DB]` URL (a UsageError naming the URL otherwise). */
export function parseRedisUrl(url: string): { host: string; port: number; db: number } {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new UsageError([problem('queue', `--queue ${url}: not a URL; give redis://HOST:PORT (e.g. redis://127.0.0.1:6379)`)]);
  }
  if (parsed.protocol !== 'redis:') throw new UsageError([problem('queue', `--queue ${url}: give a redis:// URL (redis://HOST:PORT)`)]);
  const db = parsed.pathname.length > 1 ? Number(parsed.pathname.slice(1)) : 0;
  if (!Number.isInteger(db) || db < 0) throw new UsageError([problem('queue', `--queue ${url}: the database '${parsed.pathname.slice(1)}' is not a number`)]);
  return { host: parsed.hostname || '127.0.0.1', port: parsed.port ? Number(parsed.port) : 6379, db };
}

/**
 * How long `disconnect()` leaves a socket to close before destroying it, ms (ioredis waits 2 s,
 * which kept a process whose Redis had gone away alive that long after closing its clients).
 */
const DISCONNECT_MS = 200;

/**
 * An ioredis connection to Redis at `url` for BullMQ's Queue and Worker (BullMQ leaves a client
 * it was given open; a Worker duplicates it for its own connections, which it closes). Commands
 * wait while Redis is away (`maxRetriesPerRequest: null`, which BullMQ requires of workers) and
 * it reconnects every second or two: whether Redis is gone for good is `watchRedis`'s call, which
 * reports it once, with the URL, so connection errors are not logged here. `disconnect()` ends it
 * for good (its pending commands are rejected, no reconnection after it).
 */
export function bullmqConnection(url: string): Redis {
  const { host, port, db } = parseRedisUrl(url);
  const client = new Redis({ host, port, db, maxRetriesPerRequest: null, retryStrategy: (times) => Math.min(250 * times, 2000), disconnectTimeout: DISCONNECT_MS });
  client.on('error', () => {});
  return client;
}

/**
 * An unconnected ioredis client to Redis at `url` for one-off pings: it connects on `connect()`,
 * gives up a connection attempt after `connectTimeoutMs`, never reconnects by itself, and fails
 * commands at once while not connected (no offline queue, no retries).
 */
export function probeConnection(url: string, connectTimeoutMs: number): Redis {
  const { host, port, db } = parseRedisUrl(url);
  const client = new Redis({ host, port, db, lazyConnect: true, connectTimeout: connectTimeoutMs, retryStrategy: () => null, enableOfflineQueue: false, maxRetriesPerRequest: 0, disconnectTimeout: DISCONNECT_MS });
  client.on('error', () => {});
  return client;
}
