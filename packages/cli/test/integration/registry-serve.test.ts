import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { useTempDir } from '@img/test-utils';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gzipExampleSpec, imgOk, REPO_ROOT } from '../helpers.js';

const BIN = join(REPO_ROOT, 'packages/cli/dist/bin.cjs');
const tmp = useTempDir('img-cli-registry-serve-');

interface Served {
  child: ChildProcess;
  address: string;
  stderr: string[];
}

/** `img registry serve` as its own process; resolves with the address it prints once it listens. */
async function serve(storage: string): Promise<Served> {
  const child = spawn(process.execPath, [BIN, 'registry', 'serve', '--port', '0', '--storage', storage], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const stderr: string[] = [];
  createInterface({ input: child.stderr! }).on('line', (l) => stderr.push(l));
  const lines = createInterface({ input: child.stdout! });
  const [address] = (await Promise.race([
    once(lines, 'line'),
    once(child, 'exit').then(([code]) => {
      throw new Error(`img registry serve exited ${code}: ${stderr.join('\n')}`);
    }),
  ])) as [string];
  return { child, address, stderr };
}

async function stop(s: Served): Promise<number | null> {
  s.child.kill('SIGTERM');
  const [code] = await once(s.child, 'exit');
  return code as number | null;
}

describe('img registry serve', () => {
  let served: Served | undefined;
  beforeAll(() => {
    process.env.IMG_CACHE_DIR = tmp.join('cache');
  });
  afterAll(async () => {
    if (served && served.child.exitCode === null) await stop(served);
  });

  it('serves img push and img pull, stops on SIGTERM, and keeps every tag across a restart', async () => {
    const storage = tmp.join('storage');
    served = await serve(storage);
    expect(served.address).toMatch(/^127\.0\.0\.1:\d+$/);
    const layout = tmp.join('hello');
    await imgOk('build', await gzipExampleSpec(tmp.path), '--output', `oci:${layout}`);
    const pushed = JSON.parse(
      (await imgOk('push', `oci:${layout}`, `${served.address}/img/hello:1`, '--tag', 'latest', '--json'))
        .stdout,
    );
    expect(pushed.blobsUploaded).toBe(3);
    const again = JSON.parse(
      (await imgOk('push', `oci:${layout}`, `${served.address}/img/hello:1`, '--json')).stdout,
    );
    expect(again).toMatchObject({ blobsUploaded: 0, bytesUploaded: 0 });
    // Into another repository: mounted, not uploaded.
    const other = JSON.parse(
      (await imgOk('push', `oci:${layout}`, `${served.address}/img/other:1`, '--json')).stdout,
    );
    expect(other).toMatchObject({ blobsUploaded: 0, blobsMounted: 3 });

    expect(await stop(served)).toBe(0);
    expect(served.stderr.join('\n')).toMatch(/stopped \(SIGTERM\)/);

    served = await serve(storage);
    for (const tag of ['1', 'latest']) {
      const out = tmp.join(`pulled-${tag}`);
      const r = await imgOk('pull', `${served.address}/img/hello:${tag}`, '--output', out, '--layers');
      expect(r.stdout).toBe(`${served.address}/img/hello@${pushed.digest}`);
      await imgOk('validate', out);
    }
    const index = JSON.parse(await readFile(join(tmp.join('pulled-1'), 'index.json'), 'utf8'));
    expect(index.manifests[0].digest).toBe(pushed.digest);
  });
});
