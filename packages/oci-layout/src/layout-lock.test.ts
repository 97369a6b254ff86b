import { spawnSync } from 'node:child_process';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { useTempDir } from '@img/test-utils';
import { describe, expect, it } from 'vitest';
import { acquireLayoutLock, LAYOUT_LOCK_FILE } from './layout-lock.js';

const tmp = useTempDir('layout-lock-');

/** The pid of a process that has exited (and so cannot hold anything). */
function deadPid(): number {
  return spawnSync(process.execPath, ['-e', '0']).pid!;
}

async function dir(name: string): Promise<string> {
  const path = join(tmp.path, name);
  await mkdir(path);
  return path;
}

describe('acquireLayoutLock', () => {
  it('lets one writer in at a time and removes the lock on release', async () => {
    const d = await dir('turns');
    const first = await acquireLayoutLock(d);
    const order: string[] = [];
    const second = acquireLayoutLock(d, { timeoutMs: 5000 }).then((l) => {
      order.push('second');
      return l;
    });
    await new Promise((r) => setTimeout(r, 100));
    order.push('first released');
    await first.release();
    await (await second).release();
    expect(order).toEqual(['first released', 'second']);
    expect(await readdir(d)).toEqual([]);
  });

  it('fails with a one-line error naming the folder and the holder while a live process holds it', async () => {
    const d = await dir('held');
    const owner = { pid: process.ppid, host: hostname(), created: '2024-01-01T00:00:00.000Z' };
    await writeFile(join(d, LAYOUT_LOCK_FILE), JSON.stringify(owner));
    const err = await acquireLayoutLock(d, { timeoutMs: 200 }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'IMG_LAYOUT_LOCKED' });
    expect((err as Error).message).toContain(`${d}: layout is being written by img process ${process.ppid}`);
    expect((err as Error).message).not.toContain('\n');
    expect(JSON.parse(await readFile(join(d, LAYOUT_LOCK_FILE), 'utf8'))).toEqual(owner);
  });

  it('takes over the lock of a dead process once, even when many writers race for it', async () => {
    const d = await dir('stale');
    const stale = JSON.stringify({ pid: deadPid(), host: hostname(), created: '2024-01-01T00:00:00.000Z' });
    await writeFile(join(d, LAYOUT_LOCK_FILE), stale);
    let inside = 0;
    let maxInside = 0;
    await Promise.all(
      Array.from({ length: 8 }, async () => {
        const lock = await acquireLayoutLock(d, { timeoutMs: 10_000 });
        inside++;
        maxInside = Math.max(maxInside, inside);
        await new Promise((r) => setTimeout(r, 20));
        inside--;
        await lock.release();
      }),
    );
    expect(maxInside).toBe(1);
    expect(await readdir(d)).toEqual([]);
  });

  it('does not take over a lock of another host', async () => {
    const d = await dir('remote');
    await writeFile(
      join(d, LAYOUT_LOCK_FILE),
      JSON.stringify({ pid: deadPid(), host: `not-${hostname()}`, created: '2024-01-01T00:00:00.000Z' }),
    );
    await expect(acquireLayoutLock(d, { timeoutMs: 100 })).rejects.toThrow(/on not-/);
  });
});
