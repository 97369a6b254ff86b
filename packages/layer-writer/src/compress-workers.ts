import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';

// Runs in each worker: one block or frame per message, compressed one-shot with the same calls and
// options the main thread would use (zstd: the backend self-check; deflate: see gzip-blocks.ts).
const WORKER_SOURCE = `
const { parentPort } = require('node:worker_threads');
const zlib = require('node:zlib');
// Node's one-shot zlib/zstd calls allocate their output buffer (the task's chunkSize) per call, and
// each message's shared buffer gets a wrapper here; V8 collects such external memory only after tens
// of MiB have piled up, per isolate (on Node 24 a scavenge does not free it either, and each worker
// grew by ~50 MiB). Both are garbage once the reply is sent: a scavenge after each call (a fraction of
// a millisecond: a worker's heap is tiny) frees them on Node 20, and a full collection whenever the
// isolate's external memory still exceeds EXTERNAL_LIMIT (every ~8 gzip blocks on Node 24) frees them
// there. (No-op if the flag cannot be set.)
const EXTERNAL_LIMIT = 8 * 1024 * 1024;
let collect;
try {
  require('node:v8').setFlagsFromString('--expose-gc');
  collect = require('node:vm').runInNewContext('gc');
} catch {}
const { getHeapStatistics } = require('node:v8');
function release() {
  if (collect === undefined) return;
  collect({ type: 'minor' });
  if (getHeapStatistics().external_memory > EXTERNAL_LIMIT) collect({ type: 'major', execution: 'sync' });
}
// One init per worker: a second init() while the first is pending re-instantiates the module
// under it, and a frame compressed in between comes out corrupt.
let wasmReady;
// The wasm build's ZSTD_compress, called directly with input and output space kept in the module's
// heap across frames: the package's compress() returns a copy of each frame (garbage of a frame's size
// per call). Same function, same bytes. Falls back to compress() if the build lacks the exports.
let wasmSrc = 0;
let wasmDst = 0;
let wasmCap = 0;
function zstdWasmInto(m, mod, buf, level, target) {
  if (!mod || typeof mod._ZSTD_compress !== 'function' || typeof mod._malloc !== 'function') {
    return { out: m.compress(buf, level) };
  }
  const bound = mod._ZSTD_compressBound(buf.length);
  if (bound > wasmCap) {
    if (wasmCap > 0) {
      mod._free(wasmSrc);
      mod._free(wasmDst);
    }
    wasmSrc = mod._malloc(bound);
    wasmDst = mod._malloc(bound);
    wasmCap = bound;
  }
  mod.HEAPU8.set(buf, wasmSrc);
  const n = mod._ZSTD_compress(wasmDst, bound, wasmSrc, buf.length, level);
  if (mod._ZSTD_isError(n)) throw new Error('zstd (wasm) failed with code ' + n);
  const out = mod.HEAPU8.subarray(wasmDst, wasmDst + n);
  if (n > target.length) return { out: Buffer.from(out) };
  target.set(out);
  return { length: n };
}
async function zstd(buf, { level, chunkSize, wasmPath }, target) {
  if (wasmPath !== undefined) {
    wasmReady ??= (async () => {
      const m = require(wasmPath);
      await m.init();
      let mod;
      try {
        mod = require(require('node:path').join(require('node:path').dirname(wasmPath), 'module.js')).Module;
      } catch {}
      return { m, mod };
    })();
    const { m, mod } = await wasmReady;
    return zstdWasmInto(m, mod, buf, level, target);
  }
  const out = zlib.zstdCompressSync(buf, {
    chunkSize,
    params: { [zlib.constants.ZSTD_c_compressionLevel]: level },
  });
  return { out };
}
function deflate(buf, { dictLength, offset, length, level, memLevel, last, chunkSize }) {
  const data = buf.subarray(offset, offset + length);
  const options = {
    level,
    memLevel,
    chunkSize,
    finishFlush: last ? zlib.constants.Z_FINISH : zlib.constants.Z_SYNC_FLUSH,
  };
  if (dictLength > 0) options.dictionary = buf.subarray(offset - dictLength, offset);
  return { out: zlib.deflateRawSync(data, options), crc: zlib.crc32(data) };
}
parentPort.on('message', async (msg) => {
  const { id, op, buffer } = msg;
  try {
    const buf = Buffer.from(buffer.buffer, buffer.byteOffset, buffer.byteLength);
    const r = op === 'zstd' ? await zstd(buf.subarray(0, msg.length), msg, buf) : deflate(buf, msg);
    // The input has been consumed: the output goes into the same shared buffer, from its start, so
    // nothing is allocated for the main thread.
    if (r.out === undefined) {
      parentPort.postMessage({ id, length: r.length, crc: r.crc });
    } else if (r.out.length <= buffer.byteLength) {
      buffer.set(r.out);
      parentPort.postMessage({ id, length: r.out.length, crc: r.crc });
    } else {
      const overflow = new Uint8Array(r.out); // not expected: callers size the buffer for the bound
      parentPort.postMessage({ id, overflow, crc: r.crc }, [overflow.buffer]);
    }
    if (r.out !== undefined) release(); // the wasm path allocated nothing
  } catch (err) {
    parentPort.postMessage({ id, error: String((err && err.stack) || err) });
  }
});
`;

/** Worker threads per compressor when the caller sets none: one per core beside the main thread, 1-4. */
export function defaultPoolSize(): number {
  return Math.max(1, Math.min(4, availableParallelism() - 1));
}

/**
 * Buffers over SharedArrayBuffers, reused: workers read their input and write their output in place,
 * so no buffer is transferred or allocated per block on the main thread (V8 counts every new
 * ArrayBuffer towards its next full GC: with a buffer per frame, a 1 GiB layer cost dozens of them).
 * Each buffer is either free here or lent to one user, who hands it back with release().
 */
const SMALLEST = 64 * 1024;
const SMALL_LIMIT = 1024 * 1024;
/**
 * Free buffers kept for reuse, in bytes: more than one compressor's working set (its in-flight budget
 * plus the block being filled), so steady-state streaming allocates nothing, and no more than that.
 */
export const FREE_BUFFER_BYTES = 48 * 1024 * 1024;

class SharedBuffers {
  readonly #free: Buffer[] = [];
  #freeBytes = 0;
  // Weak: a buffer whose user went away without handing it back (a destroyed stream) is collected.
  readonly #lent = new WeakSet<Buffer>();
  readonly #whole = new WeakMap<ArrayBufferLike, Buffer>();

  /**
   * A buffer of exactly `size` bytes (a view from the start of a pooled one). Small sizes come from
   * power-of-two classes, so that frames of many different small sizes (tar headers between file
   * payloads) reuse a few buffers instead of allocating one each. Sizes from SMALL_LIMIT up are pooled
   * as they are (`exact`: callers with one fixed size) or rounded up to a multiple of SMALL_LIMIT
   * (`rounded`: callers of many sizes, such as eStargz members, which would otherwise never reuse one).
   */
  acquire(size: number, sizes: 'exact' | 'rounded' = 'exact'): Buffer {
    const capacity =
      size < SMALL_LIMIT
        ? Math.max(SMALLEST, 2 ** Math.ceil(Math.log2(size || 1)))
        : sizes === 'rounded'
          ? Math.ceil(size / SMALL_LIMIT) * SMALL_LIMIT
          : size;
    const i = this.#free.findIndex((b) => b.length === capacity);
    let buf: Buffer;
    if (i >= 0) {
      buf = this.#free.splice(i, 1)[0]!;
      this.#freeBytes -= capacity;
    } else buf = Buffer.from(new SharedArrayBuffer(capacity));
    this.#whole.set(buf.buffer, buf);
    this.#lent.add(buf);
    return capacity === size ? buf : buf.subarray(0, size);
  }

  /** The lent buffer that `chunk` is a view of from its start, if any. */
  lent(chunk: Uint8Array): Buffer | undefined {
    if (chunk.byteOffset !== 0) return undefined;
    const buf = this.#whole.get(chunk.buffer);
    return buf && this.#lent.has(buf) ? buf : undefined;
  }

  /** Hand back a lent buffer (or a view from its start); anything else is ignored. */
  release(chunk: Uint8Array): void {
    const buf = this.lent(chunk);
    if (buf === undefined) return;
    this.#lent.delete(buf);
    this.#free.push(buf);
    this.#freeBytes += buf.length;
    while (this.#freeBytes > FREE_BUFFER_BYTES) this.#freeBytes -= this.#free.shift()!.length;
  }

  /** Bytes of free buffers kept for reuse (at most FREE_BUFFER_BYTES). */
  get freeBytes(): number {
    return this.#freeBytes;
  }
}

/** The buffers to hand to CompressWorkerPool.run. */
export const sharedBuffers = new SharedBuffers();

/** What a worker sends back: the compressed bytes and, for deflate, the CRC-32 of the input. */
export interface WorkerResult {
  /** A view from the start of the task's buffer (or, if the output did not fit there, a buffer of its own). */
  readonly output: Buffer;
  readonly crc: number;
}

export interface ZstdTask {
  readonly op: 'zstd';
  readonly level: number;
  /** The frame is input[0, length). */
  readonly length: number;
  /** Native: output chunk size (compressBound, for a single pass). */
  readonly chunkSize: number;
  /** Path of the pinned wasm module to require in the worker; undefined = Node's native zstd. */
  readonly wasmPath?: string;
}

export interface DeflateTask {
  readonly op: 'deflate';
  readonly level: number;
  /** zlib memLevel (1-9): the size of deflate's hash table and symbol buffer. */
  readonly memLevel: number;
  /** Data is input[offset, offset+length); the dictionary is the dictLength bytes before it. */
  readonly offset: number;
  readonly length: number;
  readonly dictLength: number;
  /** Z_FINISH instead of Z_SYNC_FLUSH at the end. */
  readonly last: boolean;
  readonly chunkSize: number;
}

interface Job {
  readonly buffer: Buffer;
  readonly resolve: (r: WorkerResult) => void;
  readonly reject: (e: Error) => void;
}

interface Reply {
  id: number;
  /** Output bytes at the start of the task's buffer. */
  length?: number;
  /** Output that did not fit the task's buffer. */
  overflow?: Uint8Array;
  crc?: number;
  error?: string;
}

/**
 * Worker threads that compress zstd frames and deflate blocks, so compression runs beside the main
 * thread (reading, tar encoding, hashing) and on several cores. One process-wide pool; each call says
 * how many workers it may use (its compressor's job count), and the pool grows to the largest such
 * count. Blocks are compressed independently, so output never depends on which worker ran what.
 * Workers are unref'd while idle, so they never keep the process alive.
 */
export class CompressWorkerPool {
  readonly #workers: Worker[] = [];
  readonly #busy = new Map<Worker, number>();
  readonly #jobs = new Map<number, Job>();
  #nextId = 0;
  #next = 0;

  /** Workers running now. */
  get size(): number {
    return this.#workers.length;
  }

  /**
   * Run a task on one of the first `maxWorkers` workers: it reads its input from `buffer` (a
   * sharedBuffers buffer, which stays the caller's but must not be touched until the promise settles)
   * and writes its output over it, from its start. Size `buffer` for the output's bound.
   */
  run(task: ZstdTask | DeflateTask, buffer: Buffer, maxWorkers: number): Promise<WorkerResult> {
    const worker = this.#pick(Math.max(1, maxWorkers));
    const id = this.#nextId++;
    return new Promise<WorkerResult>((resolve, reject) => {
      this.#jobs.set(id, { buffer, resolve, reject });
      this.#busy.set(worker, (this.#busy.get(worker) ?? 0) + 1);
      worker.ref();
      worker.postMessage({ ...task, id, buffer });
    });
  }

  /** run(), with the output copied into a buffer of its own (so `buffer` can be reused at once). */
  async runCopied(task: ZstdTask | DeflateTask, buffer: Buffer, maxWorkers: number): Promise<WorkerResult> {
    const r = await this.run(task, buffer, maxWorkers);
    return r.output.buffer === buffer.buffer ? { ...r, output: Buffer.from(r.output) } : r;
  }

  #pick(limit: number): Worker {
    const usable = this.#workers.slice(0, limit);
    const idle = usable.find((w) => (this.#busy.get(w) ?? 0) === 0);
    if (idle) return idle;
    if (usable.length < limit) return this.#spawn();
    // Least busy worker, round-robin among equals.
    let best = usable[this.#next % usable.length]!;
    for (const w of usable) if ((this.#busy.get(w) ?? 0) < (this.#busy.get(best) ?? 0)) best = w;
    this.#next++;
    return best;
  }

  #spawn(): Worker {
    const worker = new Worker(WORKER_SOURCE, { eval: true });
    worker.unref();
    worker.on('message', (msg: Reply) => {
      const job = this.#jobs.get(msg.id);
      this.#jobs.delete(msg.id);
      const left = (this.#busy.get(worker) ?? 1) - 1;
      this.#busy.set(worker, left);
      if (left === 0) worker.unref();
      if (!job) return;
      if (msg.error !== undefined) job.reject(new Error(`compression worker: ${msg.error}`));
      else {
        const output = msg.overflow
          ? Buffer.from(msg.overflow.buffer, msg.overflow.byteOffset, msg.overflow.byteLength)
          : job.buffer.subarray(0, msg.length);
        job.resolve({ output, crc: msg.crc ?? 0 });
      }
    });
    worker.on('error', (err) => this.#fail(worker, err));
    worker.on('exit', (code) => this.#fail(worker, new Error(`compression worker exited with code ${code}`)));
    this.#workers.push(worker);
    return worker;
  }

  #fail(worker: Worker, err: Error): void {
    const i = this.#workers.indexOf(worker);
    if (i >= 0) this.#workers.splice(i, 1);
    this.#busy.delete(worker);
    // A dead worker's jobs cannot be told apart cheaply; fail every pending job (rare: OOM, crash).
    for (const [id, job] of this.#jobs) {
      this.#jobs.delete(id);
      job.reject(err);
    }
  }
}

const pool = new CompressWorkerPool();

/** The process-wide compression worker pool. */
export function compressWorkers(): CompressWorkerPool {
  return pool;
}
