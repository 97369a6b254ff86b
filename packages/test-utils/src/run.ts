import { spawn } from 'node:child_process';
import { type RunResult, TestUtilsError } from './errors.js';
import { findTool } from './tools.js';

export interface RunOptions {
  cwd?: string;
  /** Environment for the child; defaults to process.env. */
  env?: NodeJS.ProcessEnv;
  /** Bytes or text written to the child's stdin (stdin is closed either way). */
  input?: string | Uint8Array;
  /** Kill the child (SIGKILL) after this many milliseconds. Default DEFAULT_RUN_TIMEOUT_MS. */
  timeoutMs?: number;
  /** Resolve instead of throwing on a non-zero exit. Default false. */
  allowFailure?: boolean;
  /** Secrets replaced by *** in the error message (passwords passed as arguments, tokens...). */
  redact?: readonly string[];
}

export type { RunResult } from './errors.js';

export const DEFAULT_RUN_TIMEOUT_MS = 120_000;

function redactAll(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const secret of secrets) if (secret !== '') out = out.split(secret).join('***');
  return out;
}

function quote(arg: string): string {
  return /^[\w@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, `'\\''`)}'`;
}

/**
 * Runs `cmd args...` (cmd found on PATH or in <repo>/.tools/bin), capturing stdout and stderr.
 * Throws TestUtilsError IMG_TESTUTILS_COMMAND_FAILED (message and `result` carry stdout and stderr) on a
 * non-zero exit unless `allowFailure`.
 */
export function run(cmd: string, args: readonly string[] = [], opts: RunOptions = {}): Promise<RunResult> {
  const executable = findTool(cmd) ?? cmd;
  const timeoutMs = opts.timeoutMs ?? DEFAULT_RUN_TIMEOUT_MS;
  return new Promise<RunResult>((resolve, reject) => {
    const child = spawn(executable, args, {
      cwd: opts.cwd,
      env: opts.env ?? process.env,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, timeoutMs);
    child.stdout.on('data', (chunk: Buffer) => out.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => err.push(chunk));
    child.stdin.on('error', () => {}); // the child may exit before reading its input
    child.stdin.end(opts.input ?? '');
    child.on('error', (error) => {
      clearTimeout(timer);
      const why = (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'not found' : error.message;
      reject(
        new TestUtilsError(
          'IMG_TESTUTILS_COMMAND_FAILED',
          redactAll(`cannot run ${cmd}: ${why}`, opts.redact ?? []),
        ),
      );
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const stdoutBytes = Buffer.concat(out);
      const result: RunResult = {
        code,
        signal,
        stdout: stdoutBytes.toString('utf8'),
        stderr: Buffer.concat(err).toString('utf8'),
        stdoutBytes,
      };
      if (code === 0 || opts.allowFailure === true) {
        resolve(result);
        return;
      }
      const how = timedOut
        ? `timed out after ${timeoutMs} ms`
        : code === null
          ? `was killed by ${signal}`
          : `exited with code ${code}`;
      const commandLine = [cmd, ...args].map(quote).join(' ');
      const message = `${commandLine} ${how}\n--- stdout ---\n${result.stdout}\n--- stderr ---\n${result.stderr}`;
      reject(
        new TestUtilsError('IMG_TESTUTILS_COMMAND_FAILED', redactAll(message, opts.redact ?? []), { result }),
      );
    });
  });
}
