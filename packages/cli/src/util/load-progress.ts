import type { LoadProgressEvent, LoadResult } from '@img/containerd-loader';
import { MultiBar, type SingleBar } from 'cli-progress';
import { humanSize } from './human.js';

/** `loaded NAME[, NAME] (sha256:...) into containerd: 3 blobs present, 2 written, 1.20 MiB written in 0.35 s` */
export function summaryLine(r: LoadResult, seconds: number): string {
  const what = r.skipped ? ' (image already present: tagged only)' : '';
  return (
    `loaded ${r.names.join(', ')} (${r.root.digest}) into ${r.runtime}${what}: ` +
    `${r.blobsPresent} blobs present, ${r.blobsWritten} written, ${humanSize(r.bytesWritten)} written in ${seconds.toFixed(2)} s`
  );
}

/** One progress bar per blob being written (drawn on a terminal only). */
export class BlobProgress {
  readonly #bars = new MultiBar({
    format: ' {kind} {digest} [{bar}] {percentage}% {sizes} {done}',
    clearOnComplete: false,
    hideCursor: true,
    stream: process.stderr,
  });
  readonly #active = new Map<string, SingleBar>();
  #stopped = false;

  update(e: LoadProgressEvent): void {
    if (this.#stopped || e.type === 'plan') return;
    const digest = e.descriptor.digest.slice(7, 19);
    if (e.type === 'blob-start') {
      this.#active.set(
        e.descriptor.digest,
        this.#bars.create(e.descriptor.size, 0, {
          kind: e.kind.padEnd(8),
          digest,
          done: '',
          sizes: `0 B/${humanSize(e.descriptor.size)}`,
        }),
      );
    } else if (e.type === 'blob-progress') {
      this.#active
        .get(e.descriptor.digest)
        ?.update(e.offset, { sizes: `${humanSize(e.offset)}/${humanSize(e.descriptor.size)}` });
    } else {
      const bar = this.#active.get(e.descriptor.digest);
      if (bar) {
        bar.update(e.descriptor.size, {
          done: e.status === 'present' ? 'present' : 'written',
          sizes: humanSize(e.descriptor.size),
        });
      }
    }
  }

  stop(): void {
    if (this.#stopped) return;
    this.#stopped = true;
    this.#bars.stop();
  }
}
