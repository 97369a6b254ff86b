import type { PushProgressEvent } from '@img/registry-client';
import type { SingleBar } from 'cli-progress';
import type { Io } from '../io.js';
import { humanRate, humanSize } from './human.js';

export interface PushReporter {
  onProgress(event: PushProgressEvent): void;
  stop(): void;
}

const short = (digest: string) => digest.slice(7, 19);
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
      if (e.kind === 'manifest') return;
      let bar = bars.get(e.digest);
      if (!bar) {
        bar = multi.create(e.size || 1, 0, { digest: short(e.digest), sizes: '', speed: '', state: e.state });
        bars.set(e.digest, bar);
        started.set(e.digest, Date.now());
      }
      const seconds = (Date.now() - started.get(e.digest)!) / 1000;
      const done = e.state === 'uploading' ? e.bytes : e.size || 1;
      bar.update(done, {
        state: e.state,
        sizes: `${humanSize(e.state === 'uploading' ? e.bytes : e.size)}/${humanSize(e.size)}`,
        speed: e.state === 'uploading' || e.state === 'uploaded' ? humanRate(e.bytes, seconds) : '',
      });
    },
    stop() {
      multi.stop();
    },
  };
}
