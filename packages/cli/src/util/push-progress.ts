import type { BlobProgressEvent, ProgressEvent } from '@img/oci-spec';
import type { SingleBar } from 'cli-progress';
import type { Io } from '../io.js';
import { barSize } from './bar-size.js';
import { humanRate, humanSize } from './human.js';

export interface PushReporter {
  onProgress(event: ProgressEvent): void;
  stop(): void;
}

const short = (digest: string) => digest.slice(7, 19);
const isDocument = (e: BlobProgressEvent) => e.kind === 'manifest' || e.kind === 'index';
const silent: PushReporter = { onProgress() {}, stop() {} };

/**
 * Push progress on a terminal: a bar per blob with human sizes, its rate and its final state
 * (uploaded, mounted, skipped). Nothing when stderr is not a terminal or with --quiet: logs and pipes
 * get the one summary line the command prints. cli-progress is loaded only for a terminal.
 */
export async function createPushReporter(io: Io): Promise<PushReporter> {
  if (io.quiet || !io.interactive) return silent;
  const { MultiBar, Presets } = await import('cli-progress');
  const multi = new MultiBar(
    {
      format: ' {digest} [{bar}] {percentage}% | {sizes} | {speed} | {state}',
      // 12 digest + "100% | 999.99 MiB/999.99 MiB | 999.9 MiB/s | uploaded" and separators
      barsize: barSize(process.stderr.columns, 72),
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
      const state = e.phase === 'done' ? (e.outcome ?? 'done') : 'uploading';
      let bar = bars.get(digest);
      if (!bar) {
        bar = multi.create(size || 1, 0, { digest: short(digest), sizes: '', speed: '', state });
        bars.set(digest, bar);
        started.set(digest, Date.now());
      }
      const seconds = (Date.now() - started.get(digest)!) / 1000;
      const done = e.phase === 'done' ? size || 1 : e.bytes;
      const moved = state === 'uploading' || state === 'uploaded';
      bar.update(done, {
        state,
        sizes: `${humanSize(e.phase === 'done' ? size : e.bytes)}/${humanSize(size)}`,
        speed: moved ? humanRate(e.bytes, seconds) : '',
      });
    },
    stop() {
      multi.stop();
    },
  };
}
