import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { freePort, type SilentServer, startSilentServer, useTempDir } from '@img/test-utils';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../helpers.js';

const BIN = join(REPO_ROOT, 'packages/cli/dist/bin.cjs');
const work = useTempDir('cli-network-');

/** Run the bundled img as a user does; resolves with its exit code, stderr and wall time. */
function img(...args: string[]): Promise<{ code: number | null; stderr: string; ms: number }> {
  const started = Date.now();
  const child = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => {
    stderr += d.toString();
  });
  return new Promise((resolve) =>
    child.on('close', (code) => resolve({ code, stderr, ms: Date.now() - started })),
  );
}

describe('img against registries that are not there or do not answer', () => {
  let silent: SilentServer;
  beforeAll(async () => {
    silent = await startSilentServer();
  });
  afterAll(async () => {
    await silent?.stop();
  });

  it('fails in under 3 s on a refused connection, naming the address', async () => {
    const port = await freePort();
    const r = await img('pull', `127.0.0.1:${port}/app:v1`, '-o', work.join('refused'));
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`connection refused by 127.0.0.1:${port}`);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.ms).toBeLessThan(3_000);
  }, 10_000);

  it('stops at --timeout when the registry never answers', async () => {
    const r = await img('pull', `${silent.host}/app:v1`, '-o', work.join('silent'), '--timeout', '1s');
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`pull ${silent.host}/app:v1: not done within 1 s`);
    expect(r.ms).toBeGreaterThanOrEqual(1_000);
    expect(r.ms).toBeLessThan(4_000);
  }, 10_000);

  it('rejects a --timeout that is not a duration as a usage error', async () => {
    const r = await img('pull', `${silent.host}/app:v1`, '-o', work.join('usage'), '--timeout', 'soon');
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('--timeout "soon": expected a duration');
  }, 10_000);
});
