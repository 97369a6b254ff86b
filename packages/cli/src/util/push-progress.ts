import type { PushProgressEvent } from '@img/registry-client';
import type { SingleBar } from 'cli-progress';
import type { Io } from '../io.js';

export interface PushReporter {
  onProgress(event: PushProgressEvent): void;
  stop(): void;
}

const short = (digest: string) => digest.slice(7, 19);
const mib = (n: number) => `${(n / 1048576).toFixed(1)} MiB`;

/**
 * Push progress: a bar per blob on a terminal (bytes, rate, final state), one line per blob
 * otherwise, nothing with --quiet. cli-progress is loaded only for a terminal.
 */
export async function createPushReporter(io: Io): Promise<PushReporter> {
  if (io.quiet) return { onProgress() {}, stop() {} };
  if (!io.interactive) {
    return {
      onProgress(e) {
        if (e.kind === 'manifest') io.err(`manifest ${short(e.digest)} pushed as ${e.reference}`);
        else if (e.state !== 'uploading') {
          io.err(`blob ${short(e.digest)} ${e.state}${e.from ? ` from ${e.from}` : ''} (${mib(e.size)})`);
        }
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
      if (e.kind === 'manifest') return;
      let bar = bars.get(e.digest);
      if (!bar) {
        bar = multi.create(e.size || 1, 0, { digest: short(e.digest), speed: '', state: e.state });
        bars.set(e.digest, bar);
        started.set(e.digest, Date.now());
      }
      const seconds = Math.max((Date.now() - started.get(e.digest)!) / 1000, 0.001);
      const done = e.state === 'uploading' ? e.bytes : e.size || 1;
      bar.update(done, { state: e.state, speed: `${mib(e.bytes / seconds)}/s` });
    },
    stop() {
      multi.stop();
    },
  };
}
