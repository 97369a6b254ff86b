import { spawn } from 'node:child_process';
import { mkdir, readdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { useTempDir } from '@img/test-utils';
import { describe, expect, it } from 'vitest';

const tmp = useTempDir('atomic-cleanup-');
const DIST = resolve(import.meta.dirname, '../dist/index.js');

/**
 * A child that opens an AtomicFile and a tracked directory, prints "ready" and waits: what a real
 * img process looks like when a user presses Ctrl-C mid-write.
 */
const CHILD = `
import { AtomicFile, removeOnExit } from ${JSON.stringify(DIST)};
import { mkdirSync, writeFileSync } from 'node:fs';
const dir = process.argv[1];
const file = await AtomicFile.open(dir + '/out.tar');
await file.write(Buffer.alloc(1024));
mkdirSync(dir + '/work');
writeFileSync(dir + '/work/layer', 'x');
removeOnExit(dir + '/work');
process.stdout.write('ready\\n');
setInterval(() => {}, 1000);
`;

async function runUntilSignal(
  dir: string,
  signal: NodeJS.Signals,
): Promise<{ code: number | null; signal: string | null }> {
  const child = spawn(process.execPath, ['--input-type=module', '-e', CHILD, dir], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  await new Promise<void>((ready, fail) => {
    child.stdout.on('data', (d: Buffer) => d.toString().includes('ready') && ready());
    child.on('exit', () => fail(new Error('child exited early')));
  });
  expect((await readdir(dir)).sort()).toEqual([expect.stringMatching(/^\.out\.tar\.tmp-/), 'work']);
  child.kill(signal);
  return await new Promise((done) => child.on('exit', (code, sig) => done({ code, signal: sig })));
}

describe('cleanup on signals', () => {
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    it(`removes temp files and tracked directories on ${signal}, then dies of the signal`, async () => {
      const dir = join(tmp.path, signal);
      await mkdir(dir);
      const exit = await runUntilSignal(dir, signal);
      expect(exit).toEqual({ code: null, signal });
      expect(await readdir(dir)).toEqual([]);
    });
  }
});
