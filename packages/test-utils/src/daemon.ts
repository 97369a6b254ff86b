import { type ChildProcess, spawn } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { trackPid, untrackPid } from './cleanup.js';
import { TestUtilsError } from './errors.js';
import { sleep } from './net.js';

/** A long-running child process whose stdout and stderr both go to one log file. */
export interface Daemon {
  readonly child: ChildProcess;
  readonly pid: number;
  readonly logPath: string;
  /** Exit code/signal once the process has exited, else undefined. */
  exited(): { code: number | null; signal: NodeJS.Signals | null } | undefined;
  log(): Promise<string>;
  /** SIGTERM, then SIGKILL after graceMs; resolves when the process is gone. */
  stop(graceMs?: number): Promise<void>;
}

export interface SpawnDaemonOptions {
  cwd?: string;
  env?: NodeJS.ProcessEnv;
}

export function spawnDaemon(
  executable: string,
  args: readonly string[],
  logPath: string,
  opts: SpawnDaemonOptions = {},
): Daemon {
  const fd = openSync(logPath, 'a');
  let child: ChildProcess;
  try {
    child = spawn(executable, args, { cwd: opts.cwd, env: opts.env, stdio: ['ignore', fd, fd] });
  } finally {
    closeSync(fd);
  }
  let exit: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  const gone = new Promise<void>((resolve) => {
    child.on('exit', (code, signal) => {
      exit = { code, signal };
      if (child.pid !== undefined) untrackPid(child.pid);
      resolve();
    });
    child.on('error', (error) => {
      exit = { code: null, signal: null };
      void error;
      resolve();
    });
  });
  if (child.pid !== undefined) trackPid(child.pid);
  return {
    child,
    pid: child.pid ?? -1,
    logPath,
    exited: () => exit,
    log: () => readFile(logPath, 'utf8'),
    async stop(graceMs = 5_000) {
      if (exit !== undefined) return;
      child.kill('SIGTERM');
      const killed = await Promise.race([gone.then(() => true), sleep(graceMs).then(() => false)]);
      if (!killed) {
        child.kill('SIGKILL');
        await gone;
      }
    },
  };
}

/**
 * Polls `ready()` until it returns true; fails early with the daemon's log when the process exits,
 * and with the log after timeoutMs.
 */
export async function waitUntilReady(
  daemon: Daemon,
  what: string,
  ready: () => Promise<boolean>,
  timeoutMs = 20_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (let delay = 20; ; delay = Math.min(delay * 2, 250)) {
    const exit = daemon.exited();
    if (exit !== undefined) {
      const how = exit.code !== null ? `exit code ${exit.code}` : `signal ${exit.signal ?? 'unknown'}`;
      throw new TestUtilsError(
        'IMG_TESTUTILS_START_FAILED',
        `${what} exited during start-up (${how}); log ${daemon.logPath}:\n${await safeLog(daemon)}`,
      );
    }
    if (await ready()) return;
    if (Date.now() > deadline) {
      await daemon.stop(1_000);
      throw new TestUtilsError(
        'IMG_TESTUTILS_START_FAILED',
        `${what} not ready after ${timeoutMs} ms; log ${daemon.logPath}:\n${await safeLog(daemon)}`,
      );
    }
    await sleep(delay);
  }
}

async function safeLog(daemon: Daemon): Promise<string> {
  try {
    return (await daemon.log()).slice(-4_000);
  } catch {
    return '(no log)';
  }
}
