import { readdir, readFile } from 'node:fs/promises';
import { run } from '../run.js';

/** Pids of containerd shims serving the containerd at `address` (they outlive containerd itself). */
export async function shimPids(address: string): Promise<number[]> {
  const pids: number[] = [];
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const argv = (await readFile(`/proc/${entry}/cmdline`, 'utf8')).split('\0');
      if (argv[0]?.includes('containerd-shim') && argv.includes(address)) pids.push(Number(entry));
    } catch {
      // the process is gone
    }
  }
  return pids;
}

/** Mount points at or under `dir`, deepest first (overlay snapshots, shm of running tasks). */
export async function mountsUnder(dir: string): Promise<string[]> {
  const info = await readFile('/proc/self/mountinfo', 'utf8');
  const points = info
    .split('\n')
    .map((line) => line.split(' ')[4])
    .filter((p): p is string => p !== undefined)
    .map((p) => p.replace(/\\(\d{3})/g, (_, o: string) => String.fromCharCode(Number.parseInt(o, 8))))
    .filter((p) => p === dir || p.startsWith(`${dir}/`));
  return points.sort((a, b) => b.length - a.length);
}

export async function unmountAll(dir: string): Promise<void> {
  for (const point of await mountsUnder(dir)) {
    await run('umount', ['-l', point], { allowFailure: true, timeoutMs: 10_000 });
  }
}
