import type { BlobProgressEvent, ProgressEvent } from '@img/oci-spec';
import type { SingleBar } from 'cli-progress';
import type { Io } from '../io.js';

export interface PushReporter {
  onProgress(event: ProgressEvent): void;
  stop(): void;
}

const short = (digest: string) => digest.slice(7, 19);
const mib = (n: number) => `${(n / 1048576).toFixed(1)} MiB`;
const isDocument = (e: BlobProgressEvent) => e.kind === 'manifest' || e.kind === 'index';

/**
 * Push progress: a bar per blob on a terminal (bytes, rate, final state), one line per blob
 * otherwise, nothing with --quiet. cli-progress is loaded only for a terminal.
 */
export async function createPushReporter(io: Io): Promise<PushReporter> {
  if (io.quiet) return { onProgress() {}, stop() {} };
  if (!io.interactive) {
    return {
      onProgress(e) {
        if (e.type !== 'blob' || e.phase !== 'done' || !e.descriptor) return;
        const { digest, size } = e.descriptor;
        if (isDocument(e)) io.err(`manifest ${short(digest)} pushed as ${e.reference}`);
        else io.err(`blob ${short(digest)} ${e.outcome}${e.from ? ` from ${e.from}` : ''} (${mib(size)})`);
      },
      stop() {},
    };
  }
  const { MultiBar, Presets } = await import('cli-progress');
  const multi = new MultiBar(
    {
      format: ' {digest} [{bar}] {percentage}% | {value}/{total} bytes | {speed} | {state}',
      hideCursor: true,
      clearOnComplete: false,
      stream: process.stderr,
    },
    Presets.shades_classic,
  );
  const bars = new Map<string, SingleBar>();
  const started = new Map<string, number>();
  return {
    onProgress(e) {
      if (e.type !== 'blob' || isDocument(e) || !e.descriptor) return;
      const { digest, size } = e.descriptor;
      const state = e.phase === 'done' ? e.outcome : 'uploading';
      let bar = bars.get(digest);
      if (!bar) {
        bar = multi.create(size || 1, 0, { digest: short(digest), speed: '', state });
        bars.set(digest, bar);
        started.set(digest, Date.now());
      }
      const seconds = Math.max((Date.now() - started.get(digest)!) / 1000, 0.001);
      const done = e.phase === 'done' ? size || 1 : e.bytes;
      bar.update(done, { state, speed: `${mib(e.bytes / seconds)}/s` });
    },
    stop() {
      multi.stop();
    },
  };
}
