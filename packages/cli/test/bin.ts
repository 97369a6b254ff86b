import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { REPO_ROOT } from './helpers.js';

/** The built, bundled img command: what a user runs (`pnpm build` first). */
export const IMG_BIN = join(REPO_ROOT, 'packages/cli/dist/bin.cjs');

export interface BinRun {
  /** The exit code, or null when the process died of a signal. */
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

export interface SpawnedImg {
  readonly child: ChildProcess;
  readonly done: Promise<BinRun>;
}

/** Start `node dist/bin.cjs ARGS` in its own process, with output captured. */
export function spawnImg(args: readonly string[], env: NodeJS.ProcessEnv = {}): SpawnedImg {
  const child = spawn(process.execPath, [IMG_BIN, ...args], {
    env: { ...process.env, IMG_DEBUG: '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d: Buffer) => {
    stdout += d.toString();
  });
  child.stderr!.on('data', (d: Buffer) => {
    stderr += d.toString();
  });
  const done = new Promise<BinRun>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
  return { child, done };
}

/** Run the built img to completion. */
export function runImg(args: readonly string[], env: NodeJS.ProcessEnv = {}): Promise<BinRun> {
  return spawnImg(args, env).done;
}
