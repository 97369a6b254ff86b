import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';

// Runs in each worker: one-shot compression of one frame per message, with the same calls and options
// that the backend self-check uses in the main thread.
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const zlib = require('node:zlib');
// Native zstd allocates a compressBound-sized output buffer per frame. V8 collects such external
// memory only after tens of MiB have piled up, per isolate; collect every few frames instead to keep
// the process's peak RSS low. (No-op if the flag cannot be set.)
let collect = () => {};
try {
  require('node:v8').setFlagsFromString('--expose-gc');
  collect = require('node:vm').runInNewContext('gc');
} catch {}
let frames = 0;
let wasm;
const ready = (async () => {
  if (workerData.kind === 'wasm') {
    wasm = require(workerData.wasmPath);
    await wasm.init();
  }
})();
parentPort.on('message', async ({ id, input, level, chunkSize }) => {
  try {
    await ready;
    const buf = Buffer.from(input.buffer, input.byteOffset, input.byteLength);
    const out = wasm
      ? wasm.compress(buf, level)
      : zlib.zstdCompressSync(buf, { chunkSize, params: { [zlib.constants.ZSTD_c_compressionLevel]: level } });
    // Hand back an exactly-sized copy of the output and the input buffer (for reuse), both transferred.
    const output = new Uint8Array(out.length);
    output.set(out);
    parentPort.postMessage({ id, output, input }, [output.buffer, input.buffer]);
    if (!wasm && ++frames % 4 === 0) collect();
  } catch (err) {
    parentPort.postMessage({ id, error: String(err && err.stack || err), input }, [input.buffer]);
  }
});
`;

/**
 * Reusable zstd frame input buffers: they travel to a worker and back (transferred, never copied), so a
 * multi-GiB layer allocates a handful of frame buffers instead of one per frame.
 */
class FrameBuffers {
  readonly #free: ArrayBuffer[] = [];

  acquire(size: number): Buffer {
    const i = this.#free.findIndex((b) => b.byteLength === size);
    if (i >= 0) return Buffer.from(this.#free.splice(i, 1)[0]!);
    return Buffer.from(new ArrayBuffer(size));
  }

  release(buffer: ArrayBuffer): void {
    if (this.#free.length < 2 * defaultPoolSize() + 2) this.#free.push(buffer);
  }
}

export const frameBuffers = new FrameBuffers();

interface Job {
  readonly resolve: (b: Buffer) => void;
  readonly reject: (e: Error) => void;
}

/**
 * A few worker threads that compress zstd frames, so compression runs beside the main thread (reading,
 * tar encoding, hashing) and on several cores. Each frame is compressed independently, so the output
 * does not depend on the number of workers. Workers are unref'd while idle.
 */
export class ZstdWorkerPool {
  readonly size: number;
  readonly #workers: Worker[] = [];
  readonly #busy = new Map<Worker, number>();
  readonly #jobs = new Map<number, Job>();
  readonly #kind: 'native' | 'wasm';
  readonly #wasmPath: string | undefined;
  #nextId = 0;
  #next = 0;

  constructor(kind: 'native' | 'wasm', wasmPath?: string, size = defaultPoolSize()) {
    this.#kind = kind;
    this.#wasmPath = wasmPath;
    this.size = size;
  }

  /**
   * Compress one frame. `input` must be a FrameBuffers buffer (or a view of one): it is transferred to
   * the worker (unusable here afterwards) and comes back to `frameBuffers` for reuse.
   */
  compress(input: Buffer, level: number, chunkSize: number): Promise<Buffer> {
    const worker = this.#pick();
    const id = this.#nextId++;
    return new Promise<Buffer>((resolve, reject) => {
      this.#jobs.set(id, { resolve, reject });
      this.#busy.set(worker, (this.#busy.get(worker) ?? 0) + 1);
      worker.ref();
      const view = new Uint8Array(input.buffer, input.byteOffset, input.byteLength);
      worker.postMessage({ id, input: view, level, chunkSize }, [input.buffer as ArrayBuffer]);
    });
  }

  #pick(): Worker {
    if (this.#workers.length < this.size) return this.#spawn();
    // Least busy worker, round-robin among equals.
    let best = this.#workers[this.#next % this.#workers.length]!;
    for (const w of this.#workers) if ((this.#busy.get(w) ?? 0) < (this.#busy.get(best) ?? 0)) best = w;
    this.#next++;
    return best;
  }

  #spawn(): Worker {
    const worker = new Worker(WORKER_SOURCE, {
      eval: true,
      workerData: { kind: this.#kind, wasmPath: this.#wasmPath },
    });
    worker.unref();
    worker.on('message', (msg: { id: number; output?: Uint8Array; input?: Uint8Array; error?: string }) => {
      if (msg.input) frameBuffers.release(msg.input.buffer as ArrayBuffer);
      const job = this.#jobs.get(msg.id);
      this.#jobs.delete(msg.id);
      const left = (this.#busy.get(worker) ?? 1) - 1;
      this.#busy.set(worker, left);
      if (left === 0) worker.unref();
      if (!job) return;
      if (msg.error !== undefined) job.reject(new Error(`zstd worker: ${msg.error}`));
      else job.resolve(Buffer.from(msg.output!.buffer, msg.output!.byteOffset, msg.output!.byteLength));
    });
    worker.on('error', (err) => this.#fail(worker, err));
    worker.on('exit', (code) => this.#fail(worker, new Error(`zstd worker exited with code ${code}`)));
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

/** Worker threads per zstd pool: one per core beside the main thread (which reads, encodes and hashes), 1-4. */
export function defaultPoolSize(): number {
  return Math.max(1, Math.min(4, availableParallelism() - 1));
}
