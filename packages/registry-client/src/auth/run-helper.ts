import { spawn } from 'node:child_process';

export interface HelperOutput {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
  /** Set when the executable could not be started (ENOENT: not installed). */
  readonly spawnError?: NodeJS.ErrnoException;
}

/** Default time a credential helper may take (cloud helpers call their provider's API). */
export const DEFAULT_HELPER_TIMEOUT_MS = 60_000;

/** Run a credential helper with `input` on stdin; never rejects (the caller decides what failure means). */
export function runHelper(
  executable: string,
  args: readonly string[],
  input: string,
  env: NodeJS.ProcessEnv,
  timeoutMs = DEFAULT_HELPER_TIMEOUT_MS,
): Promise<HelperOutput> {
  return new Promise((resolve) => {
    let child: ReturnType<typeof spawn>;
    try {
      child = spawn(executable, args, { env, stdio: ['pipe', 'pipe', 'pipe'] });
    } catch (err) {
      resolve({ code: null, stdout: '', stderr: '', spawnError: err as NodeJS.ErrnoException });
      return;
    }
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let spawnError: NodeJS.ErrnoException | undefined;
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.stdout!.on('data', (c: Buffer) => out.push(c));
    child.stderr!.on('data', (c: Buffer) => err.push(c));
    child.stdin!.on('error', () => {});
    child.stdin!.end(input);
    child.on('error', (e) => {
      spawnError = e as NodeJS.ErrnoException;
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({
        code,
        stdout: Buffer.concat(out).toString('utf8'),
        stderr: Buffer.concat(err).toString('utf8'),
        ...(spawnError && { spawnError }),
      });
    });
  });
}
