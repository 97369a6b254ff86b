import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';

// Runs in each worker: one block or frame per message, compressed one-shot with the same calls and
// options the main thread would use (zstd: the backend self-check; deflate: see gzip-blocks.ts).
const WORKER_SOURCE = `
const { parentPort } = require('node:worker_threads');
const zlib = require('node:zlib');
// Node's one-shot zlib/zstd calls allocate their output buffer per call. V8 collects such external
// memory only after tens of MiB have piled up, per isolate; collect every few frames instead to keep
// the process's peak RSS low. (No-op if the flag cannot be set.)
let collect = () => {};
try {
  require('node:v8').setFlagsFromString('--expose-gc');
  collect = require('node:vm').runInNewContext('gc');
} catch {}
let bytes = 0;
// One init per worker: a second init() while the first is pending re-instantiates the module
// under it, and a frame compressed in between comes out corrupt.
let wasmReady;
async function zstd(buf, { level, chunkSize, wasmPath }) {
  if (wasmPath !== undefined) {
    wasmReady ??= (async () => {
      const m = require(wasmPath);
      await m.init();
      return m;
    })();
    const wasm = await wasmReady;
    return { out: wasm.compress(buf, level) };
  }
  const out = zlib.zstdCompressSync(buf, {
    chunkSize,
    params: { [zlib.constants.ZSTD_c_compressionLevel]: level },
  });
  return { out, native: true };
}
function deflate(buf, { dictLength, offset, length, level, last, chunkSize }) {
  const data = buf.subarray(offset, offset + length);
  const options = {
    level,
    chunkSize,
    finishFlush: last ? zlib.constants.Z_FINISH : zlib.constants.Z_SYNC_FLUSH,
  };
  if (dictLength > 0) options.dictionary = buf.subarray(offset - dictLength, offset);
  return { out: zlib.deflateRawSync(data, options), crc: zlib.crc32(data), native: true };
}
parentPort.on('message', async (msg) => {
  const { id, op, input } = msg;
  try {
    const buf = Buffer.from(input.buffer, input.byteOffset, input.byteLength);
    const r = op === 'zstd' ? await zstd(buf, msg) : deflate(buf, msg);
    // Hand back the output and the input buffer (for reuse), both transferred. The output keeps its own
    // buffer unless that is mostly unused: one more multi-MiB allocation per frame for a copy, freed
    // late by the main thread, fragments this thread's malloc arena (+70 MiB peak RSS for zstd).
    let output = new Uint8Array(r.out.buffer, r.out.byteOffset, r.out.byteLength);
    if (output.byteLength < r.out.buffer.byteLength / 8 || r.out.buffer.byteLength <= 64 * 1024) {
      output = new Uint8Array(r.out.length);
      output.set(r.out);
    }
    parentPort.postMessage({ id, output, crc: r.crc, input }, [output.buffer, input.buffer]);
    if (r.native && (bytes += input.byteLength) >= 32 * 1024 * 1024) {
      bytes = 0;
      collect();
    }
  } catch (err) {
    parentPort.postMessage({ id, error: String((err && err.stack) || err), input }, [input.buffer]);
  }
});
`;

/** Worker threads per compressor when the caller sets none: one per core beside the main thread, 1-4. */
export function defaultPoolSize(): number {
  return Math.max(1, Math.min(4, availableParallelism() - 1));
}

/**
 * Reusable input buffers: they travel to a worker and back (transferred, never copied), so a multi-GiB
 * layer allocates a handful of block buffers instead of one per block.
 */
class TransferBuffers {
  readonly #free: ArrayBuffer[] = [];

  acquire(size: number): Buffer {
    const i = this.#free.findIndex((b) => b.byteLength === size);
    if (i >= 0) return Buffer.from(this.#free.splice(i, 1)[0]!);
    return Buffer.from(new ArrayBuffer(size));
  }

  release(buffer: ArrayBuffer): void {
    if (this.#free.length < 2 * pool.size + 2) this.#free.push(buffer);
  }
}

/** Buffers to hand to CompressWorkerPool (acquire a buffer of the size needed; the pool returns it). */
export const transferBuffers = new TransferBuffers();

/** What a worker sends back: the compressed bytes and, for deflate, the CRC-32 of the input. */
export interface WorkerResult {
  readonly output: Buffer;
  readonly crc: number;
}

export interface ZstdTask {
  readonly op: 'zstd';
  readonly level: number;
  /** Native: output chunk size (compressBound, for a single pass). */
  readonly chunkSize: number;
  /** Path of the pinned wasm module to require in the worker; undefined = Node's native zstd. */
  readonly wasmPath?: string;
}

export interface DeflateTask {
  readonly op: 'deflate';
  readonly level: number;
  /** Data is input[offset, offset+length); the dictionary is the dictLength bytes before it. */
  readonly offset: number;
  readonly length: number;
  readonly dictLength: number;
  /** Z_FINISH instead of Z_SYNC_FLUSH at the end. */
  readonly last: boolean;
  readonly chunkSize: number;
}

interface Job {
  readonly resolve: (r: WorkerResult) => void;
  readonly reject: (e: Error) => void;
}

interface Reply {
  id: number;
  output?: Uint8Array;
  crc?: number;
  input?: Uint8Array;
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
   * Run a task on one of the first `maxWorkers` workers. `input` must be a transferBuffers buffer (or a
   * view of one): it is transferred to the worker (unusable here afterwards) and comes back to
   * transferBuffers for reuse.
   */
  run(task: ZstdTask | DeflateTask, input: Buffer, maxWorkers: number): Promise<WorkerResult> {
    const worker = this.#pick(Math.max(1, maxWorkers));
    const id = this.#nextId++;
    return new Promise<WorkerResult>((resolve, reject) => {
      this.#jobs.set(id, { resolve, reject });
      this.#busy.set(worker, (this.#busy.get(worker) ?? 0) + 1);
      worker.ref();
      const view = new Uint8Array(input.buffer, input.byteOffset, input.byteLength);
      worker.postMessage({ ...task, id, input: view }, [input.buffer as ArrayBuffer]);
    });
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
      if (msg.input) transferBuffers.release(msg.input.buffer as ArrayBuffer);
      const job = this.#jobs.get(msg.id);
      this.#jobs.delete(msg.id);
      const left = (this.#busy.get(worker) ?? 1) - 1;
      this.#busy.set(worker, left);
      if (left === 0) worker.unref();
      if (!job) return;
      if (msg.error !== undefined) job.reject(new Error(`compression worker: ${msg.error}`));
      else {
        const out = msg.output!;
        job.resolve({ output: Buffer.from(out.buffer, out.byteOffset, out.byteLength), crc: msg.crc ?? 0 });
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
