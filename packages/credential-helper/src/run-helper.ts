import { spawn } from 'node:child_process';

export interface HelperOutput {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
  /** Set when the executable could not be started (ENOENT: not installed). */
  readonly spawnError?: NodeJS.ErrnoException;
  /** True when the helper was killed because it ran longer than the timeout. */
  readonly timedOut: boolean;
}

export interface RunHelperOptions {
  /** Environment of the helper. Default: this process's environment. */
  readonly env?: NodeJS.ProcessEnv;
  /** Working directory of the helper (Bazel runs helpers in the workspace root). Default: this process's. */
  readonly cwd?: string;
  /** Milliseconds before the helper is killed. Default DEFAULT_HELPER_TIMEOUT_MS. */
  readonly timeoutMs?: number;
  /** Kills the helper when aborted. */
  readonly signal?: AbortSignal;
  /** Output cap per stream in bytes (a helper printing without end must not exhaust memory). Default 1 MiB. */
  readonly maxOutputBytes?: number;
}

/** Bazel's default `--credential_helper_timeout` (10 s). */
export const DEFAULT_HELPER_TIMEOUT_MS = 10_000;
const DEFAULT_MAX_OUTPUT_BYTES = 1024 * 1024;

/** Run a credential helper with `input` on stdin; never rejects (the caller decides what failure means). */
export function runHelper(
  executable: string,
  args: readonly string[],
  input: string,
  options: RunHelperOptions = {},
): Promise<HelperOutput> {
  const maxOutput = options.maxOutputBytes ?? DEFAULT_MAX_OUTPUT_BYTES;
  return new Promise((resolve) => {
    let child: ReturnType<typeof spawn>;
    try {
      child = spawn(executable, args, {
        env: options.env ?? process.env,
        cwd: options.cwd,
        stdio: ['pipe', 'pipe', 'pipe'],
        signal: options.signal,
      });
    } catch (err) {
      resolve({
        code: null,
        stdout: '',
        stderr: '',
        spawnError: err as NodeJS.ErrnoException,
        timedOut: false,
      });
      return;
    }
    const collect = (sink: Buffer[]) => {
      let size = 0;
      return (chunk: Buffer) => {
        if (size >= maxOutput) return;
        sink.push(chunk.subarray(0, maxOutput - size));
        size += chunk.length;
      };
    };
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let spawnError: NodeJS.ErrnoException | undefined;
    let timedOut = false;
    let done = false;
    const finish = (code: number | null) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      resolve({
        code,
        stdout: Buffer.concat(out).toString('utf8'),
        stderr: Buffer.concat(err).toString('utf8'),
        ...(spawnError && { spawnError }),
        timedOut,
      });
    };
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
      // A grandchild may hold the pipes open long after the helper is gone: do not wait for them.
      child.stdout!.destroy();
      child.stderr!.destroy();
      finish(null);
    }, options.timeoutMs ?? DEFAULT_HELPER_TIMEOUT_MS);
    child.stdout!.on('data', collect(out));
    child.stderr!.on('data', collect(err));
    child.stdin!.on('error', () => {});
    child.stdin!.end(input);
    child.on('error', (e) => {
      spawnError = e as NodeJS.ErrnoException;
    });
    child.on('close', finish);
  });
}
