import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { run, TestUtilsError, tempDir } from '../src/index.js';

describe('run', () => {
  it('captures stdout and stderr and feeds stdin', async () => {
    const result = await run('sh', ['-c', 'cat; echo err >&2'], { input: 'in' });
    expect(result).toMatchObject({ code: 0, stdout: 'in', stderr: 'err\n' });
    expect(result.stdoutBytes.equals(Buffer.from('in'))).toBe(true);
  });

  it('throws TestUtilsError with both outputs on a non-zero exit, secrets redacted', async () => {
    const failing = run('sh', ['-c', 'echo out-text; echo err-text >&2; exit 3', 'sh', 'hunter2'], {
      redact: ['hunter2'],
    });
    await expect(failing).rejects.toBeInstanceOf(TestUtilsError);
    const error = (await failing.catch((e: unknown) => e)) as TestUtilsError;
    expect(error.code).toBe('IMG_TESTUTILS_COMMAND_FAILED');
    expect(error.message).toContain('exited with code 3');
    expect(error.message).toContain('out-text');
    expect(error.message).toContain('err-text');
    expect(error.message).not.toContain('hunter2');
    expect(error.result?.code).toBe(3);
  });

  it('resolves on failure with allowFailure, and kills on timeout', async () => {
    expect((await run('sh', ['-c', 'exit 4'], { allowFailure: true })).code).toBe(4);
    await expect(run('sleep', ['10'], { timeoutMs: 100 })).rejects.toThrow(/timed out after 100 ms/);
  });

  it('reports a command that does not exist', async () => {
    await expect(run('img-no-such-command-xyz')).rejects.toThrow(
      'cannot run img-no-such-command-xyz: not found',
    );
  });
});

describe('tempDir', () => {
  it('creates a fresh directory and removes it', async () => {
    const a = await tempDir('unit-');
    const b = await tempDir('unit-');
    expect(a.path).not.toBe(b.path);
    expect(a.path).toMatch(/img-unit-/);
    expect(existsSync(a.path)).toBe(true);
    await a.remove();
    await a.remove();
    await b.remove();
    expect(existsSync(a.path)).toBe(false);
    expect(existsSync(b.path)).toBe(false);
  });
});
