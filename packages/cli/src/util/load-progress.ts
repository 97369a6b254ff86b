import type { LoadResult } from '@img/containerd-loader';
import type { ProgressEvent } from '@img/oci-spec';
import { MultiBar, type SingleBar } from 'cli-progress';
import { barSize } from './bar-size.js';
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
    // kind (8), 12 digest, "100% 999.99 MiB/999.99 MiB" and the outcome
    barsize: barSize(process.stderr.columns, 62),
    clearOnComplete: false,
    hideCursor: true,
    stream: process.stderr,
  });
  readonly #active = new Map<string, SingleBar>();
  #stopped = false;

  update(e: ProgressEvent): void {
    if (this.#stopped || e.type === 'plan' || !e.descriptor) return;
    const { descriptor } = e;
    const digest = descriptor.digest.slice(7, 19);
    if (e.phase === 'start') {
      this.#active.set(
        descriptor.digest,
        this.#bars.create(descriptor.size, 0, {
          kind: e.kind.padEnd(8),
          digest,
          done: '',
          sizes: `0 B/${humanSize(descriptor.size)}`,
        }),
      );
    } else if (e.phase === 'progress') {
      this.#active
        .get(descriptor.digest)
        ?.update(e.bytes, { sizes: `${humanSize(e.bytes)}/${humanSize(descriptor.size)}` });
    } else {
      this.#active
        .get(descriptor.digest)
        ?.update(descriptor.size, { done: e.outcome, sizes: humanSize(descriptor.size) });
    }
  }

  stop(): void {
    if (this.#stopped) return;
    this.#stopped = true;
    this.#bars.stop();
  }
}
