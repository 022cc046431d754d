import { connect, type Socket } from 'node:net';
import { createBunRedisClient, type IRedisClient } from 'bullmq';
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

type Reply = string | number | null | Error | Reply[];

/**
 * A small Redis client (RESP2 over one TCP connection) with the interface of Bun's built-in
 * `RedisClient`, which BullMQ adapts to itself (`send`, `connected`, `onconnect`, `onclose`,
 * `connect`, `close`, `duplicate`): BullMQ 6 ships no Redis driver of its own. Replies arrive
 * in request order, so concurrent `send`s pipeline; blocking commands simply wait.
 */
export class RespClient {
  connected = false;
  onconnect: (() => void) | undefined;
  onclose: ((error?: Error) => void) | undefined;
  onerror: ((error: Error) => void) | undefined;
  private socket: Socket | undefined;
  private pending: Array<{ resolve: (r: unknown) => void; reject: (e: Error) => void }> = [];
  private buffer: Buffer = Buffer.alloc(0);

  constructor(readonly url: string) {}

  /** Connects (selecting the URL's database); rejects when the server cannot be reached. */
  connect(): Promise<void> {
    const { host, port, db } = parseRedisUrl(this.url);
    return new Promise((resolve, reject) => {
      const socket = connect({ host, port });
      this.socket = socket;
      let opened = false;
      socket.setNoDelay(true);
      socket.on('connect', () => {
        opened = true;
        this.connected = true;
        const ready = db === 0 ? Promise.resolve() : this.send('SELECT', [String(db)]).then(() => undefined);
        ready.then(() => {
          this.onconnect?.();
          resolve();
        }, reject);
      });
      socket.on('data', (chunk: Buffer) => this.receive(chunk));
      socket.on('error', (err) => {
        if (!opened) reject(new Error(`Connection has failed: ${err.message}`));
        else this.onerror?.(err);
      });
      socket.on('close', () => {
        const was = this.connected;
        this.connected = false;
        const waiting = this.pending;
        this.pending = [];
        for (const w of waiting) w.reject(new Error('Connection closed'));
        if (was) this.onclose?.(new Error('Connection closed'));
      });
    });
  }

  /** Sends one command; resolves with its reply (bulk strings as strings, nil as null). */
  send<T = unknown>(command: string, args: ReadonlyArray<string | number | Buffer>): Promise<T> {
    if (!this.connected || !this.socket) return Promise.reject(new Error('Connection is closed.'));
    const parts = [command, ...args].map((a) => (Buffer.isBuffer(a) ? a : Buffer.from(String(a))));
    const frames: Buffer[] = [Buffer.from(`*${parts.length}\r\n`)];
    for (const p of parts) frames.push(Buffer.from(`$${p.length}\r\n`), p, Buffer.from('\r\n'));
    return new Promise((resolve, reject) => {
      this.pending.push({ resolve: resolve as (r: unknown) => void, reject });
      this.socket!.write(Buffer.concat(frames));
    });
  }

  /** Closes the connection (pending commands are rejected). */
  close(): void {
    this.connected = false;
    this.socket?.destroy();
  }

  /** A new, unconnected client to the same server. */
  async duplicate(): Promise<this> {
    return new RespClient(this.url) as this;
  }

  /** GET, SMEMBERS and INCR, which Bun's client has as methods (BullMQ's adapter type asks for them). */
  get(key: string): Promise<string | null> {
    return this.send('GET', [key]) as Promise<string | null>;
  }

  smembers(key: string): Promise<unknown[]> {
    return this.send('SMEMBERS', [key]) as Promise<unknown[]>;
  }

  incr(key: string): Promise<number> {
    return this.send('INCR', [key]) as Promise<number>;
  }

  private receive(chunk: Buffer): void {
    this.buffer = this.buffer.length ? Buffer.concat([this.buffer, chunk]) : chunk;
    let offset = 0;
    for (;;) {
      const parsed = parseReply(this.buffer, offset);
      if (!parsed) break;
      offset = parsed.end;
      const waiter = this.pending.shift();
      if (!waiter) continue;
      if (parsed.value instanceof Error) waiter.reject(parsed.value);
      else waiter.resolve(parsed.value);
    }
    this.buffer = offset === this.buffer.length ? Buffer.alloc(0) : this.buffer.subarray(offset);
  }
}

/** One RESP2 reply at `offset`, or undefined when the buffer does not hold all of it yet. */
function parseReply(buf: Buffer, offset: number): { value: Reply; end: number } | undefined {
  const lineEnd = buf.indexOf('\r\n', offset);
  if (lineEnd < 0) return undefined;
  const type = String.fromCharCode(buf[offset]);
  const line = buf.toString('utf8', offset + 1, lineEnd);
  const next = lineEnd + 2;
  if (type === '+') return { value: line, end: next };
  if (type === '-') return { value: new Error(line), end: next };
  if (type === ':') return { value: Number(line), end: next };
  if (type === '$') {
    const length = Number(line);
    if (length < 0) return { value: null, end: next };
    if (buf.length < next + length + 2) return undefined;
    return { value: buf.toString('utf8', next, next + length), end: next + length + 2 };
  }
  if (type === '*') {
    const count = Number(line);
    if (count < 0) return { value: null, end: next };
    const items: Reply[] = [];
    let at = next;
    for (let i = 0; i < count; i++) {
      const item = parseReply(buf, at);
      if (!item) return undefined;
      items.push(item.value);
      at = item.end;
    }
    return { value: items, end: at };
  }
  throw new Error(`unexpected Redis reply type '${type}'`);
}

/**
 * A BullMQ connection to Redis at `url`: a {@link RespClient} in BullMQ's adapter of Bun-style
 * clients. Its `disconnect()` ends it for good (no reconnection attempts after it).
 */
export function bullmqConnection(url: string): IRedisClient {
  return createBunRedisClient(new RespClient(url));
}
